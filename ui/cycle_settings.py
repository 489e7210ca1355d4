"""The Pomodoro's four numbers as the user types them: the three durations take exactly what the
time field takes (HH:MM:SS, MM:SS or SS, shared.timefmt), the long-break interval a whole count.

Pure: text in, a value or a TimeInputError (its message is for the user) out.
"""

from __future__ import annotations

import dataclasses

from shared.timefmt import MAX_INPUT_CHARS, TimeInputError, format_hms, parse_time_input
from ui.cycle import MAX_LONG_BREAK_EVERY, CycleConfig

DURATIONS = ("focus", "short_break", "long_break")  # CycleConfig fields, in seconds
LONG_BREAK_EVERY = "long_break_every"
SETTINGS = (*DURATIONS, LONG_BREAK_EVERY)


def parse_setting(name: str, text: str) -> int:
    """The setting's value (seconds for a duration, a count for the interval); raises
    TimeInputError with what to type instead."""
    if name in DURATIONS:
        return parse_time_input(text)
    if name != LONG_BREAK_EVERY:
        raise KeyError(f"unknown setting {name!r}; expected one of {SETTINGS}")
    cleaned = text.strip()[:MAX_INPUT_CHARS]
    # ASCII digits only, and no more of them than the largest count has: int() never sees a page.
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > len(str(MAX_LONG_BREAK_EVERY)) \
            or not 1 <= int(cleaned) <= MAX_LONG_BREAK_EVERY:
        raise TimeInputError(f"Enter a whole number from 1 to {MAX_LONG_BREAK_EVERY}.")
    return int(cleaned)


def setting_text(name: str, config: CycleConfig) -> str:
    """What the setting's field shows: a duration as HH:MM:SS, the interval as digits."""
    return value_text(name, getattr(config, name))


def value_text(name: str, value: int) -> str:
    return format_hms(value) if name in DURATIONS else str(value)


def configured(config: CycleConfig, name: str, value: int | bool) -> CycleConfig:
    """The config with one field (a setting or an auto-start switch) changed."""
    if name not in {field.name for field in dataclasses.fields(CycleConfig)}:
        raise KeyError(f"CycleConfig has no {name!r}")
    return dataclasses.replace(config, **{name: value})  # type: ignore[arg-type]  # checked above


def tracked_setting(name: str, value: int) -> dict[str, str | int | float]:
    """settings_change's metadata for a setting's new value: a duration as a number of minutes
    under `<name>_minutes` (what an analyst sums and compares), with the exact HH:MM:SS beside it
    (a duration of seconds is a fraction of a minute); the interval as the count it is."""
    if name not in DURATIONS:
        return {"setting": name, "value": value}
    minutes = value // 60 if value % 60 == 0 else round(value / 60, 2)
    return {"setting": f"{name}_minutes", "value": minutes, "duration": format_hms(value)}
