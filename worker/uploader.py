"""The uploader process: receive events, spool them in SQLite, flush them to the sink.

Every received batch is committed to the spool before it is acknowledged to the tracker and before
any upload, so a crash at any point loses nothing: the tracker resends what was not acknowledged and
the next start uploads what was not delivered.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import queue
import signal
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.event import EventRow
from shared.settings import Settings
from worker.inbox import ThreadedInbox
from worker.messages import EventsBatch, Inbox, Outbox, Report, Stop, UploaderStats
from worker.policy import Backoff, FlushPolicy, Pacing
from worker.retention import prune
from worker.sinks import Sink, SinkUnavailable, make_sink
from worker.store import Store

if TYPE_CHECKING:  # imported by assemble(), in the uploader's process only
    from worker.drain_lock import DrainLock

log = logging.getLogger(__name__)

# Upper bound of one request while running; the final flush clips it to what is left of its budget.
REQUEST_TIMEOUT = 10.0
# How often a blocked receive wakes up to check that the app process is still there.
PARENT_CHECK_INTERVAL = 1.0
# Budget for the final flush when the app process died without saying stop.
ORPHAN_BUDGET = 3.0
# Most events taken off the queue per spool transaction: large enough to amortize the commit,
# small enough that acknowledgements keep flowing under load.
MAX_RECEIVE = 5000
# The uploader reports at least this often, so the app can tell a quiet uploader from a hung one.
HEARTBEAT_INTERVAL = 2.0
# What a store that cannot be written raises (disk full, read-only folder, locked by another writer).
STORE_ERRORS = (sqlite3.DatabaseError, OSError)


def run_uploader(settings: Settings, events: Inbox, reports: Outbox, log_level: int = logging.INFO) -> None:
    """Process entry point (spawn target): assembles the uploader's parts from the settings."""
    # Ctrl+C and a group-wide SIGTERM reach us too, but the app decides when we stop (it sends the
    # stop message, or kills us as a last resort); if the app dies, the parent check notices.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=log_level,
                        format="%(asctime)s uploader[%(process)d] %(levelname)s %(name)s: %(message)s")
    try:
        prune(settings.store_path, settings.retention_days)
    except (sqlite3.Error, OSError):  # retention is housekeeping: it never keeps the uploader from starting
        log.warning("local retention prune failed", exc_info=True)
    parent = multiprocessing.parent_process()
    uploader = assemble(settings, ThreadedInbox(events), reports,
                        parent_alive=parent.is_alive if parent else (lambda: True))
    try:
        uploader.run()
    finally:
        uploader.close()


def assemble(settings: Settings, events: Inbox, reports: Outbox,
             parent_alive: Callable[[], bool] = lambda: True) -> Uploader:
    """The uploader with the store, drain lock, sink, flush policy and backoffs the settings ask for."""
    from worker.drain_lock import DrainLock

    return Uploader(Store(settings.store_path), DrainLock(settings.store_path), make_sink(settings),
                    FlushPolicy(settings.batch_size, settings.flush_interval), Backoff(),
                    events, reports, parent_alive=parent_alive)


