"""The timer screen: its controls in one dataclass, built by one function, in a dark Half-Life look.

The screen knows nothing about timers, sounds or tracking: it shows the `SessionState` it is given
and reports clicks to the `ScreenActions` it was built with. `show()` says which controls it
changed, so the view sends only those to the client (a click that changes nothing sends nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import flet as ft

from shared.timefmt import MAX_INPUT_CHARS
from ui.session import Background, SessionState, View
from ui.weapons import WEAPON_NAMES

# Half-Life HUD amber on black; the HUD's low-health red for errors and for a countdown at zero.
AMBER = "#FFA81E"
AMBER_DIM = "#8C5C10"
ALERT_RED = "#FF5A36"
BLACK = "#000000"
PANEL = "#CC0B0B0B"  # near-black, slightly see-through so the background shows at the edges
BACKGROUND_OPACITY = 0.55

# Fits a small desktop window; the browser gets the same panel, centred.
WINDOW_WIDTH = 440
WINDOW_HEIGHT = 720
WINDOW_MIN_WIDTH, WINDOW_MIN_HEIGHT = 360, 560
# The compact desktop window (always on top): the time and Start/Pause (and a Pomodoro's counter
# and Skip), and the button back; tall enough for all of them without scrolling.
COMPACT_WIDTH, COMPACT_HEIGHT = 320, 360
# The time's font size: the compact one fits HH:MM:SS on one line in the compact window.
DISPLAY_SIZE, COMPACT_DISPLAY_SIZE = 64, 44


def window_properties(state: SessionState) -> dict[str, Any]:
    """The desktop window's properties (Flet's page.window) for a state: the taskbar progress of
    the run, and the compact mode's size and always-on-top."""
    compact = state.compact
    return {
        "progress_bar": state.progress,
        "always_on_top": compact,
        "min_width": COMPACT_WIDTH if compact else WINDOW_MIN_WIDTH,
        "min_height": COMPACT_HEIGHT if compact else WINDOW_MIN_HEIGHT,
        "width": COMPACT_WIDTH if compact else WINDOW_WIDTH,
        "height": COMPACT_HEIGHT if compact else WINDOW_HEIGHT,
    }


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
    def on_time_submit(self, e: Any) -> None: ...
    def on_text_focus(self, e: Any) -> None: ...
    def on_text_blur(self, e: Any) -> None: ...
    def on_show_stats(self, e: Any) -> Any: ...


@dataclass
class Screen:
    root: Isolated
    background_name: ft.Text
    weapon: ft.Dropdown
    display: ft.Text
    time_input: ft.TextField
    pause: ft.Button
    full_only: list[ft.Control]  # hidden in the compact mode: all but the time and Start/Pause

    def show(self, state: SessionState, before: SessionState | None = None) -> list[ft.Control]:
        """Sets the controls to `state`; `before` is the state shown until now, if any. Returns the
        controls that changed (the root for the background and the view).

        The time field's text is set only when the state changed it (a Start writes the time it
        understood), never while it merely follows the user's typing.
        """
        changed: list[ft.Control] = []

        def differs(*fields: str) -> bool:
            return before is None or any(getattr(state, f) != getattr(before, f) for f in fields)

        if differs("background"):
            self._show_background(state.background)
            changed += [self.root, self.background_name]
        if differs("compact"):
            for control in self.full_only:
                control.visible = not state.compact
            self.display.size = COMPACT_DISPLAY_SIZE if state.compact else DISPLAY_SIZE
            changed += [*self.full_only, self.display]
        if differs("mode", "compact"):  # a Pomodoro runs its phases: no time to type
            self.time_input.visible = state.mode == "countdown" and not state.compact
            changed.append(self.time_input)
        if differs("time_input"):
            self.time_input.value = state.time_input
        if differs("time_input", "input_error"):
            self.time_input.error = state.input_error
            changed.append(self.time_input)
        if differs("display", "alert"):
            self.display.value = state.display
            self.display.color = ALERT_RED if state.alert else AMBER
            changed.append(self.display)
        if differs("weapon"):
            self.weapon.value = state.weapon
            changed.append(self.weapon)
        if differs("paused", "can_pause"):
            self.pause.content = "Resume" if state.paused else "Pause"
            self.pause.icon = ft.Icons.PLAY_ARROW if state.paused else ft.Icons.PAUSE
            self.pause.disabled = not state.can_pause
            changed.append(self.pause)
        if differs("view"):
            self.root.visible = state.view is View.TIMER
            changed.append(self.root)
        return list(dict.fromkeys(changed))

    def _show_background(self, background: Background | None) -> None:
        if background is None:
            self.root.image = None
            self.background_name.value = ""
        else:
            self.root.image = ft.DecorationImage(src=background.src, fit=ft.BoxFit.COVER,
                                                 opacity=BACKGROUND_OPACITY)
            self.background_name.value = background.name


