"""ClickstreamTracker: the UI-side handle. It starts the uploader process and feeds it events.

track_event() only captures the click (time, session, type, component, a snapshot of the metadata)
and appends it to a deque, without a lock; a sender thread builds the events (ids, timestamps,
JSON) and hands them to the queue in messages of at most MESSAGE_EVENTS events, so that work,
pickling and pipe writes are paid per batch and off the UI thread, and no single message is big
enough to stall anyone (or to be cut in half by a dying app).

Hand-off: every accepted event gets a sequence number and stays in an in-memory buffer until the
uploader reports that it has committed that number to the spool. If the uploader dies, or stops
reporting while events wait (hung), the tracker starts a new one on fresh queues (a killed reader
can leave a queue's lock held) and resends the buffer; the spool ignores event_ids it already has,
so resends are harmless. Restarts slow down when the uploader keeps dying but never stop. When the
buffer is full, the sender thread writes the overflow into the store itself; an event is dropped
(and counted) only when that fails too. At shutdown whatever is still unacknowledged is written to
the spool directly.

Exit: `worker.exit_hooks` shuts every started tracker down at interpreter exit; signals are the
app's choice (`stop_trackers_on_signals`).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import multiprocessing
import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shared.event import Capture, EventRow, build, capture, new_session_id
from shared.settings import Settings
from worker.exit_hooks import shut_down_at_exit
from worker.messages import EventsBatch, Report, Stop, UploaderStats
from worker.policy import Backoff
from worker.store import BUSY_TIMEOUT, Store
from worker.uploader import REQUEST_TIMEOUT, STORE_ERRORS, run_uploader

log = logging.getLogger(__name__)

# Events accepted but not yet committed by the uploader. At ~150 B each this bounds memory to a few
# MB while covering minutes of an outage of the uploader process itself. The overflow (written to
# the store by the tracker) holds as many again.
DEFAULT_CAPACITY = 20_000
# Most events in one queue message: a few tens of KB pickle in well under a millisecond.
MESSAGE_EVENTS = 500
# No report for this long while events wait means the uploader is hung. It reports every
# HEARTBEAT_INTERVAL seconds between steps, and its longest step is bounded by a request timeout or
# the store's busy timeout: twice the longer of those is never reached by a working uploader.
HANG_TIMEOUT = 2 * max(REQUEST_TIMEOUT, BUSY_TIMEOUT)
# Kept back from the exit budget for terminating the process and spooling leftovers ourselves.
EXIT_MARGIN = 0.7
# Time the uploader gets after its final flush to report and exit before we stop waiting for it.
EXIT_SLACK = 0.3
MONITOR_INTERVAL = 0.2
# How long shutdown waits for the sender thread to hand on what it is building (milliseconds' work).
SENDER_JOIN = 1.0
# The sender waits this long after a wake-up so a burst of clicks travels as one message; without it
# every event would cost a thread switch. Invisible next to the flush interval (seconds).
SEND_COALESCE = 0.005
# An uploader that has lived this long is healthy again: its next death restarts it at once.
STABLE_AFTER = 30.0


@dataclass(frozen=True)
class TrackerStats:
    """What get_stats() reports: the tracker's own counts next to the uploader's latest report."""

    enabled: bool
    sink: str
    session_id: str
    queue_size: int  # accepted events not yet handed to the queue
    buffer_size: int  # accepted events the uploader has not acknowledged yet
    dropped: int
    overflowed: int  # events the tracker wrote to the store itself (buffer full)
    uploader_restarts: int
    uploader_pid: int | None
    uploader_alive: bool
    uploader_ready: bool  # the running uploader has reported: it receives and spools
    last_error: str | None  # the uploader's, or the tracker's own (overflow, hung uploader)
    store_writable: bool
    uploader: UploaderStats

    def as_dict(self) -> dict[str, Any]:
        """The documented flat dict: the uploader's counts (sent, failed, spooled, quarantined,
        received) beside the tracker's own."""
        flat = dataclasses.asdict(self.uploader)
        flat.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "uploader"})
        return flat


