"""Exports the local store's clickstream table as CSV or JSON Lines, oldest event first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from shared.spreadsheet import csv_writer, safe_row
from worker.store import EVENT_COLUMNS, read_events

FORMATS = ("csv", "jsonl")


def export(store_path: Path, fmt: str, out: TextIO) -> int:
    """Writes every stored event to `out`; returns how many. Raises FileNotFoundError, ValueError.

    metadata stays the JSON text it is in the table (a STRING column in BigQuery too), so a JSON Lines
    export round-trips exactly; a CSV one too, except that text cells a spreadsheet would run as a
    formula get a leading apostrophe (shared.spreadsheet).
    """
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r} is not one of: {', '.join(FORMATS)}")
    rows = read_events(store_path)
    if fmt == "csv":
        return _write_csv(rows, out)
    return _write_jsonl(rows, out)


def _write_csv(rows: Iterable[tuple[str | None, ...]], out: TextIO) -> int:
    writer = csv_writer(out)
    writer.writerow(EVENT_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow(safe_row(row))  # a NULL metadata becomes an empty field
        written += 1
    return written


def _write_jsonl(rows: Iterable[tuple[str | None, ...]], out: TextIO) -> int:
    written = 0
    for row in rows:
        out.write(json.dumps(dict(zip(EVENT_COLUMNS, row, strict=True)), ensure_ascii=False) + "\n")
        written += 1
    return written
