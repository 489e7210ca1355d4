"""The Pomodoro's editable numbers: the time field's validation for durations, a count for the rest."""

from __future__ import annotations

import pytest

from shared.timefmt import TimeInputError
from ui.cycle import CycleConfig
from ui.cycle_settings import SETTINGS, parse_setting, setting_text, tracked_setting


@pytest.mark.parametrize("name", ["focus", "short_break", "long_break"])
@pytest.mark.parametrize("text, seconds", [("25:00", 1500), ("00:50:00", 3000), ("3", 3), (" 90 ", 90)])
def test_durations_take_what_the_time_field_takes(name: str, text: str, seconds: int) -> None:
    assert parse_setting(name, text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "1:60", "100:00:00", "abc", "9" * 5000])
def test_bad_durations_say_why(text: str) -> None:
    with pytest.raises(TimeInputError):
        parse_setting("focus", text)


@pytest.mark.parametrize("text, count", [("4", 4), (" 1 ", 1), ("12", 12), ("04", 4)])
def test_the_long_break_interval_is_a_whole_count(text: str, count: int) -> None:
    assert parse_setting("long_break_every", text) == count


@pytest.mark.parametrize("text", ["0", "13", "", "2.5", "-1", "²", "1" * 5000, "four"])
def test_bad_intervals_say_why(text: str) -> None:
    with pytest.raises(TimeInputError, match="whole number from 1 to 12"):
        parse_setting("long_break_every", text)


def test_fields_show_hh_mm_ss_and_events_track_minutes() -> None:
    config = CycleConfig()
    assert [setting_text(name, config) for name in SETTINGS] == ["00:25:00", "00:05:00", "00:15:00", "4"]
    assert tracked_setting("focus", 3000) == {"setting": "focus_minutes", "value": 50, "duration": "00:50:00"}
    assert tracked_setting("short_break", 90) == {"setting": "short_break_minutes", "value": 1.5,
                                                  "duration": "00:01:30"}
    assert tracked_setting("long_break", 7)["value"] == 0.12  # seconds: a fraction of a minute
    assert tracked_setting("long_break_every", 3) == {"setting": "long_break_every", "value": 3}
    with pytest.raises(KeyError):
        parse_setting("colour", "red")
