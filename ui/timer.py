"""The countdown as a pure state machine over an injected monotonic clock.

Remaining time is always deadline - now, never a sum of ticks, so a slow or late ticker cannot make
it drift. The owner polls; events tell it what changed since the last poll.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# The spoken countdown's length: the timer reports "countdown" this many seconds before the end, and
# the announcer says this many numbers, one a second (see SoundPack.countdown_wav).
COUNTDOWN_SECONDS = 5


class TimerState(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


@dataclass(frozen=True)
class TimerEvent:
    kind: str  # "display" | "countdown" | "finished"
    seconds: int  # display: shown; countdown: the number to say first; finished: 0
    # finished: seconds from the deadline to the poll that reported it (a measurement, not identity)
    late: float = field(default=0.0, compare=False)


class CountdownTimer:
    """One countdown at a time: start() while running or paused restarts it.

    poll() reports, per run: "display" whenever the whole seconds shown change (only the latest value
    if polls come late), "countdown" once when remaining first drops to <= COUNTDOWN_SECONDS (only
    for runs at least that long, so a spoken 5-4-3-2-1 can start in step), "finished" once.
    A pause stops the spoken countdown; resuming inside it owes a new "countdown" from the next
    whole second, so the numbers still land on the seconds they name.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._state = TimerState.IDLE
        self._deadline = 0.0  # clock time at which a running countdown reaches zero
        self._paused_remaining = 0.0
        self._has_countdown = False  # this run is long enough for the spoken countdown
        self._wants_countdown = False  # this run still owes a "countdown" event
        self._countdown_from = COUNTDOWN_SECONDS  # the number that owed "countdown" starts with
        self.pauses = 0  # of the current run
        self._wants_finished = False  # this run still owes a "finished" event
        self._shown: int | None = 0  # display value last reported by poll(); None: none this run

    @property
    def state(self) -> TimerState:
        self._settle()
        return self._state

    def start(self, total_seconds: int) -> None:
        if total_seconds <= 0:
            raise ValueError(f"a countdown needs a positive length, got {total_seconds}")
        self._state = TimerState.RUNNING
        self._deadline = self._clock() + total_seconds
        self._has_countdown = self._wants_countdown = total_seconds >= COUNTDOWN_SECONDS
        self._countdown_from = COUNTDOWN_SECONDS
        self._wants_finished = True
        self.pauses = 0
        self._shown = None  # a run's first poll reports its display, even a late one showing 0

    def toggle_pause(self) -> bool:
        """Pause a running countdown or resume a paused one; True when it is now paused."""
        self._settle()
        if self._state is TimerState.RUNNING:
            self._paused_remaining = self._deadline - self._clock()
            self._state = TimerState.PAUSED
            self.pauses += 1
            return True
        if self._state is TimerState.PAUSED:
            self._deadline = self._clock() + self._paused_remaining
            self._state = TimerState.RUNNING
            if self._has_countdown and self._paused_remaining < COUNTDOWN_SECONDS:
                # The pause stopped the spoken countdown: it goes on from the next whole second.
                self._countdown_from = math.floor(self._paused_remaining)
                self._wants_countdown = self._countdown_from >= 1
        return False

    def reset(self) -> None:
        self._state = TimerState.IDLE
        self._wants_countdown = self._wants_finished = False

    def remaining(self) -> float:
        self._settle()
        if self._state is TimerState.RUNNING:
            return self._deadline - self._clock()
        if self._state is TimerState.PAUSED:
            return self._paused_remaining
        return 0.0

    def display_seconds(self) -> int:
        """Whole seconds to show: rounded up, so 4.2 s left shows 5 and 0 appears only at the end."""
        return math.ceil(self.remaining())

    def seconds_until_next_change(self) -> float | None:
        """How long a ticker may sleep before the display (or any event) is next due."""
        if self.state is not TimerState.RUNNING:
            return None
        remaining = self.remaining()
        return remaining - (math.ceil(remaining) - 1)

    def poll(self) -> list[TimerEvent]:
        events = []
        shown = self.display_seconds()
        if shown != self._shown:
            self._shown = shown
            events.append(TimerEvent("display", shown))
        if self._wants_countdown and self._state in (TimerState.RUNNING, TimerState.FINISHED) \
                and self.remaining() <= self._countdown_from:
            self._wants_countdown = False
            events.append(TimerEvent("countdown", self._countdown_from))
        if self._wants_finished and self._state is TimerState.FINISHED:
            self._wants_finished = False
            events.append(TimerEvent("finished", 0, late=self._clock() - self._deadline))
        return events

    def _settle(self) -> None:
        """A running countdown whose deadline has passed is finished, polled or not."""
        if self._state is TimerState.RUNNING and self._clock() >= self._deadline:
            self._state = TimerState.FINISHED
