"""The app process: sounds and backgrounds are set up once, then Flet runs one session (a
TimerSession shown by a SessionView) per desktop window or browser tab, all feeding the one
ClickstreamTracker the caller started."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import flet as ft

from shared.event import new_session_id
from ui.app_session import SessionView
from ui.screen import WINDOW_HEIGHT, WINDOW_WIDTH, apply_theme
from ui.session import Background, TimerSession
from ui.sound_out import SoundOut
from ui.soundpack import ASSETS_DIR, SoundPack
from ui.timer import CountdownTimer
from ui.weapons import DEFAULT_WEAPON
from worker import ClickstreamTracker

log = logging.getLogger(__name__)

TITLE = "HL VOX TimeLEFT"
PageMain = Callable[[ft.Page], Coroutine[Any, Any, None]]


def run_app(tracker: ClickstreamTracker, web: bool, host: str | None = None, port: int = 0) -> None:
    """Runs until the window closes or the web server is stopped (Ctrl+C / SIGTERM)."""
    pack = SoundPack(user_sound_dir=tracker.settings.sound_dir)
    backgrounds = [Background(name, url) for name, path in pack.backgrounds()
                   if (url := pack.asset_url(path))]
    live: set[SessionView] = set()
    if web:
        ft.run(_web_main(tracker, pack, backgrounds, live), view=ft.AppView.WEB_BROWSER,
               host=host, port=port, assets_dir=str(ASSETS_DIR), no_cdn=True)
    else:
        ft.run(_desktop_main(tracker, pack, backgrounds, live), assets_dir=str(ASSETS_DIR))
    for view in list(live):  # a session Flet ended without telling us (e.g. the client crashed)
        view.close("app_exit")


def _session_view(page: ft.Page, tracker: ClickstreamTracker, session_id: str, sounds: SoundOut,
                  backgrounds: list[Background]) -> SessionView:
    session = TimerSession(session_id, CountdownTimer(), sounds, tracker, backgrounds)
    return SessionView(page, session, tracker.settings.store_path)


def _web_main(tracker: ClickstreamTracker, pack: SoundPack, backgrounds: list[Background],
              live: set[SessionView]) -> PageMain:
    # Imported here: the desktop app never loads flet-audio (0.82.2 desktop runs have none).
    from ui.sound_out_web import BrowserAudio, WebSoundBank

    bank = WebSoundBank(pack)

    async def main(page: ft.Page) -> None:
        apply_theme(page, TITLE)
        sounds = BrowserAudio(page, bank, DEFAULT_WEAPON)
        view = _session_view(page, tracker, new_session_id(), sounds, backgrounds)
        live.add(view)

        def on_disconnect(e: Any) -> None:
            # The tab closed, lost its connection or the server is stopping: Flet cannot tell us
            # which. Stop its ticker and sounds; other tabs never share anything with it.
            live.discard(view)
            view.close("disconnected")

        page.on_disconnect = on_disconnect
        view.open()

    return main


def _desktop_main(tracker: ClickstreamTracker, pack: SoundPack, backgrounds: list[Background],
                  live: set[SessionView]) -> PageMain:
    from ui.audio import AudioPlayer

    audio = AudioPlayer(pack)  # decodes every sound once, before the window opens

    async def main(page: ft.Page) -> None:
        apply_theme(page, TITLE)
        page.window.width, page.window.height = WINDOW_WIDTH, WINDOW_HEIGHT
        page.window.min_width, page.window.min_height = 360, 560
        # We close the window ourselves, after the session's last event is tracked.
        page.window.prevent_close = True
        view = _session_view(page, tracker, tracker.session_id, audio, backgrounds)
        live.add(view)

        async def on_window_event(e: ft.WindowEvent) -> None:
            if e.type == ft.WindowEventType.CLOSE:
                live.discard(view)
                view.close("window_closed")
                with contextlib.suppress(Exception):  # "Session closed" when the client went first
                    await page.window.destroy()

        page.window.on_event = on_window_event
        view.open()

    return main
