"""The report's four questions: BigQuery (real client, real emulator) and the local store must give the
same answers, and both must match an independent Python computation of the same questions."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.event import Event, EventFactory, metadata_json
from shared.settings import Settings
from worker.__main__ import main
from worker.bigquery_client import clickstream_table
from worker.report import QUESTIONS, Report, Row, bigquery_report, local_report
from worker.store import EPOCH, Store

from _emulator import PROJECT

NOW = datetime(2025, 3, 10, 12, 0, 0, 250000, tzinfo=UTC)
DAY = timedelta(days=1)


def event(session: str, when: datetime | str, component: str, metadata: Any = None,
          event_type: str = "button_click") -> Event:
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    # isoformat() as the app writes it: no fraction when microsecond == 0, "+00:00" suffix.
    return Event(str(uuid.uuid4()), session, moment.astimezone(UTC).isoformat(), event_type,
                 component, metadata_json(metadata))


def today(clock: str) -> str:
    return f"2025-03-10T{clock}+00:00"


def yesterday(clock: str) -> str:
    return f"2025-03-09T{clock}+00:00"


# Each group is there to make one kind of mismatch between the engines show.
EVENTS: list[Event] = [
    # Crosses midnight with sub-second ends: 1.2 s -> 1 (whole seconds, not boundaries crossed).
    event("midnight", yesterday("23:59:59.900000"), "application", event_type="app_start"),
    event("midnight", today("00:00:01.100000"), "start_button", {"time_input": "00:05:00"}),
    # 0.999999 s -> 0; SQLite's millisecond date functions would round the end up to :02 and say 1.
    event("subsecond", today("08:00:01"), "application", event_type="app_start"),
    event("subsecond", today("08:00:01.999999"), "shoot_gun_button", {"weapon": "glock18"}),
    # Hour edges a microsecond apart; weapons as JSON string, number, boolean, object, missing, absent.
    event("hour-edge", today("10:59:59.999999"), "weapon_dropdown", {"weapon": "m4a1"}, "weapon_select"),
    event("hour-edge", today("11:00:00.000001"), "shoot_gun_button", {"weapon": "m4a1"}),
    event("hour-edge", today("11:30:00.500000"), "shoot_gun_button", {"weapon": 5}),
    event("hour-edge", today("11:31:00"), "shoot_gun_button", {"weapon": True}),
    event("hour-edge", today("11:32:00"), "shoot_gun_button", {"weapon": {"skin": "dragon"}}),
    event("hour-edge", today("11:33:00"), "shoot_gun_button", None),
    event("hour-edge", today("11:34:00"), "shoot_gun_button", {"ammo": 30}),
    event("hour-edge", today("11:35:00"), "start_button", {"weapon": "awp"}),  # not a weapon component
    event("hour-edge", today("11:36:00"), "pause_button", {"is_paused": True}),
    event("hour-edge", today("11:37:00"), "pause_button", {"is_paused": False}),
    # Same hour yesterday: not in today's hours.
    event("yesterday", yesterday("11:15:00.123456"), "shoot_gun_button", {"weapon": "glock18"}),
    event("yesterday", yesterday("11:16:00"), "weapon_dropdown", {"weapon": "deagle"}, "weapon_select"),
    # Three hours less 0.1 s over midnight: 10799.
    event("overnight", "2025-03-08T22:00:00.500000+00:00", "application", event_type="app_start"),
    event("overnight", "2025-03-09T01:00:00.400000+00:00", "reset_button"),
    # Two sessions starting at the same microsecond: ordered by session_id.
    event("tie-b", "2025-03-05T06:00:00+00:00", "application", event_type="app_start"),
    event("tie-a", "2025-03-05T06:00:00+00:00", "application", event_type="app_start"),
    event("tie-a", "2025-03-05T06:00:09.000001+00:00", "change_background_button"),
    # The --days 30 edge: exactly 30 days before NOW is in, one microsecond earlier is out.
    event("edge", NOW - 30 * DAY, "change_background_button"),
    event("edge", NOW - 30 * DAY - timedelta(microseconds=1), "timeleft_button",
          {"remaining_time": "00:01:00"}),
    event("ancient", NOW - 40 * DAY, "shoot_gun_button", {"weapon": "awp"}),
    # Metrics, yesterday afternoon (inside --days 1, outside today's hours) and earlier in March.
    event("metrics", yesterday("13:00:00"), "application", event_type="app_start"),
    event("metrics", yesterday("13:01:00"), "start_button", {"error": "ValueError", "where": "on_start"},
          "app_error"),
    event("metrics", yesterday("13:02:00"), "start_button",
          {"error": "ValueError", "where": "on_start", "count": 5}, "app_error"),
    event("metrics", yesterday("13:03:00"), "stats_button", {"error": "OSError", "where": "stats"},
          "app_error"),
    event("metrics", yesterday("13:04:00"), "stats_button",
          {"error": "OSError", "where": "stats", "count": "many"}, "app_error"),
    event("metrics", yesterday("13:05:00"), "timer", {"late_ms": 3.2}, "timer_finished"),
    event("metrics", yesterday("13:06:00"), "timer", {"late_ms": 10}, "timer_finished"),
    event("metrics", yesterday("13:07:00"), "timer", {"late_ms": 1.5}, "timer_finished"),
    event("metrics", yesterday("13:08:00"), "timer", {"late_ms": 7.4, "pauses": 2}, "timer_finished"),
    event("metrics", yesterday("13:09:00"), "timer", {"late_ms": "12"}, "timer_finished"),  # not a number
    event("metrics", yesterday("13:10:00"), "timer", {"late_ms": True}, "timer_finished"),
    event("metrics", yesterday("13:11:00"), "timer", {"duration": "00:00:05"}, "timer_finished"),
    event("metrics", "2025-03-07T09:00:00+00:00", "timer", {"late_ms": 4}, "timer_finished"),
    event("metrics", "2025-03-07T09:30:00+00:00", "timer", {"late_ms": 6.2}, "timer_finished"),
    event("metrics", yesterday("13:12:00"), "audio", {"sound": "shot", "latency_ms": 20}, "sound_played"),
    event("metrics", yesterday("13:13:00"), "audio", {"sound": "shot", "latency_ms": 35.7},
          "sound_played"),
    event("metrics", yesterday("13:14:00"), "audio", {"sound": "ending", "latency_ms": 80.3},
          "sound_played"),
    event("metrics", "2025-03-08T10:00:00+00:00", "audio", {"sound": "shot", "latency_ms": 15},
          "sound_played"),
    # Focus time: completed focus phases only; minutes from HH:MM:SS durations, none from malformed ones.
    event("pomodoro", yesterday("14:00:00"), "timer", {"phase": "focus", "duration": "00:25:00"},
          "timer_finished"),
    event("pomodoro", yesterday("14:30:00"), "timer", {"phase": "focus", "duration": "00:50:30"},
          "timer_finished"),
    event("pomodoro", yesterday("14:31:00"), "timer", {"phase": "short_break", "duration": "00:05:00"},
          "timer_finished"),
    event("pomodoro", yesterday("14:32:00"), "timer", {"phase": "focus", "duration": "1:00:00"},
          "timer_finished"),  # counted, no minutes: not HH:MM:SS
    event("pomodoro", yesterday("14:33:00"), "timer", {"phase": "focus", "duration": 1500},
          "timer_finished"),  # a number, not the app's text
    event("pomodoro", yesterday("14:34:00"), "timer", {"phase": "focus", "duration": "00:25:00"},
          "phase_started"),  # started is not completed
    event("pomodoro", "2025-03-07T10:00:00+00:00", "timer", {"phase": "focus", "duration": "99:59:59"},
          "timer_finished"),
    event("pomodoro", "2025-03-07T10:01:00+00:00", "timer", {"phase": "focus", "duration": "00:61:00"},
          "timer_finished"),
    event("pomodoro", "2025-03-06T10:00:00+00:00", "timer", {"phase": "focus", "duration": "x"},
          "timer_finished"),
]


def expected_report(events: list[Event], days: int | None, now: datetime) -> Report:
    """The four questions computed in plain Python, with BigQuery's semantics."""
    since = EPOCH if days is None else now - days * DAY
    kept = [(e, datetime.fromisoformat(e.timestamp)) for e in events]
    kept = [(e, t) for e, t in kept if t >= since]

    clicks = Counter(e.component for e, _ in kept if e.event_type == "button_click")
    sessions: dict[str, list[datetime]] = {}
    for e, t in kept:
        sessions.setdefault(e.session_id, []).append(t)
    weapons = Counter(w for e, _ in kept if e.component in ("shoot_gun_button", "weapon_dropdown")
                      and (w := json_extract_scalar(e.metadata, "weapon")) is not None)
    hours = Counter(t.hour for _, t in kept if t.date() == now.date())

    def iso(t: datetime) -> str:
        return t.isoformat(timespec="microseconds")

    session_rows: list[Row] = sorted(
        ({"session_id": s, "session_start": iso(min(ts)), "session_end": iso(max(ts)),
          "session_duration_sec": (max(ts) - min(ts)) // timedelta(seconds=1), "total_events": len(ts)}
         for s, ts in sessions.items()),
        key=lambda r: str(r["session_id"]))
    session_rows.sort(key=lambda r: str(r["session_start"]), reverse=True)  # stable: ties keep id order
    return {
        "clicks_by_component": [{"component": c, "click_count": n}
                                for c, n in sorted(clicks.items(), key=lambda kv: (-kv[1], kv[0]))],
        "sessions": session_rows,
        "weapon_popularity": [{"weapon": w, "usage_count": n}
                              for w, n in sorted(weapons.items(), key=lambda kv: (-kv[1], kv[0]))],
        "hourly_today": [{"hour": h, "event_count": n} for h, n in sorted(hours.items())],
        "focus_time": expected_focus_time(kept),
        "errors": expected_errors([e for e, _ in kept]),
        "timer_accuracy": expected_percentiles(kept, "timer_finished", "late_ms", "finishes"),
        "sound_latency": expected_percentiles(kept, "sound_played", "latency_ms", "samples"),
    }


def expected_focus_time(kept: list[tuple[Event, datetime]]) -> list[Row]:
    days: dict[str, list[int]] = {}
    for e, t in kept:
        if e.event_type == "timer_finished" and json_extract_scalar(e.metadata, "phase") == "focus":
            duration = json_extract_scalar(e.metadata, "duration") or ""
            hms = re.fullmatch(r"([0-9]{2}):([0-5][0-9]):([0-5][0-9])", duration)
            seconds = int(hms[1]) * 3600 + int(hms[2]) * 60 + int(hms[3]) if hms else 0
            days.setdefault(t.date().isoformat(), []).append(seconds)
    return [{"day": day, "focus_phases": len(seconds), "focus_minutes": round(sum(seconds) / 60, 1)}
            for day, seconds in sorted(days.items())]


def expected_errors(events: list[Event]) -> list[Row]:
    counts: Counter[tuple[str | None, str | None, str]] = Counter()
    for e in events:
        if e.event_type == "app_error":
            count = json.loads(e.metadata or "{}").get("count")
            weight = count if isinstance(count, int) and not isinstance(count, bool) else 1
            key = (json_extract_scalar(e.metadata, "error"), json_extract_scalar(e.metadata, "where"),
                   e.component)
            counts[key] += weight
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1] or "", kv[0][2]))
    return [{"error": error, "place": place, "component": component, "error_count": n}
            for (error, place, component), n in ordered]


def percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def expected_percentiles(kept: list[tuple[Event, datetime]], event_type: str, key: str,
                         count_column: str) -> list[Row]:
    by_day: dict[str, list[float]] = {}
    for e, t in kept:
        value = json.loads(e.metadata or "{}").get(key) if e.event_type == event_type else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            by_day.setdefault(t.date().isoformat(), []).append(float(value))
    unit = key
    return [{"day": day, count_column: len(values),
             f"median_{unit}": round(percentile_cont(values, 0.5), 1),
             f"p95_{unit}": round(percentile_cont(values, 0.95), 1)}
            for day, values in sorted(by_day.items())]


def json_extract_scalar(metadata: str | None, key: str) -> str | None:
    """BigQuery's JSON_EXTRACT_SCALAR: strings as is, numbers/booleans as JSON text, else NULL."""
    value = json.loads(metadata).get(key) if metadata else None
    if isinstance(value, (dict, list)) or value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "clickstream.sqlite3"
    store = Store(path)
    store.add(EVENTS)
    store.close()
    return path


@pytest.fixture(scope="module")
def table_id(bq_client) -> str:
    """One table per module, loaded once with the same events as the local store."""
    dataset = bq_client.create_dataset(f"{PROJECT}.report_{uuid.uuid4().hex[:12]}")
    table = bq_client.create_table(clickstream_table(f"{dataset.project}.{dataset.dataset_id}.clickstream"))
    errors = bq_client.insert_rows_json(table, [e.row() for e in EVENTS],
                                        row_ids=[e.event_id for e in EVENTS])
    assert errors == []
    return f"{table.project}.{table.dataset_id}.{table.table_id}"


