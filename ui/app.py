"""The app process: sounds and backgrounds are set up once, then Flet runs one session (a
TimerSession shown by a SessionView) per desktop window or browser tab, all feeding the one
ClickstreamTracker the caller started.

Web tabs outlive their connections (ui.web_tab): a session ends HL_VOX_WEB_GRACE_SECONDS after its
tab went away for good. Each visitor's Stats show their own session only, unless the server was
started to show the whole store to everyone (`stats_all`, for a server only its owner uses). The
desktop window is its owner's: its Stats show the whole store, which is the desktop's own (the web
server keeps a separate default store, see ui.__main__).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import flet as ft

from shared.event import new_session_id
from shared.experiments import Experiment, assign
from ui.app_session import LoadPreferences, SavePreferences, SessionView
from ui.flet_tuning import cache_event_types
from ui.limits import Held
from ui.preferences import Preferences, PreferencesFile
from ui.screen import WINDOW_HEIGHT, WINDOW_MIN_HEIGHT, WINDOW_MIN_WIDTH, WINDOW_WIDTH, apply_theme
from ui.session import Background, TimerSession
from ui.sound_out import SoundOut
from ui.soundpack import ASSETS_DIR, SoundPack
from ui.startup import PROCESS_STARTED
from ui.timer import CountdownTimer
from ui.variant import AppVariant
from worker import ClickstreamTracker

log = logging.getLogger(__name__)

PageMain = Callable[[ft.Page], Coroutine[Any, Any, None]]


class _Sessions:
    """The sessions still open, and what the ended ones' limits held back, for the exit log."""

    def __init__(self) -> None:
        self.live: set[SessionView] = set()
        self.held = Held()

    def ended(self, view: SessionView) -> None:
        if view in self.live:
            self.live.discard(view)
            self.held.add(view.session.held)


def run_app(tracker: ClickstreamTracker, web: bool, host: str | None = None, port: int = 0,
            stats_all: bool = False, experiments: tuple[Experiment, ...] = ()) -> None:
    """Runs until the window closes or the web server is stopped (Ctrl+C / SIGTERM). Each session
    runs its variant of the `experiments` (checked by ui.variant.usable)."""
    pack = SoundPack(user_sound_dir=tracker.settings.sound_dir)
    backgrounds = [Background(name, url) for name, path in pack.backgrounds()
                   if (url := pack.asset_url(path))]
    sessions = _Sessions()
    # Every view sends what it changed itself: Flet's auto-update would diff the whole page after
    # every event, the biggest part of what a click cost the server.
    ft.context.disable_auto_update()
    cache_event_types()
    if web:
        from ui.server_log import hide_client_addresses

        hide_client_addresses()
        grace = tracker.settings.web_grace_seconds
        # Flet forgets a disconnected page after FLET_SESSION_TIMEOUT (default an hour): as soon
        # as our session has ended, so a closed tab holds no memory for long.
        os.environ.setdefault("FLET_SESSION_TIMEOUT", str(math.ceil(grace)))
        ft.run(_web_main(tracker, pack, backgrounds, sessions, grace, stats_all, experiments),
               view=ft.AppView.WEB_BROWSER, host=host, port=port, assets_dir=str(ASSETS_DIR),
               no_cdn=True)
    else:
        ft.run(_desktop_main(tracker, pack, backgrounds, sessions, experiments),
               assets_dir=str(ASSETS_DIR))
    for view in list(sessions.live):  # still open (a tab in its grace, or Flet ended it unasked)
        view.close("app_exit")
        sessions.ended(view)
    if held := sessions.held:
        log.info("fair share of all sessions: dropped %d events and %d sounds, refused %d values",
                 held.dropped_events, held.dropped_sounds, held.refused_values)


@dataclass(frozen=True)
class _SessionSetup:
    """What a new session is made with, besides its page and its sounds."""

    session_id: str
    variants: dict[str, str]  # {experiment: variant}
    variant: AppVariant
    opened_at: float  # monotonic time its start-up began
    save_preferences: SavePreferences
    load_preferences: LoadPreferences | None = None
    preferences: Preferences | None = None


