"""Local retention: only events that are old AND settled with the sink leave the store."""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.event import Event
from worker.__main__ import main
from worker.retention import prune
from worker.store import Store

from _store import count, query

NOW = datetime(2025, 3, 10, 12, 0, 0, 250000, tzinfo=UTC)
DAY = timedelta(days=1)


def event(name: str, at: datetime) -> Event:
    return Event(str(uuid.uuid4()), "s", at.isoformat(), "button_click", name, None)


@pytest.fixture
def store_path(data_dir: Path) -> Path:
    return data_dir / "clickstream.sqlite3"


def stored_components(path: Path) -> set[str]:
    return {row[0] for row in query(path, "SELECT component FROM clickstream")}


def test_prunes_only_old_delivered_events(store_path: Path) -> None:
    old = NOW - 30 * DAY - timedelta(microseconds=1)
    delivered_old = event("delivered_old", old)
    delivered_old_no_fraction = event("delivered_old_no_fraction", (NOW - 31 * DAY).replace(microsecond=0))
    undelivered_old = event("undelivered_old", old)  # still in the outbox: the sink has not got it
    at_cutoff = event("at_cutoff", NOW - 30 * DAY)  # exactly 30 days old is not older than 30 days
    recent = event("recent", NOW - DAY)
    store = Store(store_path)
    store.add([delivered_old, delivered_old_no_fraction, undelivered_old, at_cutoff, recent])
    store.settle([delivered_old.event_id, delivered_old_no_fraction.event_id, at_cutoff.event_id,
                  recent.event_id], {})
    store.close()

    assert prune(store_path, 30, now=NOW) == 2
    assert stored_components(store_path) == {"undelivered_old", "at_cutoff", "recent"}
    assert count(store_path, "outbox") == 1
    assert prune(store_path, 30, now=NOW) == 0  # idempotent


def test_quarantined_events_are_kept_until_their_quarantine_is_old_too(store_path: Path) -> None:
    rejected_long_ago = event("rejected_long_ago", NOW - 40 * DAY)
    rejected_lately = event("rejected_lately", NOW - 40 * DAY)
    store = Store(store_path)
    store.add([rejected_long_ago, rejected_lately])
    store.settle([], {rejected_long_ago.event_id: "invalid: timestamp",
                      rejected_lately.event_id: "invalid: timestamp"})
    store.close()
    quarantined_at = {rejected_long_ago.event_id: NOW - 35 * DAY, rejected_lately.event_id: NOW - DAY}
    with_dates = [(at.isoformat(), event_id) for event_id, at in quarantined_at.items()]
    with sqlite3.connect(store_path) as db:
        db.executemany("UPDATE quarantine SET quarantined_at = ? WHERE event_id = ?", with_dates)

    assert prune(store_path, 30, now=NOW) == 1
    assert stored_components(store_path) == {"rejected_lately"}
    assert query(store_path, "SELECT event_id FROM quarantine") == [(rejected_lately.event_id,)]


def test_prune_while_the_store_is_open_elsewhere(store_path: Path) -> None:
    """The uploader keeps its Store open; pruning must not need it closed."""
    store = Store(store_path)
    old = event("old", NOW - 60 * DAY)
    store.add([old])
    store.settle([old.event_id], {})
    assert prune(store_path, 30, now=NOW) == 1
    assert store.pending_count() == 0
    store.add([event("new", NOW)])  # the open store keeps working
    store.close()
    assert stored_components(store_path) == {"new"}


def test_missing_store_and_bad_days(tmp_path: Path) -> None:
    assert prune(tmp_path / "absent.sqlite3", 30) == 0
    assert not (tmp_path / "absent.sqlite3").exists()
    with pytest.raises(ValueError, match="at least 1"):
        prune(tmp_path / "absent.sqlite3", 0)


def test_cli_prune_uses_the_settings_store(store_path: Path, data_dir: Path, monkeypatch, capsys) -> None:
    for name in list(os.environ):
        if name.startswith("HL_VOX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HL_VOX_DATA_DIR", str(data_dir))
    old, fresh = event("old", datetime.now(UTC) - 8 * DAY), event("fresh", datetime.now(UTC))
    store = Store(store_path)
    store.add([old, fresh])
    store.settle([old.event_id, fresh.event_id], {})
    store.close()
    assert main(["prune", "--days", "10"]) == 0
    assert main(["prune", "--days", "7"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"pruned 0 delivered event(s) older than 10 day(s) from {store_path}",
        f"pruned 1 delivered event(s) older than 7 day(s) from {store_path}"]
    assert stored_components(store_path) == {"fresh"}
    assert main(["prune", "--days", "-1"]) == 2
