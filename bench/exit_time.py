"""Comparison 3: how long exit takes with events pending, and that none is lost.

Each scenario is a fresh child that starts the tracker as the app does, waits for the uploader to
be up, tracks N clicks back to back and at once calls shutdown() (what the app does on close), timed
with perf_counter. Afterwards the child counts the events in the local store:
- local sink: every event must be stored;
- BigQuery unreachable (the endpoint is a closed loopback port): every event must be spooled, i.e.
  stored and still waiting in the outbox for the next start.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.child import emit, run_child
from bench.emulator import closed_port
from bench.figures import Figure, Target
from bench.pipeline import CLICK, NO_METADATA_PROBE, local_settings, started_tracker, store_counts
from shared.settings import Settings

PENDING = 10_000


def run(quick: bool) -> list[Figure]:
    local = run_child("bench.exit_time", "local", str(PENDING))
    offline = run_child("bench.exit_time", "unreachable", str(PENDING), env=NO_METADATA_PROBE)
    pending = f"{PENDING:,} events pending"
    return [
        Figure("exit time, local sink", local["exit_s"], "s", Target("<", 1.0), note=pending),
        Figure("events stored after that exit", local["stored"], "events", Target("==", PENDING)),
        Figure("exit time, BigQuery unreachable", offline["exit_s"], "s", Target("<=", 5.5), note=pending),
        Figure("events spooled after that exit", offline["waiting"], "events", Target("==", PENDING),
               note=f"{offline['stored']:,} stored"),
    ]


def _settings(scenario: str, data_dir: Path) -> Settings:
    if scenario == "local":
        return local_settings(data_dir)
    port = closed_port()  # for both the REST side and the Storage Write API's gRPC (the default method)
    return Settings(data_dir=data_dir, sink="bigquery", bq_project="bench-project",
                    bq_endpoint=f"http://127.0.0.1:{port}", bq_grpc_endpoint=f"127.0.0.1:{port}")


def _measure(scenario: str, events: int) -> dict[str, float]:
    event_type, component, metadata = CLICK
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(scenario, Path(tmp))
        tracker = started_tracker(settings)
        for _ in range(events):
            tracker.track_event(event_type, component, metadata)
        started = time.perf_counter()
        tracker.shutdown()
        exit_s = time.perf_counter() - started
        stored, waiting = store_counts(settings.store_path)
    return {"exit_s": exit_s, "stored": stored, "waiting": waiting}


if __name__ == "__main__":
    emit(_measure(sys.argv[1], int(sys.argv[2])))
