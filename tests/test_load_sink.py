"""The load sink against the emulator's load jobs (NDJSON uploads), one crash window or failure at a
time. A crash is simulated by raising Crash where the uploader process would die; the next sink,
like the next uploader, is built afresh on the same store."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_client import LOAD, Where, clickstream_table, explain
from worker.sinks import SinkUnavailable, load_job, make_sink, rows
from worker.sinks.ledger import Ledger
from worker.sinks.load_job import LoadJobSink
from worker.store import SinkStateStore

from _bigquery import clicks, died_sending, method_settings, numbers_in, send_next, spooled
from _emulator import Emulator, free_port

pytestmark = pytest.mark.emulator


@pytest.fixture
def settings(data_dir: Path, table_id: str, emulator: Emulator) -> Settings:
    return method_settings(data_dir, table_id, emulator, "load")




def recorded_job(settings: Settings) -> str:
    store = SinkStateStore(settings.store_path)
    try:
        return str(json.loads(store.sink_values()["inflight"])["details"]["job_id"])
    finally:
        store.close()


def test_a_job_whose_answer_was_lost_is_looked_up_not_loaded_again(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # the job succeeded; we die before noting it
    store, _ = died_sending(settings, monkeypatch, Ledger, "landed", clicks(20))
    assert numbers_in(bq_client, table_id) == list(range(20))
    store.add(clicks(5, start=20))  # newer events wait behind the recorded batch
    caplog.set_level(logging.INFO, logger="worker.sinks.load_job")
    second = make_sink(settings)
    assert len(send_next(second, store).delivered) == 20
    assert "was submitted before (DONE): not submitted again" in caplog.text
    assert len(send_next(second, store).delivered) == 5
    second.close()
    assert numbers_in(bq_client, table_id) == list(range(25))


def test_a_batch_recorded_but_never_submitted_is_loaded_under_its_job_id(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # recorded, then dead before the upload
    store, _ = died_sending(settings, monkeypatch, LoadJobSink, "_submit", clicks(20))
    job_id = recorded_job(settings)
    store.add(clicks(5, start=20))
    second = make_sink(settings)
    assert len(send_next(second, store).delivered) == 20  # exactly the recorded batch
    assert bq_client.get_job(job_id).state == "DONE"
    assert len(send_next(second, store).delivered) == 5
    second.close()
    assert numbers_in(bq_client, table_id) == list(range(25))


def test_a_resubmitted_job_id_answers_409_and_is_settled_from_the_job(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = died_sending(settings, monkeypatch, Ledger, "landed", clicks(20))
    lookups: list[str] = []
    original = LoadJobSink._lookup

    def blind_once(sink: LoadJobSink, job_id: str, deadline: float) -> Any:
        lookups.append(job_id)  # the first lookup misses the job, as if it were not visible yet
        return None if len(lookups) == 1 else original(sink, job_id, deadline)

    monkeypatch.setattr(LoadJobSink, "_lookup", blind_once)
    second = make_sink(settings)
    assert len(send_next(second, store).delivered) == 20
    second.close()
    assert len(lookups) == 2  # missed, submitted (409 Conflict), looked up after the conflict
    assert numbers_in(bq_client, table_id) == list(range(20))


def test_a_landed_batch_the_uploader_did_not_settle_is_delivered_without_a_request(
        bq_client: Any, table_id: str, settings: Settings) -> None:
    store = spooled(settings, clicks(20))
    first = make_sink(settings)
    assert len(first.send(store.next_batch(first.max_batch), 5.0).delivered) == 20  # never settled
    first.close()
    offline = dataclasses.replace(settings, bq_endpoint=f"http://127.0.0.1:{free_port()}")
    again = make_sink(offline)  # nothing listens there: a request would fail
    assert len(send_next(again, store).delivered) == 20
    again.close()
    assert numbers_in(bq_client, table_id) == list(range(20)) and store.pending_count() == 0


def test_a_failed_job_is_retried_under_the_next_job_id(bq_client: Any, emulator: Emulator,
                                                       bq_dataset: str, data_dir: Path) -> None:
    table_id = f"{bq_dataset}.later"
    settings = method_settings(data_dir, table_id, emulator, "load")
    store = spooled(settings, clicks(10))
    sink = make_sink(settings)
    with pytest.raises(SinkUnavailable, match=r"run `python setup_bigquery.py`"):
        send_next(sink, store)  # the job ran and failed: its id is spent
    retry = recorded_job(settings)  # the batch is recorded again under the next id
    assert retry.endswith("_1")
    assert bq_client.get_job(retry[:-1] + "0").error_result["reason"] == "notFound"
    bq_client.create_table(clickstream_table(table_id))
    assert len(send_next(sink, store).delivered) == 10
    sink.close()
    assert bq_client.get_job(retry).error_result is None
    assert numbers_in(bq_client, table_id) == list(range(10))


def refused_by_bigquery_only(events: list[Event]) -> tuple[list[rows.CheckedRow], dict[str, str]]:
    """The local check, except that a "bad_row" event's time is sent as it came: a row BigQuery
    refuses for a reason the local check does not know."""
    checked, rejected = rows.checked_rows(events)
    return [rows.CheckedRow(row.event_id, {**row.values, "timestamp": "not a time"})
            if row.values["component"] == "bad_row" else row for row in checked], rejected


def test_a_row_only_bigquery_refuses_is_found_by_halving_and_quarantined_alone(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """One bad row fails a whole load job (on BigQuery and on the emulator alike)."""
    events = clicks(8)
    events[5] = events[5]._replace(component="bad_row")
    store = spooled(settings, events)
    monkeypatch.setattr(load_job, "checked_rows", refused_by_bigquery_only)
    sink = make_sink(settings)
    outcomes = []
    for _ in range(12):
        try:
            outcomes.append(send_next(sink, store))
        except SinkUnavailable as refused:
            assert "in halves" in str(refused)
        if not store.pending_count():
            break
    sink.close()
    assert store.pending_count() == 0
    rejected = {event_id: error for outcome in outcomes for event_id, error in outcome.rejected.items()}
    assert list(rejected) == [events[5].event_id]
    assert "refused by BigQuery load job" in rejected[events[5].event_id]
    assert numbers_in(bq_client, table_id) == [0, 1, 2, 3, 4, 6, 7]


@pytest.mark.parametrize("interval, warned", [(10.0, True), (59.0, True), (60.0, False), (300.0, False)])
def test_a_load_interval_below_a_minute_warns_about_the_daily_quota(
        data_dir: Path, interval: float, warned: bool, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(sink="bigquery", bq_project="p-123456", bq_method="load",
                        bq_load_interval=interval, data_dir=data_dir)
    caplog.set_level(logging.WARNING, logger="worker.sinks.load_job")
    sink = make_sink(settings)
    sink.close()
    assert sink.min_interval == interval
    lines = [record.message for record in caplog.records]
    assert bool(lines) == warned
    if warned:
        assert "HL_VOX_BQ_LOAD_INTERVAL" in lines[0] and "1,500 per table per day" in lines[0]


def test_a_used_up_load_quota_says_what_to_do_and_a_load_refusal_never_says_use_load() -> None:
    where = Where("p-123456", "p-123456.d.t")
    quota = explain(api_exceptions.Forbidden(
        "Quota exceeded: Your table exceeded quota for imports or query appends per table"), LOAD, where)
    assert quota.startswith("BigQuery quota exceeded") and "1,500 load jobs per table per day" in quota
    assert "raise HL_VOX_BQ_LOAD_INTERVAL" in quota and "events stay in the local spool" in quota
    billing = explain(api_exceptions.Forbidden("Access Denied: billing is disabled"), LOAD, where)
    assert "permission denied" in billing and "roles/bigquery.jobUser" in billing
    assert "HL_VOX_BQ_METHOD=load" not in billing