def apply_theme(page: ft.Page) -> None:
    # Always dark, so the dark theme is the only one the client needs (and is sent).
    page.theme_mode = ft.ThemeMode.DARK
    page.bgcolor = BLACK
    page.padding = 0
    page.dark_theme = app_theme()
    if hasattr(page, "theme_animation_style"):  # Flet 1.0's; the 0.82.2 desktop client has none
        # The client starts in Flutter's default theme and gets ours with the first page: animated,
        # every control is rebuilt in each frame of a 200 ms fade, which made the web page usable
        # about 0.2 s later (the browser's CPU for the first page: +0.4 s, bench/startup.py).
        page.theme_animation_style = ft.AnimationStyle.no_animation()


def app_theme() -> ft.Theme:
    return ft.Theme(color_scheme=ft.ColorScheme(primary=AMBER, on_primary=BLACK, secondary=AMBER,
                                                surface=BLACK, on_surface=AMBER, error=ALERT_RED))


def build_screen(actions: ScreenActions, state: SessionState, more: ft.Control) -> Screen:
    """The timer screen; `more` (ui.screen_more) goes below its buttons."""
    background_name = ft.Text("", color=AMBER, italic=True, size=13, expand=True)
    weapon_dropdown = ft.Dropdown(
        label="Weapon", tooltip="Weapon", expand=True, dense=True, color=AMBER, border_color=AMBER_DIM,
        options=[ft.DropdownOption(key=key, text=name) for key, name in WEAPON_NAMES.items()],
        on_select=actions.on_weapon_select)
    display = ft.Text(size=DISPLAY_SIZE, weight=ft.FontWeight.BOLD, color=AMBER,
                      text_align=ft.TextAlign.CENTER)
    time_input = ft.TextField(
        label="Time (HH:MM:SS)", dense=True, color=AMBER, border_color=AMBER_DIM,
        hint_text="00:25:00, 25:00 or 90", max_length=MAX_INPUT_CHARS, counter="",
        on_change=actions.on_time_input_change, on_submit=actions.on_time_submit,
        on_focus=actions.on_text_focus, on_blur=actions.on_text_blur)
    pause = screen_button("Pause", ft.Icons.PAUSE, actions.on_pause)
    title = ft.Text("HL VOX TIMELEFT", color=AMBER, size=18, weight=ft.FontWeight.BOLD,
                    text_align=ft.TextAlign.CENTER)
    background_row = ft.Row([background_name, screen_button("Change background", ft.Icons.IMAGE,
                                                            actions.on_change_background)])
    weapon_row = ft.Row([weapon_dropdown, screen_button("Fire", ft.Icons.GPS_FIXED, actions.on_fire)])
    reset = screen_button("Reset", ft.Icons.REPLAY, actions.on_reset)
    info_row = ft.Row([screen_button("Time left", ft.Icons.RECORD_VOICE_OVER, actions.on_time_left),
                       screen_button("Stats", ft.Icons.BAR_CHART, actions.on_show_stats)],
                      alignment=ft.MainAxisAlignment.CENTER)
    root = panel_column([
        title, background_row, weapon_row, display, time_input,
        ft.Row([screen_button("Start", ft.Icons.PLAY_ARROW, actions.on_start), pause, reset],
               alignment=ft.MainAxisAlignment.CENTER, wrap=True),
        info_row, more,
    ])
    full_only: list[ft.Control] = [title, background_row, weapon_row, reset, info_row]
    screen = Screen(root=root, background_name=background_name, weapon=weapon_dropdown,
                    display=display, time_input=time_input, pause=pause, full_only=full_only)
    screen.show(state)
    return screen


# Flet types this decorator's keyword form with an unsolvable type variable: mypy calls it Never.
@ft.control(isolated=True)  # type: ignore[arg-type]
class Isolated(ft.Container):
    """A container whose children send their own changes: a parent's update() sends only this
    container's own properties and does not walk into it. The page's update (for the title, once
    a second while a countdown runs) and a view's (for a new background) cost little that way."""


def panel_column(controls: list[ft.Control], visible: bool = True) -> Isolated:
    """A whole-page view: one bordered panel of `controls`, centred, scrolling when too tall. Both
    the view and its panel are Isolated: the view's own properties (background, visibility) and the
    panel's controls are sent apart."""
    panel = Isolated(
        bgcolor=PANEL, border=ft.Border.all(1, AMBER_DIM), border_radius=6, padding=16,
        col={"xs": 12, "sm": 10, "md": 7, "lg": 5, "xl": 4},
        content=ft.Column(controls, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH))
    return Isolated(
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
