"""A/B experiments: the declaration file, the per-session assignment, and `report --experiment`
(local store and BigQuery give the same numbers, both match a Python oracle)."""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from pathlib import Path

import pytest

from shared.event import Event, EventFactory
from shared.experiments import DEFAULT_FILE, ExperimentsError, assign, load, parse
from worker.__main__ import main
from worker.experiment_report import MIN_STARTS, compare, question, two_proportion_p_value
from worker.report import Row, ask_bigquery, ask_local
from worker.store import Store

from _bigquery import bq_settings


def test_the_shipped_file_declares_a_control_and_a_variant() -> None:
    (experiment,) = load(DEFAULT_FILE)
    assert experiment.name == "ending_sound"
    assert [v.name for v in experiment.variants] == ["alarm", "victory"]
    assert experiment.variants[0].changes == {} and experiment.variants[1].changes == {
        "ending_sound": "victory"}


def test_assignment_is_stable_and_close_to_the_weights() -> None:
    (experiment,) = parse({"experiment": [{"name": "speed", "variants": [
        {"name": "normal", "weight": 1}, {"name": "fast", "weight": 3,
                                           "changes": {"announcer_speed": 1.25}}]}]})
    sessions = [str(uuid.uuid4()) for _ in range(10_000)]
    first = [assign((experiment,), session).variants["speed"] for session in sessions]
    again = [assign((experiment,), session).variants["speed"] for session in sessions]
    assert first == again
    share = Counter(first)["fast"] / len(first)
    assert abs(share - 0.75) < 0.02
    fast = next(s for s in sessions if assign((experiment,), s).variants["speed"] == "fast")
    assert assign((experiment,), fast).changes == {"announcer_speed": 1.25}


