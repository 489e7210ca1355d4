"""One user session's decisions, with no Flet: what each click does to the timer, what it tracks,
what it plays and what the screen must show.

`TimerSession` owns a timer, a `SoundOut` and a `Tracker`; after every call its `state` (a small
frozen `SessionState`) is what the screen shows. Nothing here waits: the view calls `tick()` when
the timer is due (the seconds until then are what `tick()` returns) and renders the state again.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from shared.timefmt import TimeInputError, format_hms, normalize_time_input, parse_time_input
from ui.sound_out import SoundOut
from ui.timer import CountdownTimer, TimerState
from ui.vox import time_left_words
from ui.weapons import DEFAULT_WEAPON

log = logging.getLogger(__name__)

DEFAULT_TIME = "00:25:00"


class Tracker(Protocol):
    """Where a session's events go (worker.ClickstreamTracker in the app)."""

    def track_event(self, event_type: str, component: str, metadata: Any = None,
                    session_id: str | None = None) -> object: ...


class View(enum.Enum):
    TIMER = "timer"
    STATS = "stats"


@dataclass(frozen=True)
class Background:
    name: str
    src: str  # asset URL


@dataclass(frozen=True)
class SessionState:
    """What the screen shows."""

    display: str  # HH:MM:SS in the big display
    time_input: str  # the time field's text
    input_error: str | None  # under the time field; None when the text is a valid time
    paused: bool  # the Pause button reads "Resume"
    can_pause: bool  # the Pause button is enabled
    background: Background | None
    weapon: str
    view: View


class TimerSession:
    """After close() every call does nothing: a closed session plays and tracks nothing more."""

    def __init__(self, session_id: str, timer: CountdownTimer, sounds: SoundOut, tracker: Tracker,
                 backgrounds: list[Background]) -> None:
        self.session_id = session_id
        self._timer = timer
        self._sounds = sounds
        self._tracker = tracker
        self._backgrounds = backgrounds
        self._background_index = 0
        self._display = DEFAULT_TIME
        self._time_input = DEFAULT_TIME
        self._input_error: str | None = None
        self._weapon = DEFAULT_WEAPON
        self._view = View.TIMER
        self._run_length = format_hms(0)  # of the countdown started last, for timer_finished
        self._closed = False

    @property
    def state(self) -> SessionState:
        timer_state = self._timer.state
        return SessionState(
            display=self._display, time_input=self._time_input, input_error=self._input_error,
            paused=timer_state is TimerState.PAUSED,
            can_pause=timer_state in (TimerState.RUNNING, TimerState.PAUSED),
            background=self._backgrounds[self._background_index] if self._backgrounds else None,
            weapon=self._weapon, view=self._view)

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        if self._closed:
            return
        self._track("app_start", "application")

    def close(self, reason: str) -> None:
        """Stops the sounds and tracks app_stop; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        self._sounds.close()
        self._track("app_stop", "application", {"reason": reason})
        log.info("session %s ended (%s)", self.session_id, reason)

    # ---- clicks ------------------------------------------------------------------------------

    def start(self, typed: str) -> bool:
        """Starts a countdown of the typed time; False (and the reason shown) when it is no time."""
        if self._closed:
            return False
        try:
            seconds = parse_time_input(typed)
        except TimeInputError as error:
            self._input_error = str(error)
            self._time_input = typed
            self._track("input_error", "time_input", {"message": str(error)})
            return False
        time_text = format_hms(seconds)
        self._input_error = None
        self._time_input = self._display = time_text
        self._timer.start(seconds)
        self._run_length = time_text
        self._sounds.stop_speech()
        self._sounds.play_effect("start")
        self._track("button_click", "start_button", {"time_input": time_text})
        return True

    def toggle_pause(self) -> None:
        if self._closed or self._timer.state not in (TimerState.RUNNING, TimerState.PAUSED):
            return  # the button is disabled then; a click racing the finish changes nothing
        paused = self._timer.toggle_pause()
        if paused:
            self._sounds.stop_speech()
        self._sounds.play_effect("pause")
        self._track("button_click", "pause_button", {"is_paused": paused})

    def reset(self, typed: str) -> None:
        """Stops the countdown; the display previews the typed time (zero if it is no time)."""
        if self._closed:
            return
        self._timer.reset()
        self._time_input = typed
        try:
            self._display = normalize_time_input(typed)
        except TimeInputError:
            self._display = format_hms(0)
        self._sounds.stop_speech()
        self._sounds.play_effect("reset")
        self._track("button_click", "reset_button")

    def time_left(self) -> None:
        if self._closed:
            return
        seconds = self._timer.display_seconds()
        self._sounds.play_effect("timeleft")
        self._sounds.say(time_left_words(seconds))
        self._track("button_click", "timeleft_button", {"remaining_time": format_hms(seconds)})

    def fire(self) -> None:
        if self._closed:
            return
        self._sounds.play_shot(self._weapon)
        self._track("button_click", "shoot_gun_button", {"weapon": self._weapon})

    def select_weapon(self, weapon: str | None) -> None:
        if self._closed:
            return
        self._weapon = weapon or DEFAULT_WEAPON
        self._sounds.play_deploy(self._weapon)
        self._track("weapon_select", "weapon_dropdown", {"weapon": self._weapon})

    def change_background(self) -> None:
        if self._closed:
            return
        if self._backgrounds:
            self._background_index = (self._background_index + 1) % len(self._backgrounds)
        self._sounds.play_effect("background")
        self._track("button_click", "change_background_button")

    def edit_time(self, typed: str) -> None:
        """Validates as the user types; an idle or finished timer previews the time it would run."""
        if self._closed:
            return
        self._time_input = typed
        try:
            time_text = normalize_time_input(typed)
        except TimeInputError as error:
            self._input_error = str(error)
            return
        self._input_error = None
        if self._timer.state in (TimerState.IDLE, TimerState.FINISHED):
            self._display = time_text

    def show_stats(self) -> None:
        """The Stats view replaces the timer screen; the countdown carries on behind it."""
        if self._closed:
            return
        self._view = View.STATS
        self._track("button_click", "stats_button")

    def show_timer(self) -> None:
        if self._closed:
            return
        self._view = View.TIMER

    # ---- time --------------------------------------------------------------------------------

    def tick(self) -> float | None:
        """Applies what the timer did since the last tick; the seconds until it is next due (None
        when nothing is: idle, paused or finished)."""
        if self._closed:
            return None
        for event in self._timer.poll():
            if event.kind == "display" and self._timer.state is not TimerState.IDLE:
                # Idle (after Reset) the display previews the typed time instead of the timer's 0.
                self._display = format_hms(event.seconds)
            elif event.kind == "countdown":
                self._sounds.say_countdown()
            elif event.kind == "finished":
                self._sounds.play_ending()
                self._track("timer_finished", "timer", {"duration": self._run_length})
        return self._timer.seconds_until_next_change()

    def _track(self, event_type: str, component: str, metadata: dict[str, Any] | None = None) -> None:
        self._tracker.track_event(event_type, component, metadata, session_id=self.session_id)
