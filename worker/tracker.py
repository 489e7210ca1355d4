"""ClickstreamTracker: the UI-side handle. It starts the uploader process and feeds it events.

track_event() only appends to a list; a sender thread hands the list to the queue as one message,
so pickling and pipe writes are paid per batch, not per click.

Hand-off: every accepted event gets a sequence number and stays in an in-memory buffer until the
uploader reports that it has committed that number to the spool. If the uploader dies, the tracker
starts a new one on fresh queues (a killed reader can leave a queue's lock held) and resends the
buffer; the spool ignores event_ids it already has, so resends are harmless. At shutdown whatever is
still unacknowledged is written to the spool directly.

Exit: the tracker registers an atexit hook that shuts every live tracker down, so a normal
interpreter exit never loses events. Signals are the application's business: a library must not
take over SIGTERM/SIGINT silently, so the app turns that on explicitly with
`stop_trackers_on_signals()` from its main thread (ui/__main__.py does).
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import logging
import multiprocessing
import queue
import signal
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from shared.event import EventFactory, new_session_id
from shared.settings import Settings
from worker.messages import EventsBatch, Numbered, Report, Stop, UploaderStats
from worker.store import Store
from worker.uploader import run_uploader

log = logging.getLogger(__name__)

# Events accepted but not yet committed by the uploader. At ~150 B each this bounds memory to a few
# MB while covering minutes of an outage of the uploader process itself.
DEFAULT_CAPACITY = 20_000
# Restarts allowed within RESTART_WINDOW seconds; past that the uploader is considered broken.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
# Kept back from the exit budget for terminating the process and spooling leftovers ourselves.
EXIT_MARGIN = 0.7
# Time the uploader gets after its final flush to report and exit before we stop waiting for it.
EXIT_SLACK = 0.3
MONITOR_INTERVAL = 0.2
# The sender waits this long after a wake-up so a burst of clicks travels as one message; without it
# every event would cost a thread switch. Invisible next to the flush interval (seconds).
SEND_COALESCE = 0.005


@dataclass(frozen=True)
class TrackerStats:
    """What get_stats() reports: the tracker's own counts next to the uploader's latest report."""

    enabled: bool
    sink: str
    session_id: str
    queue_size: int  # accepted events not yet handed to the queue
    buffer_size: int  # accepted events the uploader has not acknowledged yet
    dropped: int
    restarts: int
    uploader_pid: int | None
    uploader_alive: bool
    uploader: UploaderStats

    def as_dict(self) -> dict[str, Any]:
        """The documented flat dict: the uploader's counts (sent, failed, spooled, quarantined,
        received, last_error) beside the tracker's own."""
        flat = dataclasses.asdict(self.uploader)
        flat.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "uploader"})
        return flat