@pytest.mark.parametrize("text, words", [
    ("[[experiment]]\nname = 'x'\nvariants = [{ name = 'a' }]", "at least two variants"),
    ("[[experiment]]\nname = '1x'\nvariants = [{ name = 'a' }, { name = 'b' }]", "name '1x'"),
    ("[[experiment]]\nname = 'x'\nvariants = [{ name = 'a', weight = 0 }, { name = 'b' }]",
     "weight must be a positive number"),
    ("[[experiment]]\nname = 'x'\nvariants = [{ name = 'a' }, { name = 'a' }]", "unique"),
    ("[[experiment]]\nname = 'x'\nvariants = [{ name = 'a', changes = 3 }, { name = 'b' }]",
     "changes must be a table"),
    ("not toml = = =", "experiments file"),
])
def test_a_bad_file_names_itself_and_the_problem(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(text)
    with pytest.raises(ExperimentsError) as error:
        load(path)
    assert str(path) in str(error.value) and words in str(error.value)


def test_two_proportion_test_matches_the_textbook() -> None:
    # 60/100 against 40/100: z = 0.2 / sqrt(0.25 * 0.02) = 2.828, two-sided p = 0.00468.
    assert two_proportion_p_value(60, 100, 40, 100) == pytest.approx(0.004678, abs=1e-5)
    assert two_proportion_p_value(10, 10, 20, 20) == 1.0  # everyone finished: nothing to see


def sessions_of(variant: str, count: int, starts: int, finishes: int, clicks: int = 0) -> list[Event]:
    """`count` sessions of one variant, each with the given starts, finishes and other clicks."""
    events = []
    for _ in range(count):
        factory = EventFactory(str(uuid.uuid4()))
        events.append(factory.make("app_start", "application",
                                   {"experiments": {"ending_sound": variant, "other": "x"}}))
        events += [factory.make("button_click", "start_button", {"time_input": "00:00:05"})
                   for _ in range(starts)]
        events += [factory.make("timer_finished", "timer", {"late_ms": 2}) for _ in range(finishes)]
        events += [factory.make("button_click", "shoot_gun_button") for _ in range(clicks)]
    return events


EXPERIMENT_EVENTS = (sessions_of("alarm", 20, 3, 1) + sessions_of("victory", 20, 3, 2, clicks=2)
                     + [EventFactory("unassigned").make("button_click", "start_button")])


def oracle(events: list[Event]) -> list[dict[str, object]]:
    variant_of = {e.session_id: json.loads(e.metadata or "{}")["experiments"]["ending_sound"]
                  for e in events if e.event_type == "app_start"}
    rows: dict[str, Counter[str]] = {}
    for e in events:
        variant = variant_of.get(e.session_id)
        if variant is None:
            continue
        row = rows.setdefault(variant, Counter())
        row["timers_started"] += e.event_type == "button_click" and e.component == "start_button"
        row["timers_finished"] += e.event_type == "timer_finished"
        row["clicks"] += e.event_type == "button_click"
    return [{"variant": v, "sessions": sum(1 for s in variant_of.values() if s == v),
             "timers_started": rows[v]["timers_started"], "timers_finished": rows[v]["timers_finished"],
             "clicks": rows[v]["clicks"]} for v in sorted(rows)]


@pytest.fixture(scope="module")
def experiment_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("experiment") / "clickstream.sqlite3"
    store = Store(path)
    store.add(EXPERIMENT_EVENTS)
    store.close()
    return path


def test_local_counts_match_the_oracle_and_the_verdict_follows(experiment_store: Path) -> None:
    q = question("ending_sound")
    rows = ask_local(experiment_store, [q])[q.name]
    assert rows == oracle(EXPERIMENT_EVENTS)
    result = compare("ending_sound", rows, ["alarm", "victory"])
    alarm, victory = result.variants
    assert (alarm.finish_rate, victory.finish_rate) == (round(1 / 3, 4), round(2 / 3, 4))
    assert victory.clicks_per_session == 5.0 and alarm.clicks_per_session == 3.0
    (comparison,) = result.comparisons
    # 20 / 60 against 40 / 60: enough starts, and a clear difference.
    assert comparison.p_value == pytest.approx(two_proportion_p_value(40, 60, 20, 60), abs=1e-6)
    assert comparison.verdict.startswith("victory finishes more timers")


def test_few_starts_say_not_enough_data() -> None:
    few: list[Row] = [{"variant": "a", "sessions": 3, "timers_started": MIN_STARTS - 1, "timers_finished": 2,
            "clicks": 9}, {"variant": "b", "sessions": 3, "timers_started": 40, "timers_finished": 40,
                           "clicks": 9}]
    (comparison,) = compare("x", few).comparisons
    assert comparison.p_value is None and comparison.verdict.startswith("not enough data")


@pytest.mark.emulator
def test_bigquery_gives_the_same_counts(bq_client, table_id: str, emulator, experiment_store: Path,
                                        tmp_path: Path) -> None:
    assert bq_client.insert_rows_json(table_id, [e.row() for e in EXPERIMENT_EVENTS],
                                      row_ids=[e.event_id for e in EXPERIMENT_EVENTS]) == []
    q = question("ending_sound")
    remote = ask_bigquery(bq_settings(tmp_path, table_id, emulator.endpoint), [q])[q.name]
    assert remote == ask_local(experiment_store, [q])[q.name]


def test_cli_prints_the_comparison_and_refuses_a_bad_name(experiment_store: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HL_VOX_DATA_DIR", str(experiment_store.parent))
    monkeypatch.delenv("HL_VOX_SINK", raising=False)
    assert main(["report", "--experiment", "ending_sound"]) == 0
    out = capsys.readouterr().out
    assert "Experiment ending_sound" in out and "victory vs alarm: victory finishes more" in out
    assert main(["report", "--experiment", "ending_sound", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [v["variant"] for v in printed["variants"]] == ["alarm", "victory"]
    assert not math.isnan(printed["comparisons"][0]["p_value"])
    assert main(["report", "--experiment", "bad-name;"]) == 2
    assert "must be letters" in capsys.readouterr().err


def test_hl_vox_experiments_must_name_a_file(tmp_path: Path) -> None:
    from shared.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="HL_VOX_EXPERIMENTS="):
        Settings.from_env({"HL_VOX_EXPERIMENTS": str(tmp_path / "absent.toml")})
    path = tmp_path / "mine.toml"
    path.write_text("")
    assert Settings.from_env({"HL_VOX_EXPERIMENTS": str(path)}).experiments_path == path
    assert load(path) == ()  # an empty file runs no experiment
