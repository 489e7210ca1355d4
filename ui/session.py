"""One user session's decisions, with no Flet: what each click does to the timer, what it tracks,
what it plays and what the screen must show.

`TimerSession` owns a timer, a `SoundOut` and a `Tracker`; after every call its `state` (a small
frozen `SessionState`) is what the screen shows. Nothing here waits: the view calls `tick()` when
something is due (the seconds until then are what `tick()` returns) and renders the state again.

A web session outlives its connection: `disconnected()` starts a grace period during which the
timer runs on and nothing plays (no browser is listening); `reconnected()` within it carries on
(tracked as app_reconnect); when the grace ends first, `tick()` ends the session ("disconnected").
Its app_stop is always its last event: summaries still owed are tracked just before it.

Nothing a visitor sends is trusted: a weapon that is not one of ours is refused (counted, never
tracked or played), and `FairShare` (ui.limits) caps what one session's clicks may track and play.
Lifecycle events (app_start, app_stop, timer_finished, phase_started) and the once-a-minute
summaries are never capped: they are bounded by the session itself, and a report needs every one.

In Pomodoro mode (ui.cycle) the timer runs the cycle's phases: Start runs the current one, a finish
or Skip moves to the next, which starts by itself when its auto-start is on. A click through a
keyboard shortcut passes `via="keyboard"`, which its event then carries.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from shared.timefmt import (
    TimeInputError,
    format_hms,
    format_short,
    normalize_time_input,
    parse_time_input,
)
from ui.cycle import CycleConfig, PhaseChange, PomodoroCycle
from ui.cycle_settings import (
    SETTINGS,
    configured,
    parse_setting,
    setting_text,
    tracked_setting,
    value_text,
)
from ui.limits import Clock, ErrorLog, ErrorReport, FairShare, Held
from ui.preferences import MODES, Preferences
from ui.sound_out import SoundOut
from ui.startup import app_version
from ui.timer import CountdownTimer, TimerState
from ui.variant import AppVariant
from ui.vox import phase_words, time_left_words
from ui.weapons import WEAPONS

if TYPE_CHECKING:
    from ui.soundpack import SoundPack

log = logging.getLogger(__name__)

APP_TITLE = "HL VOX TimeLEFT"
DEFAULT_TIME = "00:25:00"
# One played sound in this many is tracked as sound_played: enough for a daily median and 95th
# percentile from a few busy sessions, at a twentieth of the events a click-by-click log would cost.
SOUND_SAMPLE_EVERY = 20
AUTO_START_SETTINGS = ("auto_start_breaks", "auto_start_focus")
_DEFAULT_INPUTS = tuple(setting_text(name, CycleConfig()) for name in SETTINGS)


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

    @staticmethod
    def all_of(pack: SoundPack) -> list[Background]:
        """The pack's backgrounds, by display name, at the URLs the app serves them at."""
        return [Background(name, url) for name, path in pack.backgrounds() if (url := pack.asset_url(path))]


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
    alert: bool = False  # the countdown reached zero and nothing was clicked since: the display says so
    title: str = APP_TITLE  # of the tab or window: the time left while a countdown runs or is paused
    mode: str = "countdown"  # one of ui.preferences.MODES
    counter: str = ""  # Pomodoro: where the cycle is, e.g. "Focus 3 of 4 · 5 done today"
    cycle_inputs: tuple[str, ...] = _DEFAULT_INPUTS  # the Pomodoro settings' texts (SETTINGS order)
    cycle_errors: tuple[str | None, ...] = (None,) * len(SETTINGS)  # None: a valid value
    auto_start_breaks: bool = True
    auto_start_focus: bool = False
    volume: float = 1.0
    muted: bool = False
    compact: bool = False
    help_shown: bool = False  # the keyboard shortcut list
    progress: float | None = None  # how far the run is, 0..1 (the taskbar's); None with no run


