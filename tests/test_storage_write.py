"""The storage_write sink against the emulator's Storage Write API (gRPC), one crash window or failure
at a time. A crash is simulated by raising Crash where the uploader process would die; the next
sink, like the next uploader, is built afresh on the same store."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions
from test_uploader import FakeSink, Harness, batch_of

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_client import WRITE, explain, write_api_where
from worker.messages import Stop
from worker.sinks import SinkUnavailable, make_sink, rows, storage_write
from worker.sinks.append_rows import AppendRowsConnection
from worker.sinks.ledger import Ledger
from worker.store import SinkStateStore

from _bigquery import (
    clicks,
    died_sending,
    method_settings,
    numbers_in,
    send_next,
    spooled,
    table_rows,
)
from _emulator import Emulator, free_port

pytestmark = pytest.mark.emulator


@pytest.fixture
def settings(data_dir: Path, table_id: str, emulator: Emulator) -> Settings:
    return method_settings(data_dir, table_id, emulator, "storage_write")




def stream_state(settings: Settings) -> dict[str, str]:
    ledger = Ledger(SinkStateStore(settings.store_path), "storage_write")
    try:
        return ledger.values()
    finally:
        ledger.close()


def test_a_batch_whose_answer_was_lost_is_resent_at_its_offset_and_lands_once(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # BigQuery wrote the rows; we die before noting it
    store, _ = died_sending(settings, monkeypatch, Ledger, "landed", clicks(20))
    assert numbers_in(bq_client, table_id) == list(range(20))
    caplog.set_level(logging.INFO, logger="worker.sinks.storage_write")
    second = make_sink(settings)  # the next uploader
    assert len(send_next(second, store).delivered) == 20
    assert "were written before" in caplog.text  # ALREADY_EXISTS at the recorded offset
    store.add(clicks(5, start=20))
    assert len(send_next(second, store).delivered) == 5
    second.close()
    assert numbers_in(bq_client, table_id) == list(range(25))
    assert stream_state(settings)["next_offset"] == "25"


def test_a_batch_recorded_but_never_sent_is_sent_at_its_offset(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # recorded, then dead before sending
    store, _ = died_sending(settings, monkeypatch, AppendRowsConnection, "append", clicks(20))
    assert table_rows(bq_client, table_id) == []
    store.add(clicks(5, start=20))  # newer events wait behind the recorded batch
    second = make_sink(settings)
    assert len(send_next(second, store).delivered) == 20  # exactly the recorded batch
    assert len(send_next(second, store).delivered) == 5
    second.close()
    assert numbers_in(bq_client, table_id) == list(range(25))


def test_a_landed_batch_the_uploader_did_not_settle_is_delivered_without_a_request(
        bq_client: Any, table_id: str, settings: Settings) -> None:
    store = spooled(settings, clicks(20))
    first = make_sink(settings)
    assert len(first.send(store.next_batch(first.max_batch), 5.0).delivered) == 20  # never settled
    first.close()
    offline = method_settings(settings.data_dir, table_id, _unreachable(), "storage_write")
    again = make_sink(offline)  # nothing listens there: a request would fail
    assert len(send_next(again, store).delivered) == 20
    again.close()
    assert numbers_in(bq_client, table_id) == list(range(20)) and store.pending_count() == 0


def test_a_stream_the_emulator_forgot_is_replaced(bq_client: Any, table_id: str, settings: Settings,
                                                  emulator: Emulator) -> None:
    """The emulator keeps streams in memory and forgets them when restarted (BigQuery keeps them);
    to the sink that is a stream that no longer exists, like one BigQuery dropped."""
    store = spooled(settings, clicks(10))
    sink = make_sink(settings)
    send_next(sink, store)
    old_stream = stream_state(settings)["stream"]
    emulator.stop()
    emulator.start()
    store.add(clicks(10, start=10))
    assert len(send_next(sink, store, timeout=10.0).delivered) == 10
    sink.close()
    assert stream_state(settings)["stream"] != old_stream
    assert numbers_in(bq_client, table_id) == list(range(20))


def test_an_offset_past_the_stream_end_gets_a_new_stream(bq_client: Any, table_id: str,
                                                         settings: Settings) -> None:
    store = spooled(settings, clicks(10))
    sink = make_sink(settings)
    send_next(sink, store)
    old_stream = stream_state(settings)["stream"]
    ledger = Ledger(SinkStateStore(settings.store_path), "storage_write")
    ledger.set_values({"next_offset": "1000"})  # e.g. a store restored from an older copy
    ledger.close()
    store.add(clicks(10, start=10))
    assert len(send_next(sink, store).delivered) == 10  # OUT_OF_RANGE, then the new stream
    sink.close()
    state = stream_state(settings)
    assert state["stream"] != old_stream and state["next_offset"] == "10"
    assert numbers_in(bq_client, table_id) == list(range(20))


def refused_by_bigquery_only(events: list[Event]) -> tuple[list[rows.CheckedRow], dict[str, str]]:
    """The local check, except that the row of a "bad_row" event loses its REQUIRED session_id on
    the way: a row BigQuery refuses for a reason the local check does not know."""
    checked, rejected = rows.checked_rows(events)
    return [rows.CheckedRow(row.event_id, {**row.values, "session_id": None})
            if row.values["component"] == "bad_row" else row for row in checked], rejected


def test_rows_the_server_refuses_are_quarantined_and_the_rest_resent_at_the_same_offset(
        bq_client: Any, table_id: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """BigQuery appends none of a request's rows when one is bad, and says which. (The emulator may
    append the good ones; resending them then answers ALREADY_EXISTS: delivered all the same.)"""
    events = clicks(5)
    events[2] = events[2]._replace(component="bad_row")
    store = spooled(settings, events)
    monkeypatch.setattr(storage_write, "checked_rows", refused_by_bigquery_only)
    sink = make_sink(settings)
    first = send_next(sink, store)
    assert first.delivered == [] and list(first.rejected) == [events[2].event_id]
    assert "session_id" in first.rejected[events[2].event_id]
    assert len(send_next(sink, store).delivered) == 4
    sink.close()
    assert numbers_in(bq_client, table_id) == [0, 1, 3, 4]


def test_one_connection_serves_batch_after_batch_and_closes_quickly(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[AppendRowsConnection] = []

    class Counted(AppendRowsConnection):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            opened.append(self)

    monkeypatch.setattr(storage_write, "AppendRowsConnection", Counted)
    store = spooled(settings, clicks(10))
    sink = make_sink(settings)
    for start in range(10, 50, 10):
        send_next(sink, store)
        store.add(clicks(10, start=start))
    send_next(sink, store)
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 0.5
    assert len(opened) == 1 and store.pending_count() == 0


def _unreachable() -> Any:
    """An emulator stand-in whose both ports refuse connections."""
    port = free_port()
    return type("Unreachable", (), {"endpoint": f"http://127.0.0.1:{port}", "grpc_port": port})()


def test_an_unreachable_write_api_is_a_clear_message_within_the_timeout(
        table_id: str, data_dir: Path) -> None:
    sink = make_sink(method_settings(data_dir, table_id, _unreachable(), "storage_write"))
    started = time.monotonic()
    answer = r"did not answer at 127\.0\.0\.1:\d+ .*HL_VOX_BQ_GRPC_ENDPOINT"
    with pytest.raises(SinkUnavailable, match=answer):
        sink.send(clicks(3), 1.0)
    assert time.monotonic() - started < 1.5
    sink.close()


def test_an_emulator_without_its_grpc_endpoint_says_which_variable_to_set(
        table_id: str, emulator: Emulator, data_dir: Path) -> None:
    settings = method_settings(data_dir, table_id, emulator, "storage_write")
    sink = make_sink(dataclasses.replace(settings, bq_grpc_endpoint=None))
    with pytest.raises(SinkUnavailable, match="HL_VOX_BQ_GRPC_ENDPOINT is not set"):
        sink.send(clicks(1), 5.0)
    sink.close()


def test_a_missing_table_says_run_setup(emulator: Emulator, bq_dataset: str, data_dir: Path) -> None:
    sink = make_sink(method_settings(data_dir, f"{bq_dataset}.absent", emulator, "storage_write"))
    with pytest.raises(SinkUnavailable, match=r"run `python setup_bigquery.py`"):
        sink.send(clicks(1), 5.0)
    sink.close()


FREE_TIER = {  # what BigQuery says to a project without billing, on each API
    "insertAll (REST)": api_exceptions.Forbidden(
        "POST https://bigquery.googleapis.com/...: Access Denied: BigQuery BigQuery: Streaming insert "
        "is not allowed in the free tier"),
    "Storage Write API (gRPC)": api_exceptions.PermissionDenied(
        "BigQuery Storage Write API is not available: billing is not enabled for project p-123456"),
}


@pytest.mark.parametrize("error", FREE_TIER.values(), ids=FREE_TIER.keys())
def test_a_free_tier_refusal_logs_one_line_that_says_use_load(
        tmp_path: Path, error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    message = explain(error, WRITE, write_api_where("p-123456", "p-123456.d.t", None))

    def refuse(events: Any) -> Any:
        raise SinkUnavailable(message)

    harness = Harness(tmp_path, FakeSink(behaviour=refuse), batch_size=1)
    caplog.set_level(logging.DEBUG, logger="worker.uploader")
    harness.run(batch_of(3), Stop(10.0))
    lines = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(harness.sink.sent) >= 3  # retried with backoff...
    assert len(lines) == 1 and "use HL_VOX_BQ_METHOD=load" in lines[0]  # ...and said once
    assert "free tier" in lines[0] and harness.store.pending_count() == 3
