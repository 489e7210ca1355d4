"""Reads the local store the way an analyst would: plain sqlite3."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def query(path: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:  # closed at once: a test may unmount the folder next
        return db.execute(sql, args).fetchall()


def count(path: Path, table: str) -> int:
    return query(path, f"SELECT COUNT(*) FROM {table}")[0][0]
