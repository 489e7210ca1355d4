"""The uploader loop alone: a fake sink and a fake clock, a real SQLite store, no process, no sleeping."""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from shared.event import Event, EventFactory, EventRow
from worker.drain_lock import DrainLock
from worker.messages import EventsBatch, Report, Stop
from worker.policy import Backoff, FlushPolicy
from worker.sinks import Delivery, SinkUnavailable
from worker.store import Store
from worker.uploader import ORPHAN_BUDGET, Uploader

FACTORY = EventFactory("session-1")


class FakeClock:
    """Time moves only when the uploader waits (sleep or a blocking receive)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class ClockedQueue(queue.Queue):
    """An events queue whose blocking get() advances the fake clock instead of waiting, running
    what was scheduled with at() once the clock reaches its time."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock
        self._scheduled: list[tuple[float, Callable[[], None]]] = []

    def at(self, when: float, action: Callable[[], None]) -> None:
        self._scheduled.append((when, action))

    def get(self, block: bool = True, timeout: float | None = None):
        try:
            return super().get(block=False)
        except queue.Empty:
            if block and timeout:
                self._clock.sleep(timeout)
                for entry in [entry for entry in self._scheduled if entry[0] <= self._clock.now]:
                    self._scheduled.remove(entry)
                    entry[1]()
            raise


class FakeSink:
    """Answers each send() with the next scripted behaviour; records what it was sent."""

    name = "fake"

    def __init__(self, max_batch: int = 100,
                 behaviour: Callable[[Sequence[Event]], Delivery] | None = None,
                 min_interval: float = 0.0) -> None:
        self.max_batch = max_batch
        self.min_interval = min_interval
        self.delivers_on_spool = False  # a remote sink: events wait in the outbox for send()
        self.sent: list[list[str]] = []
        self.timeouts: list[float] = []
        self.script: list[Callable[[Sequence[Event]], Delivery]] = []
        self._default = behaviour or deliver_all
        self.closed = False

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        self.sent.append([event.event_id for event in events])
        self.timeouts.append(timeout)
        behaviour = self.script.pop(0) if self.script else self._default
        return behaviour(events)

    def close(self) -> None:
        self.closed = True


def deliver_all(events: Sequence[Event]) -> Delivery:
    return Delivery(delivered=[event.event_id for event in events])


def unavailable(events: Sequence[Event]) -> Delivery:
    raise SinkUnavailable("network down")


def numbered_clicks(count: int, start: int = 0) -> list[Event]:
    """`count` clicks, their metadata {"i": number} numbered from `start`."""
    return [FACTORY.make("button_click", "start_button", {"i": start + i}) for i in range(count)]


def batch_of(count: int, start: int = 0) -> EventsBatch:
    """A batch of `count` clicks with sequence numbers from `start` (as in their metadata)."""
    return EventsBatch(start, list(numbered_clicks(count, start)))


class Harness:
    def __init__(self, tmp_path: Path, sink: FakeSink | None = None, batch_size: int = 10,
                 flush_interval: float = 2.0, parent_alive: Callable[[], bool] = lambda: True) -> None:
        self.clock = FakeClock()
        self.store = Store(tmp_path / "store.sqlite3")
        self.drain_lock = DrainLock(self.store.path)
        self.sink = sink or FakeSink()
        self.events = ClockedQueue(self.clock)
        self.reports: queue.Queue[Report] = queue.Queue()
        self.backoff = Backoff(base=0.5, cap=8.0, rng=lambda: 1.0)  # no jitter: exact delays
        self.uploader = Uploader(self.store, self.drain_lock, self.sink,
                                 FlushPolicy(batch_size, flush_interval),
                                 self.backoff, self.events, self.reports, parent_alive=parent_alive,
                                 clock=self.clock, sleep=self.clock.sleep)

    def run(self, *messages: EventsBatch | Stop) -> None:
        for message in messages:
            self.events.put(message)
        try:
            self.uploader.run()
        finally:
            self.drain_lock.release()

    def last_report(self) -> Report:
        report = None
        while not self.reports.empty():
            report = self.reports.get_nowait()
        assert report is not None
        return report


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_received_events_are_spooled_acknowledged_and_delivered(harness: Harness) -> None:
    harness.run(batch_of(25), Stop(3.0))
    report = harness.last_report()
    assert report.acked == 24
    assert (report.stats.received, report.stats.sent, report.stats.spooled) == (25, 25, 0)
    assert harness.store.pending_count() == 0
    assert sum(len(batch) for batch in harness.sink.sent) == 25


