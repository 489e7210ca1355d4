"""The local SQLite store: every event (clickstream), what still awaits the sink (outbox), quarantine.

One file in HL_VOX_DATA_DIR, WAL mode so analysts can read it while the uploader writes.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from shared.event import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clickstream (
    event_id   TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    timestamp  TEXT NOT NULL,
    event_type TEXT NOT NULL,
    component  TEXT NOT NULL,
    metadata   TEXT
);
CREATE INDEX IF NOT EXISTS clickstream_timestamp ON clickstream (timestamp);
CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT PRIMARY KEY REFERENCES clickstream (event_id)
);
CREATE TABLE IF NOT EXISTS quarantine (
    event_id       TEXT PRIMARY KEY REFERENCES clickstream (event_id),
    error          TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
"""


class Store:
    """Not thread-safe: one Store per thread or process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # isolation_level=None: we open transactions ourselves, one per received batch.
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode (only an OS crash can lose the tail).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def add(self, events: Sequence[Event]) -> int:
        """Stores the events and queues them for the sink, in one transaction; returns how many were new.

        An event seen before (a resend after an uploader crash) is ignored, so it is neither stored
        nor uploaded twice.
        """
        with self._transaction():
            queued = self._db.executemany(
                "INSERT INTO outbox (event_id) SELECT ? "
                "WHERE NOT EXISTS (SELECT 1 FROM clickstream WHERE event_id = ?)",
                ((e.event_id, e.event_id) for e in events))
            self._db.executemany(
                "INSERT OR IGNORE INTO clickstream VALUES (?, ?, ?, ?, ?, ?)", events)
        return queued.rowcount

    def pending_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def next_batch(self, limit: int) -> list[Event]:
        """The oldest events still waiting for the sink."""
        rows = self._db.execute(
            "SELECT c.event_id, c.session_id, c.timestamp, c.event_type, c.component, c.metadata "
            "FROM outbox o JOIN clickstream c USING (event_id) ORDER BY o.rowid LIMIT ?", (limit,))
        return [Event(*row) for row in rows]

    def settle(self, delivered: Iterable[str], rejected: Mapping[str, str]) -> None:
        """Takes delivered and rejected events out of the outbox; rejected ones go to quarantine."""
        now = datetime.now(timezone.utc).isoformat()
        with self._transaction():
            self._db.executemany("DELETE FROM outbox WHERE event_id = ?",
                                 ((event_id,) for event_id in delivered))
            self._db.executemany("DELETE FROM outbox WHERE event_id = ?",
                                 ((event_id,) for event_id in rejected))
            self._db.executemany("INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?)",
                                 ((event_id, error, now) for event_id, error in rejected.items()))

    def quarantined_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
