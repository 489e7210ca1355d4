"""Parse what a user types as a countdown length (HH:MM:SS, MM:SS or SS) and format seconds back."""

from __future__ import annotations

import re

MAX_SECONDS = 99 * 3600 + 59 * 60 + 59  # 99:59:59, the widest time the HH:MM:SS field can show
EXAMPLE = "e.g. 00:25:00, 25:00 or 90"
# The time field takes at most this many characters: "99:59:59" with room for spaces and leading
# zeros. Longer text is never a time, and capping it keeps a pasted page out of the app.
MAX_INPUT_CHARS = 20
# No field of a time we take has more significant digits than MAX_SECONDS; int() of longer digit
# strings is wasted work, and past 4,300 digits Python refuses it (ValueError).
_MAX_DIGITS = len(str(MAX_SECONDS))

# ASCII digits only: str.isdigit() would also accept characters like "²" that int() rejects.
_DIGITS = re.compile(r"[0-9]+")


class TimeInputError(ValueError):
    """The text is not a usable countdown length; str(error) is a message for the user."""


def parse_time_input(text: str) -> int:
    """Total seconds (1..MAX_SECONDS) for "HH:MM:SS", "MM:SS" or "SS"; raises TimeInputError."""
    cleaned = text.strip()
    if not cleaned:
        raise TimeInputError(f"Enter a time, {EXAMPLE}.")
    if cleaned.startswith("-"):
        raise TimeInputError("The time cannot be negative.")
    parts = cleaned.split(":")
    if len(parts) > 3:
        raise TimeInputError(f"Use HH:MM:SS, MM:SS or SS, {EXAMPLE}.")
    if not all(_DIGITS.fullmatch(part) for part in parts):
        raise TimeInputError(f"Use digits and colons only, {EXAMPLE}.")
    significant = [part.lstrip("0") or "0" for part in parts]
    if any(len(digits) > _MAX_DIGITS for digits in significant):
        raise TimeInputError(f"The longest time is {format_hms(MAX_SECONDS)}.")
    values = [int(digits) for digits in significant]
    # In a colon form every field after the first is a clock field: it must be below 60.
    if len(values) > 1 and values[-1] >= 60:
        raise TimeInputError("Seconds must be below 60.")
    if len(values) == 3 and values[1] >= 60:
        raise TimeInputError("Minutes must be below 60.")
    total = sum(value * 60**power for power, value in enumerate(reversed(values)))
    if total == 0:
        raise TimeInputError("The time must be longer than zero.")
    if total > MAX_SECONDS:
        raise TimeInputError(f"The longest time is {format_hms(MAX_SECONDS)}.")
    return total


def normalize_time_input(text: str) -> str:
    """The input as HH:MM:SS ("90" -> "00:01:30"); raises TimeInputError."""
    return format_hms(parse_time_input(text))


def format_hms(seconds: int) -> str:
    """HH:MM:SS for a number of seconds; negative values show as 00:00:00."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_short(seconds: int) -> str:
    """The time as a tab title shows it: "12:34" under an hour, "1:05:10" from one."""
    hours, minutes, secs = format_hms(seconds).split(":")
    return f"{int(hours)}:{minutes}:{secs}" if int(hours) else f"{minutes}:{secs}"