def test_backoff_grows_while_the_sink_is_down_and_resets_after_a_success(tmp_path: Path) -> None:
    sink = FakeSink()
    sink.script = [unavailable] * 4
    harness = Harness(tmp_path, sink, batch_size=1)
    attempts: list[float] = []
    original = sink.send

    def timed_send(events: Sequence[Event], timeout: float) -> Delivery:
        attempts.append(harness.clock.now)
        return original(events, timeout)

    sink.send = timed_send  # type: ignore[method-assign]
    harness.events.put(batch_of(1))
    harness.events.put(Stop(30.0))
    harness.uploader.run()
    gaps = [round(b - a, 3) for a, b in zip(attempts, attempts[1:], strict=False)]
    # base 0.5 s doubling, no jitter: 0.5, 1, 2, 4, then the fifth attempt succeeds.
    assert gaps == [0.5, 1.0, 2.0, 4.0]
    assert harness.backoff.failures == 0 and harness.backoff.ready(harness.clock.now)
    report = harness.last_report()
    assert (report.stats.failed, report.stats.sent, report.stats.last_error) == (4, 1, None)


def test_a_partly_delivered_batch_keeps_the_rest_spooled_for_the_next_send(tmp_path: Path) -> None:
    sink = FakeSink()
    sink.script = [lambda events: Delivery(delivered=[e.event_id for e in events[:3]])]
    harness = Harness(tmp_path, sink, batch_size=1)
    harness.run(batch_of(5), Stop(3.0))
    first, second = sink.sent[0], sink.sent[1]
    assert len(first) == 5 and second == first[3:]  # the two left over are sent again, nothing else
    assert harness.last_report().stats.sent == 5
    assert harness.store.pending_count() == 0


def test_rejected_rows_are_quarantined_with_their_error_and_never_resent(tmp_path: Path) -> None:
    def reject_odd(events: Sequence[Event]) -> Delivery:
        delivery = Delivery()
        for index, event in enumerate(events):
            if index % 2:
                delivery.rejected[event.event_id] = "invalid: timestamp"
            else:
                delivery.delivered.append(event.event_id)
        return delivery

    sink = FakeSink(behaviour=reject_odd)
    harness = Harness(tmp_path, sink, batch_size=1)
    harness.run(batch_of(6), Stop(3.0))
    assert len(sink.sent) == 1
    stats = harness.last_report().stats
    assert (stats.sent, stats.quarantined, stats.spooled) == (3, 3, 0)
    assert harness.store.quarantined_count() == 3


def test_an_unexpected_sink_exception_keeps_the_events_and_the_loop(tmp_path: Path) -> None:
    def buggy(events: Sequence[Event]) -> Delivery:
        raise KeyError("bug in a sink")

    sink = FakeSink()
    sink.script = [buggy]
    harness = Harness(tmp_path, sink, batch_size=1)
    harness.run(batch_of(4), Stop(3.0))
    stats = harness.last_report().stats
    assert stats.failed == 1 and stats.sent == 4  # retried after the backoff, within the budget
    assert len(sink.sent) == 2 and sink.sent[0] == sink.sent[1]


def test_the_final_flush_never_outlives_its_budget(tmp_path: Path) -> None:
    harness = Harness(tmp_path, FakeSink(behaviour=unavailable), batch_size=1)
    harness.events.put(batch_of(3))
    started = harness.clock.now
    harness.run(Stop(2.0))
    assert harness.clock.now - started <= 2.0 + 1e-9
    assert all(timeout <= 2.0 for timeout in harness.sink.timeouts)
    stats = harness.last_report().stats
    assert stats.spooled == 3 and stats.sent == 0 and stats.failed >= 2
    assert harness.store.pending_count() == 3  # kept for the next start


