import pytest

from ui.timer import COUNTDOWN_SECONDS, CountdownTimer, TimerEvent, TimerState


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timer(clock: FakeClock) -> CountdownTimer:
    return CountdownTimer(clock=clock)


def kinds(events: list[TimerEvent]) -> list[str]:
    return [event.kind for event in events]


def run_ticker(timer: CountdownTimer, clock: FakeClock, lateness: float = 0.0,
               limit: int = 10_000) -> list[TimerEvent]:
    """What an app ticker does: sleep until the next change (plus lateness), then poll."""
    events = timer.poll()
    for _ in range(limit):
        wait = timer.seconds_until_next_change()
        if wait is None:
            return events
        clock.advance(wait + lateness)
        events += timer.poll()
    raise AssertionError("ticker did not finish")


def test_new_timer_is_idle_at_zero(timer: CountdownTimer) -> None:
    assert timer.state is TimerState.IDLE
    assert timer.remaining() == 0
    assert timer.display_seconds() == 0
    assert timer.poll() == []
    assert timer.seconds_until_next_change() is None


def test_a_full_run_reports_every_second_one_countdown_and_one_finish(timer, clock) -> None:
    timer.start(8)
    events = run_ticker(timer, clock)
    displays = [event.seconds for event in events if event.kind == "display"]
    assert displays == [8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert [event for event in events if event.kind != "display"] == [
        TimerEvent("countdown", 5), TimerEvent("finished", 0)]
    # The countdown comes with the 5 on the display, the finish with the 0.
    assert kinds(events).index("countdown") == kinds(events).index("display") + 4
    assert events[-2:] == [TimerEvent("display", 0), TimerEvent("finished", 0)]
    assert timer.state is TimerState.FINISHED
    assert timer.poll() == []


def test_slow_ticks_do_not_drift(timer, clock) -> None:
    """A ticker that sleeps 1 s per tick loses the work time of every tick; a deadline cannot."""
    timer.start(3600)
    for _ in range(1000):
        clock.advance(1.25)  # a ticker that is always a quarter second late
        timer.poll()
    assert timer.remaining() == 3600 - 1250
    assert timer.display_seconds() == 3600 - 1250


def test_display_rounds_up(timer, clock) -> None:
    timer.start(10)
    clock.advance(5.8)
    assert timer.remaining() == pytest.approx(4.2)
    assert timer.display_seconds() == 5
    assert timer.seconds_until_next_change() == pytest.approx(0.2)


def test_pause_at_five_and_a_half_then_resume(timer, clock) -> None:
    timer.start(10)
    clock.advance(4.5)
    assert timer.poll() == [TimerEvent("display", 6)]
    assert timer.toggle_pause() is True
    assert timer.state is TimerState.PAUSED
    clock.advance(100)  # a long coffee break changes nothing
    assert timer.remaining() == pytest.approx(5.5)
    assert timer.display_seconds() == 6
    assert timer.poll() == []
    assert timer.seconds_until_next_change() is None
    assert timer.toggle_pause() is False
    assert timer.state is TimerState.RUNNING
    clock.advance(0.4)
    assert timer.poll() == []
    clock.advance(0.1)
    assert timer.poll() == [TimerEvent("display", 5), TimerEvent("countdown", 5)]
    assert timer.remaining() == pytest.approx(5.0)


def test_countdown_goes_on_after_pause_and_resume(timer, clock) -> None:
    timer.start(10)
    events = []
    clock.advance(5.0)
    events += timer.poll()
    clock.advance(0.5)
    timer.toggle_pause()  # paused at 4.5 s, after the countdown was reported
    clock.advance(3)
    timer.toggle_pause()
    events += run_ticker(timer, clock)
    assert [e for e in events if e.kind == "countdown"] == [TimerEvent("countdown", 5),
                                                            TimerEvent("countdown", 4)]
    assert kinds(events).count("finished") == 1
    assert clock.now == pytest.approx(1000 + 13)


def test_oversleeping_coalesces_displays_but_never_loses_countdown_or_finish(timer, clock) -> None:
    timer.start(20)
    assert timer.poll() == [TimerEvent("display", 20)]
    clock.advance(17.5)
    assert timer.poll() == [TimerEvent("display", 3), TimerEvent("countdown", 5)]
    clock.advance(60)
    assert timer.poll() == [TimerEvent("display", 0), TimerEvent("finished", 0)]
    assert timer.poll() == []


def test_one_late_poll_after_the_end_reports_all_three(timer, clock) -> None:
    timer.start(6)
    assert timer.poll() == [TimerEvent("display", 6)]
    clock.advance(9)
    assert timer.state is TimerState.FINISHED
    assert timer.poll() == [TimerEvent("display", 0), TimerEvent("countdown", 5),
                            TimerEvent("finished", 0)]


def test_a_run_never_polled_before_its_end_still_reports_its_zero(timer, clock) -> None:
    timer.start(6)
    timer.poll()
    clock.advance(9)
    timer.poll()
    timer.start(3)  # the display of the old run was 0 already; the new run's 0 is still reported
    clock.advance(5)
    assert timer.poll() == [TimerEvent("display", 0), TimerEvent("finished", 0)]


def test_late_ticker_still_sees_every_event(timer, clock) -> None:
    timer.start(12)
    events = run_ticker(timer, clock, lateness=0.3)
    assert kinds(events).count("countdown") == 1
    assert kinds(events).count("finished") == 1
    assert events[-1] == TimerEvent("finished", 0)


def test_runs_shorter_than_the_threshold_get_no_countdown(timer, clock) -> None:
    timer.start(3)
    events = run_ticker(timer, clock)
    assert kinds(events).count("countdown") == 0
    assert [event.seconds for event in events if event.kind == "display"] == [3, 2, 1, 0]


def test_a_run_exactly_as_long_as_the_threshold_counts_down_at_once(timer, clock) -> None:
    timer.start(5)
    assert timer.poll() == [TimerEvent("display", 5), TimerEvent("countdown", 5)]


def test_the_countdown_comes_countdown_seconds_before_the_end(timer, clock) -> None:
    timer.start(10)
    clock.advance(10 - COUNTDOWN_SECONDS - 0.5)
    assert timer.poll() == [TimerEvent("display", COUNTDOWN_SECONDS + 1)]
    clock.advance(0.5)
    assert timer.poll() == [TimerEvent("display", COUNTDOWN_SECONDS),
                            TimerEvent("countdown", COUNTDOWN_SECONDS)]


def test_start_while_running_restarts_one_countdown(timer, clock) -> None:
    timer.start(10)
    clock.advance(7)
    assert kinds(timer.poll()) == ["display", "countdown"]
    timer.start(30)  # a second start replaces the run; it never adds a second countdown
    assert timer.state is TimerState.RUNNING
    assert timer.remaining() == pytest.approx(30)
    events = run_ticker(timer, clock)
    assert events[0] == TimerEvent("display", 30)
    assert kinds(events).count("countdown") == 1  # the new run owes its own countdown, once
    assert kinds(events).count("finished") == 1
    assert clock.now == pytest.approx(1000 + 37)


def test_start_while_paused_restarts(timer, clock) -> None:
    timer.start(10)
    clock.advance(2)
    timer.toggle_pause()
    timer.start(4)
    assert timer.state is TimerState.RUNNING
    clock.advance(1)
    assert timer.remaining() == pytest.approx(3)


def test_start_after_finish_runs_again(timer, clock) -> None:
    timer.start(6)
    run_ticker(timer, clock)
    timer.start(6)
    events = run_ticker(timer, clock)
    assert kinds(events).count("countdown") == 1
    assert kinds(events).count("finished") == 1


def test_reset_returns_to_idle_at_zero_and_drops_pending_events(timer, clock) -> None:
    timer.start(10)
    timer.poll()
    clock.advance(6)
    timer.reset()
    assert timer.state is TimerState.IDLE
    assert timer.remaining() == 0
    assert timer.poll() == [TimerEvent("display", 0)]
    clock.advance(60)
    assert timer.poll() == []


def test_reset_while_paused(timer, clock) -> None:
    timer.start(10)
    timer.toggle_pause()
    timer.reset()
    assert timer.state is TimerState.IDLE
    assert timer.display_seconds() == 0


@pytest.mark.parametrize("setup", ["idle", "finished"])
def test_toggle_pause_is_a_no_op_unless_running_or_paused(timer, clock, setup: str) -> None:
    if setup == "finished":
        timer.start(2)
        clock.advance(2)
    state = timer.state
    assert timer.toggle_pause() is False
    assert timer.state is state


def test_pause_after_the_deadline_does_not_revive_the_run(timer, clock) -> None:
    timer.start(2)
    timer.poll()
    clock.advance(2.5)  # deadline passed, nobody polled yet
    assert timer.toggle_pause() is False
    assert timer.state is TimerState.FINISHED
    assert kinds(timer.poll()) == ["display", "finished"]


@pytest.mark.parametrize("bad", [0, -5])
def test_start_rejects_non_positive_lengths(timer, bad: int) -> None:
    with pytest.raises(ValueError):
        timer.start(bad)
    assert timer.state is TimerState.IDLE


def test_a_resume_inside_the_spoken_countdown_goes_on_from_the_next_number(timer, clock) -> None:
    timer.start(8)
    clock.advance(4.6)  # 3.4 s left: "four" is being said
    assert TimerEvent("countdown", 5) in timer.poll()
    timer.toggle_pause()
    clock.advance(30)
    timer.toggle_pause()
    events = run_ticker(timer, clock)
    assert [event for event in events if event.kind == "countdown"] == [TimerEvent("countdown", 3)]
    # "three" starts with the 3 on the display, as each number of an unbroken countdown does.
    assert events[:2] == [TimerEvent("display", 3), TimerEvent("countdown", 3)]


def test_a_pause_before_the_countdown_or_in_a_short_run_owes_no_extra_countdown(timer, clock) -> None:
    timer.start(8)
    clock.advance(1)
    timer.toggle_pause()
    timer.toggle_pause()
    assert [e for e in run_ticker(timer, clock) if e.kind == "countdown"] == [TimerEvent("countdown", 5)]
    timer.start(3)  # too short to speak a countdown: a pause must not start one
    clock.advance(0.5)
    timer.toggle_pause()
    timer.toggle_pause()
    assert "countdown" not in kinds(run_ticker(timer, clock))
    timer.start(8)
    clock.advance(7.5)  # paused with half a second left: no number is still to come
    timer.poll()
    timer.toggle_pause()
    timer.toggle_pause()
    assert "countdown" not in kinds(run_ticker(timer, clock))


def test_the_finish_says_how_late_it_was_polled_and_the_run_counts_its_pauses(timer, clock) -> None:
    timer.start(2)
    for _ in range(3):
        timer.toggle_pause()
        timer.toggle_pause()
    clock.advance(2.25)
    finished = [event for event in timer.poll() if event.kind == "finished"]
    assert len(finished) == 1 and finished[0].late == pytest.approx(0.25)
    assert timer.pauses == 3
    timer.start(5)
    assert timer.pauses == 0  # a new run counts afresh