class TimerSession:
    """After close() every call does nothing: a closed session plays and tracks nothing more.

    `clock` is the monotonic clock of the timer; `grace` the seconds a disconnected session waits
    for its client (None: it never disconnects, as a desktop window).
    """

    def __init__(self, session_id: str, timer: CountdownTimer, sounds: SoundOut, tracker: Tracker,
                 backgrounds: list[Background], clock: Clock = time.monotonic,
                 grace: float | None = None, variant: AppVariant | None = None,
                 experiments: dict[str, str] | None = None, preferences: Preferences | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.session_id = session_id
        self._timer = timer
        self._sounds = sounds
        self._tracker = tracker
        self._backgrounds = backgrounds
        self._clock = clock
        self._grace = grace
        self._limits = FairShare(clock)
        self._errors = ErrorLog(clock)
        self._background_index = 0
        self._display = DEFAULT_TIME
        self._time_input = DEFAULT_TIME
        self._input_error: str | None = None
        self._variant = variant or AppVariant()
        self._experiments = experiments or {}  # {experiment: variant}, for app_start
        self._weapon = self._variant.default_weapon
        self._chosen_weapon = ""  # the weapon the user picked ("" until then), for the preferences
        self._cycle = PomodoroCycle(today=today)
        self._mode = "countdown"
        self._cycle_inputs = {name: setting_text(name, self._cycle.config) for name in SETTINGS}
        self._cycle_errors: dict[str, str | None] = dict.fromkeys(SETTINGS)
        self._volume, self._muted = 1.0, False
        self._compact = self._help_shown = False
        self._run_seconds = 0  # the length of the run started last, for the progress
        self._sounds_played = 0
        self._view = View.TIMER
        self._alert = False
        self._run_length = format_hms(0)  # of the countdown started last, for timer_finished
        self._offline_since: float | None = None  # clock time the client went away, while it is away
        self._closed = False
        if preferences is not None:
            self.apply_preferences(preferences)

    @property
    def state(self) -> SessionState:
        timer_state = self._timer.state
        return SessionState(
            display=self._display, time_input=self._time_input, input_error=self._input_error,
            paused=timer_state is TimerState.PAUSED,
            can_pause=timer_state in (TimerState.RUNNING, TimerState.PAUSED),
            background=self._backgrounds[self._background_index] if self._backgrounds else None,
            weapon=self._weapon, view=self._view, alert=self._alert, title=self._title(timer_state),
            mode=self._mode, counter=self._cycle.counter_text() if self._pomodoro else "",
            cycle_inputs=tuple(self._cycle_inputs[name] for name in SETTINGS),
            cycle_errors=tuple(self._cycle_errors[name] for name in SETTINGS),
            auto_start_breaks=self._cycle.config.auto_start_breaks,
            auto_start_focus=self._cycle.config.auto_start_focus, volume=self._volume,
            muted=self._muted, compact=self._compact, help_shown=self._help_shown,
            progress=self._progress(timer_state))

    @property
    def preferences(self) -> Preferences:
        """What this user chose, to remember across runs."""
        config = self._cycle.config
        # "" stands for the first background, so a renamed first sky is still the one shown.
        background = self._backgrounds[self._background_index].name if self._background_index else ""
        return Preferences(self._mode, config.focus, config.short_break, config.long_break,
                           config.long_break_every, config.auto_start_breaks, config.auto_start_focus,
                           self._chosen_weapon, background, self._volume, self._muted)

    def apply_preferences(self, preferences: Preferences) -> None:
        """What this user chose on an earlier run (a web tab's arrive a moment after it opened);
        nothing is tracked or played: it is no click. A running timer is left alone."""
        if self._closed:
            return
        self._cycle.configure(preferences.cycle_config())
        self._cycle_inputs = {name: setting_text(name, self._cycle.config) for name in SETTINGS}
        self._cycle_errors = dict.fromkeys(SETTINGS)
        if preferences.weapon:
            self._weapon = self._chosen_weapon = preferences.weapon
        names = [background.name for background in self._backgrounds]
        if preferences.background in names:
            self._background_index = names.index(preferences.background)
        self._volume, self._muted = preferences.volume, preferences.muted
        self._sounds.set_volume(self._effective_volume)
        if preferences.mode != self._mode and self._timer.state not in (TimerState.RUNNING,
                                                                        TimerState.PAUSED):
            self._mode = preferences.mode
            self._show_idle()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def held(self) -> Held:
        """Everything the session's limits held back since it opened."""
        return self._limits.total

    # ---- lifecycle ---------------------------------------------------------------------------

    def open(self, startup_ms: float) -> None:
        """Tracks app_start: the app's version, `startup_ms` (from the process start or the page's
        open to the first screen sent) and the session's experiment variants."""
        if self._closed:
            return
        self._track("app_start", "application", {"version": app_version(), "startup_ms": startup_ms,
                                                 "experiments": self._experiments}, capped=False)

    def close(self, reason: str) -> None:
        """Stops the sounds and tracks what is still owed, then app_stop; later calls do nothing.

        A session that ends while its client is away says for how long (`offline_seconds`): that
        tail of its duration nobody was watching.
        """
        if self._closed:
            return
        self._track_summaries(self._limits.final_summary(), self._errors.final())
        self._closed = True
        self._sounds.close()
        stop: dict[str, Any] = {"reason": reason}
        if self._offline_since is not None:
            stop["offline_seconds"] = round(self._clock() - self._offline_since, 1)
        self._track("app_stop", "application", stop, capped=False)
        log.info("session %s ended (%s)", self.session_id, reason)

    def disconnected(self) -> None:
        """The client went away (a closed tab, a reload, a dropped network): the grace starts."""
        if not self._closed and self._offline_since is None:
            self._offline_since = self._clock()

    def reconnected(self) -> bool:
        """The client is back; False when the session ended first (its grace was up)."""
        if self._closed:
            return False
        if self._offline_since is not None:
            offline = self._clock() - self._offline_since
            self._offline_since = None
            self._track("app_reconnect", "application", {"offline_seconds": round(offline, 1)})
        return True

    def report_error(self, component: str, where: str, error: BaseException) -> None:
        """An exception a handler caught: tracked as app_error, type and place only (see ErrorLog)."""
        if self._closed:
            return
        reports = self._errors.occurred(component, error, where)
        if any(report.count is None for report in reports):  # the first of its kind: say so once
            log.warning("session %s: %s in %s (%s)", self.session_id, type(error).__name__, where,
                        component)
            log.debug("the %s in %s", type(error).__name__, where, exc_info=error)
        self._track_summaries(None, reports)

    # ---- clicks ------------------------------------------------------------------------------

    def start(self, typed: str, via: str | None = None) -> bool:
        """Starts a countdown of the typed time (Pomodoro: the current phase); False (and the reason
        shown) when it is no time."""
        if self._closed:
            return False
        if self._pomodoro:
            self._start_run(self._cycle.duration)
            self._track("button_click", "start_button", _via({"time_input": self._run_length}, via))
            self._track_phase_started(auto=False)
            return True
        try:
            seconds = parse_time_input(typed)
        except TimeInputError as error:
            self._input_error = str(error)
            self._time_input = typed
            self._track("input_error", "time_input", {"message": str(error)})
            return False
        self._input_error = None
        self._time_input = format_hms(seconds)
        self._start_run(seconds)
        self._track("button_click", "start_button", _via({"time_input": self._run_length}, via))
        return True

    def start_or_pause(self, typed: str, via: str | None = None) -> None:
        """Space: pauses or resumes a run, starts one otherwise."""
        if self._timer.state in (TimerState.RUNNING, TimerState.PAUSED):
            self.toggle_pause(via)
        else:
            self.start(typed, via)

    def toggle_pause(self, via: str | None = None) -> None:
        if self._closed or self._timer.state not in (TimerState.RUNNING, TimerState.PAUSED):
            return  # the button is disabled then; a click racing the finish changes nothing
        paused = self._timer.toggle_pause()
        if paused:
            self._sounds.stop_speech()
        self._play(self._sounds.play_effect, "pause")
        self._track("button_click", "pause_button", _via({"is_paused": paused}, via))

    def reset(self, typed: str, via: str | None = None) -> None:
        """Stops the run; the display previews the typed time (zero if it is no time). Pomodoro:
        back to the first focus of the round."""
        if self._closed:
            return
        self._timer.reset()
        self._alert = False
        if self._pomodoro:
            self._cycle.reset()
        else:
            self._time_input = typed
        self._show_idle()
        self._sounds.stop_speech()
        self._play(self._sounds.play_effect, "reset")
        self._track("button_click", "reset_button", _via(None, via))

    def skip(self, via: str | None = None) -> None:
        """Pomodoro: ends the phase now; the next one starts by itself if its auto-start is on."""
        if self._closed or not self._pomodoro:
            return
        ended = self._cycle.phase
        self._timer.reset()
        self._alert = False
        self._track("button_click", "skip_button", _via({"phase": ended.value}, via))
        self._next_phase(self._cycle.skip())

    def time_left(self, via: str | None = None) -> None:
        if self._closed:
            return
        seconds = self._timer.display_seconds()
        if self._play(self._sounds.play_effect, "timeleft"):
            self._sounds.say(time_left_words(seconds))
        self._track("button_click", "timeleft_button", _via({"remaining_time": format_hms(seconds)}, via))

    def fire(self, via: str | None = None) -> None:
        if self._closed:
            return
        self._play(self._sounds.play_shot, self._weapon)
        self._track("button_click", "shoot_gun_button", _via({"weapon": self._weapon}, via))

    def select_weapon(self, weapon: object) -> bool:
        """Picks one of WEAPONS (None, a cleared dropdown: the default). Anything else came from a
        forged message: refused and counted, never stored or played; False then."""
        if self._closed:
            return False
        if weapon is not None and weapon not in WEAPONS:
            self._limits.refuse_value()
            return False
        self._weapon = str(weapon or self._variant.default_weapon)
        self._chosen_weapon = self._weapon
        self._play(self._sounds.play_deploy, self._weapon)
        self._track("weapon_select", "weapon_dropdown", {"weapon": self._weapon})
        return True

    def change_background(self, via: str | None = None) -> None:
        if self._closed:
            return
        if self._backgrounds:
            self._background_index = (self._background_index + 1) % len(self._backgrounds)
        self._play(self._sounds.play_effect, "background")
        self._track("button_click", "change_background_button", _via(None, via))

    def select_mode(self, mode: object) -> bool:
        """Countdown or Pomodoro; the run stops. Anything else is a forged value: refused, False."""
        if self._closed:
            return False
        if mode not in MODES:
            self._limits.refuse_value()
            return False
        if mode == self._mode:
            return True
        self._mode = str(mode)
        self._timer.reset()
        self._alert = False
        self._sounds.stop_speech()
        self._show_idle()
        self._track("mode_select", "mode_dropdown", {"mode": self._mode})
        return True

    def edit_setting(self, name: str, typed: str) -> None:
        """A Pomodoro setting as the user types it: validated, applied once the field is left."""
        if self._closed or name not in SETTINGS:
            return
        self._cycle_inputs[name] = typed
        try:
            parse_setting(name, typed)
        except TimeInputError as error:
            self._cycle_errors[name] = str(error)
        else:
            self._cycle_errors[name] = None

    def commit_setting(self, name: str) -> None:
        """The user left a setting's field (or pressed Enter): a new valid value is applied and
        tracked; a bad one stays on screen with its message, the cycle keeps the old value."""
        if self._closed or name not in SETTINGS or self._cycle_errors[name]:
            return
        value = parse_setting(name, self._cycle_inputs[name])
        self._cycle_inputs[name] = value_text(name, value)
        if value == getattr(self._cycle.config, name):
            return
        self._configure(name, value)
        self._track("settings_change", f"{name}_input", tracked_setting(name, value))

    def set_auto_start(self, name: str, on: bool) -> None:
        if self._closed or name not in AUTO_START_SETTINGS or on == getattr(self._cycle.config, name):
            return
        self._configure(name, bool(on))
        self._track("settings_change", f"{name}_switch", {"setting": name, "value": bool(on)})

    def toggle_mute(self, via: str | None = None) -> None:
        if self._closed:
            return
        self._muted = not self._muted
        self._sounds.set_volume(self._effective_volume)
        self._track("button_click", "mute_button", _via({"muted": self._muted}, via))

    def set_volume(self, volume: object, released: bool) -> None:
        """The slider moved (applied at once) or was let go (`released`: tracked once)."""
        if self._closed:
            return
        if type(volume) not in (int, float) or not 0 <= volume <= 1:  # type: ignore[operator]
            self._limits.refuse_value()
            return
        changed = round(float(volume), 2) != self._volume  # type: ignore[arg-type]
        self._volume = round(float(volume), 2)  # type: ignore[arg-type]
        if changed:
            self._sounds.set_volume(self._effective_volume)
        if released:
            self._track("volume_change", "volume_slider", {"volume": self._volume})

    def toggle_compact(self) -> None:
        if self._closed:
            return
        self._compact = not self._compact
        self._track("button_click", "compact_button", {"compact": self._compact})

    def toggle_help(self, via: str | None = None) -> None:
        """The keyboard shortcut list: shown (tracked) or hidden again."""
        if self._closed:
            return
        self._help_shown = not self._help_shown
        if self._help_shown:
            self._track("button_click", "help_button", _via(None, via))

    def sound_played(self, sound: str, latency_ms: float, measured: dict[str, float]) -> None:
        """A sound output measured a sound it played: every SOUND_SAMPLE_EVERY-th is tracked."""
        if self._closed:
            return
        self._sounds_played += 1
        if self._sounds_played % SOUND_SAMPLE_EVERY == 0:
            self._track("sound_played", "audio", {"sound": sound, "latency_ms": latency_ms, **measured},
                        capped=False)

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
        if self._timer.state in (TimerState.IDLE, TimerState.FINISHED) and not self._pomodoro:
            self._display = time_text
            self._alert = False

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
        """Applies what happened since the last tick: the timer's changes, summaries that are due,
        the end of the grace. The seconds until something is next due (None when nothing is)."""
        if self._closed:
            return None
        for event in self._timer.poll():
            if event.kind == "display" and self._timer.state is not TimerState.IDLE:
                # Idle (after Reset) the display previews the typed time instead of the timer's 0.
                self._display = format_hms(event.seconds)
            elif event.kind == "countdown":
                self._play(self._sounds.say_countdown, event.seconds)
            elif event.kind == "finished":
                self._finished(event.late)
        self._track_summaries(self._limits.due_summary(), self._errors.due())
        grace_left = None
        if self._offline_since is not None and self._grace is not None:
            grace_left = self._offline_since + self._grace - self._clock()
            if grace_left <= 0:
                self.close("disconnected")
                return None
        due = [self._timer.seconds_until_next_change(), self._limits.seconds_until_summary(),
               self._errors.seconds_until_due(), grace_left]
        return min((delay for delay in due if delay is not None), default=None)

    # ---- internals ---------------------------------------------------------------------------

    @property
    def _pomodoro(self) -> bool:
        return self._mode == "pomodoro"

    @property
    def _effective_volume(self) -> float:
        return 0.0 if self._muted else self._volume

    def _start_run(self, seconds: int) -> None:
        self._alert = False
        self._display = self._run_length = format_hms(seconds)
        self._run_seconds = seconds
        self._timer.start(seconds)
        self._sounds.stop_speech()
        self._play(self._sounds.play_effect, "start")

    def _finished(self, late: float) -> None:
        finished: dict[str, Any] = {"duration": self._run_length, "late_ms": round(late * 1000, 1),
                                    "pauses": self._timer.pauses}
        if self._pomodoro:
            finished["phase"] = self._cycle.phase.value
        self._alert = True
        self._play(self._sounds.play_ending)
        self._track("timer_finished", "timer", finished, capped=False)
        if self._pomodoro:
            self._next_phase(self._cycle.finish())

    def _next_phase(self, change: PhaseChange) -> None:
        """Starts the new phase if it starts by itself, else shows it; then says the change."""
        if change.auto:
            self._start_run(change.duration)
            self._track_phase_started(auto=True)
        else:
            self._show_idle()
        self._play(self._sounds.say, phase_words(change.phase.value, change.cycle, change.duration,
                                                 change.completed_focus))

    def _track_phase_started(self, auto: bool) -> None:
        self._track("phase_started", "timer", {
            "phase": self._cycle.phase.value, "cycle": self._cycle.cycle,
            "duration": format_hms(self._cycle.duration), "auto": auto}, capped=False)

    def _configure(self, name: str, value: int | bool) -> None:
        self._cycle.configure(configured(self._cycle.config, name, value))
        if self._pomodoro and self._timer.state in (TimerState.IDLE, TimerState.FINISHED):
            self._show_idle()

    def _show_idle(self) -> None:
        """The display of a timer that is not running: the time it would run."""
        if self._pomodoro:
            self._display = format_hms(self._cycle.duration)
            return
        try:
            self._display = normalize_time_input(self._time_input)
        except TimeInputError:
            self._display = format_hms(0)

    def _title(self, timer_state: TimerState) -> str:
        phase = f" {self._cycle.phase.label}" if self._pomodoro else ""
        if timer_state in (TimerState.RUNNING, TimerState.PAUSED):
            return f"{format_short(self._timer.display_seconds())}{phase} · {APP_TITLE}"
        if self._alert:
            return f"Time's up · {APP_TITLE}"
        return APP_TITLE

    def _progress(self, timer_state: TimerState) -> float | None:
        """The share of the run done, in whole percent (so it changes at most a hundred times)."""
        if timer_state not in (TimerState.RUNNING, TimerState.PAUSED) or not self._run_seconds:
            return None
        # Percent first, from whole seconds: 1 - 8/10 is 0.1999... in floating point.
        done = self._run_seconds - self._timer.display_seconds()
        return math.floor(done * 100 / self._run_seconds) / 100

    def _play(self, play: Callable[..., None], *args: Any) -> bool:
        """Plays through the session's share of sounds; nothing while no client listens."""
        if self._offline_since is not None or not self._limits.allow_sound():
            return False
        play(*args)
        return True

    def _track(self, event_type: str, component: str, metadata: dict[str, Any] | None = None,
               capped: bool = True) -> None:
        if capped and not self._limits.allow_event():
            return
        self._tracker.track_event(event_type, component, metadata, session_id=self.session_id)

    def _track_summaries(self, held: Held | None, errors: list[ErrorReport]) -> None:
        for report in errors:
            self._track("app_error", report.component, report.metadata, capped=False)
        if held:
            self._track("session_limits", "application", {
                "dropped_events": held.dropped_events, "dropped_sounds": held.dropped_sounds,
                "refused_values": held.refused_values}, capped=False)


def _via(metadata: dict[str, Any] | None, via: str | None) -> dict[str, Any] | None:
    """A shortcut's event is its button's, with "via" said (a click says nothing)."""
    return metadata if via is None else {**(metadata or {}), "via": via}
