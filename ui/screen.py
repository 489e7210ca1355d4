"""The timer screen: its controls in one dataclass, built by one function, in a dark Half-Life look.

The screen knows nothing about timers, sounds or tracking: it shows the `SessionState` it is given
and reports clicks to the `ScreenActions` it was built with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import flet as ft

from ui.session import Background, SessionState, View
from ui.weapons import WEAPON_NAMES

# Half-Life HUD amber on black.
AMBER = "#FFA81E"
AMBER_DIM = "#8C5C10"
BLACK = "#000000"
PANEL = "#CC0B0B0B"  # near-black, slightly see-through so the background shows at the edges
BACKGROUND_OPACITY = 0.55

# Fits a small desktop window; the browser gets the same panel, centred.
WINDOW_WIDTH = 440
WINDOW_HEIGHT = 720


class ScreenActions(Protocol):
    """What the screen reports; each handler gets Flet's event."""

    def on_start(self, e: Any) -> None: ...
    def on_pause(self, e: Any) -> None: ...
    def on_reset(self, e: Any) -> None: ...
    def on_time_left(self, e: Any) -> None: ...
    def on_fire(self, e: Any) -> None: ...
    def on_weapon_select(self, e: Any) -> None: ...
    def on_change_background(self, e: Any) -> None: ...
    def on_time_input_change(self, e: Any) -> None: ...
    def on_show_stats(self, e: Any) -> Any: ...


@dataclass
class Screen:
    root: ft.Container
    background_name: ft.Text
    weapon: ft.Dropdown
    display: ft.Text
    time_input: ft.TextField
    pause: ft.Button

    def show(self, state: SessionState, before: SessionState | None = None) -> None:
        """Sets the controls to `state`; `before` is the state shown until now, if any.

        The time field's text is set only when the state changed it (a Start writes the time it
        understood), never while it merely follows the user's typing.
        """
        if before is None or state.background != before.background:
            self._show_background(state.background)
        if before is None or state.time_input != before.time_input:
            self.time_input.value = state.time_input
        self.time_input.error = state.input_error
        self.display.value = state.display
        self.weapon.value = state.weapon
        self.pause.content = "Resume" if state.paused else "Pause"
        self.pause.icon = ft.Icons.PLAY_ARROW if state.paused else ft.Icons.PAUSE
        self.pause.disabled = not state.can_pause
        self.root.visible = state.view is View.TIMER

    def _show_background(self, background: Background | None) -> None:
        if background is None:
            self.root.image = None
            self.background_name.value = ""
        else:
            self.root.image = ft.DecorationImage(src=background.src, fit=ft.BoxFit.COVER,
                                                 opacity=BACKGROUND_OPACITY)
            self.background_name.value = background.name


def apply_theme(page: ft.Page, title: str) -> None:
    page.title = title
    page.theme_mode = ft.ThemeMode.DARK
    page.bgcolor = BLACK
    page.padding = 0
    scheme = ft.ColorScheme(primary=AMBER, on_primary=BLACK, secondary=AMBER, surface=BLACK,
                            on_surface=AMBER, error="#FF5A36")
    page.theme = ft.Theme(color_scheme=scheme)
    page.dark_theme = ft.Theme(color_scheme=scheme)


def build_screen(actions: ScreenActions, state: SessionState) -> Screen:
    background_name = ft.Text("", color=AMBER, italic=True, size=13, expand=True)
    weapon_dropdown = ft.Dropdown(
        label="Weapon", tooltip="Weapon", expand=True, dense=True, color=AMBER, border_color=AMBER_DIM,
        options=[ft.DropdownOption(key=key, text=name) for key, name in WEAPON_NAMES.items()],
        on_select=actions.on_weapon_select)
    display = ft.Text(size=64, weight=ft.FontWeight.BOLD, color=AMBER,
                      text_align=ft.TextAlign.CENTER)
    time_input = ft.TextField(
        label="Time (HH:MM:SS)", dense=True, color=AMBER, border_color=AMBER_DIM,
        hint_text="00:25:00, 25:00 or 90", on_change=actions.on_time_input_change,
        on_submit=actions.on_start)
    pause = screen_button("Pause", ft.Icons.PAUSE, actions.on_pause)
    root = panel_column([
        ft.Text("HL VOX TIMELEFT", color=AMBER, size=18, weight=ft.FontWeight.BOLD,
                text_align=ft.TextAlign.CENTER),
        ft.Row([background_name,
                screen_button("Change background", ft.Icons.IMAGE, actions.on_change_background)]),
        ft.Row([weapon_dropdown, screen_button("Fire", ft.Icons.GPS_FIXED, actions.on_fire)]),
        display,
        time_input,
        ft.Row([screen_button("Start", ft.Icons.PLAY_ARROW, actions.on_start), pause,
                screen_button("Reset", ft.Icons.REPLAY, actions.on_reset)],
               alignment=ft.MainAxisAlignment.CENTER, wrap=True),
        ft.Row([screen_button("Time left", ft.Icons.RECORD_VOICE_OVER, actions.on_time_left),
                screen_button("Stats", ft.Icons.BAR_CHART, actions.on_show_stats)],
               alignment=ft.MainAxisAlignment.CENTER),
    ])
    screen = Screen(root=root, background_name=background_name, weapon=weapon_dropdown,
                    display=display, time_input=time_input, pause=pause)
    screen.show(state)
    return screen


def panel_column(controls: list[ft.Control], visible: bool = True) -> ft.Container:
    """A whole-page view: one bordered panel of `controls`, centred, scrolling when too tall."""
    panel = ft.Container(
        bgcolor=PANEL, border=ft.Border.all(1, AMBER_DIM), border_radius=6, padding=16,
        col={"xs": 12, "sm": 10, "md": 7, "lg": 5, "xl": 4},
        content=ft.Column(controls, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH))
    return ft.Container(
        expand=True, bgcolor=BLACK, padding=12, alignment=ft.Alignment.TOP_CENTER, visible=visible,
        content=ft.Column(scroll=ft.ScrollMode.AUTO, controls=[
            ft.ResponsiveRow([panel], alignment=ft.MainAxisAlignment.CENTER)]))


def screen_button(label: str, icon: ft.IconData, on_click: Any) -> ft.Button:
    return ft.Button(content=label, icon=icon, on_click=on_click,
                     style=ft.ButtonStyle(color={ft.ControlState.DISABLED: AMBER_DIM,
                                                 ft.ControlState.DEFAULT: AMBER},
                                          bgcolor="#1A1408",
                                          side=ft.BorderSide(1, AMBER_DIM),
                                          shape=ft.RoundedRectangleBorder(radius=4)))
