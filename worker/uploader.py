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

from shared.settings import Settings
from worker.messages import EventsBatch, Inbox, Numbered, Outbox, Report, Stop, UploaderStats
from worker.policy import Backoff, FlushPolicy
from worker.retention import prune
from worker.sinks import Sink, SinkUnavailable, make_sink
from worker.store import Store

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
    except sqlite3.Error:  # retention is housekeeping: it never keeps the uploader from starting
        log.warning("local retention prune failed", exc_info=True)
    parent = multiprocessing.parent_process()
    uploader = assemble(settings, events, reports,
                        parent_alive=parent.is_alive if parent else (lambda: True))
    try:
        uploader.run()
    finally:
        uploader.close()


def assemble(settings: Settings, events: Inbox, reports: Outbox,
             parent_alive: Callable[[], bool] = lambda: True) -> Uploader:
    """The uploader with the store, sink, flush policy and backoff the settings ask for."""
    return Uploader(Store(settings.store_path), make_sink(settings),
                    FlushPolicy(settings.batch_size, settings.flush_interval), Backoff(),
                    events, reports, parent_alive=parent_alive)


class Uploader:
    """The loop: receive, spool, acknowledge, flush to the sink when the policy says so.

    It is handed every part it uses and owns them (close() closes the sink and the store); time
    comes from `clock` and waiting goes through `sleep`, so a test drives it with a fake clock and
    no real waiting.
    """

    def __init__(self, store: Store, sink: Sink, policy: FlushPolicy, backoff: Backoff,
                 events: Inbox, reports: Outbox,
                 parent_alive: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._sink = sink
        self._policy = policy
        self._backoff = backoff
        self._events = events
        self._reports = reports
        self._parent_alive = parent_alive
        self._clock = clock
        self._sleep = sleep
        self._acked = -1
        self.stats = UploaderStats(spooled=store.pending_count(), quarantined=store.quarantined_count())
        # Leftovers of an earlier run are due at once: they are sent first.
        self._oldest: float | None = float("-inf") if self.stats.spooled else None

    def run(self) -> None:
        log.info("uploader started: sink=%s, %d event(s) waiting from before",
                 self._sink.name, self.stats.spooled)
        self._report()
        while True:
            batch, budget = self._receive(self._wait_time())
            if batch:
                self._spool(batch)
            if budget is None and not self._parent_alive():
                log.warning("app process is gone; flushing and exiting")
                budget = ORPHAN_BUDGET
            if budget is not None:
                self._final_flush(self._clock() + budget)
                return
            if self._flush_due():
                self._upload_batch(REQUEST_TIMEOUT)

    def close(self) -> None:
        self._sink.close()
        self._store.close()

    # -- receiving ---------------------------------------------------------------------------

    def _wait_time(self) -> float:
        now = self._clock()
        wait = self._policy.wait(self.stats.spooled, self._oldest_age(now))
        if wait is not None:
            wait = max(wait, self._backoff.ready_at - now)
        return PARENT_CHECK_INTERVAL if wait is None else max(0.0, min(wait, PARENT_CHECK_INTERVAL))

    def _receive(self, timeout: float) -> tuple[list[Numbered], float | None]:
        """Blocks up to `timeout` for a first message, then takes what is already there.

        Returns the events received and, after a stop message, the seconds left for the final flush.
        """
        batch: list[Numbered] = []
        try:
            message = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
            while True:
                if isinstance(message, Stop):
                    return batch, message.budget
                if isinstance(message, EventsBatch):
                    batch.extend(message.events)
                else:
                    log.error("ignoring a message of unknown type %s", type(message).__name__)
                if len(batch) >= MAX_RECEIVE:
                    return batch, None
                message = self._events.get_nowait()
        except queue.Empty:
            return batch, None

    def _spool(self, batch: list[Numbered]) -> None:
        queued = self._store.add([event for _, event in batch])
        self.stats.received += len(batch)
        self.stats.spooled += queued
        if queued and self._oldest is None:
            self._oldest = self._clock()
        self._acked = max(self._acked, batch[-1][0])
        self._report()

    # -- uploading ---------------------------------------------------------------------------

    def _oldest_age(self, now: float) -> float:
        return 0.0 if self._oldest is None else now - self._oldest

    def _flush_due(self) -> bool:
        now = self._clock()
        return (self._backoff.ready(now)
                and self._policy.due(self.stats.spooled, self._oldest_age(now)))

    def _upload_batch(self, timeout: float) -> None:
        batch = self._store.next_batch(self._sink.max_batch)
        if not batch:
            self.stats.spooled, self._oldest = 0, None
            return
        try:
            delivery = self._sink.send(batch, timeout)
        except SinkUnavailable as error:
            self._failed(str(error))
            return
        except Exception as error:  # a sink bug must not kill the uploader: events stay spooled
            log.exception("sink %s failed unexpectedly", self._sink.name)
            self._failed(f"{type(error).__name__}: {error}")
            return
        self._store.settle(delivery.delivered, delivery.rejected)
        settled = len(delivery.delivered) + len(delivery.rejected)
        self.stats.sent += len(delivery.delivered)
        self.stats.quarantined += len(delivery.rejected)
        self.stats.spooled = max(0, self.stats.spooled - settled)
        for event_id, reason in delivery.rejected.items():
            log.error("event %s rejected by %s, quarantined: %s", event_id, self._sink.name, reason)
        if settled:
            self._backoff.succeeded()
            self.stats.last_error = None
        else:
            self._failed("no event of the batch was accepted")
        if self.stats.spooled == 0:
            self._oldest = None
        self._report()

    def _failed(self, error: str) -> None:
        self.stats.failed += 1
        delay = self._backoff.failed(self._clock())
        # One clear line per distinct problem; repeats of the same one go to debug.
        level = logging.DEBUG if error == self.stats.last_error else logging.WARNING
        log.log(level, "%s; %d event(s) kept in the spool, retrying in %.1f s",
                error, self.stats.spooled, delay)
        self.stats.last_error = error
        self._report()

    def _final_flush(self, deadline: float) -> None:
        """Spends what is left of the exit budget on uploading the spool."""
        while self.stats.spooled and (now := self._clock()) < deadline:
            if not self._backoff.ready(now):
                self._sleep(max(0.0, min(self._backoff.ready_at, deadline) - now))
                continue
            # requests applies a timeout to connecting and to each read: half the rest bounds both.
            self._upload_batch(max(0.05, (deadline - now) / 2))
        log.info("uploader stopped: %d sent, %d still spooled", self.stats.sent, self.stats.spooled)
        self._report()

    def _report(self) -> None:
        # A copy: the queue pickles it later, in its feeder thread, while the loop goes on.
        self._reports.put(Report(self._acked, dataclasses.replace(self.stats)))
