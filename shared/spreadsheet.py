"""CSV cells that are safe to open in a spreadsheet.

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel, LibreOffice
and Google Sheets (CSV injection): a visitor's value like `=HYPERLINK(...)` would run when an analyst
opens the file. Such text cells get a leading apostrophe, which spreadsheets show as plain text.
Numbers stay numbers.

Every text cell is quoted, so a carriage return or newline inside a value never splits a row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def csv_writer(out: TextIO) -> Any:
    """The one CSV dialect of the tools: text quoted, numbers bare, "\\n" line ends."""
    return csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
