"""Comparison 4: the BigQuery write methods (HL_VOX_BQ_METHOD) side by side on the local-bigquery
emulator, started on free loopback ports: rows/s, what each costs per million of our events under
BigQuery's pricing rules, and the uploader's memory with each.

rows/s: each method's sink gets fresh events through a real local store, as the uploader does it
(next batch, send, settle; the exactly-once methods record each batch there before sending it), at
the same batch size, 500; insertAll also at 10. The methods take turns, a round at a time, so the
machine's load affects them alike. rows/s = rows delivered / time spent in send(); one warm-up batch
per method (client, connection, stream) is not timed, and each table is counted afterwards. The
emulator is not BigQuery: this compares the methods' request paths and catches regressions, it does
not predict the cloud's latency (a real load job takes seconds).

Cost per million events, from the bench's typical event (the Fire button with its weapon) and
BigQuery's data size rules (STRING: 2 bytes + its UTF-8 length, TIMESTAMP: 8 bytes, NULL: 0), with
these prices (on-demand, US multi-region):
- insert_all: $0.01 per 200 MiB, every row billed as at least 1 KB;
- storage_write: $0.025 per GiB of the rows' bytes (the first 2 TiB a month are free: not counted);
- load: free (batch load jobs use a shared slot pool), at most 1,500 jobs per table per day.

Peak RSS: a fresh child runs the tracker as the app does with each method and reads VmHWM of its
uploader process once the events are delivered.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from google.cloud import bigquery

from bench.child import emit, peak_rss_mb, run_child
from bench.emulator import PROJECT, Emulator, find_emulator_dir
from bench.figures import Figure
from bench.pipeline import CLICK, started_tracker, wait_until
from shared import schema
from shared.event import Event, EventFactory, new_session_id
from shared.settings import BQ_METHODS, Settings
from worker.bigquery_client import clickstream_table, make_client
from worker.sinks import Sink, make_sink
from worker.store import Store

DATASET = "bench"
REQUEST_TIMEOUT = 30.0
MiB, GiB = 2**20, 2**30


@dataclass(frozen=True)
class Pricing:
    dollars: float  # per `per_bytes` billed
    per_bytes: int
    billed: Callable[[int], int]  # a row's bytes billed, from its size
    rule: str


PRICING = {
    "storage_write": Pricing(0.025, GiB, lambda size: size, "$0.025 per GiB (the first 2 TiB a month free)"),
    "load": Pricing(0.0, GiB, lambda size: 0, "free; at most 1,500 load jobs per table per day"),
    "insert_all": Pricing(0.01, 200 * MiB, lambda size: max(size, 1024),
                          "$0.01 per 200 MiB, rows billed as at least 1 KB"),
}


# (method, batch size, batches a round): the methods take turns, a round at a time, so a change in
# the machine's load affects them alike.
PLAN = (("storage_write", 500, 1), ("load", 500, 1), ("insert_all", 500, 1), ("insert_all", 10, 12))


def run(quick: bool) -> list[Figure]:
    rounds = 4 if quick else 20
    rss_events = 1_000 if quick else 10_000
    install_dir = find_emulator_dir()
    if install_dir is None:
        why = "emulator not installed: run bash scripts/install-emulator.sh"
        return [Figure(name, None, unit, note=why) for name, unit in _names()]
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(install_dir, Path(tmp) / "data")
        emulator.start()
        try:
            client = make_client(PROJECT, emulator.endpoint)
            client.create_dataset(f"{PROJECT}.{DATASET}")
            speeds = _speeds(client, emulator, Path(tmp), rounds)
            rss = [_rss(client, emulator, Path(tmp), method, rss_events) for method in BQ_METHODS]
            client.close()
        finally:
            emulator.stop()
    return speeds + _costs() + rss


def _names() -> list[tuple[str, str]]:
    return ([(_speed_name(method, size), "rows/s") for method, size, _ in PLAN]
            + [(f"bytes billed per million events, {method}", "MiB") for method in BQ_METHODS]
            + [(f"cost per million events, {method}", "$") for method in BQ_METHODS]
            + [(_rss_name(method), "MB") for method in BQ_METHODS])


def _speed_name(method: str, batch_size: int) -> str:
    return f"BigQuery {method} (emulator), batch {batch_size}"


def _rss_name(method: str) -> str:
    return f"peak RSS, uploader process, {method}"


def _table(client: bigquery.Client, name: str) -> str:
    table = client.create_table(clickstream_table(f"{PROJECT}.{DATASET}.{name}"))
    return f"{table.project}.{table.dataset_id}.{table.table_id}"


def _settings(endpoint: str, grpc_port: int, data_dir: Path, method: str, table_id: str) -> Settings:
    return Settings(sink="bigquery", bq_project=PROJECT, bq_dataset=DATASET, bq_table=table_id.split(".")[-1],
                    bq_endpoint=endpoint, bq_grpc_endpoint=f"127.0.0.1:{grpc_port}", bq_method=method,
                    data_dir=data_dir)


def _count(client: bigquery.Client, table_id: str) -> int:
    return int(next(iter(client.query(f"SELECT COUNT(*) AS n FROM `{table_id}`").result())).n)


# -- rows/s ---------------------------------------------------------------------------------------

@dataclass
class _Lane:
    """One method at one batch size: its table, store and sink, and its timed sends so far."""

    method: str
    size: int
    per_round: int
    table_id: str
    store: Store
    sink: Sink
    factory: EventFactory
    delivered: int = 0
    sent: int = 0  # the untimed warm-up's too
    seconds: float = 0.0


def _speeds(client: bigquery.Client, emulator: Emulator, tmp: Path, rounds: int) -> list[Figure]:
    lanes = []
    for method, size, per_round in PLAN:
        table_id = _table(client, f"{method}_{size}")
        settings = _settings(emulator.endpoint, emulator.grpc_port, tmp / f"speed-{method}-{size}",
                             method, table_id)
        lanes.append(_Lane(method, size, per_round, table_id, Store(settings.store_path),
                           make_sink(settings), EventFactory(new_session_id())))
    try:
        for lane in lanes:
            lane.sent += _send(lane, 1)[0]  # warm-up: client, connection, stream
        for _ in range(rounds):
            for lane in lanes:
                for _ in range(lane.per_round):
                    delivered, seconds = _send(lane, lane.size)
                    lane.sent += delivered
                    lane.delivered += delivered
                    lane.seconds += seconds
    finally:
        for lane in lanes:
            lane.sink.close()
            lane.store.close()
    for lane in lanes:
        if (rows := _count(client, lane.table_id)) != lane.sent:
            raise RuntimeError(f"{lane.table_id} holds {rows} rows after {lane.sent} were delivered")
    return [Figure(_speed_name(lane.method, lane.size), lane.delivered / lane.seconds, "rows/s",
                   note=f"{rounds * lane.per_round} requests, {lane.delivered:,}/"
                        f"{rounds * lane.per_round * lane.size:,} delivered")
            for lane in lanes]


def _send(lane: _Lane, size: int) -> tuple[int, float]:
    """(rows delivered, seconds spent in send) for one batch of `size` fresh events, as the uploader
    sends it: spooled, taken from the store, sent, settled."""
    lane.store.add([lane.factory.make(*CLICK) for _ in range(size)])
    batch = lane.store.next_batch(size)
    started = time.perf_counter()
    delivery = lane.sink.send(batch, REQUEST_TIMEOUT)
    seconds = time.perf_counter() - started
    lane.store.settle(delivery.delivered, delivery.rejected)
    return len(delivery.delivered), seconds


# -- cost -----------------------------------------------------------------------------------------

def row_bytes(event: Event) -> int:
    """A row's size by BigQuery's data size rules for the types our schema uses."""
    values = event.row()
    size = 0
    for column in schema.COLUMNS:
        value = values[column.name]
        if value is not None:
            size += 8 if column.type == "TIMESTAMP" else 2 + len(value.encode("utf-8"))
    return size


def _costs() -> list[Figure]:
    size = row_bytes(EventFactory(new_session_id()).make(*CLICK))
    billed = {method: 1_000_000 * PRICING[method].billed(size) for method in BQ_METHODS}
    return ([Figure(f"bytes billed per million events, {method}", billed[method] / MiB, "MiB",
                    note=f"rows of {size} bytes, each billed as {billed[method] // 1_000_000}")
             for method in BQ_METHODS]
            + [Figure(f"cost per million events, {method}",
                      billed[method] / PRICING[method].per_bytes * PRICING[method].dollars, "$",
                      note=PRICING[method].rule)
               for method in BQ_METHODS])


# -- memory ---------------------------------------------------------------------------------------

def _rss(client: bigquery.Client, emulator: Emulator, tmp: Path, method: str, events: int) -> Figure:
    table_id = _table(client, f"rss_{method}")
    result = run_child("bench.bigquery_upload", method, emulator.endpoint, str(emulator.grpc_port),
                       table_id, str(tmp / f"rss-{method}"), str(events))
    if _count(client, table_id) != events:
        raise RuntimeError(f"{table_id} holds {_count(client, table_id)} rows after {events} were tracked")
    return Figure(_rss_name(method), result["uploader_rss_mb"], "MB", note=f"{events:,} events delivered")


def _measure_rss(method: str, endpoint: str, grpc_port: int, table_id: str, data_dir: Path,
                 events: int) -> dict[str, float]:
    # The least load interval the settings accept, so the load method finishes in seconds.
    settings = dataclasses.replace(_settings(endpoint, grpc_port, data_dir, method, table_id),
                                   batch_size=500, flush_interval=0.1, bq_load_interval=1.0)
    tracker = started_tracker(settings)
    event_type, component, metadata = CLICK
    for _ in range(events):
        tracker.track_event(event_type, component, metadata)
    wait_until(lambda: tracker.get_stats()["sent"] >= events, 120.0, f"{events} events sent with {method}")
    rss = peak_rss_mb(tracker.get_stats()["uploader_pid"])
    tracker.shutdown()
    return {"uploader_rss_mb": rss}


if __name__ == "__main__":
    method_arg, endpoint_arg, grpc_arg, table_arg, dir_arg, events_arg = sys.argv[1:7]
    emit(_measure_rss(method_arg, endpoint_arg, int(grpc_arg), table_arg, Path(dir_arg), int(events_arg)))
