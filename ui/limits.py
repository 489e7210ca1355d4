"""What one session may cost the others: a fair share of tracked events and sounds, and errors that are
reported once instead of once per occurrence. Pure logic over an injected monotonic clock.

`FairShare` holds a token bucket for tracked events and one for sounds. A click beyond its share
still acts on the session's own timer (that costs nobody else anything); only its event and its
sound are dropped. What was dropped, and values a visitor sent that are not ours (refused), are
counted and come out as one summary per SUMMARY_SECONDS, never one per click.

`ErrorLog` turns a storm of one error into two events at most per SUMMARY_SECONDS: the first
occurrence at once, then one with the `count` of the repeats, so a report's SUM(count) is the total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

# A person clicks ten times a second at most. Events cost the server ~0.1 ms each: 20/s with a
# burst of 50 lets every real click through while a script's thousands a second cost nothing. A
# sound costs ~2 ms (a message to the browser and three events back), and a burst of them is what
# another tab would wait behind: 10/s and 10 at once is still every sound of the fastest clicking.
EVENT_RATE = 20.0
EVENT_BURST = 50.0
SOUND_RATE = 10.0
SOUND_BURST = 10.0
# At most one summary event a minute per session, however long a flood or an error storm lasts.
SUMMARY_SECONDS = 60.0


class TokenBucket:
    """`rate` tokens a second up to `burst`; take() spends one if there is one."""

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._filled_at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._filled_at) * self._rate)
        self._filled_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass
class Held:
    """What a session's limits held back since the last summary."""

    dropped_events: int = 0
    dropped_sounds: int = 0
    refused_values: int = 0

    def __bool__(self) -> bool:
        return bool(self.dropped_events or self.dropped_sounds or self.refused_values)

    def add(self, other: Held) -> None:
        self.dropped_events += other.dropped_events
        self.dropped_sounds += other.dropped_sounds
        self.refused_values += other.refused_values


class FairShare:
    def __init__(self, clock: Clock, event_rate: float = EVENT_RATE, event_burst: float = EVENT_BURST,
                 sound_rate: float = SOUND_RATE, sound_burst: float = SOUND_BURST) -> None:
        self._clock = clock
        self._events = TokenBucket(event_rate, event_burst, clock)
        self._sounds = TokenBucket(sound_rate, sound_burst, clock)
        self._held = Held()
        self._held_since: float | None = None  # when the first thing of the current summary was held
        self.total = Held()  # for the whole session, for the log

    def allow_event(self) -> bool:
        if self._events.take():
            return True
        self._hold("dropped_events")
        return False

    def allow_sound(self) -> bool:
        if self._sounds.take():
            return True
        self._hold("dropped_sounds")
        return False

    def refuse_value(self) -> None:
        self._hold("refused_values")

    def due_summary(self) -> Held | None:
        """What was held back, once SUMMARY_SECONDS have passed since the first of it."""
        if self._held_since is None or self._clock() < self._held_since + SUMMARY_SECONDS:
            return None
        return self.final_summary()

    def final_summary(self) -> Held | None:
        """What was held back and not summarised yet (at the session's end, however recent)."""
        if not self._held:
            return None
        held, self._held, self._held_since = self._held, Held(), None
        return held

    def seconds_until_summary(self) -> float | None:
        if self._held_since is None:
            return None
        return max(0.0, self._held_since + SUMMARY_SECONDS - self._clock())

    def _hold(self, kind: str) -> None:
        if self._held_since is None:
            self._held_since = self._clock()
        setattr(self._held, kind, getattr(self._held, kind) + 1)
        setattr(self.total, kind, getattr(self.total, kind) + 1)


@dataclass(frozen=True)
class ErrorReport:
    """One app_error event to track: `count` is None for a first occurrence, else the repeats."""

    component: str
    error: str  # the exception's type name: never its message, which may hold what a user typed
    where: str  # the handler or module
    count: int | None = None

    @property
    def metadata(self) -> dict[str, str | int]:
        metadata: dict[str, str | int] = {"error": self.error, "where": self.where}
        if self.count is not None:
            metadata["count"] = self.count
        return metadata


@dataclass
class _Storm:
    ends_at: float
    repeats: int = 0


class ErrorLog:
    """Per (component, error type, place): the first occurrence is reported at once; repeats within
    SUMMARY_SECONDS are counted and reported as one event when that time is up. A storm that goes
    on gives one count a minute; an error quiet for a whole minute is reported at once again."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._storms: dict[tuple[str, str, str], _Storm] = {}

    def occurred(self, component: str, error: BaseException, where: str) -> list[ErrorReport]:
        """What to track now (due counts of any error first)."""
        reports = self.due()
        key = (component, type(error).__name__, where)
        storm = self._storms.get(key)
        if storm is None:
            self._storms[key] = _Storm(ends_at=self._clock() + SUMMARY_SECONDS)
            reports.append(ErrorReport(*key))
        else:
            storm.repeats += 1
        return reports

    def due(self) -> list[ErrorReport]:
        """Counts of storms whose minute is up; quiet ones are forgotten."""
        now = self._clock()
        reports = []
        for key, storm in list(self._storms.items()):
            if now < storm.ends_at:
                continue
            if storm.repeats:
                reports.append(ErrorReport(*key, count=storm.repeats))
                self._storms[key] = _Storm(ends_at=now + SUMMARY_SECONDS)
            else:
                del self._storms[key]
        return reports

    def final(self) -> list[ErrorReport]:
        """Every count not reported yet (at the session's end)."""
        reports = [ErrorReport(*key, count=storm.repeats)
                   for key, storm in self._storms.items() if storm.repeats]
        self._storms.clear()
        return reports

    def seconds_until_due(self) -> float | None:
        """Until the next storm with repeats is due (quiet ones need no wake-up)."""
        ends = [storm.ends_at for storm in self._storms.values() if storm.repeats]
        return max(0.0, min(ends) - self._clock()) if ends else None
