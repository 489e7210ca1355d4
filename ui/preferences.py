"""What a user chose, remembered across runs: mode, the cycle's numbers, auto-start, weapon,
background, volume and mute.

Plain data with a forgiving reader: a value that is missing, of the wrong type or out of range falls
back to its default (and is logged), so a hand-edited or stale file never stops the app. The desktop
app keeps it as JSON in the data folder (`PreferencesFile`); a web tab in its own browser's storage.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.timefmt import MAX_SECONDS
from ui.cycle import (
    DEFAULT_FOCUS,
    DEFAULT_LONG_BREAK,
    DEFAULT_LONG_BREAK_EVERY,
    DEFAULT_SHORT_BREAK,
    MAX_LONG_BREAK_EVERY,
    CycleConfig,
)
from ui.weapons import WEAPONS

log = logging.getLogger(__name__)

MODES = ("countdown", "pomodoro")
FILE_NAME = "preferences.json"


@dataclass(frozen=True)
class Preferences:
    mode: str = "countdown"  # a new user gets the plain countdown
    focus: int = DEFAULT_FOCUS  # seconds
    short_break: int = DEFAULT_SHORT_BREAK
    long_break: int = DEFAULT_LONG_BREAK
    long_break_every: int = DEFAULT_LONG_BREAK_EVERY
    auto_start_breaks: bool = True
    auto_start_focus: bool = False
    weapon: str = ""  # "" until the user picks one: the app's default (an experiment's, if any)
    background: str = ""  # a background's name; "" for the first one
    volume: float = 1.0  # 0..1
    muted: bool = False

    def cycle_config(self) -> CycleConfig:
        return CycleConfig(self.focus, self.short_break, self.long_break, self.long_break_every,
                           self.auto_start_breaks, self.auto_start_focus)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preferences:
        """Every good value of `data`; anything else keeps its default."""
        defaults = cls()
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in data:
                continue
            value = data[field.name]
            if _VALID[field.name](value):
                values[field.name] = float(value) if field.name == "volume" else value
            else:
                log.warning("preference %s=%r is not usable; keeping %r", field.name, value,
                            getattr(defaults, field.name))
        return cls(**values)


def _whole(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and low <= value <= high


_VALID: dict[str, Callable[[Any], bool]] = {
    "mode": lambda value: value in MODES,
    "focus": _whole(1, MAX_SECONDS),
    "short_break": _whole(1, MAX_SECONDS),
    "long_break": _whole(1, MAX_SECONDS),
    "long_break_every": _whole(1, MAX_LONG_BREAK_EVERY),
    "auto_start_breaks": lambda value: type(value) is bool,
    "auto_start_focus": lambda value: type(value) is bool,
    "weapon": lambda value: value == "" or value in WEAPONS,
    "background": lambda value: type(value) is str and len(value) <= 64,
    "volume": lambda value: type(value) in (int, float) and math.isfinite(value) and 0 <= value <= 1,
    "muted": lambda value: type(value) is bool,
}


class PreferencesFile:
    """Preferences as JSON in a folder (the desktop app's data folder)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def load(self) -> Preferences:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Preferences()
        except (OSError, ValueError) as error:
            log.warning("cannot read preferences %s (%s); using the defaults", self.path, error)
            return Preferences()
        return Preferences.from_dict(data) if isinstance(data, dict) else Preferences()

    def save(self, preferences: Preferences) -> None:
        """Written next to the file and renamed over it: a crash mid-write keeps the old one.
        Raises OSError (the caller decides how loud a failed save is)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(preferences.to_dict(), indent=2), encoding="utf-8")
        os.replace(partial, self.path)
