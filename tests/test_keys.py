"""Keyboard shortcuts as a pure map: no Flet."""

from __future__ import annotations

import pytest

from ui.keys import SHORTCUT_HELP, Action, action_for


@pytest.mark.parametrize("key, action", [
    (" ", Action.START_PAUSE), ("Space", Action.START_PAUSE), ("R", Action.RESET), ("r", Action.RESET),
    ("T", Action.TIME_LEFT), ("F", Action.FIRE), ("B", Action.BACKGROUND), ("N", Action.SKIP),
    ("M", Action.MUTE), ("?", Action.HELP), ("X", None), ("Enter", None), ("Escape", None),
])
def test_plain_keys_outside_a_text_field(key: str, action: Action | None) -> None:
    assert action_for(key) is action


def test_question_mark_with_shift_either_way_it_is_reported() -> None:
    assert action_for("?", shift=True) is Action.HELP
    assert action_for("/", shift=True) is Action.HELP
    assert action_for("/") is None


@pytest.mark.parametrize("modifier", ["ctrl", "alt", "meta", "shift"])
def test_a_modified_key_is_left_to_the_browser_or_desktop(modifier: str) -> None:
    assert action_for("R", **{modifier: True}) is None  # Ctrl+R reloads the page, not our Reset


def test_in_a_text_field_no_key_is_a_shortcut() -> None:
    for key in (" ", "R", "M", "?", "1", ":", "Enter"):
        assert action_for(key, in_text_field=True) is None


def test_the_help_lists_every_key_that_acts() -> None:
    listed = {keys for keys, _ in SHORTCUT_HELP}
    assert {"Space", "Enter", "R", "T", "N", "F", "B", "M", "?"} == listed
