"""Each BigQuery write method (HL_VOX_BQ_METHOD) end to end against the local-bigquery emulator, with
real uploader processes: the table's rows, exactly once through crashes, outages and many apps.

The emulator hides an insertAll resend within 60 s (insertId dedup), so for insert_all these tests
cannot see a duplicate that BigQuery, after a longer outage, would keep; storage_write and load must
pass them by their own offsets and job ids.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from shared.event import EventFactory
from shared.schema import COLUMNS
from shared.settings import BQ_METHODS, Settings
from worker import ClickstreamTracker
from worker.sinks import make_sink

from _bigquery import clicks_in, method_settings, numbers_in, run_uploader_here, table_rows
from _emulator import PROJECT, Emulator, free_port
from _store import count, query
from conftest import wait_for

pytestmark = pytest.mark.emulator
REPO = Path(__file__).resolve().parents[1]
# The least interval the settings accept: load-method tests would otherwise wait five minutes.
QUICK_LOADS = 1.0


@pytest.fixture(params=BQ_METHODS)
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)






def clicks_waiting(store_path: Path) -> int:
    return int(query(store_path, "SELECT COUNT(*) FROM outbox JOIN clickstream USING (event_id) "
                                 "WHERE event_type = 'button_click'")[0][0])


def track(tracker: ClickstreamTracker, how_many: int, start: int = 0) -> None:
    for i in range(start, start + how_many):
        assert tracker.track_event("button_click", "shoot_gun_button", {"i": i})


def drained(tracker: ClickstreamTracker) -> bool:
    """Everything tracked is committed to the spool and delivered from it."""
    stats = tracker.get_stats()
    return bool(stats["buffer_size"] == 0 and stats.get("spooled", 1) == 0 and stats["uploader_alive"])




def test_rows_land_with_the_exact_schema(bq_client: Any, table_id: str, emulator: Emulator,
                                         data_dir: Path, method: str) -> None:
    settings = method_settings(data_dir, table_id, emulator, method)
    factory = EventFactory("s-1")
    events = [factory.make("button_click", "start_button", {"time_input": "00:05:00"}),
              factory.make("app_start", "application")]
    uploader = run_uploader_here(settings, events)
    assert uploader.stats.sent == 2 and uploader.stats.quarantined == 0
    assert [(f.name, f.field_type, f.mode) for f in bq_client.get_table(table_id).schema] == [
        (c.name, c.type, c.mode) for c in COLUMNS]
    rows = sorted(table_rows(bq_client, table_id), key=lambda row: row["component"])
    for row, event in zip(rows, sorted(events, key=lambda e: e.component), strict=True):
        assert row["timestamp"] == datetime.fromisoformat(event.timestamp)  # to the microsecond
        assert {k: v for k, v in row.items() if k != "timestamp"} == {
            k: v for k, v in event.row().items() if k != "timestamp"}
    assert rows[0]["metadata"] is None and json.loads(rows[1]["metadata"]) == {"time_input": "00:05:00"}


def test_a_bad_row_is_quarantined_and_the_rest_lands(bq_client: Any, table_id: str, emulator: Emulator,
                                                     data_dir: Path, method: str) -> None:
    settings = method_settings(data_dir, table_id, emulator, method)
    good = [EventFactory("s").make("button_click", "pause_button", {"i": i}) for i in range(5)]
    bad = good[2]._replace(timestamp="not a time")
    uploader = run_uploader_here(settings, [*good[:2], bad, *good[3:]])
    assert uploader.stats.sent == 4 and uploader.stats.quarantined == 1
    assert numbers_in(bq_client, table_id) == [0, 1, 3, 4]
    assert count(settings.store_path, "outbox") == 0
    [(event_id, error)] = query(settings.store_path, "SELECT event_id, error FROM quarantine")
    assert event_id == bad.event_id and "timestamp" in error


# Delays from the moment a batch is seen going out to the kill: before its request, during it, after.
KILL_DELAYS = (0.0, 0.01, 0.05)


def rows_in(bq_client: Any, table_id: str) -> int:
    return int(next(iter(bq_client.query(f"SELECT COUNT(*) AS n FROM `{table_id}`").result())).n)


def restarted(tracker: ClickstreamTracker, times: int) -> bool:
    return bool(tracker.get_stats()["uploader_restarts"] == times)


def batch_record(store_path: Path) -> str | None:
    """The exactly-once methods' record of the batch they are sending (worker/sinks/ledger.py), read
    from the store as an analyst would; None before there is one."""
    try:
        found = query(store_path, "SELECT value FROM sink_state WHERE name = 'inflight'")
    except sqlite3.OperationalError:  # the uploader has not created the table yet
        return None
    return str(found[0][0]) if found else None


def poll(condition: Callable[[], bool], timeout: float) -> bool:
    """wait_for with a short step: a batch is in flight for only a few milliseconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_uploader_killed_again_and_again_mid_stream_delivers_every_event_once(
        bq_client: Any, table_id: str, emulator: Emulator, data_dir: Path, method: str) -> None:
    settings = method_settings(data_dir, table_id, emulator, method, batch_size=50,
                               flush_interval=0.05, bq_load_interval=QUICK_LOADS)
    tracker = ClickstreamTracker(settings).start()
    tracked = 0
    killing = threading.Event()
    killing.set()

    def click_on() -> None:  # a steady stream of clicks until the kills are over
        nonlocal tracked
        while killing.is_set():
            track(tracker, 20, start=tracked)
            tracked += 20
            time.sleep(0.02)

    def sending(before: int, seen: set[str]) -> bool:
        """A new batch is on its way: recorded and not yet confirmed (for insert_all, which keeps no
        record, rows arriving)."""
        if method == "insert_all":
            return rows_in(bq_client, table_id) > before
        record = batch_record(settings.store_path)
        return record is not None and record not in seen and not json.loads(record)["landed"]

    clicker = threading.Thread(target=click_on)
    clicker.start()
    seen: set[str] = set()  # records left by killed uploaders: the next one resolves them first
    try:
        for kill, delay in enumerate(KILL_DELAYS):
            before = rows_in(bq_client, table_id)
            assert poll(partial(sending, before, seen), 30)
            time.sleep(delay)
            os.kill(tracker.get_stats()["uploader_pid"], signal.SIGKILL)
            seen.add(batch_record(settings.store_path) or "")
            assert wait_for(partial(restarted, tracker, kill + 1), 20)
        killing.clear()
        clicker.join()
        assert wait_for(lambda: drained(tracker), 30)
    finally:
        killing.clear()
        tracker.shutdown()
    assert numbers_in(bq_client, table_id) == list(range(tracked))  # each exactly once
    assert count(settings.store_path, "outbox") == 0 and count(settings.store_path, "quarantine") == 0


