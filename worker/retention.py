"""Local retention: old events leave the local store once the configured sink is done with them.

An event older than the retention window is deleted when it is no longer in the outbox (delivered).
A quarantined event (rejected by the sink, never to be retried) is kept until its quarantine is as
old as the window too, so there is time to look at why it was rejected; then both rows go.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from worker.report import micros_since_epoch, sqlite_micros

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30

_OLD_EVENT = f"{sqlite_micros('timestamp')} < :cutoff"
_DELETE_OLD_QUARANTINE = f"""DELETE FROM quarantine
WHERE {sqlite_micros('quarantined_at')} < :cutoff
  AND NOT EXISTS (SELECT 1 FROM clickstream c
                  WHERE c.event_id = quarantine.event_id AND NOT ({_OLD_EVENT}))"""
_DELETE_SETTLED_EVENTS = f"""DELETE FROM clickstream
WHERE {_OLD_EVENT}
  AND event_id NOT IN (SELECT event_id FROM outbox)
  AND event_id NOT IN (SELECT event_id FROM quarantine)"""


def prune(store_path: Path, days: int = DEFAULT_DAYS, now: datetime | None = None) -> int:
    """Deletes settled events older than `days` (x 24 h before `now`); returns how many.

    A missing store has nothing to prune. Safe while the uploader runs: one short write transaction.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if not store_path.is_file():
        return 0
    now = now or datetime.now(timezone.utc)
    params = {"cutoff": micros_since_epoch(now - timedelta(days=days))}
    db = sqlite3.connect(store_path, timeout=10.0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_DELETE_OLD_QUARANTINE, params)
            pruned = db.execute(_DELETE_SETTLED_EVENTS, params).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()
    if pruned:
        log.info("pruned %d event(s) older than %d day(s) from %s", pruned, days, store_path)
    return pruned