def test_an_orphaned_uploader_flushes_and_exits(tmp_path: Path) -> None:
    harness = Harness(tmp_path, batch_size=1000, flush_interval=3600.0, parent_alive=lambda: False)
    harness.events.put(batch_of(7))
    started = harness.clock.now
    harness.uploader.run()  # returns: no stop message ever came
    assert harness.clock.now - started <= ORPHAN_BUDGET + 1.0
    assert harness.last_report().stats.sent == 7  # the final flush sent what was waiting


def test_leftovers_of_an_earlier_run_are_sent_first_without_waiting(tmp_path: Path) -> None:
    earlier = Store(tmp_path / "store.sqlite3")
    old = numbered_clicks(3, start=100)
    earlier.add(old)
    earlier.close()
    harness = Harness(tmp_path, batch_size=1000, flush_interval=3600.0)
    harness.run(batch_of(2), Stop(3.0))
    assert harness.sink.sent[0][:3] == [event.event_id for event in old]


def test_a_message_of_unknown_type_is_ignored(harness: Harness) -> None:
    harness.events.put(("not", "ours"))
    harness.run(batch_of(2), Stop(3.0))
    assert harness.last_report().stats.sent == 2


class FailingStore(Store):
    """A real store whose writes fail while `broken` is set, as on a full disk."""

    broken = True

    def add(self, events: Sequence[EventRow], queue: bool = True) -> int:
        if self.broken:
            raise sqlite3.OperationalError("database or disk is full")
        return super().add(events, queue)


def test_a_store_that_cannot_be_written_is_an_outage_not_a_crash(tmp_path: Path) -> None:
    harness = Harness(tmp_path, batch_size=1)
    store = FailingStore(harness.store.path)
    harness.uploader._store = store  # the same loop, handed a store that fails for a while
    harness.events.put(batch_of(5))
    harness.events.at(harness.clock.now + 5.0, lambda: setattr(store, "broken", False))
    harness.events.at(harness.clock.now + 9.0, lambda: harness.events.put(Stop(1.0)))
    harness.uploader.run()
    reports = []
    while not harness.reports.empty():
        reports.append(harness.reports.get_nowait())
    during = [r for r in reports if not r.stats.store_writable]
    assert len(during) >= 3 and all(r.acked == -1 for r in during)  # retried, nothing acknowledged
    assert "cannot write" in (during[0].stats.last_error or "")
    assert reports[-1].acked == 4 and reports[-1].stats.store_writable
    assert reports[-1].stats.last_error is None and reports[-1].stats.sent == 5


def test_only_the_holder_of_the_drain_lock_sends(tmp_path: Path) -> None:
    other_app = DrainLock(tmp_path / "store.sqlite3")
    assert other_app.try_acquire()
    harness = Harness(tmp_path, batch_size=1)
    harness.run(batch_of(3), Stop(1.0))
    assert harness.sink.sent == []  # spooled, left to the other app
    assert harness.last_report().acked == 2 and harness.store.pending_count() == 3
    other_app.release()
    second = Harness(tmp_path, batch_size=1)
    second.run(Stop(1.0))  # the next start holds the lock and delivers them
    assert sum(len(batch) for batch in second.sink.sent) == 3


def test_a_sink_that_is_the_store_delivers_on_spool_without_sends(tmp_path: Path) -> None:
    sink = FakeSink()
    sink.delivers_on_spool = True  # as the local sink: the clickstream table is the destination
    harness = Harness(tmp_path, sink, batch_size=1)
    events = batch_of(30)
    harness.run(events, EventsBatch(0, events.rows[:5]), Stop(1.0))  # 5 resent after a restart
    stats = harness.last_report().stats
    assert (stats.received, stats.sent, stats.spooled) == (35, 30, 0)
    assert sink.sent == [] and harness.store.pending_count() == 0
