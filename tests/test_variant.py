"""Experiment changes the app applies: checked once, then applied per session."""

from __future__ import annotations

import logging

import pytest

from shared.experiments import assign, parse
from ui.speed import NORMAL_SPEED
from ui.startup import app_version, elapsed_ms
from ui.variant import AppVariant, usable
from ui.weapons import DEFAULT_WEAPON


def experiments(changes: dict[str, object]):
    return parse({"experiment": [{"name": "trial", "variants": [
        {"name": "control", "weight": 1e-9}, {"name": "treated", "weight": 1e9, "changes": changes}]}]})


def test_a_variants_changes_are_applied() -> None:
    checked = usable(experiments({"ending_sound": "victory", "default_weapon": "awp",
                                  "announcer_speed": 2}))
    variant = AppVariant.of(assign(checked, "session-1"))
    assert variant == AppVariant(ending_sound="victory", default_weapon="awp", announcer_speed=2.0)
    assert isinstance(variant.announcer_speed, float)


def test_the_control_is_the_plain_app() -> None:
    assert AppVariant.of(assign((), "session-1")) == AppVariant(None, DEFAULT_WEAPON, NORMAL_SPEED)


def test_changes_the_app_cannot_apply_are_ignored_with_one_warning(caplog) -> None:
    bad = experiments({"ending_sound": "kazoo", "default_weapon": "bfg", "announcer_speed": 9.0,
                       "colour": "red", "ending": "victory"})
    with caplog.at_level(logging.WARNING, logger="ui.variant"):
        checked = usable(bad)
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    for part in ("trial/treated: ending_sound='kazoo'", "default_weapon='bfg'", "announcer_speed=9.0",
                 "colour='red'"):
        assert part in message
    assignment = assign(checked, "session-1")
    assert assignment.variants == {"trial": "treated"}  # the assignment itself is unchanged
    assert AppVariant.of(assignment) == AppVariant()
    with caplog.at_level(logging.WARNING, logger="ui.variant"):
        usable(experiments({"ending_sound": "alarm"}))
    assert len(caplog.records) == 1  # a good file warns nothing


@pytest.mark.parametrize("speed", [True, "fast", 0.1])
def test_a_bad_speed_is_no_speed(speed: object) -> None:
    assert AppVariant.of(assign(usable(experiments({"announcer_speed": speed})), "s")) == AppVariant()


def test_the_version_and_startup_time_say_nothing_about_the_machine() -> None:
    assert app_version() not in ("", None)
    assert elapsed_ms(10.0, now=10.25) == 250.0


def test_a_bad_experiments_file_stops_the_app_with_one_line(tmp_path, monkeypatch, caplog) -> None:
    from ui.__main__ import main

    bad = tmp_path / "experiments.toml"
    bad.write_text('[[experiment]]\nname = "solo"\nvariants = [{ name = "only" }]\n')
    monkeypatch.setenv("HL_VOX_EXPERIMENTS", str(bad))
    monkeypatch.setenv("HL_VOX_DATA_DIR", str(tmp_path / "data"))
    with caplog.at_level(logging.ERROR, logger="ui"):
        assert main(["--web", "--port", "1"]) == 2
    [record] = caplog.records
    assert record.getMessage() == (f"Bad experiments file: experiments file {bad}: experiment 'solo': "
                                   "needs at least two variants")
    assert not (tmp_path / "data").exists()  # nothing started: no uploader, no store
