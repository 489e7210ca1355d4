"""The record of the batch in flight (worker/sinks/ledger.py) on a real store, without BigQuery."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shared.event import Event, EventFactory
from worker.sinks.ledger import Ledger
from worker.store import SinkStateStore, Store


@pytest.fixture
def events(tmp_path: Path) -> list[Event]:
    batch = [EventFactory("s").make("button_click", "reset_button") for _ in range(3)]
    store = Store(tmp_path / "store.sqlite3")
    store.add(batch)
    store.close()
    return batch


def ledger(tmp_path: Path, method: str) -> Ledger:
    return Ledger(SinkStateStore(tmp_path / "store.sqlite3"), method)


def test_a_record_lasts_until_the_uploader_has_settled_its_events(tmp_path: Path,
                                                                  events: list[Event]) -> None:
    sent = ledger(tmp_path, "load")
    sent.record([e.event_id for e in events], {"job_id": "j-0"})
    sent.landed({"job_id": "j-0"}, {"last_job": "j-0"})
    again = ledger(tmp_path, "load")  # the next uploader, after a crash before settling
    inflight = again.current()
    assert inflight is not None and inflight.landed and inflight.details == {"job_id": "j-0"}
    assert [e.event_id for e in inflight.pending] == [e.event_id for e in events]
    store = Store(tmp_path / "store.sqlite3")
    store.settle([e.event_id for e in events], {})
    store.close()
    assert again.current() is None and again.values() == {"last_job": "j-0"}
    assert ledger(tmp_path, "load").current() is None  # cleared, not just hidden


def test_an_unconfirmed_batch_of_another_method_is_dropped_with_a_warning(
        tmp_path: Path, events: list[Event], caplog: pytest.LogCaptureFixture) -> None:
    ledger(tmp_path, "storage_write").record([e.event_id for e in events], {"offset": "0"})
    caplog.set_level(logging.WARNING, logger="worker.sinks.ledger")
    assert ledger(tmp_path, "load").current() is None  # it sends them as new events
    assert "HL_VOX_BQ_METHOD=storage_write" in caplog.text and "appear twice" in caplog.text
    assert ledger(tmp_path, "storage_write").current() is None


def test_a_confirmed_batch_of_another_method_is_still_delivered_without_sending(
        tmp_path: Path, events: list[Event]) -> None:
    sent = ledger(tmp_path, "storage_write")
    sent.record([e.event_id for e in events], {"offset": "0"})
    sent.landed({"offset": "0"}, {})
    inflight = ledger(tmp_path, "load").current()
    assert inflight is not None and inflight.landed and len(inflight.pending) == 3
