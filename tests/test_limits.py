"""A session's fair share and its error log (ui.limits): token buckets, the once-a-minute summary,
error storms reported as counts. A fake clock; no sleeping."""

from __future__ import annotations

import pytest

from ui.limits import (
    EVENT_BURST,
    EVENT_RATE,
    SOUND_BURST,
    SUMMARY_SECONDS,
    ErrorLog,
    ErrorReport,
    FairShare,
    Held,
    TokenBucket,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_bucket_gives_its_burst_at_once_then_its_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=20, burst=50, clock=clock)
    assert [bucket.take() for _ in range(51)] == [True] * 50 + [False]
    clock.now += 0.5  # half a second: ten tokens
    assert sum(bucket.take() for _ in range(100)) == 10
    clock.now += 3600  # refills up to the burst, never beyond
    assert sum(bucket.take() for _ in range(100)) == 50


def test_a_steady_flood_gets_the_rate_and_no_more(clock: FakeClock) -> None:
    share = FairShare(clock)
    allowed = 0
    for _ in range(10 * 450):  # the flood: 450 clicks a second for 10 s
        clock.now += 1 / 450
        allowed += share.allow_event()
    assert allowed == pytest.approx(EVENT_BURST + 10 * EVENT_RATE, abs=1)


def test_what_is_held_back_comes_out_once_a_minute_at_most(clock: FakeClock) -> None:
    share = FairShare(clock)
    for _ in range(int(SOUND_BURST) + 3):
        share.allow_sound()
    share.refuse_value()
    assert share.due_summary() is None  # not yet: the first drop was just now
    assert share.seconds_until_summary() == SUMMARY_SECONDS
    clock.now += SUMMARY_SECONDS - 1
    assert share.due_summary() is None and share.seconds_until_summary() == 1
    clock.now += 1
    assert share.due_summary() == Held(dropped_events=0, dropped_sounds=3, refused_values=1)
    assert share.due_summary() is None and share.seconds_until_summary() is None
    share.refuse_value()
    assert share.final_summary() == Held(refused_values=1)  # at the end, however recent
    assert share.final_summary() is None
    assert share.total == Held(dropped_sounds=3, refused_values=2)


def test_nothing_held_back_means_no_summary(clock: FakeClock) -> None:
    share = FairShare(clock)
    assert share.allow_event() and share.allow_sound()
    clock.now += 3600
    assert share.due_summary() is None and share.final_summary() is None
    assert not share.total


def test_an_error_storm_is_one_report_then_one_count_a_minute(clock: FakeClock) -> None:
    log = ErrorLog(clock)
    error = ValueError("what the user typed: 99999")
    assert log.occurred("start_button", error, "on_start") == [
        ErrorReport("start_button", "ValueError", "on_start")]
    for _ in range(999):
        clock.now += 0.01
        assert log.occurred("start_button", error, "on_start") == []
    assert log.seconds_until_due() == pytest.approx(SUMMARY_SECONDS - 9.99)
    clock.now += SUMMARY_SECONDS
    [count] = log.due()
    assert count == ErrorReport("start_button", "ValueError", "on_start", count=999)
    assert count.metadata == {"error": "ValueError", "where": "on_start", "count": 999}
    assert "99999" not in str(count.metadata)  # the type and the place, never the message


def test_a_quiet_error_is_reported_at_once_again(clock: FakeClock) -> None:
    log = ErrorLog(clock)
    log.occurred("timer", KeyError("x"), "ticker")
    clock.now += SUMMARY_SECONDS
    assert log.due() == [] and log.seconds_until_due() is None  # no repeats: forgotten
    assert log.occurred("timer", KeyError("x"), "ticker") == [ErrorReport("timer", "KeyError", "ticker")]


def test_different_errors_and_places_are_counted_apart_and_flushed_at_the_end(clock: FakeClock) -> None:
    log = ErrorLog(clock)
    for _ in range(3):
        log.occurred("sound", TimeoutError(), "sound_out_web.play")
        log.occurred("sound", OSError(), "sound_out_web.play")
        log.occurred("stats_view", OSError(), "stats.read")
    assert sorted((report.error, report.where, report.count) for report in log.final()) == [
        ("OSError", "sound_out_web.play", 2), ("OSError", "stats.read", 2),
        ("TimeoutError", "sound_out_web.play", 2)]
    assert log.final() == []
