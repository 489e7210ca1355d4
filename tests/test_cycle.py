"""The Pomodoro cycle alone: no timer, no Flet; days from a fake clock."""

from __future__ import annotations

from datetime import date, timedelta

from ui.cycle import CycleConfig, Phase, PomodoroCycle


class FakeDay:
    def __init__(self) -> None:
        self.day = date(2026, 12, 1)

    def __call__(self) -> date:
        return self.day


def test_a_long_break_comes_after_every_fourth_focus() -> None:
    cycle = PomodoroCycle(CycleConfig(), FakeDay())
    phases = []
    for _ in range(16):
        change = cycle.finish()
        phases.append((change.phase, change.cycle))
    focus, short, long_ = Phase.FOCUS, Phase.SHORT_BREAK, Phase.LONG_BREAK
    assert phases[:8] == [(short, 1), (focus, 2), (short, 2), (focus, 3), (short, 3), (focus, 4),
                          (long_, 4), (focus, 1)]
    assert phases[8:] == phases[:8]  # and round again


def test_durations_and_auto_start_follow_the_config() -> None:
    config = CycleConfig(focus=50 * 60, short_break=10 * 60, long_break=30 * 60, long_break_every=2,
                         auto_start_breaks=True, auto_start_focus=False)
    cycle = PomodoroCycle(config, FakeDay())
    assert cycle.duration == 3000
    to_break = cycle.finish()
    assert (to_break.phase, to_break.duration, to_break.auto) == (Phase.SHORT_BREAK, 600, True)
    to_focus = cycle.finish()
    assert (to_focus.phase, to_focus.duration, to_focus.auto) == (Phase.FOCUS, 3000, False)
    cycle.finish()
    assert (cycle.phase, cycle.duration) == (Phase.LONG_BREAK, 1800)


def test_skip_moves_on_without_counting_the_focus_as_done() -> None:
    cycle = PomodoroCycle(CycleConfig(), FakeDay())
    skipped = cycle.skip()
    assert skipped.phase is Phase.SHORT_BREAK and not skipped.completed_focus
    assert cycle.focus_done_today == 0
    cycle.skip()  # skipping a break goes to the next focus
    assert (cycle.phase, cycle.cycle) == (Phase.FOCUS, 2)
    assert cycle.finish().completed_focus and cycle.focus_done_today == 1


def test_reset_starts_the_round_again_and_keeps_todays_count() -> None:
    cycle = PomodoroCycle(CycleConfig(), FakeDay())
    for _ in range(3):
        cycle.finish()
    assert (cycle.phase, cycle.cycle) == (Phase.SHORT_BREAK, 2)
    cycle.reset()
    assert (cycle.phase, cycle.cycle, cycle.focus_done_today) == (Phase.FOCUS, 1, 2)


def test_the_count_is_per_day_and_the_counter_text_says_where_we_are() -> None:
    day = FakeDay()
    cycle = PomodoroCycle(CycleConfig(), day)
    assert cycle.counter_text() == "Focus 1 of 4 · 0 done today"
    cycle.finish()
    assert cycle.counter_text() == "Short break after focus 1 · 1 done today"
    day.day += timedelta(days=1)
    assert cycle.focus_done_today == 0
    cycle.finish()
    cycle.finish()
    assert cycle.counter_text() == "Short break after focus 2 · 1 done today"


def test_a_shorter_round_restarts_a_cycle_past_its_end() -> None:
    cycle = PomodoroCycle(CycleConfig(), FakeDay())
    for _ in range(4):
        cycle.finish()
    assert cycle.cycle == 3
    cycle.configure(CycleConfig(long_break_every=2))
    assert (cycle.phase, cycle.cycle) == (Phase.FOCUS, 1)
