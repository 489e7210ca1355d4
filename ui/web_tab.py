"""One browser tab's page through its connections: reloads, dropped sockets, a closed tab.

Flet 1.0.5 keeps a tab's page (our session with it) when its socket drops and hands it back when
the tab reconnects: a reload is such a reconnect too, since the tab keeps Flet's session id in its
sessionStorage (checked in Chromium: one app_start, the same session). So:
- `on_disconnect` (every socket drop) starts the session's grace period; the timer runs on.
- `on_connect` (a RE-connect; never the first open) carries on: fresh browser players, the page
  brought up to date, app_reconnect tracked.
- A tab that stays away past the grace has its session ended by the session's own ticker
  ("disconnected", app_stop its last event). Flet forgets the page a little later
  (FLET_SESSION_TIMEOUT, set to the grace by ui.app; Flet looks every 10 s); if the tab comes back
  in between, it gets a new session on the same page instead of a dead one.
- `on_close` (Flet forgot the page) ends a session still open ("expired"), e.g. when the user set
  FLET_SESSION_TIMEOUT below the grace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from ui.app_session import SessionView, guarded

if TYPE_CHECKING:
    from ui.sound_out_web import BrowserAudio

log = logging.getLogger(__name__)

# Makes a tab's session on a page: its view (opened) and its browser audio. The float is the
# monotonic time the session's start-up began (its app_start's startup_ms counts from it).
SessionStarter = Callable[[ft.Page, float], "tuple[SessionView, BrowserAudio]"]


class WebTab:
    """`opened_at`: when the tab's page opened, the start-up time of its first session."""

    def __init__(self, page: ft.Page, start: SessionStarter, opened_at: float) -> None:
        self._page = page
        self._start = start
        self.view, self._sounds = start(page, opened_at)
        page.on_disconnect = self.on_disconnect
        page.on_connect = self.on_connect
        page.on_close = self.on_close

    def failed(self, component: str, where: str, error: BaseException) -> None:
        self.view.failed(component, where, error)

    @guarded("application")
    def on_disconnect(self, e: Any) -> None:
        self.view.disconnected()

    @guarded("application")
    def on_connect(self, e: Any) -> None:
        self._sounds.reconnected()
        if self.view.reconnected():
            return
        log.info("session %s ended before its tab came back: the tab starts a new one",
                 self.view.session.session_id)
        self._page.controls.clear()
        self.view, self._sounds = self._start(self._page, time.monotonic())

    @guarded("application")
    def on_close(self, e: Any) -> None:
        self.view.close("expired")
