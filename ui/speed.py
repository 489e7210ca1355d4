"""The announcer's speed: a sentence's samples played faster or slower, as a tape would be.

Pure sample arithmetic (no I/O): resampling by linear interpolation changes speed and pitch
together, which is what a VOX announcer sped up sounds like, and it keeps the clip boundaries of a
joined sentence where they were relative to each other (no gaps appear).
"""

from __future__ import annotations

import math
from array import array

NORMAL_SPEED = 1.0
MIN_SPEED, MAX_SPEED = 0.5, 2.0


def is_valid_speed(value: object) -> bool:
    return (type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]
            and MIN_SPEED <= value <= MAX_SPEED)  # type: ignore[operator]


def at_speed(samples: array, speed: float, channels: int = 1) -> array:
    """16-bit samples (interleaved frames of `channels`) played at `speed` times the recorded rate:
    speed 2 keeps every other frame, 0.5 adds the midpoint between each pair; 1 returns a copy."""
    if not is_valid_speed(speed):
        raise ValueError(f"speed must be {MIN_SPEED}..{MAX_SPEED}, got {speed!r}")
    frames = len(samples) // channels
    if speed == NORMAL_SPEED or frames == 0:
        return array("h", samples)
    last = frames - 1
    out = array("h")
    for index in range(math.floor(last / speed) + 1):
        position = index * speed
        left = int(position)
        right = min(left + 1, last)
        fraction = position - left
        for channel in range(channels):
            a = samples[left * channels + channel]
            b = samples[right * channels + channel]
            out.append(round(a + (b - a) * fraction))
    return out
