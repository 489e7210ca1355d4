"""The Flet view of one user session (the desktop window or one browser tab).

A thin layer over `ui.session.TimerSession`, which makes every decision: a click is forwarded to
it, then its `SessionState` is rendered onto the controls. The rendering is imperative (controls
built once, what changed set on them) rather than `@ft.component`-declarative: both flet 1.0.5 and
the 0.82.2 desktop test client have components, but these controls are the ones the browser and
desktop tests prove on both, and the state object already gives the one-way state -> screen flow.
Time is driven by one ticker task per session that sleeps until the display's next second
boundary, computed from the timer's deadline, so a late wake-up can never make the countdown drift.
The Stats view reads the local store off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flet as ft

from ui.screen import Screen, build_screen
from ui.session import TimerSession, View
from ui.stats_data import stats_charts
from ui.stats_screen import StatsScreen, build_stats_screen
from worker.report import local_report

log = logging.getLogger(__name__)

# Wake a hair after the boundary: waking a hair before it would show the old second once more.
TICK_SLACK = 0.002


class SessionView:
    def __init__(self, page: ft.Page, session: TimerSession, store_path: Path) -> None:
        self.page = page
        self.session = session
        self._store_path = store_path
        self._wake = asyncio.Event()  # set when a click changed the timer, so the ticker re-plans
        self._reading_stats = False
        self._shown = session.state
        self.screen: Screen = build_screen(self, self._shown)
        self.stats: StatsScreen = build_stats_screen(self)

    def open(self) -> None:
        """Shows the screen, tracks app_start and starts the ticker."""
        self.page.add(self.screen.root, self.stats.root)
        self.session.open()
        self.page.run_task(self._run_ticker)

    def close(self, reason: str) -> None:
        """Ends the session (see TimerSession.close) and stops its ticker."""
        self.session.close(reason)
        self._wake.set()

    # ---- clicks (ScreenActions, StatsActions): forward to the session, then render --------------

    def on_start(self, e: Any) -> None:
        if not self.session.start(self._typed_text()):
            self.page.run_task(self.screen.time_input.focus)  # straight back to the field to fix it
        self._changed()

    def on_pause(self, e: Any) -> None:
        self.session.toggle_pause()
        self._changed()

    def on_reset(self, e: Any) -> None:
        self.session.reset(self._typed_text())
        self._changed()

    def on_time_left(self, e: Any) -> None:
        self.session.time_left()
        self._changed()

    def on_fire(self, e: Any) -> None:
        self.session.fire()
        self._changed()

    def on_weapon_select(self, e: Any) -> None:
        self.session.select_weapon(self.screen.weapon.value)
        self._changed()

    def on_change_background(self, e: Any) -> None:
        self.session.change_background()
        self._changed()

    def on_time_input_change(self, e: Any) -> None:
        self.session.edit_time(self._typed_text())
        self._changed()

    async def on_show_stats(self, e: Any) -> None:
        self.session.show_stats()
        self._changed()
        self.page.update()  # switch now: the report comes a moment later
        await self.on_refresh_stats(e)

    def on_show_timer(self, e: Any) -> None:
        self.session.show_timer()
        self._changed()

    async def on_refresh_stats(self, e: Any) -> None:
        if self._reading_stats:
            return  # a click that raced the Refresh button's disabling: one read is on its way
        self._reading_stats = True
        self.stats.show_loading()
        self._update_stats()
        started = time.perf_counter()
        try:
            # SQLite I/O: off the event loop, so every session's ticker and clicks carry on meanwhile.
            report = await asyncio.to_thread(local_report, self._store_path)
        except (sqlite3.Error, OSError) as error:
            log.warning("stats: cannot read %s: %s", self._store_path, error)
            self.stats.show_error(f"Cannot read the local store: {error}")
        else:
            self.stats.show_charts(stats_charts(report), datetime.now(UTC).strftime("%H:%M:%S"))
        finally:
            self._reading_stats = False
        self._update_stats()
        log.debug("stats of session %s shown (store read in %.0f ms)", self.session.session_id,
                  (time.perf_counter() - started) * 1000)

    # ---- rendering and the ticker ------------------------------------------------------------

    def _changed(self) -> None:
        """After every click: render, and wake the ticker to re-plan in case the timer changed."""
        self._render()
        self._wake.set()

    def _render(self) -> bool:
        """Sets what changed since the last render onto the controls; whether anything did.

        Flet sends the changes after a click handler returns; the ticker sends its own.
        """
        state = self.session.state
        if state == self._shown:
            return False
        self.screen.show(state, self._shown)
        self.stats.root.visible = state.view is View.STATS
        self._shown = state
        return True

    async def _run_ticker(self) -> None:
        while not self.session.closed:
            self._wake.clear()
            delay = self.session.tick()
            if self._render():
                try:
                    self.screen.root.update()
                except RuntimeError:  # the session ended under us
                    break
            with contextlib.suppress(TimeoutError):  # the timer is due: tick
                await asyncio.wait_for(self._wake.wait(), None if delay is None else delay + TICK_SLACK)
        log.debug("ticker of session %s stopped", self.session.session_id)

    def _update_stats(self) -> None:
        try:
            self.stats.root.update()
        except RuntimeError:  # the session ended while the store was read
            log.debug("stats of session %s not shown: session ended", self.session.session_id)

    def _typed_text(self) -> str:
        return self.screen.time_input.value or ""

