"""The app process: sounds and backgrounds are set up once, then Flet runs one session (a
TimerSession shown by a SessionView) per desktop window or browser tab, all feeding the one
ClickstreamTracker the caller started.

Web tabs outlive their connections (ui.web_tab): a session ends HL_VOX_WEB_GRACE_SECONDS after its
tab went away for good. Each visitor's Stats show their own session only, unless the server was
started to show the whole store to everyone (`stats_all`, for a server only its owner uses). The
desktop window is its owner's: its Stats show the whole store, which is the desktop's own (the web
server keeps a separate default store, see ui.__main__).

Start-up (measured by bench/startup.py). The desktop window's client starts at once: the session's
modules are imported on a start-up thread while the client starts, and the sounds decode once the
window is shown (a click before that is silent). The web server answers first and makes what the
sessions need on its own event loop whenever that has nothing else to do (ui.web_parts), while the
first browser loads Flet's client: a start-up thread would share the interpreter with the serving
of that client (12 MB), which made the first page slower.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import flet as ft

from shared.event import new_session_id
from shared.experiments import Experiment, assign
from ui.flet_tuning import cache_event_types
from ui.limits import Held
from ui.preferences import Preferences, PreferencesFile
from ui.soundpack import ASSETS_DIR, SoundPack
from ui.startup import PROCESS_STARTED
from ui.timer import COUNTDOWN_SECONDS
from ui.variant import AppVariant
from ui.web_parts import PartsMaker, WebParts
from worker import ClickstreamTracker

if TYPE_CHECKING:  # imported when needed: the desktop imports them on its start-up thread
    from ui.app_session import LoadPreferences, SavePreferences, SessionView
    from ui.audio import AudioPlayer
    from ui.session import Background, TimerSession
    from ui.sound_out import SoundOut
    from ui.sound_out_web import BrowserAudio

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
        maker = PartsMaker(pack)
        main = _web_main(tracker, maker, sessions, grace, stats_all, experiments)
        asyncio.run(_serve_web(main, maker, host, port))
    else:
        ft.run(_desktop_main(tracker, pack, sessions, experiments), assets_dir=str(ASSETS_DIR))
    for view in list(sessions.live):  # still open (a tab in its grace, or Flet ended it unasked)
        view.close("app_exit")
        sessions.ended(view)
    if held := sessions.held:
        log.info("fair share of all sessions: dropped %d events and %d sounds, refused %d values",
                 held.dropped_events, held.dropped_sounds, held.refused_values)


def _backgrounds(pack: SoundPack) -> list[Background]:
    """The backgrounds, once the session's modules are imported (what takes the time)."""
    import ui.app_session  # noqa: F401  # the session and its screens
    from ui.session import Background

    return Background.all_of(pack)


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
    from ui.app_session import SessionView
    from ui.session import TimerSession
    from ui.timer import CountdownTimer

    session = TimerSession(setup.session_id, CountdownTimer(), sounds, tracker, backgrounds, grace=grace,
                           variant=setup.variant, experiments=setup.variants,
                           preferences=setup.preferences)
    view = SessionView(page, session, tracker.settings.store_path, own_stats, sessions.ended,
                       setup.opened_at, setup.save_preferences, setup.load_preferences)
    sessions.live.add(view)
    return view


async def _serve_web(main: PageMain, maker: PartsMaker, host: str | None, port: int) -> None:
    """Flet's web server (what ft.run runs), with the sessions' parts made on its event loop."""
    making = asyncio.get_running_loop().create_task(maker.run())
    try:
        await ft.run_async(main, view=ft.AppView.WEB_BROWSER, host=host, port=port,
                           assets_dir=str(ASSETS_DIR), no_cdn=True)
    finally:
        making.cancel()


def _web_main(tracker: ClickstreamTracker, maker: PartsMaker, sessions: _Sessions, grace: float,
              stats_all: bool, experiments: tuple[Experiment, ...]) -> PageMain:
    def start(page: ft.Page, opened_at: float, parts: WebParts) -> tuple[SessionView, BrowserAudio]:
        # Imported by the parts maker by now; never by the desktop app (0.82.2 has no flet-audio).
        from ui.preferences_web import BrowserPreferences
        from ui.sound_out_web import BrowserAudio

        stored = BrowserPreferences()  # this visitor's browser's own, never the server's

        async def load_preferences() -> Preferences:
            # The tab's first answer: its page is on its way, the players for the weapon it shows
            # follow once it is drawn.
            preferences = await stored.load()
            sounds.load_ahead(preferences.weapon or variant.default_weapon)  # the weapon it shows
            return preferences

        setup = _setup(new_session_id(), experiments, opened_at, stored.save, load_preferences)
        variant = setup.variant
        sounds = BrowserAudio(page, parts.bank, variant.ending_sound, variant.announcer_speed)
        view = _session_view(page, tracker, setup, sounds, parts.backgrounds, sessions, grace,
                             own_stats=not stats_all)
        sounds.on_error = _reporter(view.session)
        sounds.on_played = view.session.sound_played
        view.open()
        return view, sounds

    async def main(page: ft.Page) -> None:
        from ui.screen import apply_theme
        from ui.web_tab import WebTab

        # The server first sees a tab when its page opens here: its start-up counts from now.
        opened_at = time.monotonic()
        parts = await maker.parts()
        apply_theme(page)
        WebTab(page, functools.partial(start, parts=parts), opened_at)

    return main


