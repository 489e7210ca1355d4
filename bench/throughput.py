"""Comparison 2: sustained throughput UI process -> queue -> uploader -> local store, and peak memory.

A fresh child plays the UI process: it starts the tracker as the app does (local sink, default
batch settings) and tracks N clicks as fast as it can, yielding only when the tracker's
unacknowledged buffer is nearly full (a drop would not be throughput). The clock runs from the first
track_event() until the uploader reports every event delivered to the local sink; then the child
checks the store holds all N. Peak RSS is VmHWM of the uploader process (read while it is alive)
and of the child itself, which imports only what the app's tracking needs (no Flet): the app's real
UI process is larger by Flet's share.

Then the same child offers clicks at the target rate, TARGET_RATE a second in bursts of
SLOT_SECONDS, for a few seconds, and counts the bursts that found the buffer nearly full (where the
flat-out producer above has to wait): at the target rate the producer must never have to.

The ceiling, measured in the same child right after the flat-out run: the same N events, already
built, inserted straight into a fresh store (WAL, the local sink's path: no outbox) in transactions
of MESSAGE_EVENTS, in one process. Throughput on a shared machine swings by half between runs; the
ratio to the ceiling measured beside it is the steadier figure.

Where the time goes (py-spy on both processes, 300,000 and 1,000,000 events): in the app process,
building events was most of it until ids, timestamps and JSON moved to the sender thread (timestamps
formatted once per second, JSON by orjson: 4.2 -> 1.9 us per event); then pickling led: a named
tuple pickles through a Python-level reduce, so events now cross the queue as plain tuples in
numbered batches (0.23 against 1.50 us per event to pickle, 0.21 against 0.66 to unpickle). In the
uploader, SQLite is three quarters of its time: the insert half, its commit a sixth, after the local
sink stopped queueing events in the outbox only to read them back and delete them. A third of each
insert went to an index on `timestamp` that no query could use (they all filter on the exact
microseconds computed from the text); dropping it took the one-process ceiling from ~190k to
~235k events/s. The rest of the insert is the table and its primary key (WITHOUT ROWID measured
within noise of it).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.child import emit, peak_rss_mb, run_child
from bench.figures import Figure, Target
from bench.pipeline import CLICK, local_settings, started_tracker, store_counts, wait_until
from shared.event import EventFactory
from worker.store import Store
from worker.tracker import DEFAULT_CAPACITY, MESSAGE_EVENTS, ClickstreamTracker

EVENTS = 100_000
TARGET_RATE = 100_000  # events/s
SLOT_SECONDS = 0.005  # the paced producer tracks TARGET_RATE * SLOT_SECONDS clicks per slot
CHECK_EVERY = 1000  # clicks between looks at the buffer (get_stats takes the tracker's lock)
HEADROOM = 2 * CHECK_EVERY  # yield while fewer free buffer slots than this remain


def run(quick: bool) -> list[Figure]:
    paced_seconds = 1.0 if quick else 3.0
    runs = [run_child("bench.throughput", str(EVENTS), str(paced_seconds)) for _ in range(1 if quick else 3)]
    rates = sorted(result["events_per_s"] for result in runs)
    ratios = sorted(result["events_per_s"] / result["ceiling_per_s"] for result in runs)
    stored = min(result["stored"] for result in runs)
    dropped = sum(result["dropped"] for result in runs)
    yields = sum(result["yields"] for result in runs)
    note = (f"median of {len(runs)} run(s) of {EVENTS:,} events (range {rates[0]:,.0f}-{rates[-1]:,.0f}); "
            f"fewest stored {stored:,}, {dropped} dropped, producer waited for the buffer {yields} time(s)")
    return [
        Figure("throughput UI -> uploader -> local store", statistics.median(rates), "events/s",
               Target(">=", 100_000), note=note),
        Figure("ceiling: same rows straight into SQLite, one process",
               statistics.median(result["ceiling_per_s"] for result in runs), "events/s",
               note=f"batches of {MESSAGE_EVENTS}, measured right after each run"),
        Figure("throughput / ceiling", statistics.median(ratios), "ratio",
               note=f"median; runs {ratios[0]:.2f}-{ratios[-1]:.2f}"),
        _paced_figure([result["paced"] for result in runs], paced_seconds),
        Figure("peak RSS, uploader process", max(r["uploader_rss_mb"] for r in runs), "MB",
               Target("<=", 60), note="highest of the runs"),
        Figure("peak RSS, UI process (tracking only, no Flet)", max(r["ui_rss_mb"] for r in runs), "MB",
               note="highest of the runs"),
    ]


def _paced_figure(paced: list[dict[str, float]], seconds: float) -> Figure:
    waits = sum(result["waits"] for result in paced)
    offered = min(r["offered_per_s"] for r in paced)
    note = (f"{len(paced)} run(s) of {seconds:g} s, offered {offered:,.0f}/s at least; "
            f"buffer peaked at {max(r['peak_buffer'] for r in paced):,.0f} of {DEFAULT_CAPACITY:,}; "
            f"all stored within {max(r['drain_ms'] for r in paced):,.0f} ms of the last click; "
            f"{sum(r['dropped'] for r in paced):.0f} dropped, fewest stored "
            f"{min(r['stored'] / r['events'] for r in paced):.0%} of the clicks")
    return Figure(f"producer waits for the buffer at {TARGET_RATE:,} events/s offered", waits, "times",
                  Target("==", 0), note=note)


def _measure(events: int, paced_seconds: float) -> dict[str, Any]:
    event_type, component, metadata = CLICK
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp))
        tracker = started_tracker(settings)
        yields = 0
        started = time.perf_counter()
        for index in range(events):
            if index % CHECK_EVERY == 0 and _nearly_full(tracker):
                yields += 1
                wait_until(lambda: not _nearly_full(tracker), 60.0, "the uploader to catch up", 0.001)
            tracker.track_event(event_type, component, metadata)
        wait_until(lambda: tracker.get_stats()["sent"] >= events, 120.0, "every event to be stored")
        elapsed = time.perf_counter() - started
        uploader_rss = peak_rss_mb(tracker.get_stats()["uploader_pid"])
        dropped = tracker.get_stats()["dropped"]
        tracker.shutdown()
        stored, _ = store_counts(settings.store_path)
        ceiling = _ceiling(events, Path(tmp) / "ceiling.sqlite3")
    return {"events_per_s": events / elapsed, "uploader_rss_mb": uploader_rss, "ceiling_per_s": ceiling,
            "ui_rss_mb": peak_rss_mb(), "stored": stored, "dropped": dropped, "yields": yields,
            "paced": _paced(TARGET_RATE, paced_seconds)}


def _paced(rate: int, seconds: float) -> dict[str, float]:
    """Offers `rate` clicks a second for `seconds`; counts the slots that found the buffer nearly full."""
    per_slot = round(rate * SLOT_SECONDS)
    slots = round(seconds / SLOT_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp))
        tracker = started_tracker(settings)
        waits = peak = 0
        started = time.perf_counter()
        for slot in range(slots):
            if (ahead := started + slot * SLOT_SECONDS - time.perf_counter()) > 0:
                time.sleep(ahead)  # sleeping, unlike spinning, leaves the sender thread the GIL
            buffered = tracker.get_stats()["buffer_size"]
            peak = max(peak, buffered)
            waits += buffered > DEFAULT_CAPACITY - HEADROOM
            for _ in range(per_slot):
                tracker.track_event(*CLICK)
        offered_for = time.perf_counter() - started
        events = slots * per_slot
        # A machine too busy for the rate fills the buffer and its overflow: then clicks are dropped.
        wait_until(lambda: _sent_or_dropped(tracker) >= events, 120.0, "every paced event to be stored")
        drained = time.perf_counter() - started - offered_for
        dropped = tracker.get_stats()["dropped"]
        tracker.shutdown()
        stored, _ = store_counts(settings.store_path)
    return {"events": events, "offered_per_s": events / offered_for, "waits": waits, "peak_buffer": peak,
            "drain_ms": drained * 1000, "dropped": dropped, "stored": stored}


def _ceiling(events: int, path: Path) -> float:
    """Events/s of inserting `events` built clicks straight into a fresh store."""
    factory = EventFactory("ceiling")
    built = [factory.make(*CLICK) for _ in range(events)]
    store = Store(path)
    started = time.perf_counter()
    for start in range(0, events, MESSAGE_EVENTS):
        store.add(built[start:start + MESSAGE_EVENTS], queue=False)
    elapsed = time.perf_counter() - started
    store.close()
    return events / elapsed


def _sent_or_dropped(tracker: ClickstreamTracker) -> int:
    stats = tracker.get_stats()
    return int(stats["sent"] + stats["dropped"])


def _nearly_full(tracker: ClickstreamTracker) -> bool:
    return tracker.get_stats()["buffer_size"] > DEFAULT_CAPACITY - HEADROOM


if __name__ == "__main__":
    emit(_measure(int(sys.argv[1]), float(sys.argv[2])))
