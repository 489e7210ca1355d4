"""The local SQLite store: every event (clickstream), what still awaits the sink (outbox), quarantine.

One file in HL_VOX_DATA_DIR, WAL mode so analysts can read it while the uploader writes. This module
is the only code that opens the file and knows its tables: the uploader writes through `Store`;
export, retention and the local report read through `read_events`, `reader` and `Store.prune`;
the exactly-once BigQuery write methods keep their state through `SinkStateStore`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.event import Event, EventRow

log = logging.getLogger(__name__)

# The clickstream table's columns, in Event's field order: rows are written and read by these names,
# so reordering Event's fields can never put a value into the wrong column.
EVENT_COLUMNS: tuple[str, ...] = Event._fields
_EVENT_ID = EVENT_COLUMNS.index("event_id")  # where a plain row (EventRow) has it
# Readers wait this long for the uploader's short write transactions instead of failing.
BUSY_TIMEOUT = 10.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged or is no database at all.
_CORRUPT_CODES = frozenset({11, 26})
# What one bad row raises (its text cannot be encoded, a required value is missing, a type SQLite
# does not take), as opposed to the store itself failing.
_ROW_ERRORS = (UnicodeEncodeError, sqlite3.IntegrityError, sqlite3.InterfaceError,
               sqlite3.ProgrammingError, OverflowError)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clickstream (
    event_id   TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    timestamp  TEXT NOT NULL,
    event_type TEXT NOT NULL,
    component  TEXT NOT NULL,
    metadata   TEXT
);
-- No index on timestamp: every query of the store filters on sqlite_micros(timestamp), which an
-- index on the column cannot serve, and it cost a fifth of every insert. Older stores lose theirs.
DROP INDEX IF EXISTS clickstream_timestamp;
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
    """The writer's handle. Not thread-safe: one Store per thread or process.

    A file that is not a database, or a damaged one, is set aside (renamed with its -wal and -shm to
    `<name>.corrupt-<UTC time>`, logged with both paths) and a fresh store takes its place: tracking
    goes on. Errors of a store that cannot be written (disk full, read-only folder) are raised as they
    are (sqlite3.OperationalError, OSError): the caller keeps its events and tries again later.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # Opened on first use and again after a failure: a folder that cannot be written now may be
        # writable later (space freed, remounted), and creating a Store never fails.
        self._connection: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self._connection = _open_writer(self.path)
            except sqlite3.DatabaseError as error:
                if not is_corrupt(error):
                    raise
                set_aside(self.path, error)
                self._connection = _open_writer(self.path)
        return self._connection

    def add(self, events: Sequence[EventRow], queue: bool = True) -> int:
        """Stores the events and (with `queue`) queues them for the sink, in one transaction; returns
        how many were new.

        An event seen before (a resend after an uploader crash) is ignored, so it is neither stored
        nor uploaded twice. A row SQLite cannot take (e.g. text with lone surrogates) is stored with
        its text escaped and quarantined instead of queued; it never fails the rest of the batch.
        """
        try:
            return self._add(events, queue)
        except sqlite3.DatabaseError as error:
            if not is_corrupt(error):
                raise
            self.close()
            set_aside(self.path, error)
            return self._add(events, queue)

    def _add(self, events: Sequence[EventRow], queue: bool) -> int:
        try:
            with self._transaction():
                return self._insert(events, queue)
        except _ROW_ERRORS:
            pass  # one row spoiled the batch: take them one at a time below
        queued = 0
        with self._transaction():
            for event in events:
                try:
                    self._db.execute("SAVEPOINT event_row")
                    queued += self._insert((event,), queue)
                    self._db.execute("RELEASE event_row")
                except _ROW_ERRORS as error:
                    self._db.execute("ROLLBACK TO event_row")
                    self._db.execute("RELEASE event_row")
                    self._quarantine_unstorable(event, error)
        return queued

    def _insert(self, events: Sequence[EventRow], queue: bool) -> int:
        if not queue:
            return int(self._db.executemany(_INSERT_EVENT, events).rowcount)
        queued = self._db.executemany(
            "INSERT INTO outbox (event_id) SELECT ? "
            "WHERE NOT EXISTS (SELECT 1 FROM clickstream WHERE event_id = ?)",
            ((row[_EVENT_ID], row[_EVENT_ID]) for row in events))
        self._db.executemany(_INSERT_EVENT, events)
        return queued.rowcount

    def _quarantine_unstorable(self, row: EventRow, error: Exception) -> None:
        safe = Event._make(None if value is None else _escaped(value) for value in row)
        log.error("event %s cannot be stored as it is (%s: %s); stored escaped and quarantined",
                  safe.event_id, type(error).__name__, error)
        self._db.execute(_INSERT_EVENT.replace("INSERT OR IGNORE", "INSERT OR REPLACE"), safe)
        self._db.execute("INSERT OR REPLACE INTO quarantine (event_id, error, quarantined_at) "
                         "VALUES (?, ?, ?)", (safe.event_id, f"not storable: {type(error).__name__}: "
                                              f"{_escaped(str(error))}", _now()))

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
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException as error:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError | OSError):
                self.close()  # the file's trouble (full, read-only): a fresh connection next time
            raise


