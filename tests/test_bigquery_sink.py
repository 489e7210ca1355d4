"""The BigQuery sink and the uploader against the real local-bigquery emulator with the real client."""

import json
import logging
import time
from datetime import datetime
from pathlib import Path

import pytest

from shared.event import EventFactory
from shared.schema import COLUMNS
from shared.settings import Settings
from worker import ClickstreamTracker
from worker.sinks import SinkUnavailable
from worker.sinks.bigquery import BigQuerySink

from _bigquery import bq_settings, run_uploader_here, table_rows
from _emulator import free_port
from _store import count, query
from conftest import wait_for

pytestmark = pytest.mark.emulator






def test_rows_land_with_the_exact_schema(bq_client, table_id: str, emulator, data_dir: Path) -> None:
    sink = BigQuerySink(bq_settings(data_dir, table_id, emulator.endpoint))
    events = [EventFactory("s-1").make("button_click", "start_button", {"time_input": "00:05:00"}),
              EventFactory("s-1").make("app_start", "application")]
    delivery = sink.send(events, timeout=10)
    assert delivery.delivered == [e.event_id for e in events] and delivery.rejected == {}
    assert [(f.name, f.field_type, f.mode) for f in bq_client.get_table(table_id).schema] == [
        (c.name, c.type, c.mode) for c in COLUMNS]
    rows = sorted(table_rows(bq_client, table_id), key=lambda r: r["component"])
    expected = sorted(events, key=lambda e: e.component)
    for row, event in zip(rows, expected, strict=True):
        assert row["timestamp"] == datetime.fromisoformat(event.timestamp)
        assert {k: v for k, v in row.items() if k != "timestamp"} == {
            k: v for k, v in event.row().items() if k != "timestamp"}
    assert json.loads(rows[1]["metadata"]) == {"time_input": "00:05:00"}


def test_retried_batch_does_not_duplicate(bq_client, table_id: str, emulator, data_dir: Path) -> None:
    sink = BigQuerySink(bq_settings(data_dir, table_id, emulator.endpoint))
    events = [EventFactory("s").make("button_click", "reset_button") for _ in range(20)]
    sink.send(events, timeout=10)
    sink.send(events, timeout=10)  # e.g. the response was lost and the uploader sent it again
    assert len(table_rows(bq_client, table_id)) == 20


def test_bad_row_is_quarantined_and_the_rest_lands(bq_client, table_id: str, emulator,
                                                   data_dir: Path) -> None:
    settings = bq_settings(data_dir, table_id, emulator.endpoint)
    good = [EventFactory("s").make("button_click", "pause_button", {"i": i}) for i in range(5)]
    bad = good[2]._replace(timestamp="not a time")
    events = good[:2] + [bad] + good[3:]
    uploader = run_uploader_here(settings, events)
    assert uploader.stats.sent == 4 and uploader.stats.quarantined == 1
    landed = {json.loads(row["metadata"])["i"] for row in table_rows(bq_client, table_id)}
    assert landed == {0, 1, 3, 4}
    assert count(settings.store_path, "outbox") == 0
    [(event_id, error)] = query(settings.store_path, "SELECT event_id, error FROM quarantine")
    assert event_id == bad.event_id and "timestamp" in error


def test_missing_table_keeps_events_spooled_with_one_clear_message(
        emulator, bq_dataset: str, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = bq_settings(data_dir, f"{bq_dataset}.absent", emulator.endpoint)
    with pytest.raises(SinkUnavailable, match="run `python setup_bigquery.py`"):
        BigQuerySink(settings).send([EventFactory("s").make("app_start", "application")], 5)
    caplog.set_level(logging.DEBUG, logger="worker.uploader")
    events = [EventFactory("s").make("button_click", "start_button") for _ in range(3)]
    uploader = run_uploader_here(settings, events, budget=2.0)
    assert uploader.stats.failed >= 2  # it kept trying within the budget...
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "setup_bigquery" in r.message]
    assert len(warnings) == 1  # ...but said so once
    assert count(settings.store_path, "outbox") == 3


def test_emulator_outage_then_every_event_lands_once(bq_client, table_id: str, emulator,
                                                     data_dir: Path) -> None:
    settings = bq_settings(data_dir, table_id, emulator.endpoint, batch_size=10, flush_interval=0.2)
    tracker = ClickstreamTracker(settings).start()
    try:
        for i in range(100):
            tracker.track_event("button_click", "shoot_gun_button", {"i": i})
        assert wait_for(lambda: tracker.get_stats()["sent"] == 100, 20)
        emulator.stop()
        for i in range(100, 200):
            tracker.track_event("button_click", "shoot_gun_button", {"i": i})
        assert wait_for(lambda: tracker.get_stats()["failed"] >= 2, 20)
        emulator.start()
        # The 200 clicks and the app_error that tells of the outage.
        assert wait_for(lambda: tracker.get_stats()["sent"] == 201, 30)
    finally:
        tracker.shutdown()
    rows = table_rows(bq_client, table_id)
    numbers = [json.loads(row["metadata"])["i"] for row in rows if row["event_type"] == "button_click"]
    assert sorted(numbers) == list(range(200))
    assert [row["component"] for row in rows if row["event_type"] == "app_error"] == ["uploader"]


def test_unreachable_endpoint_exit_is_bounded_and_next_start_uploads(
        bq_client, table_id: str, emulator, data_dir: Path) -> None:
    closed_port = free_port()  # nothing listens there
    offline = bq_settings(data_dir, table_id, f"http://127.0.0.1:{closed_port}")
    tracker = ClickstreamTracker(offline).start()
    for i in range(500):
        tracker.track_event("button_click", "timeleft_button", {"i": i})
    started = time.monotonic()
    tracker.shutdown(timeout=5.0)
    assert time.monotonic() - started <= 5.5
    assert count(offline.store_path, "outbox") == 500
    assert table_rows(bq_client, table_id) == []

    online = bq_settings(data_dir, table_id, emulator.endpoint)
    with ClickstreamTracker(online) as tracker:
        assert wait_for(lambda: tracker.get_stats()["sent"] == 500, 20)
    assert count(online.store_path, "outbox") == 0
    assert sorted(json.loads(r["metadata"])["i"] for r in table_rows(bq_client, table_id)) == list(range(500))


def test_no_credentials_is_a_clear_retryable_message(data_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    settings = Settings(sink="bigquery", bq_project="p-123456", data_dir=data_dir)  # no endpoint
    with pytest.raises(SinkUnavailable, match="gcloud auth application-default login"):
        BigQuerySink(settings).send([EventFactory("s").make("app_start", "application")], 5)
