"""Keyboard shortcuts: a key press (as Flet reports it) to the action it stands for.

Pure: the view says whether focus is in a text field, this module decides. In a text field no key
is a shortcut, so typing "1:30" never fires or mutes anything; Enter there is the field's own submit
(the time field's starts the timer). A key held with Ctrl, Alt or Meta is the browser's or the
desktop's (Ctrl+R reloads, Alt+F4 closes): never ours.
"""

from __future__ import annotations

import enum


class Action(enum.Enum):
    START_PAUSE = "start_pause"  # Start when idle or finished, else Pause/Resume
    RESET = "reset"
    TIME_LEFT = "time_left"
    FIRE = "fire"
    BACKGROUND = "background"
    SKIP = "skip"
    MUTE = "mute"
    HELP = "help"


# Flutter names the space bar " " (its key label); some platforms say "Space".
_KEYS: dict[str, Action] = {
    " ": Action.START_PAUSE, "Space": Action.START_PAUSE, "R": Action.RESET, "T": Action.TIME_LEFT,
    "F": Action.FIRE, "B": Action.BACKGROUND, "N": Action.SKIP, "M": Action.MUTE, "?": Action.HELP,
}
# What "?" shows: (keys, what they do), in the order of the buttons on screen.
SHORTCUT_HELP: tuple[tuple[str, str], ...] = (
    ("Space", "Start / Pause / Resume"),
    ("Enter", "Start (in the time field)"),
    ("R", "Reset"),
    ("T", "Time left?"),
    ("N", "Skip to the next phase (Pomodoro)"),
    ("F", "Fire"),
    ("B", "Next background"),
    ("M", "Mute / unmute"),
    ("?", "This list"),
)


def action_for(key: str, shift: bool = False, ctrl: bool = False, alt: bool = False,
               meta: bool = False, in_text_field: bool = False) -> Action | None:
    """The action of a key-down, or None when the key is not a shortcut here."""
    if ctrl or alt or meta:
        return None
    if in_text_field:
        return None
    if key == "/" and shift:  # "?" on keyboards that report the unshifted key
        return Action.HELP
    action = _KEYS.get(key if len(key) != 1 else key.upper())
    if action is not None and shift and action is not Action.HELP:
        return None  # Shift+R and the like are left alone: a shortcut is one plain key
    return action
