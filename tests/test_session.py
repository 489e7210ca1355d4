"""One session's decisions without Flet or a browser: what each click does to the timer, what it
plays, what it tracks and what the screen must show. Fake sounds, tracker and clock; no sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from ui.session import DEFAULT_TIME, Background, SessionState, TimerSession, View
from ui.timer import COUNTDOWN_SECONDS, CountdownTimer
from ui.vox import time_left_words
from ui.weapons import DEFAULT_WEAPON

SESSION_ID = "session-1"
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

    def say_countdown(self) -> None:
        self.played.append(("countdown",))

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
                                    BACKGROUNDS)

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def run_ticker(self) -> list[str]:
        """What the view's ticker does, with the fake clock: tick, sleep as told, until told to stop.
        The display after every tick."""
        shown = []
        for _ in range(10_000):
            delay = self.session.tick()
            shown.append(self.session.state.display)
            if delay is None:
                return shown
            self.advance(delay)
        raise AssertionError("the ticker never stopped")


@pytest.fixture
def parts() -> Parts:
    return Parts()


def test_a_new_session_shows_the_default_time_weapon_and_first_background(parts: Parts) -> None:
    assert parts.session.state == SessionState(
        display=DEFAULT_TIME, time_input=DEFAULT_TIME, input_error=None, paused=False, can_pause=False,
        background=BACKGROUNDS[0], weapon=DEFAULT_WEAPON, view=View.TIMER)
    parts.session.open()
    assert parts.tracker.events == [("app_start", "application", None)]
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
    assert parts.tracker.events[1:] == [("timer_finished", "timer", {"duration": "00:00:08"})]
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
    assert parts.tracker.events[-1] == ("timer_finished", "timer", {"duration": "00:00:30"})


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
    parts.session.open()
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
    assert parts.tracker.events == [("app_start", "application", None),
                                    ("button_click", "start_button", {"time_input": "00:00:10"}),
                                    ("app_stop", "application", {"reason": "disconnected"})]
    assert parts.sounds.played == [("stop_speech",), ("effect", "start"), ("close",)]