def test_bigquery_unreachable_at_exit_is_bounded_and_the_next_start_delivers(
        bq_client: Any, table_id: str, emulator: Emulator, data_dir: Path, method: str) -> None:
    # The load method keeps its default five-minute interval: the exit's one last load and the
    # next start's first load do not wait for it.
    online = method_settings(data_dir, table_id, emulator, method)
    closed = free_port()  # nothing listens there, on either side
    offline = dataclasses.replace(online, bq_endpoint=f"http://127.0.0.1:{closed}",
                                  bq_grpc_endpoint=f"127.0.0.1:{closed}")
    tracker = ClickstreamTracker(offline).start()
    track(tracker, 500)
    started = time.monotonic()
    tracker.shutdown(timeout=5.0)
    assert time.monotonic() - started <= 5.5
    assert clicks_waiting(offline.store_path) == 500
    assert table_rows(bq_client, table_id) == []
    with ClickstreamTracker(online) as tracker:
        assert wait_for(lambda: drained(tracker) and tracker.get_stats()["sent"] >= 500, 30)
    assert numbers_in(bq_client, table_id) == list(range(500))


# One app process as a user (or a web server) runs it: settings from the environment, events
# tracked in bursts, and the app waits until they are delivered before it exits.
APP = textwrap.dedent("""
    import json, sys, time
    from shared.settings import Settings
    from worker import ClickstreamTracker
    app, events = sys.argv[1], int(sys.argv[2])
    with ClickstreamTracker(Settings.from_env()) as tracker:
        for i in range(events):
            tracker.track_event("button_click", "shoot_gun_button", {"app": app, "i": i})
            if i % 100 == 99:
                time.sleep(0.01)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = tracker.get_stats()
            if stats["buffer_size"] == 0 and stats.get("spooled", 1) == 0:
                break
            time.sleep(0.05)
    print(json.dumps(tracker.get_stats()))
""")


def test_four_apps_writing_one_table_at_once_land_the_exact_total(
        bq_client: Any, table_id: str, emulator: Emulator, tmp_path: Path, method: str) -> None:
    apps, events = 4, 1000
    _, dataset, table = table_id.split(".")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HL_VOX_SINK": "bigquery", "HL_VOX_BQ_PROJECT": PROJECT,
           "HL_VOX_BQ_DATASET": dataset, "HL_VOX_BQ_TABLE": table, "HL_VOX_BQ_METHOD": method,
           "HL_VOX_BQ_ENDPOINT": emulator.endpoint,
           "HL_VOX_BQ_GRPC_ENDPOINT": f"127.0.0.1:{emulator.grpc_port}",
           "HL_VOX_BQ_LOAD_INTERVAL": str(QUICK_LOADS), "HL_VOX_FLUSH_INTERVAL": "0.1",
           "HL_VOX_BATCH_SIZE": "100"}
    processes = [subprocess.Popen([sys.executable, "-c", APP, str(app), str(events)], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env={**env, "HL_VOX_DATA_DIR": str(tmp_path / f"app-{app}")})
                 for app in range(apps)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["dropped"] == 0
    clicks = clicks_in(bq_client, table_id)
    landed = {(click["app"], click["i"]) for click in clicks}
    assert len(clicks) == len(landed) == apps * events  # the exact total, nothing twice
    assert landed == {(str(app), i) for app in range(apps) for i in range(events)}


def test_make_sink_builds_the_method_asked_for(data_dir: Path, method: str) -> None:
    settings = Settings(sink="bigquery", bq_project="p-123456", bq_method=method, data_dir=data_dir)
    sink = make_sink(settings)
    try:
        assert sink.name == f"bigquery {method}"
        assert sink.min_interval == (settings.bq_load_interval if method == "load" else 0.0)
    finally:
        sink.close()