class ClickstreamTracker:
    def __init__(self, settings: Settings | None = None, capacity: int = DEFAULT_CAPACITY,
                 hang_timeout: float = HANG_TIMEOUT) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self._hang_timeout = hang_timeout
        self.session_id = new_session_id()
        self._capacity = capacity
        self._ctx = multiprocessing.get_context("spawn")
        # Re-entrant: the SIGTERM/SIGINT handler runs shutdown on the main thread, possibly while
        # that thread is inside get_stats() holding the lock. (track_event() takes no lock.)
        self._lock = threading.RLock()
        self._unacked: collections.deque[EventsBatch] = collections.deque()  # sent, not acknowledged
        self._unacked_count = 0  # events in those batches
        # Deques: track_event appends without the lock (a deque's append and popleft are atomic),
        # and the sender takes from the left what is there, so nothing appended meanwhile is missed.
        self._pending: collections.deque[Capture] = collections.deque()  # accepted, not yet sent
        self._overflow: collections.deque[Capture] = collections.deque()  # accepted while full
        # What the sender thread is building right now (pending, overflow): shutdown spools it
        # itself if the sender has not handed it on by then.
        self._in_hand: tuple[list[Capture], list[Capture]] | None = None
        self._handed_on = threading.Condition(self._lock)
        self._stop_sent = False
        self._wake_sender = threading.Event()
        self._seq = 0
        self._dropped = 0
        self._overflowed = 0
        self._own_error: str | None = None
        self._own_store_writable = True
        self._restarts = 0
        self._restart_backoff = Backoff(base=1.0, cap=60.0)
        self._uploader_stats = UploaderStats()
        self._error_kinds_seen: set[str] = set()
        self._last_report = 0.0
        self._reported = False
        self._spawned_at = 0.0
        self._process: Any = None
        self._events: Any = None
        self._reports: Any = None
        self._threads: list[threading.Thread] = []
        self._started = False
        self._closed = False
        if self.enabled:
            self._open_queues()  # events tracked before start() wait in the queue

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ClickstreamTracker:
        """Starts the uploader process (spawn) and the monitor thread; a no-op when disabled."""
        with self._lock:
            if not self.enabled or self._started or self._closed:
                return self
            self._started = True
            self._spawn()
        self._threads = [threading.Thread(target=target, name=name, daemon=True) for target, name in (
            (self._monitor_loop, "clickstream-monitor"), (self._sender_loop, "clickstream-sender"))]
        for thread in self._threads:
            thread.start()
        shut_down_at_exit(self)
        return self

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stops the uploader within `timeout` seconds; nothing accepted is lost. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            started = self._started
            if started:
                # What the sender is building goes first; it takes milliseconds. (Waiting releases
                # the lock, also when a signal handler runs this inside track_event.)
                self._handed_on.wait_for(lambda: self._in_hand is None, SENDER_JOIN)
                self._enqueue([build(captured) for captured in _take(self._pending)], send=True)
                # Under the lock, after the last events: nothing can be put behind the stop.
                self._events.put(Stop(max(0.1, timeout - EXIT_MARGIN - EXIT_SLACK)))
                self._stop_sent = True
        self._wake_sender.set()  # lets the sender thread see _closed and end
        try:
            if started:
                self._stop_uploader(timeout)
        finally:  # even if interrupted (e.g. a signal handler raised), keep what is in memory
            self._spool_leftovers()
            if self._events is not None:
                _close_channels(self._events, self._reports)

    def _stop_uploader(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        process = self._process
        process.join(max(0.0, deadline - EXIT_MARGIN - time.monotonic()))
        if process.is_alive():
            # It ignores SIGTERM (see run_uploader); killing is safe: the spool is transactional.
            log.warning("uploader did not stop in time; killing it (events stay spooled)")
            process.kill()
            process.join(0.5)
        for thread in self._threads:
            thread.join(SENDER_JOIN)
        self._drain_reports()

    def __enter__(self) -> ClickstreamTracker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.shutdown()

    # -- tracking (UI thread; must never block or raise) ---------------------------------------

    def track_event(self, event_type: str, component: str, metadata: Any = None,
                    session_id: str | None = None) -> bool:
        """Queues one event; returns False when it was dropped (counted in stats)."""
        if not self.enabled:
            return False
        try:
            captured = capture(session_id or self.session_id, event_type, component, metadata)
        except Exception:  # the UI must never see a tracking error
            return self._drop(1, "could not capture the event", exc_info=True)
        # No lock: this runs on every click, and a lock shared with the sender and monitor threads
        # makes the click wait whenever one of them holds it and waits for the GIL. The counts may
        # be a few events stale; the capacity is a bound on memory, not an exact number.
        if self._closed:
            return self._drop(1, "tracker is shut down")
        if self._unacked_count + len(self._pending) + self._in_hand_size() < self._capacity:
            self._pending.append(captured)
        elif len(self._overflow) < self._capacity:
            self._overflow.append(captured)
        else:
            return self._drop(1, "buffer and overflow full")
        if self._closed:  # shut down since the check above: its last spool may have missed this one
            self._spool_leftovers()
        elif not self._wake_sender.is_set():  # later clicks ride on the same wake-up
            self._wake_sender.set()
        return True

    def _drop(self, count: int, reason: str, exc_info: bool = False) -> bool:
        with self._lock:
            before = self._dropped
            self._dropped += count
            dropped = self._dropped
        # The first drop and then one line per thousand: a flood of drops must not flood the log too.
        if before == 0 or before // 1000 != dropped // 1000:
            log.warning("clickstream event dropped (%d so far): %s", dropped, reason, exc_info=exc_info)
        return False

    def get_stats(self) -> dict[str, Any]:
        return self.stats().as_dict()

    def stats(self) -> TrackerStats:
        with self._lock:
            process = self._process
            uploader = self._uploader_stats
            return TrackerStats(
                enabled=self.enabled, sink=self.settings.sink, session_id=self.session_id,
                queue_size=len(self._pending) + self._in_hand_size(),
                buffer_size=self._unacked_count + len(self._pending) + self._in_hand_size(),
                dropped=self._dropped,
                overflowed=self._overflowed, uploader_restarts=self._restarts,
                uploader_pid=process.pid if process else None,
                uploader_alive=bool(process and process.is_alive()),
                uploader_ready=self._reported and bool(process and process.is_alive()),
                last_error=uploader.last_error or self._own_error,
                store_writable=uploader.store_writable and self._own_store_writable,
                uploader=uploader)

    # -- the sender thread ---------------------------------------------------------------------

    def _open_queues(self) -> None:
        # Unbounded: the unacked buffer's capacity already bounds what can be in flight.
        self._events = self._ctx.Queue()
        self._reports = self._ctx.Queue()

    def _in_hand_size(self) -> int:
        return len(self._in_hand[0]) if self._in_hand else 0

    def _sender_loop(self) -> None:
        overflow_store = Store(self.settings.store_path)  # this thread's own connection
        try:
            while not self._closed:
                self._wake_sender.wait()
                time.sleep(SEND_COALESCE)
                self._wake_sender.clear()
                with self._lock:
                    if self._closed:
                        return
                    in_hand = self._in_hand = (_take(self._pending), _take(self._overflow))
                # Building is most of an event's cost: done here, without the lock, so clicks go on.
                events = [build(captured) for captured in in_hand[0]]
                overflow = [build(captured) for captured in in_hand[1]]
                with self._lock:
                    if self._in_hand is not in_hand:
                        return  # shutdown took them over
                    self._in_hand = None
                    self._enqueue(events, send=not self._stop_sent)
                    self._handed_on.notify_all()
                if overflow:
                    self._write_overflow(overflow_store, overflow)
        finally:
            overflow_store.close()

    def _enqueue(self, rows: list[EventRow], send: bool) -> None:
        """Numbers the events in batches of at most MESSAGE_EVENTS and keeps them until
        acknowledged; puts the batches on the queue when `send`. Caller holds the lock."""
        for start in range(0, len(rows), MESSAGE_EVENTS):
            batch = EventsBatch(self._seq + 1, rows[start:start + MESSAGE_EVENTS])
            self._seq = batch.last_seq
            self._unacked.append(batch)
            self._unacked_count += len(batch.rows)
            if send:
                # Queue.put on an unbounded queue only appends to the queue's own buffer: no blocking.
                self._events.put(batch)

    def _write_overflow(self, store: Store, events: list[EventRow]) -> None:
        try:
            store.add(events)
        except STORE_ERRORS as error:
            with self._lock:
                self._own_error = f"cannot write {store.path}: {error}"
                self._own_store_writable = False
            self._drop(len(events), f"buffer full and {self._own_error}")
            return
        with self._lock:
            self._overflowed += len(events)
            self._own_store_writable = True
        log.debug("buffer full: wrote %d event(s) to the store directly", len(events))

    # -- supervision (monitor thread) -----------------------------------------------------------

    def _spawn(self) -> None:
        process = self._ctx.Process(
            target=run_uploader, name="clickstream-uploader", daemon=True,
            args=(self.settings, self._events, self._reports, logging.getLogger().getEffectiveLevel()))
        with _without_main_module():
            process.start()
        self._process = process
        self._reported = False
        self._spawned_at = self._last_report = time.monotonic()

    def _monitor_loop(self) -> None:
        while True:
            try:
                self._handle_report(self._reports.get(timeout=MONITOR_INTERVAL))
                continue
            except queue.Empty:
                pass
            except (OSError, ValueError, EOFError):  # queue closed during shutdown
                return
            if self._closed:
                if not self._process.is_alive():
                    return
            elif not self._process.is_alive():
                self._restart()
            elif self._unacked and time.monotonic() - self._last_report > self._hang_timeout:
                log.warning("uploader %d sent nothing for %.0f s while %d event(s) wait: it is hung; "
                            "killing it", self._process.pid, self._hang_timeout, self._unacked_count)
                self._own_error = "uploader was hung and restarted"
                self._process.kill()

    def _handle_report(self, report: Report) -> None:
        with self._lock:
            self._last_report = time.monotonic()
            self._reported = True
            self._uploader_stats = report.stats
            while self._unacked and self._unacked[0].last_seq <= report.acked:
                self._unacked_count -= len(self._unacked.popleft().rows)
            kind = report.stats.error_kind
            new_kind = kind is not None and kind not in self._error_kinds_seen
            if kind is not None:
                self._error_kinds_seen.add(kind)
        if new_kind and kind is not None:
            # The user feels a sink or store problem (events not arriving): tracked once per kind,
            # as type and place only.
            place, _, error_type = kind.partition(":")
            self.track_event("app_error", "uploader", {"error": error_type, "where": f"uploader.{place}"})

    def _restart(self) -> None:
        now = time.monotonic()
        if now - self._spawned_at >= STABLE_AFTER:
            self._restart_backoff.succeeded()
        if not self._restart_backoff.ready(now):
            return  # dying again and again: wait (events stay in memory, overflow goes to the store)
        # Under the lock: shutdown cannot start meanwhile, and nothing tracked from now on can
        # overtake the resent events.
        with self._lock:
            if self._closed:
                return
            self._restarts += 1
            delay = self._restart_backoff.failed(now)
            log.warning("uploader exited with code %s; restarting it and resending %d event(s) "
                        "(if it dies again, the next restart waits %.1f s)",
                        self._process.exitcode, self._unacked_count, delay)
            old_channels = (self._events, self._reports)
            self._open_queues()
            for batch in self._unacked:
                self._events.put(batch)
            self._spawn()
        _close_channels(*old_channels)

    def _drain_reports(self) -> None:
        while True:
            try:
                self._handle_report(self._reports.get_nowait())
            except (queue.Empty, OSError, ValueError, EOFError):
                return

    def _spool_leftovers(self) -> None:
        """Writes events the uploader never committed (it died or was terminated) to the spool."""
        with self._lock:
            captures = _take(self._pending) + _take(self._overflow)
            if self._in_hand is not None:
                captures += self._in_hand[0] + self._in_hand[1]
            self._in_hand = None
            leftovers = [row for batch in self._unacked for row in batch.rows]
            self._unacked.clear()
            self._unacked_count = 0
        leftovers += [build(captured) for captured in captures]
        if not leftovers:
            return
        store = Store(self.settings.store_path)
        try:
            store.add(leftovers)
            log.info("spooled %d event(s) the uploader had not committed", len(leftovers))
        except Exception as error:
            self._drop(len(leftovers), f"could not spool them at exit: {error}")
            log.error("could not spool %d event(s) at exit: %s", len(leftovers), error)
        finally:
            store.close()


def _take(captures: collections.deque[Capture]) -> list[Capture]:
    """What the deque holds now, taken from the left; appends made meanwhile stay for next time."""
    return [captures.popleft() for _ in range(len(captures))]


def _close_channels(*channels: Any) -> None:
    for channel in channels:
        channel.cancel_join_thread()  # never hang exit on a pipe nobody reads any more
        channel.close()


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Keeps spawn from re-importing the app's __main__ script in the uploader.

    That script imports Flet; the uploader must stay small and must not run UI code. Spawn skips
    the main module when it has neither a module spec nor a file, so we hide both for start().
    """
    main = sys.modules["__main__"]
    saved = {name: getattr(main, name) for name in ("__spec__", "__file__") if hasattr(main, name)}
    main.__spec__ = None
    if hasattr(main, "__file__"):
        del main.__file__
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)
