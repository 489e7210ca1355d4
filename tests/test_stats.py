"""The Stats view without a page: report -> chart data (order, hourly fill, session window, axis
steps, emptiness), a real store read through local_report, and what the screen shows for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import flet as ft
import pytest

from shared.event import Event, metadata_json
from ui.stats_data import SESSIONS_SHOWN, ChartData, axis_step, stats_charts
from ui.stats_screen import NO_DATA, build_stats_screen
from worker.report import QUESTIONS, Report, local_report
from worker.store import Store

NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)


def empty_report() -> Report:
    return {question.name: [] for question in QUESTIONS}


def report(**answers: list[dict]) -> Report:
    return {**empty_report(), **answers}


def chart(charts: list[ChartData], name: str) -> ChartData:
    [found] = [c for c in charts if c.name == name]
    return found


def session_row(number: int, start: str, duration: int, events: int) -> dict:
    return {"session_id": f"{number:08d}-rest-of-uuid", "session_start": start,
            "session_end": start, "session_duration_sec": duration, "total_events": events}


def test_charts_come_in_question_order_with_their_titles() -> None:
    charts = stats_charts(empty_report())
    names = [c.name for c in charts]
    assert names == ["clicks_by_component", "sessions", "weapon_popularity", "hourly_today", "focus_time"]
    order = [q.name for q in QUESTIONS]
    assert sorted(names, key=order.index) == names
    assert chart(charts, "weapon_popularity").title == "Weapon popularity"


def test_focus_time_shows_the_last_week_of_days_with_their_minutes() -> None:
    rows = [{"day": f"2025-03-{day:02d}", "focus_phases": day, "focus_minutes": day * 25.0}
            for day in range(1, 10)]
    rows[-1]["focus_minutes"] = 37.5
    focus = chart(stats_charts(report(focus_time=rows)), "focus_time")
    assert [(bar.axis_label, bar.value) for bar in focus.bars] == [
        (f"03-{day:02d}", day) for day in range(3, 10)]
    assert focus.bars[-1].name == "2025-03-09" and focus.bars[-1].detail == "37.5 min"
    assert focus.bars[0].detail == "75 min"
    assert focus.note == "latest 7 of 9 days"
    assert chart(stats_charts(empty_report()), "focus_time").empty


def test_hours_without_events_are_filled_with_zero_and_left_out_of_the_legend() -> None:
    hourly = chart(stats_charts(report(hourly_today=[{"hour": 0, "event_count": 2},
                                                     {"hour": 14, "event_count": 7},
                                                     {"hour": 23, "event_count": 1}])),
                   "hourly_today")
    assert [bar.value for bar in hourly.bars] == [2] + [0] * 13 + [7] + [0] * 8 + [1]
    assert [bar.axis_label for bar in hourly.bars if bar.axis_label] == [
        "00", "03", "06", "09", "12", "15", "18", "21"]
    assert [(bar.name, bar.value) for bar in hourly.legend] == [("00:00", 2), ("14:00", 7), ("23:00", 1)]
    assert hourly.note == "10 events today"
    assert not hourly.empty


def test_categories_keep_the_reports_order_and_full_names() -> None:
    charts = stats_charts(report(
        clicks_by_component=[{"component": "start_button", "click_count": 5},
                             {"component": "change_background_button", "click_count": 2},
                             {"component": "reset_button", "click_count": 2}],
        weapon_popularity=[{"weapon": "m4a1", "usage_count": 3}, {"weapon": "awp", "usage_count": 1}]))
    clicks = chart(charts, "clicks_by_component")
    assert [(bar.name, bar.value) for bar in clicks.legend] == [
        ("start_button", 5), ("change_background_button", 2), ("reset_button", 2)]
    assert [bar.axis_label for bar in clicks.bars] == ["start", "change\nbackground", "reset"]
    assert [(bar.axis_label, bar.value) for bar in chart(charts, "weapon_popularity").bars] == [
        ("m4a1", 3), ("awp", 1)]


def test_sessions_show_the_latest_few_oldest_first() -> None:
    # The report lists the latest session first.
    rows = [session_row(n, f"2025-03-10T{20 - n:02d}:05:09.250000+00:00", 65 * n, n + 1)
            for n in range(SESSIONS_SHOWN + 2)]
    sessions = chart(stats_charts(report(sessions=rows)), "sessions")
    assert [bar.name for bar in sessions.bars] == [f"{n:08d}" for n in reversed(range(SESSIONS_SHOWN))]
    assert sessions.bars[-1].axis_label == "20:05"
    assert sessions.bars[-2].detail == "19:05:09 UTC, 00:01:05"
    assert sessions.bars[-2].value == 2
    assert sessions.note == f"latest {SESSIONS_SHOWN} of {SESSIONS_SHOWN + 2} sessions"
    assert chart(stats_charts(report(sessions=rows[:2])), "sessions").note == ""


def test_an_answer_is_empty_when_no_bar_has_a_value() -> None:
    charts = stats_charts(empty_report())
    assert all(c.empty for c in charts)
    assert len(chart(charts, "hourly_today").bars) == 24  # 24 zero bars are still "empty"
    # A session that only started (app_start) is data, though no button was clicked yet.
    started = report(sessions=[session_row(1, "2025-03-10T10:00:00.000000+00:00", 0, 1)],
                     hourly_today=[{"hour": 10, "event_count": 1}])
    assert [c.name for c in stats_charts(started) if c.empty] == ["clicks_by_component",
                                                                  "weapon_popularity", "focus_time"]


@pytest.mark.parametrize("top, step, ticks", [
    (0, 1, [0, 1]), (1, 1, [0, 1]), (5, 1, [0, 1, 2, 3, 4, 5]), (6, 2, [0, 2, 4, 6]),
    (11, 5, [0, 5, 10, 15]), (26, 10, [0, 10, 20, 30]), (101, 50, [0, 50, 100, 150]),
])
def test_count_axis_uses_round_steps(top: int, step: int, ticks: list[int]) -> None:
    assert axis_step(top) == step
    data = chart(stats_charts(report(weapon_popularity=[{"weapon": "awp", "usage_count": top}])),
                 "weapon_popularity")
    assert list(data.axis_ticks) == ticks
    assert data.axis_max >= top


def test_a_real_store_read_by_local_report(tmp_path: Path) -> None:
    path = tmp_path / "clickstream.sqlite3"
    store = Store(path)

    def at(clock: str, event_type: str, component: str, metadata: dict | None = None) -> Event:
        return Event(str(uuid.uuid4()), "s1", f"2025-03-10T{clock}+00:00", event_type, component,
                     metadata_json(metadata))

    store.add([at("09:59:59.999999", "app_start", "application"),
               at("10:00:00", "weapon_select", "weapon_dropdown", {"weapon": "awp"}),
               at("10:00:01", "button_click", "shoot_gun_button", {"weapon": "awp"}),
               at("14:00:05", "button_click", "shoot_gun_button", {"weapon": "awp"}),
               at("14:00:06", "button_click", "start_button", {"time_input": "00:25:00"})])
    store.close()
    charts = stats_charts(local_report(path, now=NOW))
    assert [(b.name, b.value) for b in chart(charts, "clicks_by_component").legend] == [
        ("shoot_gun_button", 2), ("start_button", 1)]
    assert [(b.name, b.value) for b in chart(charts, "weapon_popularity").legend] == [("awp", 3)]
    assert [(b.name, b.value) for b in chart(charts, "hourly_today").legend] == [
        ("09:00", 1), ("10:00", 2), ("14:00", 2)]
    [session] = chart(charts, "sessions").bars
    assert (session.name, session.value, session.detail) == ("s1", 5, "09:59:59 UTC, 04:00:06")


# -- the screen, built with no page ------------------------------------------------------------


class NoActions:
    def on_show_timer(self, e: object) -> None: ...
    async def on_refresh_stats(self, e: object) -> None: ...


def texts(control: ft.Control) -> list[str]:
    """Every Text value under `control`, depth first."""
    found = [control.value] if isinstance(control, ft.Text) else []
    children = getattr(control, "controls", None) or []
    content = getattr(control, "content", None)
    for child in [*children, *([content] if isinstance(content, ft.Control) else [])]:
        found += texts(child)
    return found


def test_screen_says_so_when_there_is_no_data_at_all() -> None:
    screen = build_stats_screen(NoActions(), "This tab's events")
    screen.show_loading()
    assert screen.refresh.disabled
    screen.show_charts(stats_charts(empty_report()), "12:00:00")
    assert texts(screen.charts) == [NO_DATA]
    assert screen.status.value == "This tab's events, read at 12:00:00 UTC"
    assert not screen.refresh.disabled


def test_screen_shows_each_empty_answer_and_the_numbers_of_the_others() -> None:
    screen = build_stats_screen(NoActions(), "All events in the local store")
    screen.show_charts(stats_charts(report(
        sessions=[session_row(1, "2025-03-10T10:00:00.000000+00:00", 0, 1)],
        hourly_today=[{"hour": 10, "event_count": 1}])), "12:00:00")
    shown = texts(screen.charts)
    assert "No button clicks yet." in shown and "No weapon picked or fired yet." in shown
    assert shown[shown.index("00000001"):][:3] == ["00000001", "10:00:00 UTC, 00:00:00", "1"]
    assert NO_DATA not in shown