class Uploader:
    """The loop: receive, spool, acknowledge, flush to the sink when the policy says so.

    It is handed every part it uses and owns them (close() closes the sink and the store, and
    releases the drain lock); time comes from `clock` and waiting goes through `sleep`, so a test
    drives it with a fake clock and no real waiting.

    Only the holder of the store's drain lock sends: a second app on the same data folder spools its
    events and leaves them to the holder, and takes over when the holder exits. A store that cannot
    be written is an outage, not a crash: received events stay in memory, unacknowledged, and
    spooling is retried with backoff.
    """

    def __init__(self, store: Store, drain_lock: DrainLock, sink: Sink, policy: FlushPolicy,
                 backoff: Backoff, events: Inbox, reports: Outbox,
                 parent_alive: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._drain_lock = drain_lock
        self._sink = sink
        self._policy = policy
        self._backoff = backoff
        self._store_backoff = dataclasses.replace(backoff, failures=0)
        self._pacing = Pacing(sink.min_interval)
        self._events = events
        self._reports = reports
        self._parent_alive = parent_alive
        self._clock = clock
        self._sleep = sleep
        self._acked = -1
        self._unspooled: list[EventRow] = []  # received, not yet committed (the store failed)
        self._unspooled_last = -1  # the highest sequence number among them
        self._last_report = float("-inf")
        self._store_error: str | None = None
        self._sink_error: str | None = None
        self.stats = UploaderStats()
        self._oldest: float | None = None  # when the oldest event waiting for the sink was seen

    def run(self) -> None:
        self._drain_lock.try_acquire()  # the first app on a store drains it
        self._recount()
        if self.stats.spooled:
            self._oldest = float("-inf")  # leftovers of an earlier run are due at once
        log.info("uploader started: sink=%s, %d event(s) waiting from before",
                 self._sink.name, self.stats.spooled)
        self._report()
        while True:
            budget = self._receive(self._wait_time())
            if self._unspooled and self._store_backoff.ready(self._clock()):
                self._spool()
            if budget is None and not self._parent_alive():
                log.warning("app process is gone; flushing and exiting")
                budget = ORPHAN_BUDGET
            if budget is not None:
                self._final_flush(self._clock() + budget)
                return
            if self._flush_due():
                self._upload_batch(REQUEST_TIMEOUT)
            if self._clock() - self._last_report >= HEARTBEAT_INTERVAL:
                self._recount()  # another app on the same store may have added or sent events
                self._report()  # the app takes a long silence for a hung uploader

    def close(self) -> None:
        self._sink.close()
        self._store.close()
        self._drain_lock.release()

    # -- receiving ---------------------------------------------------------------------------

    def _wait_time(self) -> float:
        now = self._clock()
        waits = [PARENT_CHECK_INTERVAL, self._last_report + HEARTBEAT_INTERVAL - now]
        flush_wait = self._policy.wait(self.stats.spooled, self._oldest_age(now))
        if flush_wait is not None:
            waits.append(max(flush_wait, self._backoff.ready_at - now, self._pacing.ready_at - now))
        if self._unspooled:
            waits.append(self._store_backoff.ready_at - now)
        return max(0.0, min(waits))

    def _receive(self, timeout: float) -> float | None:
        """Blocks up to `timeout` for a first message, then takes what is already there, adding
        the events to those to spool.

        Returns, after a stop message, the seconds left for the final flush.
        """
        received = 0
        try:
            message = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
            while True:
                if isinstance(message, Stop):
                    return message.budget
                if isinstance(message, EventsBatch):
                    self._unspooled += message.rows
                    self._unspooled_last = max(self._unspooled_last, message.last_seq)
                    received += len(message.rows)
                else:
                    log.error("ignoring a message of unknown type %s", type(message).__name__)
                if received >= MAX_RECEIVE:
                    return None
                message = self._events.get_nowait()
        except queue.Empty:
            return None

    def _spool(self) -> None:
        """Commits the received events, then acknowledges them; on a store failure keeps them."""
        batch = self._unspooled
        delivers = self._sink.delivers_on_spool
        try:
            added = self._store.add(batch, queue=not delivers)
            self._count_spool()
        except STORE_ERRORS as error:
            self._store_failed(error)
            return
        self._unspooled = []
        self.stats.received += len(batch)
        if delivers:
            self.stats.sent += added
        if self.stats.spooled and self._oldest is None:
            self._oldest = self._clock()
        self._acked = max(self._acked, self._unspooled_last)
        if self._store_error is not None:
            log.warning("the local store %s can be written again; %d event(s) stored",
                        self._store.path, len(batch))
            self._store_error = None
            self._store_backoff.succeeded()
        self._report()

    def _store_failed(self, error: BaseException) -> None:
        message = f"cannot write {self._store.path}: {error}"
        delay = self._store_backoff.failed(self._clock())
        self.stats.error_kind = f"store:{type(error).__name__}"
        if message != self._store_error:  # once per distinct problem
            log.error("%s; %d event(s) kept in memory, retrying in %.1f s",
                      message, len(self._unspooled), delay)
        self._store_error = message
        self._report()

    def _recount(self) -> None:
        try:
            self._count_spool()
        except STORE_ERRORS as error:
            self._store_failed(error)

    def _count_spool(self) -> None:
        """Counts come from the store: another app on the same store changes them too."""
        self.stats.spooled = self._store.pending_count()
        self.stats.quarantined = self._store.quarantined_count()
        if self.stats.spooled == 0:
            self._oldest = None
        elif self._oldest is None:
            self._oldest = self._clock()

    # -- uploading ---------------------------------------------------------------------------

    def _oldest_age(self, now: float) -> float:
        return 0.0 if self._oldest is None else now - self._oldest

    def _flush_due(self) -> bool:
        now = self._clock()
        return (self._backoff.ready(now) and self._pacing.ready(now)
                and self._policy.due(self.stats.spooled, self._oldest_age(now))
                and self._drain_lock.try_acquire())

    def _upload_batch(self, timeout: float) -> None:
        try:
            batch = self._store.next_batch(self._sink.max_batch)
        except STORE_ERRORS as error:
            self._store_failed(error)
            return
        if not batch:
            self.stats.spooled, self._oldest = 0, None
            return
        self._pacing.sending(self._clock())
        try:
            delivery = self._sink.send(batch, timeout)
        except SinkUnavailable as error:
            self._failed(str(error), type(error.__cause__ or error).__name__)
            return
        except Exception as error:  # a sink bug must not kill the uploader: events stay spooled
            log.exception("sink %s failed unexpectedly", self._sink.name)
            self._failed(f"{type(error).__name__}: {error}", type(error).__name__)
            return
        try:
            self._store.settle(delivery.delivered, delivery.rejected)
            self._count_spool()
        except STORE_ERRORS as error:  # they stay in the outbox: sent again later, deduplicated
            self._store_failed(error)
            return
        self.stats.sent += len(delivery.delivered)
        for event_id, reason in delivery.rejected.items():
            log.error("event %s rejected by %s, quarantined: %s", event_id, self._sink.name, reason)
        if delivery.delivered or delivery.rejected:
            self._backoff.succeeded()
            self._sink_error = None
        else:
            self._failed("no event of the batch was accepted", "NothingAccepted")
        self._report()

    def _failed(self, error: str, error_type: str) -> None:
        self.stats.error_kind = f"sink:{error_type}"
        self.stats.failed += 1
        delay = self._backoff.failed(self._clock())
        # One clear line per distinct problem; repeats of the same one go to debug.
        level = logging.DEBUG if error == self._sink_error else logging.WARNING
        log.log(level, "%s; %d event(s) kept in the spool, retrying in %.1f s",
                error, self.stats.spooled, delay)
        self._sink_error = error
        self._report()

    def _final_flush(self, deadline: float) -> None:
        """Spends what is left of the exit budget on uploading the spool (if this uploader holds it)."""
        if self._unspooled:
            self._spool()  # once: if the store still fails, the app writes them itself at exit
        self._recount()
        if self.stats.spooled and not self._drain_lock.try_acquire():
            log.info("another app uploads this store; %d event(s) stay spooled for it",
                     self.stats.spooled)
        else:
            # A paced sink (load jobs) gets one last send whenever its previous one was; after that
            # its pacing holds as while running, so the exit never starts a second job.
            self._pacing.waive()
            while self.stats.spooled and (now := self._clock()) < deadline:
                if not self._pacing.ready(now):
                    break
                if not self._backoff.ready(now):
                    self._sleep(max(0.0, min(self._backoff.ready_at, deadline) - now))
                    continue
                # requests applies a timeout to connecting and to each read: half the rest bounds both.
                self._upload_batch(max(0.05, (deadline - now) / 2))
                if self._store_error is not None:
                    break
        log.info("uploader stopped: %d sent, %d still spooled", self.stats.sent, self.stats.spooled)
        self._report()

    def _report(self) -> None:
        self._last_report = self._clock()
        self.stats.last_error = self._store_error or self._sink_error
        self.stats.store_writable = self._store_error is None
        # A copy: the queue pickles it later, in its feeder thread, while the loop goes on.
        self._reports.put(Report(self._acked, dataclasses.replace(self.stats)))
