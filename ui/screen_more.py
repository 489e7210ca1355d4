"""The controls below the timer's buttons: the mode and the Pomodoro (counter, Skip, its four numbers
and two switches), sound (Mute, volume), Compact and the keyboard shortcut list.

Like ui.screen it only shows a `SessionState` and reports what the user did to the actions it was
built with; `show()` returns the controls it changed. A settings field or switch names its setting
in its `data`, so one handler serves all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import flet as ft

from shared.timefmt import MAX_INPUT_CHARS
from ui.cycle_settings import SETTINGS
from ui.keys import SHORTCUT_HELP
from ui.screen import AMBER, AMBER_DIM, screen_button
from ui.session import AUTO_START_SETTINGS, SessionState

MODE_NAMES = {"countdown": "Countdown", "pomodoro": "Pomodoro"}
SETTING_LABELS = {"focus": "Focus", "short_break": "Short break", "long_break": "Long break",
                  "long_break_every": "Long break every"}
SWITCH_LABELS = {"auto_start_breaks": "Auto-start breaks", "auto_start_focus": "Auto-start focus"}
VOLUME_STEPS = 20  # the slider moves in 5 % steps: fine enough to hear, few enough to track


class MoreActions(Protocol):
    def on_mode_select(self, e: Any) -> None: ...
    def on_skip(self, e: Any) -> None: ...
    def on_mute(self, e: Any) -> None: ...
    def on_volume_change(self, e: Any) -> None: ...
    def on_volume_change_end(self, e: Any) -> None: ...
    def on_setting_change(self, e: Any) -> None: ...
    def on_setting_commit(self, e: Any) -> None: ...
    def on_auto_start_change(self, e: Any) -> None: ...
    def on_compact(self, e: Any) -> None: ...
    def on_help(self, e: Any) -> None: ...
    def on_text_focus(self, e: Any) -> None: ...
    def on_text_blur(self, e: Any) -> None: ...


@dataclass
class MoreControls:
    root: ft.Column
    counter: ft.Text
    mode: ft.Dropdown
    skip: ft.Button
    settings: ft.Column  # the Pomodoro's numbers and switches
    fields: dict[str, ft.TextField]
    switches: dict[str, ft.Switch]
    mute: ft.Button
    volume: ft.CupertinoSlider
    compact: ft.Button
    help: ft.Column
    sound_row: ft.Row  # hidden in the compact mode, with the mode row
    # The settings' rows and the shortcut list join the page when first shown: a smaller first page.
    settings_rows: list[ft.Control]

    def show(self, state: SessionState, before: SessionState | None = None) -> list[ft.Control]:
        changed: list[ft.Control] = []

        def differs(*fields: str) -> bool:
            return before is None or any(getattr(state, f) != getattr(before, f) for f in fields)

        pomodoro = state.mode == "pomodoro"
        if differs("mode", "counter", "compact"):
            self.mode.value = state.mode
            self.counter.value = state.counter
            self.counter.visible = self.skip.visible = pomodoro
            self.settings.visible = pomodoro and not state.compact
            if self.settings.visible and not self.settings.controls:
                self.settings.controls = self.settings_rows
            changed += [self.mode, self.counter, self.skip, self.settings]
        on_page = bool(self.settings.controls)  # else they are sent as they join it
        if differs("cycle_inputs", "cycle_errors"):
            for field, text, error in zip(self.fields.values(), state.cycle_inputs,
                                                  state.cycle_errors, strict=True):
                field.value, field.error = text, error
                changed += [field] if on_page else []
        if differs("auto_start_breaks", "auto_start_focus"):
            for name, switch in self.switches.items():
                switch.value = getattr(state, name)
                changed += [switch] if on_page else []
        if differs("muted"):
            self.mute.content = "Unmute" if state.muted else "Mute"
            self.mute.icon = ft.Icons.VOLUME_OFF if state.muted else ft.Icons.VOLUME_UP
            changed.append(self.mute)
        if differs("volume"):
            self.volume.value = state.volume
            changed.append(self.volume)
        if differs("compact"):
            self.compact.content = "Full view" if state.compact else "Compact"
            self.sound_row.visible = self.mode.visible = not state.compact
            changed += [self.compact, self.sound_row, self.mode]
        if differs("help_shown"):
            self.help.visible = state.help_shown
            if state.help_shown and not self.help.controls:
                self.help.controls = [ft.Text(f"{keys}: {what}", color=AMBER_DIM, size=12)
                                      for keys, what in SHORTCUT_HELP]
            changed.append(self.help)
        return list(dict.fromkeys(changed))


def build_more(actions: MoreActions, state: SessionState) -> MoreControls:
    counter = ft.Text("", color=AMBER, size=14, text_align=ft.TextAlign.CENTER)
    mode = ft.Dropdown(
        label="Mode", tooltip="Mode", expand=True, dense=True, color=AMBER, border_color=AMBER_DIM,
        options=[ft.DropdownOption(key=key, text=name) for key, name in MODE_NAMES.items()],
        on_select=actions.on_mode_select)
    skip = screen_button("Skip", ft.Icons.SKIP_NEXT, actions.on_skip)
    fields = {name: ft.TextField(
        label=SETTING_LABELS[name], data=name, dense=True, color=AMBER, border_color=AMBER_DIM,
        max_length=MAX_INPUT_CHARS, counter="", expand=True, on_change=actions.on_setting_change,
        on_blur=_both(actions.on_setting_commit, actions.on_text_blur),
        on_submit=actions.on_setting_commit, on_focus=actions.on_text_focus) for name in SETTINGS}
    switches = {name: ft.Switch(label=SWITCH_LABELS[name], data=name, active_color=AMBER,
                                on_change=actions.on_auto_start_change)
                for name in AUTO_START_SETTINGS}
    names: list[ft.Control] = list(fields.values())
    settings_rows: list[ft.Control] = [ft.Row(names[:2]), ft.Row(names[2:]),
                                       ft.Row(list(switches.values()), wrap=True)]
    settings = ft.Column(spacing=10)
    mute = screen_button("Mute", ft.Icons.VOLUME_UP, actions.on_mute)
    # Cupertino's slider: Material's puts a page-sized node into Flutter web's accessibility tree
    # (for its value indicator) that takes every tap meant for the controls under it.
    volume = ft.CupertinoSlider(min=0, max=1, divisions=VOLUME_STEPS, expand=True, active_color=AMBER,
                                on_change=actions.on_volume_change,
                                on_change_end=actions.on_volume_change_end)
    compact = screen_button("Compact", ft.Icons.PICTURE_IN_PICTURE_ALT, actions.on_compact)
    help_list = ft.Column(spacing=2)
    sound_row = ft.Row([mute, volume, screen_button("Shortcuts", ft.Icons.KEYBOARD, actions.on_help)])
    root = ft.Column([counter, ft.Row([mode, skip]), settings, sound_row,
                      ft.Row([compact], alignment=ft.MainAxisAlignment.CENTER), help_list],
                     spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    more = MoreControls(root=root, counter=counter, mode=mode, skip=skip, settings=settings,
                        fields=fields, switches=switches, mute=mute, volume=volume, compact=compact,
                        help=help_list, sound_row=sound_row, settings_rows=settings_rows)
    more.show(state)
    return more


def _both(first: Any, second: Any) -> Any:
    """One event to two handlers (a settings field's blur both commits it and ends the typing)."""
    def handle(e: Any) -> None:
        first(e)
        second(e)
    return handle
