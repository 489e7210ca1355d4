"""The clickstream pipeline as the app runs it, for the comparisons that drive it in a child process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from shared.settings import Settings
from worker import ClickstreamTracker

# One typical click of the app: the Fire button with its weapon metadata.
CLICK = ("button_click", "shoot_gun_button", {"weapon": "glock18"})
# google.auth must never probe the GCE metadata server from a benchmark: nothing leaves the machine.
NO_METADATA_PROBE = {"NO_GCE_CHECK": "true", "GCE_METADATA_HOST": "127.0.0.1:9",
                     "GCE_METADATA_IP": "127.0.0.1:9"}


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


def started_tracker(settings: Settings) -> ClickstreamTracker:
    """A started tracker whose uploader has reported once, i.e. is up and receiving."""
    tracker = ClickstreamTracker(settings).start()
    wait_until(lambda: tracker.get_stats()["uploader_ready"], 60.0, "the uploader to start")
    return tracker


def local_settings(data_dir: Path) -> Settings:
    """The app's defaults (local sink, batch 10, flush 2 s) with the store in data_dir."""
    return Settings(data_dir=data_dir)


def store_counts(store_path: Path) -> tuple[int, int]:
    """(events stored, events still waiting for the sink) in the local store."""
    with sqlite3.connect(store_path) as db:
        stored = db.execute("SELECT COUNT(*) FROM clickstream").fetchone()[0]
        waiting = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return stored, waiting
