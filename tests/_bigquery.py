"""Settings and table reads for tests that send to the BigQuery emulator."""

from __future__ import annotations

import json
import queue
from pathlib import Path
from typing import Any

import pytest

from shared.event import Event, EventFactory
from shared.settings import Settings
from worker.messages import EventsBatch, Stop
from worker.sinks import Delivery, Sink, make_sink
from worker.store import Store
from worker.uploader import Uploader, assemble

from _emulator import Emulator


def bq_settings(data_dir: Path, table_id: str, endpoint: str, **overrides: Any) -> Settings:
    """Settings for the insert_all method (REST only) unless `bq_method` says otherwise; the Storage
    Write API needs the emulator's gRPC port too: see method_settings."""
    project, dataset, table = table_id.split(".")
    overrides.setdefault("bq_method", "insert_all")
    return Settings(sink="bigquery", bq_project=project, bq_dataset=dataset, bq_table=table,
                    bq_endpoint=endpoint, data_dir=data_dir, **overrides)


def method_settings(data_dir: Path, table_id: str, emulator: Emulator, method: str,
                    **overrides: Any) -> Settings:
    """Settings for one BigQuery write method against the emulator's REST and gRPC sides."""
    return bq_settings(data_dir, table_id, emulator.endpoint, bq_method=method,
                       bq_grpc_endpoint=f"127.0.0.1:{emulator.grpc_port}", **overrides)


def table_rows(bq_client: Any, table_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in bq_client.query(f"SELECT * FROM `{table_id}`").result()]


def clicks_in(bq_client: Any, table_id: str) -> list[dict[str, Any]]:
    """The tracked clicks in the table; the app may add events of its own (app_error on an outage)."""
    return [json.loads(row["metadata"]) for row in table_rows(bq_client, table_id)
            if row["event_type"] == "button_click"]


def numbers_in(bq_client: Any, table_id: str) -> list[int]:
    """The clicks' numbers ({"i": n} metadata) in the table, sorted."""
    return sorted(click["i"] for click in clicks_in(bq_client, table_id))


def run_uploader_here(settings: Settings, events: list[Event], budget: float = 3.0) -> Uploader:
    """The uploader loop in this process on a plain queue until it has flushed and stopped."""
    inbox: queue.Queue[EventsBatch | Stop] = queue.Queue()
    inbox.put(EventsBatch(0, list(events)))
    inbox.put(Stop(budget))
    uploader = assemble(settings, inbox, queue.Queue())
    try:
        uploader.run()
    finally:
        uploader.close()
    return uploader


class Crash(BaseException):
    """The uploader process dying at this point: a BaseException, so no sink code catches it."""


def crash(*_: object) -> None:
    """Put in place of a step (monkeypatch) to die there."""
    raise Crash


def clicks(how_many: int, start: int = 0) -> list[Event]:
    factory = EventFactory("s")
    return [factory.make("button_click", "shoot_gun_button", {"i": i})
            for i in range(start, start + how_many)]


def spooled(settings: Settings, events: list[Event]) -> Store:
    """The uploader's store with the events waiting in it."""
    store = Store(settings.store_path)
    store.add(events)
    return store


def died_sending(settings: Settings, monkeypatch: pytest.MonkeyPatch, owner: type, step: str,
                 events: list[Event]) -> tuple[Store, Sink]:
    """The events spooled and a sink's send of them dying at `owner.step`, as a killed uploader
    would; the patch is undone. Returns the store and that sink."""
    store = spooled(settings, events)
    sink = make_sink(settings)
    monkeypatch.setattr(owner, step, crash)
    with pytest.raises(Crash):
        sink.send(store.next_batch(sink.max_batch), 5.0)
    monkeypatch.undo()
    return store, sink


def send_next(sink: Sink, store: Store, timeout: float = 5.0) -> Delivery:
    """What the uploader does for one flush: the next batch to the sink, and its outcome settled."""
    delivery = sink.send(store.next_batch(sink.max_batch), timeout)
    store.settle(delivery.delivered, delivery.rejected)
    return delivery
