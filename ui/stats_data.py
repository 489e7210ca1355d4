"""The Stats view's numbers: the clickstream answers and the focus time of `local_report` as bars
and lines to read.

No Flet here, so what the view will show is testable without a page. Every chart keeps the report's
order except Sessions, drawn oldest to newest so time runs left to right like the hourly chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.timefmt import format_hms
from worker.report import QUESTIONS, Report, Row

HOURS_PER_DAY = 24
# More bars than this get too thin to read in the timer's narrow panel.
SESSIONS_SHOWN = 8
FOCUS_DAYS_SHOWN = 7  # a week of Pomodoro days
# Hour labels under every third bar: 24 labels would overlap in a 400-pixel panel.
HOUR_LABEL_EVERY = 3
# At most this many grid steps on the count axis: enough to read a bar's height, never crowded.
MAX_AXIS_STEPS = 5

_TITLES = {question.name: question.title for question in QUESTIONS}


@dataclass(frozen=True)
class Bar:
    axis_label: str  # short, under the bar ("" for none)
    value: int
    name: str  # what the bar stands for, in full, for the legend and tooltip
    detail: str = ""  # more about it for the legend (a session's start and duration)


@dataclass(frozen=True)
class ChartData:
    name: str  # the report question
    title: str
    bars: tuple[Bar, ...]
    empty_message: str
    note: str = ""  # e.g. how many sessions the chart leaves out

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def axis_step(self) -> int:
        return axis_step(self.highest)

    @property
    def axis_max(self) -> int:
        """The count axis ends on a grid line at or above the highest bar."""
        return -(-max(self.highest, 1) // self.axis_step) * self.axis_step

    @property
    def axis_ticks(self) -> range:
        return range(0, self.axis_max + 1, self.axis_step)

    @property
    def highest(self) -> int:
        return max((bar.value for bar in self.bars), default=0)

    @property
    def legend(self) -> tuple[Bar, ...]:
        """The bars worth a line of text: hours without events say nothing."""
        return tuple(bar for bar in self.bars if bar.value)


def stats_charts(report: Report) -> list[ChartData]:
    """The charts in the report's question order (worker.questions.STATS_QUESTIONS)."""
    return [
        _categories(report, "clicks_by_component", "component", "click_count",
                    "No button clicks yet.", _short_component),
        _sessions(report["sessions"]),
        _categories(report, "weapon_popularity", "weapon", "usage_count",
                    "No weapon picked or fired yet.", str),
        _hourly(report["hourly_today"]),
        _focus(report["focus_time"]),
    ]


def axis_step(top: int) -> int:
    """The smallest round grid step (1, 2, 5, 10, 20, 50, ...) giving at most MAX_AXIS_STEPS steps
    up to `top`."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * MAX_AXIS_STEPS >= top:
                return step
        magnitude *= 10


def _categories(report: Report, name: str, label_key: str, value_key: str, empty_message: str,
                short: Callable[[str], str]) -> ChartData:
    bars = tuple(Bar(short(str(row[label_key])), _number(row[value_key]), str(row[label_key]))
                 for row in report[name])
    return ChartData(name, _TITLES[name], bars, empty_message)


def _number(value: str | int | float | None) -> int:
    """A count, hour or duration of the report as an int (these columns are never NULL)."""
    return int(value or 0)


def _short_component(component: str) -> str:
    """'change_background_button' -> 'change\\nbackground': two short lines fit under a bar."""
    return component.removesuffix("_button").replace("_", "\n")


def _sessions(rows: list[Row]) -> ChartData:
    shown = rows[:SESSIONS_SHOWN]  # the report lists the latest session first
    bars = tuple(Bar(axis_label=_clock(str(row["session_start"]))[:5],
                     value=_number(row["total_events"]),
                     name=str(row["session_id"])[:8],
                     detail=f"{_clock(str(row['session_start']))} UTC, "
                            f"{format_hms(_number(row['session_duration_sec']))}")
                 for row in reversed(shown))
    note = f"latest {len(shown)} of {len(rows)} sessions" if len(rows) > len(shown) else ""
    return ChartData("sessions", f"{_TITLES['sessions']} (events each)", bars,
                     "No sessions recorded yet.", note)


def _clock(iso: str) -> str:
    """'2025-03-10T14:02:11.123456+00:00' -> '14:02:11' (report timestamps are UTC)."""
    return iso[11:19]


def _hourly(rows: list[Row]) -> ChartData:
    counts = {_number(row["hour"]): _number(row["event_count"]) for row in rows}
    bars = tuple(Bar(f"{hour:02d}" if hour % HOUR_LABEL_EVERY == 0 else "", counts.get(hour, 0),
                     f"{hour:02d}:00")
                 for hour in range(HOURS_PER_DAY))
    total = sum(counts.values())
    return ChartData("hourly_today", _TITLES["hourly_today"], bars, "No events today yet.",
                     f"{total} event{'s' if total != 1 else ''} today" if total else "")


def _focus(rows: list[Row]) -> ChartData:
    shown = rows[-FOCUS_DAYS_SHOWN:]  # the report lists days oldest first
    bars = tuple(Bar(axis_label=str(row["day"])[5:], value=_number(row["focus_phases"]),
                     name=str(row["day"]), detail=f"{float(row['focus_minutes'] or 0):g} min")
                 for row in shown)
    note = f"latest {len(shown)} of {len(rows)} days" if len(rows) > len(shown) else ""
    return ChartData("focus_time", _TITLES["focus_time"], bars,
                     "No focus phase completed yet.", note)
