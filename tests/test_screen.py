"""The timer screen renders a SessionState onto its Flet controls (no page, no browser)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import flet as ft

from ui.screen import AMBER, COMPACT_DISPLAY_SIZE, DISPLAY_SIZE, apply_theme, build_screen
from ui.session import Background, SessionState, View

DESERT = Background("Desert Dawn", "/backgrounds/desert_dawn.png")
IDLE = SessionState(display="00:25:00", time_input="00:25:00", input_error=None, paused=False,
                    can_pause=False, background=DESERT, weapon="glock18", view=View.TIMER)


class NoActions:
    def __getattr__(self, name: str) -> Any:
        return lambda e: None


def test_a_new_screen_shows_the_state_it_is_built_with() -> None:
    screen = build_screen(NoActions(), IDLE, ft.Column())
    assert (screen.display.value, screen.time_input.value, screen.weapon.value) == (
        "00:25:00", "00:25:00", "glock18")
    assert screen.pause.disabled and screen.pause.content == "Pause"
    assert screen.background_name.value == "Desert Dawn"
    assert isinstance(screen.root.image, ft.DecorationImage) and screen.root.image.src == DESERT.src
    assert screen.root.visible


def test_a_paused_run_with_an_error_behind_the_stats_view() -> None:
    screen = build_screen(NoActions(), IDLE, ft.Column())
    state = dataclasses.replace(IDLE, display="00:09:12", paused=True, can_pause=True,
                                input_error="Seconds must be below 60.", background=None, view=View.STATS)
    screen.show(state, IDLE)
    assert screen.display.value == "00:09:12"
    assert (screen.pause.content, screen.pause.icon, screen.pause.disabled) == (
        "Resume", ft.Icons.PLAY_ARROW, False)
    assert screen.time_input.error == "Seconds must be below 60."
    assert (screen.root.image, screen.background_name.value) == (None, "")
    assert not screen.root.visible


def test_the_time_field_is_set_only_when_the_state_changes_it() -> None:
    screen = build_screen(NoActions(), IDLE, ft.Column())
    screen.time_input.value = "1:3"  # what the user is typing, not yet in the state
    screen.show(dataclasses.replace(IDLE, display="00:24:59"), IDLE)
    assert screen.time_input.value == "1:3"
    started = dataclasses.replace(IDLE, time_input="00:01:30")
    screen.show(started, IDLE)
    assert screen.time_input.value == "00:01:30"


def test_the_compact_mode_keeps_the_time_on_one_smaller_line_and_hides_the_rest() -> None:
    screen = build_screen(NoActions(), IDLE, ft.Column())
    changed = screen.show(dataclasses.replace(IDLE, compact=True), IDLE)
    assert screen.display.size == COMPACT_DISPLAY_SIZE < DISPLAY_SIZE and screen.display in changed
    assert not any(control.visible for control in screen.full_only) and not screen.time_input.visible
    screen.show(IDLE, dataclasses.replace(IDLE, compact=True))
    assert screen.display.size == DISPLAY_SIZE and all(control.visible for control in screen.full_only)


def test_the_theme_is_dark_and_arrives_without_a_fade() -> None:
    page = SimpleNamespace(theme_animation_style=None)  # the page fields apply_theme sets
    apply_theme(page)  # type: ignore[arg-type]
    assert page.theme_mode is ft.ThemeMode.DARK and page.dark_theme.color_scheme.primary == AMBER
    assert not hasattr(page, "theme")  # the light theme is never used, so never sent
    style = page.theme_animation_style
    assert style is not None and style.duration == ft.Duration() == style.reverse_duration
    older = SimpleNamespace()  # Flet 0.82.2's page has no theme_animation_style: none is set
    apply_theme(older)  # type: ignore[arg-type]
    assert not hasattr(older, "theme_animation_style")
