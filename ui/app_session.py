"""The Flet view of one user session (the desktop window or one browser tab).

A thin layer over `ui.session.TimerSession`, which makes every decision: a click is forwarded to
it, then its `SessionState` is rendered onto the controls. The rendering is imperative (controls
built once, what changed set on them) rather than `@ft.component`-declarative: both flet 1.0.5 and
the 0.82.2 desktop test client have components, but these controls are the ones the browser and
desktop tests prove on both, and the state object already gives the one-way state -> screen flow.

What a click costs the server is what it changed on screen: the app turns Flet's auto-update off
(ui.app), and the view sends only the controls `Screen.show` reports changed, with the page when
the title changed (the views are isolated, so the page's update is its own properties only: see
ui.screen.Isolated). A click that changes nothing (Fire, or one over the fair share) sends nothing.

Every handler is guarded: an exception is reported to the session (app_error, type and place
only) and the session carries on; Flet never gets to replace the page with its error screen.

Time is driven by one ticker task per session that sleeps until the session is next due (the
display's next second, a summary, the end of a grace period), computed from deadlines, so a late
wake-up can never make the countdown drift. While the client is away the ticker keeps the session
going and the controls current but sends nothing (Flet would drop it); on reconnect Flet sends the
page whole and the view what changed since. The Stats view reads the local store off the event
loop: the whole store, or only this session's events (`own_stats`, a web visitor's).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import flet as ft

from shared.timefmt import MAX_INPUT_CHARS
from ui.keys import Action, action_for
from ui.preferences import Preferences
from ui.screen import Screen, build_screen, window_properties
from ui.screen_more import MoreControls, build_more
from ui.session import SessionState, TimerSession, View
from ui.startup import elapsed_ms
from ui.stats_data import stats_charts
from ui.stats_screen import StatsScreen, build_stats_screen
from worker.questions import STATS_QUESTIONS
from worker.report import ask_local

log = logging.getLogger(__name__)

# Wake a hair after the boundary: waking a hair before it would show the old second once more.
TICK_SLACK = 0.002
# After the ticker itself failed: wait this long before trying again, never spin.
TICK_RETRY = 1.0

SavePreferences = Callable[[Preferences], Awaitable[None]]
LoadPreferences = Callable[[], Awaitable[Preferences]]

Handler = TypeVar("Handler", bound=Callable[..., Any])


class Reports(Protocol):
    """What a guarded handler's object does with an exception (SessionView.failed)."""

    def failed(self, component: str, where: str, error: BaseException) -> None: ...


def guarded(component: str) -> Callable[[Handler], Handler]:
    """A handler (a method of a `Reports`) whose exceptions are reported as app_error on
    `component` (where: the handler's name) instead of reaching Flet."""
    def decorate(handler: Handler) -> Handler:
        where = handler.__name__
        if inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(owner: Reports, e: Any) -> None:
                try:
                    await handler(owner, e)
                except Exception as error:
                    owner.failed(component, where, error)
            return cast(Handler, run_async)

        @functools.wraps(handler)
        def run(owner: Reports, e: Any) -> None:
            try:
                handler(owner, e)
            except Exception as error:
                owner.failed(component, where, error)
        return cast(Handler, run)
    return decorate


