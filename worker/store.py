"""The local SQLite store: every event (clickstream), what still awaits the sink (outbox), quarantine.

One file in HL_VOX_DATA_DIR, WAL mode so analysts can read it while the uploader writes. This module
is the only code that opens the file and knows its tables: the uploader writes through `Store`;
export, retention and the local report read through `read_events`, `reader` and `Store.prune`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.event import Event

# The clickstream table's columns, in Event's field order: rows are written and read by these names,
# so reordering Event's fields can never put a value into the wrong column.
EVENT_COLUMNS: tuple[str, ...] = Event._fields
# Readers wait this long for the uploader's short write transactions instead of failing.
BUSY_TIMEOUT = 10.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
_COLUMN_LIST = ", ".join(EVENT_COLUMNS)
_INSERT_EVENT = (f"INSERT OR IGNORE INTO clickstream ({_COLUMN_LIST}) "
                 f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")
_NEXT_BATCH = (f"SELECT {', '.join('c.' + name for name in EVENT_COLUMNS)} "
               "FROM outbox o JOIN clickstream c USING (event_id) ORDER BY o.rowid LIMIT ?")


def sqlite_micros(column: str) -> str:
    """SQL for an ISO-8601 text column of the store as exact integer microseconds since the epoch.

    The store holds datetime.isoformat(): 'YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM', six fraction digits
    or none. SQLite's own date functions keep milliseconds and round (strftime('%s') turns :01.999999
    into :02), so the whole seconds are read without the fraction and the fraction is added exactly.
    """
    has_fraction = f"substr({column}, 20, 1) = '.'"
    whole = (f"CAST(strftime('%s', substr({column}, 1, 19) || "
             f"substr({column}, CASE WHEN {has_fraction} THEN 27 ELSE 20 END)) AS INTEGER)")
    fraction = f"CASE WHEN {has_fraction} THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END"
    return f"({whole} * 1000000 + {fraction})"


def micros_since_epoch(moment: datetime) -> int:
    """Exact integer microseconds (timedelta arithmetic, no float rounding)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


# Every stored event with an integer `micros` column, for queries that filter or group by time.
EVENTS_WITH_MICROS = f"SELECT *, {sqlite_micros('timestamp')} AS micros FROM clickstream"

# Retention: an old event leaves once it is out of the outbox; a quarantined one only when its
# quarantine is as old as the window too.
_OLD_EVENT = f"{sqlite_micros('timestamp')} < :cutoff"
_DELETE_OLD_QUARANTINE = f"""DELETE FROM quarantine
WHERE {sqlite_micros('quarantined_at')} < :cutoff
  AND NOT EXISTS (SELECT 1 FROM clickstream c
                  WHERE c.event_id = quarantine.event_id AND NOT ({_OLD_EVENT}))"""
_DELETE_SETTLED_EVENTS = f"""DELETE FROM clickstream
WHERE {_OLD_EVENT}
  AND event_id NOT IN (SELECT event_id FROM outbox)
  AND event_id NOT IN (SELECT event_id FROM quarantine)"""


class Store:
    """The writer's handle. Not thread-safe: one Store per thread or process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # isolation_level=None: we open transactions ourselves, one per received batch.
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
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
            self._db.executemany(_INSERT_EVENT, events)
        return queued.rowcount

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def next_batch(self, limit: int) -> list[Event]:
        """The oldest events still waiting for the sink."""
        return [Event(*row) for row in self._db.execute(_NEXT_BATCH, (limit,))]

    def settle(self, delivered: Iterable[str], rejected: Mapping[str, str]) -> None:
        """Takes delivered and rejected events out of the outbox; rejected ones go to quarantine."""
        now = datetime.now(UTC).isoformat()
        with self._transaction():
            self._db.executemany("DELETE FROM outbox WHERE event_id = ?",
                                 ((event_id,) for event_id in [*delivered, *rejected]))
            self._db.executemany("INSERT OR REPLACE INTO quarantine (event_id, error, quarantined_at) "
                                 "VALUES (?, ?, ?)",
                                 ((event_id, error, now) for event_id, error in rejected.items()))

    def quarantined_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])

    def prune(self, cutoff: datetime) -> int:
        """Deletes settled events older than `cutoff` (see the retention rule above); returns how many.

        One short write transaction: safe while another process writes.
        """
        params = {"cutoff": micros_since_epoch(cutoff)}
        with self._transaction():
            self._db.execute(_DELETE_OLD_QUARANTINE, params)
            return int(self._db.execute(_DELETE_SETTLED_EVENTS, params).rowcount)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


@contextmanager
def reader(path: Path) -> Iterator[sqlite3.Connection]:
    """A read connection to an existing store; raises FileNotFoundError instead of creating one."""
    _require(path)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    try:
        yield db
    finally:
        db.close()


def read_events(path: Path) -> Iterator[tuple[str | None, ...]]:
    """Every stored event as a row of EVENT_COLUMNS, oldest first, streamed (a store can hold many
    days of clicks); raises FileNotFoundError for a missing store at once, before any row."""
    _require(path)
    return _stream_events(path)


def _stream_events(path: Path) -> Iterator[tuple[str | None, ...]]:
    with reader(path) as db:
        yield from db.execute(f"SELECT {_COLUMN_LIST} FROM clickstream "
                              f"ORDER BY {sqlite_micros('timestamp')}, event_id")


def _require(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"no local clickstream store at {path}")
