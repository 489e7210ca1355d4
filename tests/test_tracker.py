"""The tracker and the uploader process with the local sink: real processes, real SQLite."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.settings import Settings
from worker import ClickstreamTracker

from _store import count, query
from conftest import wait_for


def local_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, **overrides)


def test_ten_thousand_events_all_stored_once(data_dir: Path) -> None:
    settings = local_settings(data_dir)
    with ClickstreamTracker(settings) as tracker:
        for i in range(10_000):
            assert tracker.track_event("button_click", "start_button", {"i": i})
    stats = tracker.get_stats()
    assert stats["dropped"] == 0 and stats["buffer_size"] == 0 and stats["sent"] == 10_000
    assert count(settings.store_path, "clickstream") == 10_000
    assert count(settings.store_path, "outbox") == 0
    numbers = {json.loads(m)["i"] for (m,) in query(settings.store_path, "SELECT metadata FROM clickstream")}
    assert numbers == set(range(10_000))
    assert {row[0] for row in query(settings.store_path, "SELECT session_id FROM clickstream")} == {
        tracker.session_id}


def test_small_batches_are_flushed_by_age(data_dir: Path) -> None:
    """Three clicks are flushed by age: a size-only flush would keep them waiting for ten."""
    tracker = ClickstreamTracker(local_settings(data_dir, batch_size=10, flush_interval=0.2)).start()
    try:
        for component in ("start_button", "pause_button", "reset_button"):
            tracker.track_event("button_click", component)
        assert wait_for(lambda: tracker.get_stats()["sent"] == 3, timeout=5)
        assert tracker.get_stats()["spooled"] == 0
    finally:
        tracker.shutdown()


def test_uploader_killed_mid_stream_loses_nothing(data_dir: Path) -> None:
    settings = local_settings(data_dir)
    tracker = ClickstreamTracker(settings).start()
    try:
        for i in range(3000):
            tracker.track_event("button_click", "shoot_gun_button", {"i": i})
        first_pid = tracker.get_stats()["uploader_pid"]
        os.kill(first_pid, signal.SIGKILL)
        for i in range(3000, 6000):
            tracker.track_event("button_click", "shoot_gun_button", {"i": i})
        assert wait_for(lambda: tracker.get_stats()["uploader_restarts"] == 1)
        assert tracker.get_stats()["uploader_pid"] != first_pid
        # The new uploader receives the resent events and everything after them.
        assert wait_for(lambda: tracker.get_stats()["buffer_size"] == 0)
    finally:
        tracker.shutdown()
    assert tracker.get_stats()["dropped"] == 0
    rows = query(settings.store_path, "SELECT metadata FROM clickstream")
    assert len(rows) == 6000
    assert {json.loads(m)["i"] for (m,) in rows} == set(range(6000))


def test_a_full_buffer_overflows_to_the_store_and_only_then_drops_are_counted(data_dir: Path) -> None:
    settings = local_settings(data_dir)
    tracker = ClickstreamTracker(settings, capacity=5)  # not started: nothing drains the buffer
    accepted = [tracker.track_event("button_click", "reset_button") for _ in range(12)]
    # 5 in the buffer, 5 in the overflow (as many again), then drops.
    assert accepted == [True] * 10 + [False] * 2
    assert tracker.get_stats()["dropped"] == 2
    tracker.start()
    tracker.shutdown()
    assert count(settings.store_path, "clickstream") == 10
    assert tracker.track_event("button_click", "reset_button") is False  # after shutdown
    assert tracker.get_stats()["dropped"] == 3


def test_disabled_tracking_starts_no_process(data_dir: Path) -> None:
    tracker = ClickstreamTracker(local_settings(data_dir, enabled=False)).start()
    assert tracker.track_event("button_click", "start_button") is False
    assert multiprocessing.active_children() == []
    tracker.shutdown()
    assert not any(data_dir.iterdir())


def test_the_app_process_never_loads_the_drain_lock() -> None:
    """filelock is the uploader's (25 ms of imports): the app only spawns it."""
    script = "import sys, ui.__main__; print('filelock' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent.parent).stdout
    assert loaded.strip() == "False"


def test_shutdown_is_idempotent_and_bounded(data_dir: Path) -> None:
    tracker = ClickstreamTracker(local_settings(data_dir)).start()
    tracker.track_event("app_start", "application")
    started = time.monotonic()
    tracker.shutdown(timeout=5.0)
    tracker.shutdown(timeout=5.0)
    assert time.monotonic() - started < 5.5
    assert not tracker.get_stats()["uploader_alive"]
    assert multiprocessing.active_children() == []


def test_uploader_start_prunes_old_delivered_events_only(data_dir: Path) -> None:
    from shared.event import EventFactory
    from worker.store import Store

    settings = local_settings(data_dir, retention_days=30)
    old = [EventFactory("s").make("button_click", "reset_button")._replace(
        timestamp="2020-01-01T00:00:00+00:00") for _ in range(2)]
    store = Store(settings.store_path)
    store.add(old)
    store.settle([old[0].event_id], {})  # delivered; old[1] still waits for the sink
    store.close()
    with ClickstreamTracker(settings) as tracker:
        tracker.track_event("app_start", "application")
    remaining = {row[0] for row in query(settings.store_path, "SELECT event_id FROM clickstream")}
    assert old[0].event_id not in remaining and old[1].event_id in remaining
    assert len(remaining) == 2


def ignores_term_and_int(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    return all(ignored & (1 << (signum - 1)) for signum in (signal.SIGTERM, signal.SIGINT))


def test_uploader_outlives_stray_sigterm_and_sigint(data_dir: Path) -> None:
    """A group-wide signal must not kill it before the app has sent its last events."""
    settings = local_settings(data_dir)
    with ClickstreamTracker(settings) as tracker:
        pid = tracker.get_stats()["uploader_pid"]
        assert wait_for(lambda: ignores_term_and_int(pid))  # its signal handling is set up
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
        tracker.track_event("button_click", "start_button")
        assert wait_for(lambda: tracker.get_stats()["received"] == 1)
        assert tracker.get_stats()["uploader_pid"] == pid and tracker.get_stats()["uploader_restarts"] == 0
    assert count(settings.store_path, "clickstream") == 1


def test_every_click_accepted_while_another_thread_shuts_down_is_stored(data_dir: Path) -> None:
    """track_event takes no lock: a click racing the shutdown is either refused (False) or stored."""
    import threading

    settings = local_settings(data_dir)
    tracker = ClickstreamTracker(settings).start()
    accepted: list[list[int]] = [[] for _ in range(3)]

    def click(mine: list[int], offset: int) -> None:
        i = offset
        while tracker.track_event("button_click", "fire_button", {"i": i}):  # False once shut down
            mine.append(i)
            i += 3

    threads = [threading.Thread(target=click, args=(mine, k)) for k, mine in enumerate(accepted)]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: all(len(mine) > 1000 for mine in accepted))
    tracker.shutdown()
    for thread in threads:
        thread.join(10)
    stored = {json.loads(m)["i"] for (m,) in query(settings.store_path, "SELECT metadata FROM clickstream")}
    wanted = {i for mine in accepted for i in mine}
    assert len(wanted) > 3000 and wanted <= stored
    assert tracker.get_stats()["dropped"] >= 1  # the refused ones are counted
