"""Comparison 1: what track_event() costs the calling (UI) thread, ours vs Segment's Client.track()
and PostHog's Posthog.capture().

All clients run in one fresh child process, measured in rotating blocks so that the machine's
noise hits them alike. Each sample times SAMPLE back-to-back calls with perf_counter_ns (so the
timer's own cost is spread over many calls); the figure is the median sample in ns per call.
Segment's client (segment-analytics-python) is configured as documented except that its upload goes
to a closed loopback port, so its consumer thread fails fast and nothing leaves the machine, and its
queue is made large enough that no measured call is dropped (a drop would be a cheaper code path).
PostHog's client (posthog) is set up the same way: its host a closed loopback port, a queue that
holds every call. All are given the same click: an event name, a component and {"weapon": "glock18"}.

Ours captures only the time, the session, type, component and a snapshot of the metadata on the
calling thread; the event id, ISO timestamp and JSON are made on the sender thread in batches.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.child import emit, run_child
from bench.emulator import closed_port
from bench.figures import Figure, Target
from bench.pipeline import CLICK, local_settings, started_tracker

SAMPLE = 100  # calls per timed sample
ROUND_CALLS = 1000  # calls per client per round; rounds alternate which client goes first
PAUSE = 0.01  # between rounds, so our uploader acknowledges and the buffer never nears capacity


def run(quick: bool) -> list[Figure]:
    rounds = 8 if quick else 40
    result = run_child("bench.track_cost", str(rounds))
    calls = f"{result['calls']:,} calls each"
    ours, segment, posthog = result["ours_ns"], result["segment_ns"], result["posthog_ns"]
    return [
        Figure("ours: track_event()", ours, "ns/call",
               note=f"median, {calls}, {result['ours_dropped']} dropped"),
        Figure("Segment: Client.track()", segment, "ns/call",
               note=f"median, {calls}, {result['segment_dropped']} dropped"),
        Figure("PostHog: Posthog.capture()", posthog, "ns/call",
               note=f"median, {calls}, {result['posthog_dropped']} dropped"),
        Figure("ours / Segment", ours / segment, "ratio", Target("<=", 0.1)),
        Figure("ours / PostHog", ours / posthog, "ratio", Target("<=", 0.1)),
    ]


def _timed_block(call: Callable[[], object]) -> tuple[list[float], int]:
    """ns per call of each SAMPLE-call sample in one block, and how many calls were refused."""
    samples, refused = [], 0
    for _ in range(ROUND_CALLS // SAMPLE):
        results = []
        started = time.perf_counter_ns()
        for _ in range(SAMPLE):
            results.append(call())
        samples.append((time.perf_counter_ns() - started) / SAMPLE)
        refused += sum(1 for accepted in results if not _accepted(accepted))
    return samples, refused


def _accepted(result: object) -> bool:
    # track_event returns a bool; Segment's track returns (success, message); PostHog's capture the
    # event's uuid, or None when it refused it.
    return bool(result[0]) if isinstance(result, tuple) else bool(result)


def _measure(rounds: int) -> dict[str, float]:
    from posthog import Posthog
    from segment.analytics import Client

    event_type, component, metadata = CLICK
    with tempfile.TemporaryDirectory() as tmp:
        tracker = started_tracker(local_settings(Path(tmp)))
        segment = Client("bench-write-key", host=f"http://127.0.0.1:{closed_port()}",
                         max_queue_size=rounds * ROUND_CALLS + 1)
        posthog = Posthog("bench-api-key", host=f"http://127.0.0.1:{closed_port()}",
                          max_queue_size=rounds * ROUND_CALLS + 1, max_retries=0,
                          enable_local_evaluation=False)
        session = tracker.session_id
        clients = {
            "ours": lambda: tracker.track_event(event_type, component, metadata),
            "segment": lambda: segment.track(anonymous_id=session, event=event_type,
                                             properties={"component": component, **metadata}),
            "posthog": lambda: posthog.capture(event_type, distinct_id=session,
                                               properties={"component": component, **metadata}),
        }
        samples: dict[str, list[float]] = {name: [] for name in clients}
        dropped = dict.fromkeys(clients, 0)
        names = list(clients)
        for round_ in range(rounds):
            # Each client takes each place in the order in turn.
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in order:
                block, refused = _timed_block(clients[name])
                samples[name] += block
                dropped[name] += refused
            time.sleep(PAUSE)
        tracker.shutdown()
        segment.join()  # stops its consumer; it would retry the closed port for hours otherwise
        posthog.shutdown()
    figures: dict[str, float] = {f"{name}_ns": statistics.median(samples[name]) for name in clients}
    figures.update({f"{name}_dropped": dropped[name] for name in clients})
    figures["calls"] = rounds * ROUND_CALLS
    return figures


if __name__ == "__main__":
    emit(_measure(int(sys.argv[1])))
