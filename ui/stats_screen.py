"""The Stats screen: the clickstream report as amber bar charts, each with its exact numbers as text.

Like the timer screen it only shows what it is told and reports clicks to its `StatsActions`; reading
the store is the session view's job (ui.app_session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import flet as ft

from ui.screen import AMBER, AMBER_DIM, BLACK, Isolated, panel_column, screen_button
from ui.stats_data import ChartData

if TYPE_CHECKING:  # imported by the first chart: a fifth of what our modules take to import
    import flet_charts as fch

CHART_HEIGHT = 150
GRID = "#3A2A0A"  # grid lines a shade above black: visible, never louder than the bars
NO_DATA = "No clickstream data yet: use the timer, then come back here."


class StatsActions(Protocol):
    def on_show_timer(self, e: Any) -> None: ...
    async def on_refresh_stats(self, e: Any) -> None: ...


@dataclass
class StatsScreen:
    root: Isolated
    status: ft.Text
    refresh: ft.Button
    charts: ft.Column
    scope: str  # what the charts count, e.g. "This tab's events"

    @property
    def parts(self) -> list[ft.Control]:
        """What show_* change, to send: the panel is isolated (ui.screen.panel_column)."""
        return [self.status, self.refresh, self.charts]

    def show_loading(self) -> None:
        self.refresh.disabled = True  # one read at a time
        self.status.value = "Reading the local store..."

    def show_charts(self, charts: list[ChartData], read_at: str) -> None:
        self.refresh.disabled = False
        self.status.value = f"{self.scope}, read at {read_at} UTC"
        if all(chart.empty for chart in charts):
            self.charts.controls = [_message(NO_DATA)]
        else:
            self.charts.controls = [_section(chart) for chart in charts]

    def show_error(self, message: str) -> None:
        self.refresh.disabled = False
        self.status.value = message
        self.charts.controls = []


def build_stats_screen(actions: StatsActions, scope: str) -> StatsScreen:
    status = ft.Text("", color=AMBER_DIM, size=12, italic=True)
    refresh = screen_button("Refresh", ft.Icons.REFRESH, actions.on_refresh_stats)
    charts = ft.Column(spacing=18, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    header = ft.Row([screen_button("Timer", ft.Icons.ARROW_BACK, actions.on_show_timer),
                     ft.Text("STATS", color=AMBER, size=18, weight=ft.FontWeight.BOLD, expand=True,
                             text_align=ft.TextAlign.CENTER),
                     refresh])
    root = panel_column([header, status, charts], visible=False)
    return StatsScreen(root=root, status=status, refresh=refresh, charts=charts, scope=scope)


def _section(chart: ChartData) -> ft.Control:
    heading = ft.Text(chart.title.upper(), color=AMBER, size=14, weight=ft.FontWeight.BOLD)
    if chart.empty:
        return ft.Column([heading, _message(chart.empty_message)])
    lines = [_legend_line(bar.name, bar.detail, bar.value) for bar in chart.legend]
    notes = [ft.Text(chart.note, color=AMBER_DIM, size=12, italic=True)] if chart.note else []
    return ft.Column(spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                     controls=[heading, _bar_chart(chart), *notes, *lines])


def _bar_chart(chart: ChartData) -> fch.BarChart:
    import flet_charts as fch

    many = len(chart.bars) > 12  # 24 hours: thin bars side by side
    groups = [fch.BarChartGroup(x=index, rods=[fch.BarChartRod(
        to_y=bar.value, width=8 if many else 22, color=AMBER, border_radius=2,
        tooltip=f"{bar.name}: {bar.value}")]) for index, bar in enumerate(chart.bars)]
    # Labels given explicitly: the chart's own ones ignore the theme and come out white.
    left_labels = [fch.ChartAxisLabel(value=tick, label=_axis_text(str(tick))) for tick in chart.axis_ticks]
    bottom_labels = [fch.ChartAxisLabel(value=index, label=_axis_text(bar.axis_label))
                     for index, bar in enumerate(chart.bars) if bar.axis_label]
    return fch.BarChart(
        groups=groups, height=CHART_HEIGHT, min_y=0, max_y=chart.axis_max,
        group_alignment=ft.MainAxisAlignment.SPACE_AROUND,
        border=ft.Border(bottom=ft.BorderSide(1, AMBER_DIM), left=ft.BorderSide(1, AMBER_DIM)),
        horizontal_grid_lines=fch.ChartGridLines(interval=chart.axis_step, color=GRID, width=1),
        left_axis=fch.ChartAxis(labels=left_labels, label_spacing=chart.axis_step, label_size=32),
        bottom_axis=fch.ChartAxis(labels=bottom_labels, label_size=30),
        tooltip=fch.BarChartTooltip(bgcolor=BLACK, border_side=ft.BorderSide(1, AMBER_DIM)))


def _axis_text(text: str) -> ft.Text:
    return ft.Text(text, size=10, color=AMBER, text_align=ft.TextAlign.CENTER)


def _legend_line(name: str, detail: str, value: int) -> ft.Control:
    # One semantics node per line, so a screen reader (and the browser test) reads "name ... value".
    return ft.MergeSemantics(content=ft.Row(spacing=8, controls=[
        ft.Text(name, color=AMBER, size=13, expand=True),
        *([ft.Text(detail, color=AMBER_DIM, size=12)] if detail else []),
        ft.Text(str(value), color=AMBER, size=13, weight=ft.FontWeight.BOLD)]))


def _message(text: str) -> ft.Text:
    return ft.Text(text, color=AMBER_DIM, italic=True, size=13)
