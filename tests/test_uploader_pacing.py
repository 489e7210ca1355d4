"""A sink's min_interval (load jobs: BigQuery's daily quota) as the uploader keeps it: a fake sink and
a fake clock, as in test_uploader.py."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pytest
from test_uploader import FakeSink, Harness, batch_of, unavailable

from shared.event import Event
from worker.messages import Stop
from worker.sinks import Delivery

INTERVAL = 300.0


def timed_sends(harness: Harness) -> list[float]:
    """Makes the harness's sink note the fake time of every send; returns that list."""
    times: list[float] = []
    sink, original = harness.sink, harness.sink.send

    def send(events: Sequence[Event], timeout: float) -> Delivery:
        times.append(harness.clock.now)
        return original(events, timeout)

    sink.send = send  # type: ignore[method-assign]
    return times


def run(harness: Harness) -> None:
    try:
        harness.uploader.run()
    finally:
        harness.drain_lock.release()


def test_a_paced_sink_gets_at_most_one_send_per_interval_and_one_last_send_at_exit(
        tmp_path: Path) -> None:
    harness = Harness(tmp_path, FakeSink(min_interval=INTERVAL), batch_size=1, flush_interval=0.1)
    times = timed_sends(harness)
    start = harness.clock.now
    harness.events.put(batch_of(2))
    for k in range(1, 6):  # two more events every 100 s
        harness.events.at(start + 100.0 * k, partial(harness.events.put, batch_of(2, 2 * k)))
    harness.events.at(start + 620.0, lambda: harness.events.put(batch_of(2, 12)))
    harness.events.at(start + 650.0, lambda: harness.events.put(Stop(3.0)))
    run(harness)
    # Due at once, then held back by the interval although the flush policy wanted more: at 300 the
    # events of 100 and 200 go together, at 600 those of 300-500 (the fake queue hands over what
    # arrives at a moment after that moment's send), and at exit (650) the last two, 50 s after the
    # send before: the exit's one send does not wait for the interval.
    assert [t - start for t in times] == pytest.approx([0.0, 300.0, 600.0, 650.0])
    assert [len(batch) for batch in harness.sink.sent] == [2, 4, 6, 2]
    assert harness.last_report().stats.sent == 14 and harness.store.pending_count() == 0


def test_the_exit_send_of_a_paced_sink_is_one_even_when_it_fails(tmp_path: Path) -> None:
    harness = Harness(tmp_path, FakeSink(min_interval=INTERVAL, behaviour=unavailable), batch_size=1)
    times = timed_sends(harness)
    start = harness.clock.now
    harness.events.put(batch_of(3))
    harness.events.at(start + 10.0, lambda: harness.events.put(Stop(30.0)))
    run(harness)
    # The failure at 0 would be retried after a 0.5 s backoff, but the interval holds it back; the
    # exit makes its one send and then stops (a second load job would cost quota), far inside
    # its 30 s budget.
    assert [t - start for t in times] == pytest.approx([0.0, 10.0])
    assert harness.clock.now - start < 11.0
    assert harness.store.pending_count() == 3  # kept for the next start
