import sqlite3
from pathlib import Path

from shared.event import Event, EventFactory, build, capture
from worker.store import Store


def test_add_is_idempotent_and_batches_come_oldest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    events = [EventFactory("s").make("button_click", f"c{i}") for i in range(5)]
    assert store.add(events[:3]) == 3
    assert store.add(events) == 2  # resend after a crash: only the new ones are queued
    assert store.pending_count() == 5
    assert [e.event_id for e in store.next_batch(10)] == [e.event_id for e in events]
    assert store.next_batch(2) == events[:2]


def test_settle_removes_from_outbox_and_quarantines(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    events = [EventFactory("s").make("button_click", "c") for _ in range(3)]
    store.add(events)
    store.settle([events[0].event_id], {events[1].event_id: "invalid: timestamp: bad"})
    assert store.next_batch(10) == [events[2]]
    assert store.quarantined_count() == 1
    store.add(events)  # delivered events are not queued again
    assert store.pending_count() == 1
    store.close()
    with sqlite3.connect(path) as db:  # readable by analysts with plain sqlite3
        assert db.execute("SELECT COUNT(*) FROM clickstream").fetchone()[0] == 3
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT error FROM quarantine").fetchone()[0] == "invalid: timestamp: bad"


def test_plain_rows_are_stored_like_events_and_an_older_stores_unused_index_goes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as db:  # a store made by an earlier version, with its timestamp index
        db.execute("CREATE TABLE clickstream (event_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, "
                   "timestamp TEXT NOT NULL, event_type TEXT NOT NULL, component TEXT NOT NULL, "
                   "metadata TEXT)")
        db.execute("CREATE INDEX clickstream_timestamp ON clickstream (timestamp)")
    db.close()
    row = build(capture("s", "button_click", "c", {"weapon": "glock18"}))  # what the queue carries
    assert type(row) is tuple
    store = Store(path)
    assert store.add([row]) == 1
    assert store.next_batch(10) == [Event(*row)]
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                          "name = 'clickstream_timestamp'").fetchall() == []
    db.close()
