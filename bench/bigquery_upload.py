"""Comparison 4: BigQuery insertAll rows/s against the local-bigquery emulator, batches of 10 and 500.

Our BigQuerySink sends pre-made events (the uploader's request path: insert_rows_json with our
event_ids as insertIds, no client retry) to a fresh partitioned, clustered table on an emulator
started on free loopback ports. One warm-up request (client and connection set-up) is not timed.
rows/s = rows sent / total time spent in send(); every row must be delivered, and the table is
counted afterwards. The emulator is not BigQuery: this compares batch sizes and catches regressions
in our request path, it does not predict the cloud's latency.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.emulator import PROJECT, Emulator, find_emulator_dir
from bench.figures import Figure
from bench.pipeline import CLICK
from shared.event import EventFactory, new_session_id
from shared.settings import Settings
from worker.bigquery_client import clickstream_table, make_client
from worker.sinks.bigquery import BigQuerySink

DATASET = "bench"
REQUEST_TIMEOUT = 30.0


def run(quick: bool) -> list[Figure]:
    plan = {10: 50, 500: 4} if quick else {10: 300, 500: 20}  # batch size -> requests
    install_dir = find_emulator_dir()
    if install_dir is None:
        why = "emulator not installed: run bash scripts/install-emulator.sh"
        return [Figure(_name(size), None, "rows/s", note=why) for size in plan]
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(install_dir, Path(tmp) / "data")
        emulator.start()
        try:
            return _measure(emulator.endpoint, Path(tmp), plan)
        finally:
            emulator.stop()


def _name(batch_size: int) -> str:
    return f"BigQuery insertAll (emulator), batch {batch_size}"


def _measure(endpoint: str, data_dir: Path, plan: dict[int, int]) -> list[Figure]:
    client = make_client(PROJECT, endpoint)
    client.create_dataset(f"{PROJECT}.{DATASET}")
    table = client.create_table(clickstream_table(f"{PROJECT}.{DATASET}.clickstream"))
    settings = Settings(sink="bigquery", bq_project=PROJECT, bq_dataset=DATASET,
                        bq_table=table.table_id, bq_endpoint=endpoint, data_dir=data_dir)
    sink = BigQuerySink(settings)
    factory = EventFactory(new_session_id())
    try:
        sent = _send(sink, factory, 1, 1)[0]  # warm-up
        figures = []
        for size, requests in plan.items():
            delivered, seconds = _send(sink, factory, size, requests)
            sent += delivered
            figures.append(Figure(_name(size), delivered / seconds, "rows/s",
                                  note=f"{requests} requests, {delivered:,}/{size * requests:,} delivered"))
    finally:
        sink.close()
    rows = next(iter(client.query(f"SELECT COUNT(*) AS n FROM `{settings.table_id}`").result())).n
    client.close()
    if rows != sent:
        raise RuntimeError(f"the table holds {rows} rows after {sent} were delivered")
    return figures


def _send(sink: BigQuerySink, factory: EventFactory, size: int, requests: int) -> tuple[int, float]:
    """(rows delivered, seconds spent in send) for `requests` batches of `size` fresh events."""
    delivered, seconds = 0, 0.0
    for _ in range(requests):
        batch = [factory.make(*CLICK) for _ in range(size)]
        started = time.perf_counter()
        delivery = sink.send(batch, REQUEST_TIMEOUT)
        seconds += time.perf_counter() - started
        delivered += len(delivery.delivered)
    return delivered, seconds
