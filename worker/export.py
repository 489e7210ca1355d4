"""Exports the local store's clickstream table as CSV or JSON Lines, oldest event first."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable, TextIO

from worker.report import connect_existing, sqlite_micros

FORMATS = ("csv", "jsonl")
COLUMNS = ("event_id", "session_id", "timestamp", "event_type", "component", "metadata")


def export(store_path: Path, fmt: str, out: TextIO) -> int:
    """Writes every stored event to `out`; returns how many. Raises FileNotFoundError, ValueError.

    metadata stays the JSON text it is in the table (a STRING column in BigQuery too), so an export
    round-trips exactly.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r} is not one of: {', '.join(FORMATS)}")
    db = connect_existing(store_path)
    try:
        # Rows are streamed, not loaded: a store can hold many days of clicks.
        rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM clickstream "
                          f"ORDER BY {sqlite_micros('timestamp')}, event_id")
        if fmt == "csv":
            return _write_csv(rows, out)
        return _write_jsonl(rows, out)
    finally:
        db.close()


def _write_csv(rows: Iterable[tuple], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    for row in rows:
        writer.writerow(row)  # a NULL metadata becomes an empty field
        written += 1
    return written


def _write_jsonl(rows: Iterable[tuple], out: TextIO) -> int:
    written = 0
    for row in rows:
        out.write(json.dumps(dict(zip(COLUMNS, row)), ensure_ascii=False) + "\n")
        written += 1
    return written
