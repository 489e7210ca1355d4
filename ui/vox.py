"""VOX sentences: seconds to the list of announcer clips that say them, Half-Life style.

A sentence is a list of tokens; each is a word clip name or a silence token (a pause of a fixed
length), as in Half-Life's own VOX sentences ("_comma", "_period").
"""

from __future__ import annotations

# Pauses in seconds; the sound pack renders these as silence of that length.
SILENCE_SECONDS = {"_comma": 0.25, "_period": 0.5}

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS = (("hour", 3600), ("minute", 60), ("second", 1))
_TIME_UP = ("time", "is", "up")


def number_words(n: int) -> list[str]:
    """0..99 as clip names: 21 -> ["twenty", "one"], 40 -> ["forty"]."""
    if not 0 <= n <= 99:
        raise ValueError(f"the announcer knows numbers 0..99, not {n}")
    if n < 20:
        return [_ONES[n]]
    tens, ones = divmod(n, 10)
    return [_TENS[tens]] + ([_ONES[ones]] if ones else [])


def time_left_words(seconds: int) -> list[str]:
    """3910 -> "one hour, five minutes and ten seconds remaining"; 0 (or less) -> "time is up"."""
    if seconds <= 0:
        return list(_TIME_UP)
    return duration_words(seconds) + ["remaining"]


def duration_words(seconds: int) -> list[str]:
    """3910 -> "one hour, five minutes and ten seconds" (seconds > 0).

    Zero parts are left out; the last two parts are joined by "and", earlier ones by a comma pause.
    Hours go up to 99 (the timer's 99:59:59).
    """
    if seconds <= 0:
        raise ValueError(f"a duration to say must be positive, got {seconds}")
    parts = []
    rest = int(seconds)
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(number_words(count) + [unit if count == 1 else unit + "s"])
    words = []
    for index, part in enumerate(parts):
        if index == len(parts) - 1 and index > 0:
            words.append("and")
        elif index > 0:
            words.append("_comma")
        words += part
    return words


def phase_words(phase: str, cycle: int, seconds: int, completed_focus: bool) -> list[str]:
    """What the announcer says when a Pomodoro phase starts (`phase` a ui.cycle.Phase value):
    "session complete. short break, five minutes" or "focus three, twenty five minutes"."""
    said = ["session", "complete", "_period"] if completed_focus else []
    if phase == "focus":
        said += ["focus", *number_words(cycle)]
    else:
        said += [phase.removesuffix("_break"), "break"]
    return said + ["_comma", *duration_words(seconds)]


_PHASE_WORDS = ("session", "complete", "focus", "short", "long", "break")

VOX_WORDS: frozenset[str] = frozenset(
    [*_ONES, *_TENS[2:], "and", "remaining", *_TIME_UP, *_PHASE_WORDS]
    + [name for unit, _ in _UNITS for name in (unit, unit + "s")]
)
