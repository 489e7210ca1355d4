"""The Pomodoro cycle as a pure state machine: focus, short break, focus ... long break, again.

It knows phases, not time: the session runs each phase on the countdown timer and tells the cycle
when a phase ended (finished or skipped); the cycle answers with the next phase and whether it starts
by itself. Days come from an injected clock, so "focus sessions today" is testable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

# Defaults people know from the technique: 25-minute focus, 5-minute breaks, 15 after every 4th.
DEFAULT_FOCUS = 25 * 60
DEFAULT_SHORT_BREAK = 5 * 60
DEFAULT_LONG_BREAK = 15 * 60
DEFAULT_LONG_BREAK_EVERY = 4
MAX_LONG_BREAK_EVERY = 12


class Phase(enum.Enum):
    FOCUS = "focus"
    SHORT_BREAK = "short_break"
    LONG_BREAK = "long_break"

    @property
    def is_break(self) -> bool:
        return self is not Phase.FOCUS

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class CycleConfig:
    focus: int = DEFAULT_FOCUS  # seconds
    short_break: int = DEFAULT_SHORT_BREAK
    long_break: int = DEFAULT_LONG_BREAK
    long_break_every: int = DEFAULT_LONG_BREAK_EVERY
    # Breaks start by themselves (stepping away should not need a click); the next focus waits for
    # Start, so a break never runs into work the user was not back for.
    auto_start_breaks: bool = True
    auto_start_focus: bool = False

    def duration(self, phase: Phase) -> int:
        return {Phase.FOCUS: self.focus, Phase.SHORT_BREAK: self.short_break,
                Phase.LONG_BREAK: self.long_break}[phase]

    def auto_starts(self, phase: Phase) -> bool:
        return self.auto_start_breaks if phase.is_break else self.auto_start_focus


@dataclass(frozen=True)
class PhaseChange:
    """The phase that comes next; `auto` when it starts without a click."""

    phase: Phase
    cycle: int  # which focus of the round (1..long_break_every) this phase belongs to
    duration: int  # seconds
    auto: bool
    completed_focus: bool  # the phase that ended was a focus run to its end (not skipped)


class PomodoroCycle:
    def __init__(self, config: CycleConfig | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.config = config or CycleConfig()
        self._today = today
        self.phase = Phase.FOCUS
        self.cycle = 1
        self._done_on: date | None = None
        self._done_today = 0

    @property
    def duration(self) -> int:
        return self.config.duration(self.phase)

    @property
    def focus_done_today(self) -> int:
        return self._done_today if self._done_on == self._today() else 0

    def counter_text(self) -> str:
        """What the screen shows, e.g. "Focus 3 of 4 · 5 done today"."""
        if self.phase is Phase.FOCUS:
            where = f"Focus {self.cycle} of {self.config.long_break_every}"
        else:
            where = f"{self.phase.label} after focus {self.cycle}"
        return f"{where} · {self.focus_done_today} done today"

    def finish(self) -> PhaseChange:
        """The current phase ran to its end."""
        return self._advance(completed=True)

    def skip(self) -> PhaseChange:
        """The user ended the current phase early: a skipped focus does not count as done."""
        return self._advance(completed=False)

    def reset(self) -> None:
        """Back to the first focus of a round (today's count stays)."""
        self.phase, self.cycle = Phase.FOCUS, 1

    def configure(self, config: CycleConfig) -> None:
        """New durations or counts; a cycle past the new round length starts the round again."""
        self.config = config
        if self.cycle > config.long_break_every:
            self.reset()

    def _advance(self, completed: bool) -> PhaseChange:
        ended = self.phase
        completed_focus = completed and ended is Phase.FOCUS
        if completed_focus:
            today = self._today()
            self._done_today = (self._done_today if self._done_on == today else 0) + 1
            self._done_on = today
        if ended is Phase.FOCUS:
            last = self.cycle >= self.config.long_break_every
            self.phase = Phase.LONG_BREAK if last else Phase.SHORT_BREAK
        else:
            self.cycle = 1 if ended is Phase.LONG_BREAK else self.cycle + 1
            self.phase = Phase.FOCUS
        return PhaseChange(self.phase, self.cycle, self.duration, self.config.auto_starts(self.phase),
                           completed_focus)