class ClickstreamTracker:
    def __init__(self, settings: Settings | None = None, capacity: int = DEFAULT_CAPACITY) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self.session_id = new_session_id()
        self._factory = EventFactory(self.session_id)
        self._capacity = capacity
        self._ctx = multiprocessing.get_context("spawn")
        # Re-entrant: the SIGTERM/SIGINT handler runs shutdown on the main thread, possibly while
        # that thread is inside track_event() or get_stats() holding the lock.
        self._lock = threading.RLock()
        self._unacked: collections.deque[Numbered] = collections.deque()
        self._outgoing: list[Numbered] = []  # accepted, not yet put on the queue
        self._wake_sender = threading.Event()
        self._seq = 0
        self._dropped = 0
        self._restarts: collections.deque[float] = collections.deque()
        self._uploader_stats = UploaderStats()
        self._process: Any = None
        self._events: Any = None
        self._reports: Any = None
        self._threads: list[threading.Thread] = []
        self._started = False
        self._closed = False
        self._gave_up = False
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
        _register_exit_hooks(self)
        return self

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stops the uploader within `timeout` seconds; nothing accepted is lost. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            started = self._started
            if started:
                self._send_outgoing()
                # Under the lock, after the last events: nothing can be put behind the stop.
                self._events.put(Stop(max(0.1, timeout - EXIT_MARGIN - EXIT_SLACK)))
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
            thread.join(MONITOR_INTERVAL * 2)
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
            event = self._factory.make(event_type, component, metadata, session_id)
        except Exception:  # the UI must never see a tracking error
            return self._drop("could not build the event", exc_info=True)
        with self._lock:
            if self._closed:
                reason = "tracker is shut down"
            elif len(self._unacked) >= self._capacity:
                reason = "buffer full"
            else:
                self._seq += 1
                self._unacked.append((self._seq, event))
                self._outgoing.append((self._seq, event))
                first = len(self._outgoing) == 1  # later ones ride on the same wake-up
                reason = ""
        if reason:
            return self._drop(reason)
        if first:
            self._wake_sender.set()
        return True

    def _drop(self, reason: str, exc_info: bool = False) -> bool:
        with self._lock:
            self._dropped += 1
            dropped = self._dropped
        # The first drop and then every 1000th: a flood of drops must not flood the log too.
        if dropped == 1 or dropped % 1000 == 0:
            log.warning("clickstream event dropped (%d so far): %s", dropped, reason, exc_info=exc_info)
        return False

    def get_stats(self) -> dict[str, Any]:
        return self.stats().as_dict()

    def stats(self) -> TrackerStats:
        with self._lock:
            process = self._process
            return TrackerStats(
                enabled=self.enabled, sink=self.settings.sink, session_id=self.session_id,
                queue_size=len(self._outgoing), buffer_size=len(self._unacked), dropped=self._dropped,
                restarts=len(self._restarts), uploader_pid=process.pid if process else None,
                uploader_alive=bool(process and process.is_alive()), uploader=self._uploader_stats)

    # -- supervision -------------------------------------------------------------------------

    def _open_queues(self) -> None:
        # Unbounded: the unacked buffer's capacity already bounds what can be in flight.
        self._events = self._ctx.Queue()
        self._reports = self._ctx.Queue()

    def _sender_loop(self) -> None:
        while not self._closed:
            self._wake_sender.wait()
            time.sleep(SEND_COALESCE)
            self._wake_sender.clear()
            with self._lock:
                if not self._closed:
                    self._send_outgoing()

    def _send_outgoing(self) -> None:
        """Puts the waiting events on the queue as one message. Caller holds the lock."""
        if self._outgoing:
            # Queue.put on an unbounded queue only appends to the queue's own buffer: no blocking.
            self._events.put(EventsBatch(self._outgoing))
            self._outgoing = []

    def _spawn(self) -> None:
        process = self._ctx.Process(
            target=run_uploader, name="clickstream-uploader", daemon=True,
            args=(self.settings, self._events, self._reports, logging.getLogger().getEffectiveLevel()))
        with _without_main_module():
            process.start()
        self._process = process

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

    def _handle_report(self, report: Report) -> None:
        with self._lock:
            self._uploader_stats = report.stats
            while self._unacked and self._unacked[0][0] <= report.acked:
                self._unacked.popleft()

    def _restart(self) -> None:
        now = time.monotonic()
        while self._restarts and now - self._restarts[0] > RESTART_WINDOW:
            self._restarts.popleft()
        if self._gave_up:
            return
        if len(self._restarts) >= MAX_RESTARTS:
            self._gave_up = True
            log.error("uploader keeps dying (%d restarts in %.0f s); not restarting it again. "
                      "Events are kept in memory and spooled at exit.", MAX_RESTARTS, RESTART_WINDOW)
            return
        # Under the lock: shutdown cannot start meanwhile, and nothing tracked from now on can
        # overtake the resent events.
        with self._lock:
            if self._closed:
                return
            self._restarts.append(now)
            log.warning("uploader exited with code %s; restarting it and resending %d event(s)",
                        self._process.exitcode, len(self._unacked))
            old_channels = (self._events, self._reports)
            self._open_queues()
            self._events.put(EventsBatch(list(self._unacked)))  # includes what was still outgoing
            self._outgoing = []
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
            leftovers = [event for _, event in self._unacked]
            self._unacked.clear()
        if not leftovers:
            return
        try:
            store = Store(self.settings.store_path)
            try:
                store.add(leftovers)
            finally:
                store.close()
            log.info("spooled %d event(s) the uploader had not committed", len(leftovers))
        except Exception:
            log.exception("could not spool %d event(s) at exit", len(leftovers))


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


_live_trackers: weakref.WeakSet[ClickstreamTracker] = weakref.WeakSet()
_atexit_registered = False


def _register_exit_hooks(tracker: ClickstreamTracker) -> None:
    """Shuts live trackers down on interpreter exit."""
    global _atexit_registered
    _live_trackers.add(tracker)
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(_shutdown_all)


def _shutdown_all() -> None:
    for tracker in list(_live_trackers):
        tracker.shutdown()


def stop_trackers_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Makes SIGTERM and SIGINT shut every live tracker down (bounded) before the signal's earlier
    handling runs: a chained handler is called, a default one ends the process by the signal.
    Call it from the main thread."""
    for signum in signals:
        previous = signal.getsignal(signum)
        signal.signal(signum, _make_signal_handler(previous))


def _make_signal_handler(previous: Any) -> Any:
    def handle(signum: int, frame: FrameType | None) -> None:
        _shutdown_all()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            # Die by the signal as we would have without us.
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    return handle