def bq_settings(table_id: str, endpoint: str, data_dir: Path) -> Settings:
    project, dataset, table = table_id.split(".")
    return Settings(sink="bigquery", bq_project=project, bq_dataset=dataset, bq_table=table,
                    bq_endpoint=endpoint, data_dir=data_dir)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The developer's own HL_VOX_* settings must not leak into CLI tests."""
    for name in list(os.environ):
        if name.startswith("HL_VOX_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.emulator
@pytest.mark.parametrize("days", [None, 30, 1])
def test_bigquery_and_local_store_give_the_same_answers(days, store_path, table_id, emulator,
                                                        tmp_path) -> None:
    local = local_report(store_path, days, now=NOW)
    remote = bigquery_report(bq_settings(table_id, emulator.endpoint, tmp_path), days, now=NOW)
    assert local == remote
    assert local == expected_report(EVENTS, days, NOW)
    for question in QUESTIONS:
        assert local[question.name], f"{question.name}: the fixture should give every question rows"
        assert all(tuple(row) == question.columns for row in local[question.name] + remote[question.name])


def test_answers_to_the_tricky_cases(store_path) -> None:
    """Spelled out by hand, so that an oracle sharing a mistake with the SQL cannot hide it."""
    report = local_report(store_path, None, now=NOW)
    durations = {row["session_id"]: row["session_duration_sec"] for row in report["sessions"]}
    assert durations["midnight"] == 1 and durations["subsecond"] == 0
    assert durations["overnight"] == 10799
    subsecond = next(row for row in report["sessions"] if row["session_id"] == "subsecond")
    assert subsecond["session_start"] == "2025-03-10T08:00:01.000000+00:00"
    assert subsecond["session_end"] == "2025-03-10T08:00:01.999999+00:00"
    assert [row["session_id"] for row in report["sessions"]][-4:] == ["tie-a", "tie-b", "edge", "ancient"]
    assert report["hourly_today"] == [{"hour": 0, "event_count": 1}, {"hour": 8, "event_count": 2},
                                      {"hour": 10, "event_count": 1}, {"hour": 11, "event_count": 9}]
    assert report["weapon_popularity"][:2] == [{"weapon": "glock18", "usage_count": 2},
                                               {"weapon": "m4a1", "usage_count": 2}]
    assert {row["weapon"] for row in report["weapon_popularity"]} == {
        "glock18", "m4a1", "5", "true", "deagle", "awp"}
    assert report["clicks_by_component"][:4] == [
        {"component": "shoot_gun_button", "click_count": 9},
        {"component": "change_background_button", "click_count": 2},
        {"component": "pause_button", "click_count": 2},
        {"component": "start_button", "click_count": 2}]
    assert report["errors"] == [
        {"error": "ValueError", "place": "on_start", "component": "start_button", "error_count": 6},
        {"error": "OSError", "place": "stats", "component": "stats_button", "error_count": 2}]
    # 1.5, 3.2, 7.4, 10: the median lies between 3.2 and 7.4, the 95th between 7.4 and 10.
    assert report["timer_accuracy"] == [
        {"day": "2025-03-07", "finishes": 2, "median_late_ms": 5.1, "p95_late_ms": 6.1},
        {"day": "2025-03-09", "finishes": 4, "median_late_ms": 5.3, "p95_late_ms": 9.6}]
    assert report["sound_latency"][-1] == {"day": "2025-03-09", "samples": 3, "median_latency_ms": 35.7,
                                           "p95_latency_ms": 75.8}
    assert report["focus_time"] == [
        {"day": "2025-03-06", "focus_phases": 1, "focus_minutes": 0.0},
        {"day": "2025-03-07", "focus_phases": 2, "focus_minutes": 6000.0},
        {"day": "2025-03-09", "focus_phases": 4, "focus_minutes": 75.5}]
    last_30_days = {row["session_id"]: row["total_events"]
                    for row in local_report(store_path, 30, now=NOW)["sessions"]}
    assert last_30_days["edge"] == 1 and "ancient" not in last_30_days


@pytest.mark.parametrize("session", ["hour-edge", "midnight", "nobody"])
def test_one_sessions_report_answers_for_its_events_alone(store_path, session: str) -> None:
    """What a web visitor's Stats show: the same questions over that session's events only."""
    mine = [row for row in EVENTS if row.session_id == session]
    for days in (None, 30):
        assert local_report(store_path, days, now=NOW, session_id=session) == expected_report(
            mine, days, NOW)


def test_missing_store_gives_empty_answers(tmp_path: Path) -> None:
    assert local_report(tmp_path / "absent.sqlite3") == {q.name: [] for q in QUESTIONS}
    assert not (tmp_path / "absent.sqlite3").exists()  # reading must not create the store


def test_malformed_metadata_does_not_break_the_local_report(tmp_path: Path) -> None:
    path = tmp_path / "clickstream.sqlite3"
    store = Store(path)
    good = event("s", NOW, "shoot_gun_button", {"weapon": "awp"})
    store.add([good, event("s", NOW, "shoot_gun_button")._replace(metadata="{not json")])
    store.close()
    report = local_report(path, now=NOW)
    assert report["weapon_popularity"] == [{"weapon": "awp", "usage_count": 1}]
    assert report["clicks_by_component"] == [{"component": "shoot_gun_button", "click_count": 2}]


def test_local_report_never_loads_google_cloud(store_path: Path) -> None:
    """The UI imports it for the Stats view; ui/ must not load google.cloud."""
    code = ("import sys; from pathlib import Path; from worker.report import local_report; "
            f"assert local_report(Path({str(store_path)!r}))['sessions']; "
            "loaded = [m for m in sys.modules if m.startswith('google')]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


# -- command line ------------------------------------------------------------------------------


@pytest.fixture
def recent_data_dir(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Path:
    """A store with a few clicks made just now, selected through HL_VOX_DATA_DIR."""
    factory = EventFactory("cli-session")
    store = Store(tmp_path / "clickstream.sqlite3")
    store.add([factory.make("app_start", "application"),
               factory.make("button_click", "start_button", {"time_input": "00:25:00"}),
               factory.make("button_click", "start_button", {"time_input": "00:05:00"}),
               factory.make("button_click", "shoot_gun_button", {"weapon": "glock18"})])
    store.close()
    clean_env.setenv("HL_VOX_DATA_DIR", str(tmp_path))
    return tmp_path


def test_cli_json_is_the_local_report(recent_data_dir: Path, capsys) -> None:
    assert main(["report", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == local_report(recent_data_dir / "clickstream.sqlite3")
    assert printed["hourly_today"][0]["event_count"] == 4


def test_cli_csv_has_one_block_per_question(recent_data_dir: Path, capsys) -> None:
    assert main(["report", "--format", "csv", "--days", "1"]) == 0
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [f"# {q.name}" for q in QUESTIONS]
    clicks = list(csv.reader(io.StringIO(blocks[0].split("\n", 1)[1])))
    assert clicks == [["component", "click_count"], ["start_button", "2"], ["shoot_gun_button", "1"]]


def test_cli_table_aligns_columns(recent_data_dir: Path, capsys) -> None:
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    clicks = out.split("\n\n")[0].splitlines()
    assert clicks == ["Clicks by component",
                      "component         click_count",
                      "----------------  -----------",
                      "start_button                2",
                      "shoot_gun_button            1"]


def test_cli_table_on_an_empty_store_says_so(tmp_path: Path, clean_env, capsys) -> None:
    clean_env.setenv("HL_VOX_DATA_DIR", str(tmp_path))
    assert main(["report"]) == 0
    assert capsys.readouterr().out.count("(no events)") == len(QUESTIONS)


@pytest.mark.emulator
def test_cli_bigquery_and_local_print_the_same(store_path, table_id, emulator, clean_env,
                                               capsys) -> None:
    project, dataset, table = table_id.split(".")
    for name, value in {"HL_VOX_DATA_DIR": str(store_path.parent), "HL_VOX_BQ_PROJECT": project,
                        "HL_VOX_BQ_DATASET": dataset, "HL_VOX_BQ_TABLE": table,
                        "HL_VOX_BQ_ENDPOINT": emulator.endpoint}.items():
        clean_env.setenv(name, value)
    assert main(["report", "--sink", "bigquery", "--format", "csv"]) == 0
    from_bigquery = capsys.readouterr().out
    assert main(["report", "--sink", "local", "--format", "csv"]) == 0
    assert from_bigquery == capsys.readouterr().out
    assert "hour-edge" in from_bigquery


@pytest.mark.emulator
def test_cli_missing_bigquery_table_is_a_failure_with_the_fix(bq_client, emulator, clean_env,
                                                              capsys) -> None:
    for name, value in {"HL_VOX_SINK": "bigquery", "HL_VOX_BQ_PROJECT": PROJECT,
                        "HL_VOX_BQ_DATASET": "no_such_dataset", "HL_VOX_BQ_ENDPOINT": emulator.endpoint
                        }.items():
        clean_env.setenv(name, value)
    assert main(["report"]) == 1
    assert "python setup_bigquery.py" in capsys.readouterr().err


@pytest.mark.parametrize("argv, env, message", [
    (["report", "--sink", "bigquery"], {}, "HL_VOX_BQ_PROJECT must be set"),
    (["report", "--sink", "bigquery"], {"HL_VOX_BQ_PROJECT": "my-project", "HL_VOX_BQ_DATASET": "a-b"},
     "dataset id 'a-b' is not valid"),
    (["report"], {"HL_VOX_SINK": "cloud"}, "HL_VOX_SINK='cloud' is not one of"),
    (["report", "--days", "0"], {}, "0 is not a positive number of days"),
    (["report", "--format", "xml"], {}, "invalid choice: 'xml'"),
    ([], {}, "required"),
])
def test_cli_usage_errors(argv, env, message, tmp_path, clean_env, capsys) -> None:
    clean_env.setenv("HL_VOX_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
