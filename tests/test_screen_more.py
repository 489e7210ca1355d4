"""The lower half of the screen renders a SessionState (no page, no browser)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ui.keys import SHORTCUT_HELP
from ui.screen_more import build_more
from ui.session import Background, SessionState, View

IDLE = SessionState(display="00:25:00", time_input="00:25:00", input_error=None, paused=False,
                    can_pause=False, background=Background("Desert Dawn", "/d.png"), weapon="glock18",
                    view=View.TIMER)


class NoActions:
    def __getattr__(self, name: str) -> Any:
        return lambda e: None


def test_countdown_hides_the_pomodoro_and_pomodoro_shows_its_counter_and_numbers() -> None:
    more = build_more(NoActions(), IDLE)
    assert not (more.counter.visible or more.skip.visible or more.settings.visible)
    assert more.mode.value == "countdown" and more.help.visible is False
    pomodoro = dataclasses.replace(IDLE, mode="pomodoro", counter="Focus 1 of 4 · 0 done today",
                                   cycle_inputs=("00:00:02", "1:75", "00:15:00", "4"),
                                   cycle_errors=(None, "Seconds must be below 60.", None, None))
    changed = more.show(pomodoro, IDLE)
    assert more.counter.visible and more.skip.visible and more.settings.visible
    assert more.counter.value == "Focus 1 of 4 · 0 done today"
    assert [field.value for field in more.fields.values()] == ["00:00:02", "1:75", "00:15:00", "4"]
    assert more.fields["short_break"].error == "Seconds must be below 60."
    assert more.counter in changed and more.fields["focus"] in changed
    assert more.show(pomodoro, pomodoro) == []  # nothing new: nothing to send


def test_mute_volume_compact_and_help_follow_the_state() -> None:
    more = build_more(NoActions(), IDLE)
    state = dataclasses.replace(IDLE, muted=True, volume=0.35, compact=True, help_shown=True,
                                auto_start_focus=True)
    more.show(state, IDLE)
    assert (more.mute.content, more.volume.value) == ("Unmute", 0.35)
    assert not more.sound_row.visible and more.compact.content == "Full view"
    assert more.help.visible and more.switches["auto_start_focus"].value is True


def test_the_pomodoro_numbers_and_the_shortcut_list_join_the_page_when_first_shown() -> None:
    more = build_more(NoActions(), IDLE)
    assert more.settings.controls == [] and more.help.controls == []  # the first page is smaller
    typed = dataclasses.replace(IDLE, cycle_inputs=("00:50:00", "00:05:00", "00:15:00", "4"))
    assert more.show(typed, IDLE) == []  # fields off the page: nothing to send for them yet
    shown = dataclasses.replace(typed, mode="pomodoro", help_shown=True)
    changed = more.show(shown, typed)
    assert more.settings.controls == more.settings_rows and more.settings in changed
    assert more.fields["focus"].value == "00:50:00"  # sent with the rows as they join the page
    assert len(more.help.controls) == len(SHORTCUT_HELP) and more.help in changed
    hidden = dataclasses.replace(shown, mode="countdown", help_shown=False)
    more.show(hidden, shown)
    assert more.settings.controls == more.settings_rows  # kept: shown again, nothing is rebuilt