def _open_writer(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we open transactions ourselves, one per received batch.
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode (only an OS crash can lose the tail).
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.executescript(_SINK_STATE_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def is_corrupt(error: sqlite3.DatabaseError) -> bool:
    """The file is not a database or is damaged (not: busy, full or read-only)."""
    return getattr(error, "sqlite_errorcode", None) in _CORRUPT_CODES


def set_aside(path: Path, error: BaseException) -> Path:
    """Renames a corrupt store (and its -wal, -shm) out of the way; returns the new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        # A missing companion file, or one another process moved first, is nothing to move.
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).replace(target.with_name(target.name + suffix))
    log.error("the local store %s is corrupt (%s); moved it to %s and started a fresh store",
              path, error, target)
    return target


def _escaped(text: str) -> str:
    """Text that SQLite and UTF-8 can take: lone surrogates and the like as backslash escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat()


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


# -- write-method state ------------------------------------------------------------------------
# An exactly-once BigQuery write method remembers, across crashes, where it writes (a Storage Write
# API stream and its next offset) and the batch it sent last: `sink_state` holds named values (the
# in-flight record's details among them), `sink_inflight` that batch's event ids in the order sent.
_SINK_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sink_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sink_inflight (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL
);
"""
_INFLIGHT_PENDING = (f"SELECT {', '.join('c.' + name for name in EVENT_COLUMNS)} "
                     "FROM sink_inflight f JOIN outbox o USING (event_id) "
                     "JOIN clickstream c USING (event_id) ORDER BY f.position")


class SinkStateStore(Store):
    """The store as a write method uses it (worker/sinks/ledger.py): a second handle on the same
    file, next to the uploader's, whose changes are single transactions."""

    def sink_values(self) -> dict[str, str]:
        return {name: value for name, value in self._db.execute("SELECT name, value FROM sink_state")}

    def set_sink_values(self, values: Mapping[str, str | None],
                        inflight: Sequence[str] | None = None) -> None:
        """Sets the values (None deletes one) and, when given, replaces the in-flight event ids,
        all in one transaction."""
        with self._transaction():
            self._db.executemany("DELETE FROM sink_state WHERE name = ?",
                                 ((name,) for name, value in values.items() if value is None))
            self._db.executemany("INSERT OR REPLACE INTO sink_state (name, value) VALUES (?, ?)",
                                 ((name, value) for name, value in values.items() if value is not None))
            if inflight is not None:
                self._db.execute("DELETE FROM sink_inflight")
                self._db.executemany("INSERT INTO sink_inflight (position, event_id) VALUES (?, ?)",
                                     enumerate(inflight))

    def inflight(self) -> tuple[list[str], list[Event]]:
        """The in-flight event ids in the order sent, and those of them still in the outbox."""
        ids = [event_id for (event_id,) in
               self._db.execute("SELECT event_id FROM sink_inflight ORDER BY position")]
        return ids, [Event(*row) for row in self._db.execute(_INFLIGHT_PENDING)]