def _setup(session_id: str, experiments: tuple[Experiment, ...], opened_at: float,
           save: SavePreferences, load: LoadPreferences | None = None,
           preferences: Preferences | None = None) -> _SessionSetup:
    assignment = assign(experiments, session_id)
    return _SessionSetup(session_id, assignment.variants, AppVariant.of(assignment), opened_at, save,
                         load, preferences)


def _session_view(page: ft.Page, tracker: ClickstreamTracker, setup: _SessionSetup, sounds: SoundOut,
                  backgrounds: list[Background], sessions: _Sessions, grace: float | None,
                  own_stats: bool) -> SessionView:
    session = TimerSession(setup.session_id, CountdownTimer(), sounds, tracker, backgrounds, grace=grace,
                           variant=setup.variant, experiments=setup.variants,
                           preferences=setup.preferences)
    view = SessionView(page, session, tracker.settings.store_path, own_stats, sessions.ended,
                       setup.opened_at, setup.save_preferences, setup.load_preferences)
    sessions.live.add(view)
    return view


def _web_main(tracker: ClickstreamTracker, pack: SoundPack, backgrounds: list[Background],
              sessions: _Sessions, grace: float, stats_all: bool,
              experiments: tuple[Experiment, ...]) -> PageMain:
    # Imported here: the desktop app never loads flet-audio (0.82.2 desktop runs have none).
    from ui.preferences_web import BrowserPreferences
    from ui.sound_out_web import BrowserAudio, WebSoundBank
    from ui.web_tab import WebTab

    bank = WebSoundBank(pack)

    def start(page: ft.Page) -> tuple[SessionView, BrowserAudio]:
        # The server first sees a tab when its page opens here: its start-up counts from now.
        opened_at = time.monotonic()
        stored = BrowserPreferences()  # this visitor's browser's own, never the server's
        setup = _setup(new_session_id(), experiments, opened_at, stored.save, stored.load)
        variant = setup.variant
        sounds = BrowserAudio(page, bank, variant.default_weapon, variant.ending_sound,
                              variant.announcer_speed)
        view = _session_view(page, tracker, setup, sounds, backgrounds, sessions, grace,
                             own_stats=not stats_all)
        sounds.on_error = _reporter(view.session)
        sounds.on_played = view.session.sound_played
        view.open()
        return view, sounds

    async def main(page: ft.Page) -> None:
        apply_theme(page)
        WebTab(page, start)

    return main


def _desktop_main(tracker: ClickstreamTracker, pack: SoundPack, backgrounds: list[Background],
                  sessions: _Sessions, experiments: tuple[Experiment, ...]) -> PageMain:
    from ui.audio import AudioPlayer

    file = PreferencesFile(tracker.settings.data_dir)

    async def save(preferences: Preferences) -> None:
        await asyncio.to_thread(file.save, preferences)

    # The desktop's start-up counts from the process start: imports and decoding are part of it.
    setup = _setup(tracker.session_id, experiments, PROCESS_STARTED, save, preferences=file.load())
    # Decodes every sound once, before the window opens.
    audio = AudioPlayer(pack, setup.variant.ending_sound, setup.variant.announcer_speed)

    async def main(page: ft.Page) -> None:
        apply_theme(page)
        page.window.width, page.window.height = WINDOW_WIDTH, WINDOW_HEIGHT
        page.window.min_width, page.window.min_height = WINDOW_MIN_WIDTH, WINDOW_MIN_HEIGHT
        # We close the window ourselves, after the session's last event is tracked.
        page.window.prevent_close = True
        view = _session_view(page, tracker, setup, audio, backgrounds, sessions, grace=None,
                             own_stats=False)
        audio.on_error = _reporter(view.session)
        audio.on_played = view.session.sound_played

        async def on_window_event(e: ft.WindowEvent) -> None:
            if e.type == ft.WindowEventType.CLOSE:
                view.close("window_closed")
                with contextlib.suppress(Exception):  # "Session closed" when the client went first
                    await page.window.destroy()

        page.window.on_event = on_window_event
        view.open()

    return main


def _reporter(session: TimerSession) -> Callable[[BaseException, str], None]:
    """Where a sound output reports a failure: the session's app_error on component "sound"."""
    return lambda error, where: session.report_error("sound", where, error)