def _desktop_main(tracker: ClickstreamTracker, pack: SoundPack, sessions: _Sessions,
                  experiments: tuple[Experiment, ...]) -> PageMain:
    file = PreferencesFile(tracker.settings.data_dir)

    async def save(preferences: Preferences) -> None:
        await asyncio.to_thread(file.save, preferences)

    # The desktop's start-up counts from the process start: the imports are part of it.
    setup = _setup(tracker.session_id, experiments, PROCESS_STARTED, save, preferences=file.load())

    # The session's modules import while the client starts, which our process would sit out.
    start_up = ThreadPoolExecutor(max_workers=1, thread_name_prefix="start-up")
    backgrounds_made = start_up.submit(_backgrounds, pack)
    start_up.shutdown(wait=False)  # the thread ends once it is done

    def player() -> AudioPlayer:
        from ui.audio import AudioPlayer  # pygame

        # Decodes every sound once, which takes longer than the client takes to start: so it runs
        # once the window is shown.
        return AudioPlayer(pack, setup.variant.ending_sound, setup.variant.announcer_speed)

    async def main(page: ft.Page) -> None:
        backgrounds = await asyncio.wrap_future(backgrounds_made)
        from ui import screen  # imported by now

        audio = _LateSounds()  # given the player once the window is shown (attach_player)
        screen.apply_theme(page)
        page.window.width, page.window.height = screen.WINDOW_WIDTH, screen.WINDOW_HEIGHT
        page.window.min_width, page.window.min_height = screen.WINDOW_MIN_WIDTH, screen.WINDOW_MIN_HEIGHT
        # We close the window ourselves, after the session's last event is tracked.
        page.window.prevent_close = True
        view = _session_view(page, tracker, setup, audio, backgrounds, sessions, grace=None,
                             own_stats=False)

        async def attach_player() -> None:
            try:
                made = await asyncio.to_thread(player)
            except Exception as error:  # the window works on, silent
                view.session.report_error("sound", "start-up", error)
                return
            made.on_error = _reporter(view.session)
            made.on_played = view.session.sound_played
            audio.attach(made)

        async def on_window_event(e: ft.WindowEvent) -> None:
            if e.type == ft.WindowEventType.CLOSE:
                view.close("window_closed")
                with contextlib.suppress(Exception):  # "Session closed" when the client went first
                    await page.window.destroy()

        page.window.on_event = on_window_event
        view.open()
        page.run_task(attach_player)

    return main


class _LateSounds:
    """The desktop window's SoundOut while its player is still decoding (the window does not wait
    for that): sounds asked for meanwhile are skipped, as sound is decoration, and the volume is
    kept for the player."""

    def __init__(self) -> None:
        self._player: AudioPlayer | None = None
        self._volume: float | None = None
        self._closed = False

    def attach(self, player: AudioPlayer) -> None:
        if self._closed:
            player.close()
            return
        if self._volume is not None:
            player.set_volume(self._volume)
        self._player = player

    def play_effect(self, name: str) -> None:
        if self._player:
            self._player.play_effect(name)

    def play_shot(self, weapon: str) -> None:
        if self._player:
            self._player.play_shot(weapon)

    def play_deploy(self, weapon: str) -> None:
        if self._player:
            self._player.play_deploy(weapon)

    def play_ending(self) -> None:
        if self._player:
            self._player.play_ending()

    def say(self, words: list[str]) -> None:
        if self._player:
            self._player.say(words)

    def say_countdown(self, start: int = COUNTDOWN_SECONDS) -> None:
        if self._player:
            self._player.say_countdown(start)

    def stop_speech(self) -> None:
        if self._player:
            self._player.stop_speech()

    def set_volume(self, volume: float) -> None:
        self._volume = volume
        if self._player:
            self._player.set_volume(volume)

    def close(self) -> None:
        self._closed = True
        if self._player:
            self._player.close()


def _reporter(session: TimerSession) -> Callable[[BaseException, str], None]:
    """Where a sound output reports a failure: the session's app_error on component "sound"."""
    return lambda error, where: session.report_error("sound", where, error)
