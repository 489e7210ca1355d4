"""Preferences round-trip, and a bad or hostile file never stops the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ui.cycle import CycleConfig
from ui.preferences import Preferences, PreferencesFile


def test_a_round_trip_through_the_file_keeps_every_choice(tmp_path: Path) -> None:
    chosen = Preferences(mode="pomodoro", focus=50 * 60, short_break=600, long_break=1800,
                         long_break_every=3, auto_start_breaks=False, auto_start_focus=True,
                         weapon="awp", background="c1a0", volume=0.4, muted=True)
    file = PreferencesFile(tmp_path / "data")
    file.save(chosen)
    assert file.load() == chosen
    assert chosen.cycle_config() == CycleConfig(3000, 600, 1800, 3, False, True)
    assert not list((tmp_path / "data").glob("*.partial"))


def test_no_file_gives_the_defaults_a_new_user_gets(tmp_path: Path) -> None:
    prefs = PreferencesFile(tmp_path).load()
    assert prefs == Preferences() and prefs.mode == "countdown" and prefs.focus == 25 * 60


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\x00\xff", '"just a string"'])
def test_an_unreadable_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    (tmp_path / "preferences.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    assert PreferencesFile(tmp_path).load() == Preferences()


def test_each_bad_value_falls_back_alone(tmp_path: Path) -> None:
    data = {"mode": "turbo", "focus": 0, "short_break": 10**6, "long_break": 600, "long_break_every": True,
            "auto_start_breaks": "yes", "weapon": "=HYPERLINK(1)", "volume": float("nan"),
            "muted": True, "background": "x" * 1000, "unknown": 1}
    (tmp_path / "preferences.json").write_text(json.dumps(data))
    prefs = PreferencesFile(tmp_path).load()
    assert prefs == Preferences(long_break=600, muted=True)