class SessionView:
    """`opened_at` is the monotonic time the session's start-up began (app_start's startup_ms counts
    from it); `save_preferences` keeps what the user chose, `load_preferences` (a web tab's, read
    from its browser after the screen is up) brings back what they chose before."""

    def __init__(self, page: ft.Page, session: TimerSession, store_path: Path, own_stats: bool,
                 on_end: Callable[[SessionView], None], opened_at: float,
                 save_preferences: SavePreferences,
                 load_preferences: LoadPreferences | None = None) -> None:
        self.page = page
        self.session = session
        self._store_path = store_path
        self._own_stats = own_stats
        self._on_end = on_end
        self._opened_at = opened_at
        self._save_preferences = save_preferences
        self._load_preferences = load_preferences
        self._saved = session.preferences  # what the store holds (as far as we know)
        self._saving = False
        self._typing = False  # focus is in a text field: no key is a shortcut
        self._online = True
        self._wake = asyncio.Event()  # set when something changed, so the ticker re-plans
        self._reading_stats = False
        self._shown = session.state
        self.more: MoreControls = build_more(self, self._shown)
        self.screen: Screen = build_screen(self, self._shown, self.more.root)
        self._stats: StatsScreen | None = None  # built when first shown: a smaller first page

    def open(self) -> None:
        """Shows the screen, tracks app_start and starts the ticker."""
        self.page.title = self._shown.title
        self.page.on_keyboard_event = self.on_key  # before the page is sent: it goes with it
        self.page.add(self.screen.root)
        self.session.open(startup_ms=elapsed_ms(self._opened_at))
        self.page.run_task(self._run_ticker)
        if self._load_preferences is not None:
            self.page.run_task(self._apply_stored_preferences)

    def close(self, reason: str) -> None:
        """Ends the session (see TimerSession.close) and stops its ticker."""
        self.session.close(reason)
        self._wake.set()

    def _stats_screen(self) -> StatsScreen:
        """The Stats screen, added to the page (hidden) the first time it is asked for."""
        if self._stats is None:
            scope = "This tab's events" if self._own_stats else "All events in the local store"
            self._stats = build_stats_screen(self, scope)
            self.page.add(self._stats.root)
        return self._stats

    def disconnected(self) -> None:
        self._online = False
        self.session.disconnected()
        self._wake.set()  # the ticker re-plans: the grace's end is now due

    def reconnected(self) -> bool:
        """Shows the session as it is now; False when it ended while the client was away."""
        if not self.session.reconnected():
            return False
        self._online = True
        # Flet re-sent the page as it is; what changed since (its second, say) follows it.
        self._send(self._render())
        self._wake.set()
        return True

    def failed(self, component: str, where: str, error: BaseException) -> None:
        """A handler raised: the session reports it; the screen shows whatever state it left."""
        self.session.report_error(component, where, error)
        with contextlib.suppress(Exception):  # the failure may have been in rendering itself
            self._changed()

    # ---- clicks (ScreenActions, StatsActions): forward to the session, then render --------------

    @guarded("start_button")
    def on_start(self, e: Any) -> None:
        if not self.session.start(self._typed_text()):
            self.page.run_task(self.screen.time_input.focus)  # straight back to the field to fix it
        self._changed()

    @guarded("pause_button")
    def on_pause(self, e: Any) -> None:
        self.session.toggle_pause()
        self._changed()

    @guarded("reset_button")
    def on_reset(self, e: Any) -> None:
        self.session.reset(self._typed_text())
        self._changed()

    @guarded("timeleft_button")
    def on_time_left(self, e: Any) -> None:
        self.session.time_left()
        self._changed()

    @guarded("shoot_gun_button")
    def on_fire(self, e: Any) -> None:
        self.session.fire()
        self._changed()

    @guarded("weapon_dropdown")
    def on_weapon_select(self, e: Any) -> None:
        if not self.session.select_weapon(self.screen.weapon.value):
            # A forged value the client patched onto the dropdown: ours again, here at least.
            self.screen.weapon.value = self.session.state.weapon
        self._changed()

    @guarded("change_background_button")
    def on_change_background(self, e: Any) -> None:
        self.session.change_background()
        self._changed()

    @guarded("time_input")
    def on_time_input_change(self, e: Any) -> None:
        self.session.edit_time(self._typed_text())
        self._changed()

    @guarded("start_button")
    def on_time_submit(self, e: Any) -> None:
        """Enter in the time field: Start, from the keyboard."""
        if not self.session.start(self._typed_text(), via="keyboard"):
            self.page.run_task(self.screen.time_input.focus)
        self._changed()

    def on_text_focus(self, e: Any) -> None:
        self._typing = True

    def on_text_blur(self, e: Any) -> None:
        self._typing = False

    @guarded("keyboard")
    def on_key(self, e: Any) -> None:
        action = action_for(str(e.key), bool(e.shift), bool(e.ctrl), bool(e.alt), bool(e.meta),
                            in_text_field=self._typing)
        if action is None or self.session.state.view is not View.TIMER:
            return
        keyboard = "keyboard"
        typed = self._typed_text()
        {Action.START_PAUSE: lambda: self.session.start_or_pause(typed, keyboard),
         Action.RESET: lambda: self.session.reset(typed, keyboard),
         Action.TIME_LEFT: lambda: self.session.time_left(keyboard),
         Action.FIRE: lambda: self.session.fire(keyboard),
         Action.BACKGROUND: lambda: self.session.change_background(keyboard),
         Action.SKIP: lambda: self.session.skip(keyboard),
         Action.MUTE: lambda: self.session.toggle_mute(keyboard),
         Action.HELP: lambda: self.session.toggle_help(keyboard)}[action]()
        self._changed()

    @guarded("mode_dropdown")
    def on_mode_select(self, e: Any) -> None:
        if not self.session.select_mode(self.more.mode.value):
            self.more.mode.value = self.session.state.mode  # a forged value: ours again
        self._changed()

    @guarded("skip_button")
    def on_skip(self, e: Any) -> None:
        self.session.skip()
        self._changed()

    @guarded("mute_button")
    def on_mute(self, e: Any) -> None:
        self.session.toggle_mute()
        self._changed()

    @guarded("volume_slider")
    def on_volume_change(self, e: Any) -> None:
        self.session.set_volume(self.more.volume.value, released=False)
        self._changed()

    @guarded("volume_slider")
    def on_volume_change_end(self, e: Any) -> None:
        self.session.set_volume(self.more.volume.value, released=True)
        self._changed()

    @guarded("settings")
    def on_setting_change(self, e: Any) -> None:
        value = e.control.value
        self.session.edit_setting(e.control.data, value[:MAX_INPUT_CHARS] if isinstance(value, str) else "")
        self._changed()

    @guarded("settings")
    def on_setting_commit(self, e: Any) -> None:
        self.session.commit_setting(e.control.data)
        self._changed()

    @guarded("settings")
    def on_auto_start_change(self, e: Any) -> None:
        self.session.set_auto_start(e.control.data, e.control.value is True)
        self._changed()

    @guarded("compact_button")
    def on_compact(self, e: Any) -> None:
        self.session.toggle_compact()
        self._changed()

    @guarded("help_button")
    def on_help(self, e: Any) -> None:
        self.session.toggle_help()
        self._changed()

    @guarded("stats_button")
    async def on_show_stats(self, e: Any) -> None:
        self._stats_screen()  # on the page before the view switches to it
        self.session.show_stats()
        self._changed()  # switch now: the report comes a moment later
        await self._read_stats()

    @guarded("timer_button")
    def on_show_timer(self, e: Any) -> None:
        self.session.show_timer()
        self._changed()

    @guarded("refresh_button")
    async def on_refresh_stats(self, e: Any) -> None:
        await self._read_stats()

    # ---- rendering and the ticker ------------------------------------------------------------

    def _changed(self) -> None:
        """After every click: render, remember what the user chose, and wake the ticker to re-plan
        in case the timer changed."""
        self._send(self._render())
        if self.session.preferences != self._saved and not self._saving:
            self.page.run_task(self._keep_preferences)
        self._wake.set()

    def _render(self) -> list[ft.Control]:
        """Sets what changed since the last render onto the controls; the ones to send (with the
        page when its title changed: its update() sends only its own properties and the views'
        own, as the views are isolated, see ui.screen.Isolated)."""
        state = self.session.state
        if state == self._shown:
            return []
        changed = self.screen.show(state, self._shown) + self.more.show(state, self._shown)
        if state.view != self._shown.view and self._stats is not None:
            self._stats.root.visible = state.view is View.STATS
            changed.append(self._stats.root)
        if state.title != self._shown.title:
            self.page.title = state.title
            changed.insert(0, self.page)
        if not self.page.web and self._show_window(state, self._shown) and self.page not in changed:
            changed.insert(0, self.page)
        self._shown = state
        return changed

    def _show_window(self, state: SessionState, before: SessionState) -> bool:
        """The desktop window: taskbar progress and the compact mode; True when it changed."""
        wanted, shown = window_properties(state), window_properties(before)
        changed = {name: value for name, value in wanted.items() if value != shown[name]}
        for name, value in changed.items():
            setattr(self.page.window, name, value)
        return bool(changed)

    def _send(self, controls: list[ft.Control]) -> None:
        """Sends the controls' changes to the client; nothing while it is away (the reconnect sends
        the whole page)."""
        if not controls or not self._online:
            return
        try:
            if self.page in controls:
                self.page.update()
            if rest := [control for control in controls if control is not self.page]:
                self.page.update(*rest)
        except RuntimeError as error:  # Flet closed the session under us; on_close ends ours
            log.debug("session %s: update not sent: %s", self.session.session_id, error)

    async def _run_ticker(self) -> None:
        while not self.session.closed:
            self._wake.clear()
            try:
                delay = self.session.tick()  # may end the session: its grace is up
                self._send(self._render())
            except Exception as error:  # reported, not rendered: rendering may be what fails
                self.session.report_error("timer", "ticker", error)
                delay = TICK_RETRY
            if self.session.closed:
                break
            with contextlib.suppress(TimeoutError):  # something is due: tick
                await asyncio.wait_for(self._wake.wait(), None if delay is None else delay + TICK_SLACK)
        log.debug("ticker of session %s stopped", self.session.session_id)
        self._on_end(self)

    async def _read_stats(self) -> None:
        if self._reading_stats:
            return  # a click that raced the Refresh button's disabling: one read is on its way
        self._reading_stats = True
        stats = self._stats_screen()
        stats.show_loading()
        self._send(stats.parts)
        started = time.perf_counter()
        session_id = self.session.session_id if self._own_stats else None
        try:
            # SQLite I/O: off the event loop, so every session's ticker and clicks carry on meanwhile.
            report = await asyncio.to_thread(ask_local, self._store_path, STATS_QUESTIONS,
                                             session_id=session_id)
            charts = stats_charts(report)
        except Exception as error:  # sqlite3.Error, OSError or a bug: the view must not stay "Reading"
            log.warning("stats: cannot read %s: %s", self._store_path, error)
            self.session.report_error("stats_view", "stats.read", error)
            # No path or reason on screen: a web visitor has no business with the server's files.
            stats.show_error("Cannot read the local store right now; try Refresh later.")
        else:
            stats.show_charts(charts, datetime.now(UTC).strftime("%H:%M:%S"))
        finally:
            self._reading_stats = False
        self._send(stats.parts)
        log.debug("stats of session %s shown (store read in %.0f ms)", self.session.session_id,
                  (time.perf_counter() - started) * 1000)

    async def _apply_stored_preferences(self) -> None:
        assert self._load_preferences is not None
        try:
            stored = await self._load_preferences()
        except Exception as error:  # the loaders forgive bad data: this is a bug or a lost client
            self.session.report_error("preferences", "preferences.load", error)
            return
        self.session.apply_preferences(stored)
        self._saved = stored
        self._changed()

    async def _keep_preferences(self) -> None:
        """Saves until the store holds what the user chose last (one save at a time, in order)."""
        self._saving = True
        try:
            while (wanted := self.session.preferences) != self._saved:
                await self._save_preferences(wanted)
                self._saved = wanted
        except Exception as error:  # a full disk, a browser that went away
            log.warning("session %s: preferences not saved: %s", self.session.session_id, error)
            self.session.report_error("preferences", "preferences.save", error)
        finally:
            self._saving = False

    def _typed_text(self) -> str:
        """The time field's text as the field itself caps it; a forged message may send anything."""
        value = self.screen.time_input.value
        return value[:MAX_INPUT_CHARS] if isinstance(value, str) else ""
