"""Local retention: old events leave the local store once the configured sink is done with them.

An event older than the retention window is deleted when it is no longer in the outbox (delivered).
A quarantined event (rejected by the sink, never to be retried) is kept until its quarantine is as
old as the window too, so there is time to look at why it was rejected; then both rows go.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from worker.store import Store

log = logging.getLogger(__name__)


def prune(store_path: Path, days: int, now: datetime | None = None) -> int:
    """Deletes settled events older than `days` (x 24 h before `now`); returns how many.

    A missing store has nothing to prune. Safe while the uploader runs: one short write transaction.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if not store_path.is_file():
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    store = Store(store_path)
    try:
        pruned = store.prune(cutoff)
    finally:
        store.close()
    if pruned:
        log.info("pruned %d event(s) older than %d day(s) from %s", pruned, days, store_path)
    return pruned
