"""One user session (the desktop window or one browser tab): its timer, screen, sounds and events.

Handlers are a few lines that change state, play a sound and track the click; they never wait.
Time is driven by one ticker task per session that sleeps until the display's next second boundary,
computed from the timer's deadline, so a late wake-up can never make the countdown drift.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import flet as ft

from shared.timefmt import TimeInputError, format_hms, normalize_time_input, parse_time_input
from ui.screen import Screen, build_screen
from ui.sound_out import SoundOut
from ui.stats_data import stats_charts
from ui.stats_screen import StatsScreen, build_stats_screen
from ui.timer import CountdownTimer, TimerEvent, TimerState
from ui.vox import time_left_words
from worker import ClickstreamTracker
from worker.report import local_report

log = logging.getLogger(__name__)

DEFAULT_TIME = "00:25:00"
DEFAULT_WEAPON = "glock18"
# Wake a hair after the boundary: waking a hair before it would show the old second once more.
TICK_SLACK = 0.002


@dataclass(frozen=True)
class Background:
    name: str
    src: str  # asset URL


class TimerSession:
    def __init__(self, page: ft.Page, tracker: ClickstreamTracker, session_id: str, sounds: SoundOut,
                 backgrounds: list[Background]) -> None:
        self.page = page
        self.session_id = session_id
        self.timer = CountdownTimer()
        self._tracker = tracker
        self._sounds = sounds
        self._backgrounds = backgrounds
        self._background_index = 0
        self._weapon = DEFAULT_WEAPON
        self._run_length = format_hms(0)  # of the countdown started last, for timer_finished
        self._wake = asyncio.Event()  # set when a click changed the timer, so the ticker re-plans
        self._closed = False
        self._reading_stats = False
        self.screen: Screen = build_screen(self, DEFAULT_WEAPON, DEFAULT_TIME)
        self.stats: StatsScreen = build_stats_screen(self)

    # ---- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Shows the screen, tracks app_start and starts the ticker."""
        if self._backgrounds:
            self._show_background()
        self.page.add(self.screen.root, self.stats.root)
        self._track("app_start", "application")
        self.page.run_task(self._run_ticker)

    def close(self, reason: str) -> None:
        """Stops the ticker and sounds and tracks app_stop; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._sounds.close()
        self._track("app_stop", "application", {"reason": reason})
        log.info("session %s ended (%s)", self.session_id, reason)

    # ---- handlers (ScreenActions) ------------------------------------------------------------

    def on_start(self, e: Any) -> None:
        try:
            seconds = parse_time_input(self._typed_text())
        except TimeInputError as error:
            self.screen.show_input_error(str(error))
            self.page.run_task(self.screen.time_input.focus)  # straight back to the field to fix it
            self._track("input_error", "time_input", {"message": str(error)})
            return
        time_text = format_hms(seconds)
        self.screen.show_input_error(None)
        self.screen.time_input.value = time_text
        self.timer.start(seconds)
        self._run_length = time_text
        self._sounds.stop_speech()
        self._sounds.play_effect("start")
        self._refresh(time_text)
        self._track("button_click", "start_button", {"time_input": time_text})

    def on_pause(self, e: Any) -> None:
        if self.timer.state not in (TimerState.RUNNING, TimerState.PAUSED):
            return  # the button is disabled then; a click racing the finish changes nothing
        paused = self.timer.toggle_pause()
        if paused:
            self._sounds.stop_speech()
        self._sounds.play_effect("pause")
        self._refresh()
        self._track("button_click", "pause_button", {"is_paused": paused})

    def on_reset(self, e: Any) -> None:
        self.timer.reset()
        self._sounds.stop_speech()
        self._sounds.play_effect("reset")
        self._refresh(self._idle_time_text())
        self._track("button_click", "reset_button")

    def on_time_left(self, e: Any) -> None:
        seconds = self.timer.display_seconds()
        self._sounds.play_effect("timeleft")
        self._sounds.say(time_left_words(seconds))
        self._track("button_click", "timeleft_button", {"remaining_time": format_hms(seconds)})

    def on_fire(self, e: Any) -> None:
        self._sounds.play_shot(self._weapon)
        self._track("button_click", "shoot_gun_button", {"weapon": self._weapon})

    def on_weapon_select(self, e: Any) -> None:
        weapon = self.screen.weapon.value or DEFAULT_WEAPON
        self._weapon = weapon
        self._sounds.play_deploy(weapon)
        self._track("weapon_select", "weapon_dropdown", {"weapon": weapon})

    def on_change_background(self, e: Any) -> None:
        if self._backgrounds:
            self._background_index = (self._background_index + 1) % len(self._backgrounds)
            self._show_background()
        self._sounds.play_effect("background")
        self._track("button_click", "change_background_button")

    def on_time_input_change(self, e: Any) -> None:
        """Validates as the user types; an idle timer previews the time it would run."""
        try:
            time_text = normalize_time_input(self._typed_text())
        except TimeInputError as error:
            self.screen.show_input_error(str(error))
            return
        self.screen.show_input_error(None)
        if self.timer.state in (TimerState.IDLE, TimerState.FINISHED):
            self.screen.show_time(time_text)

    # ---- the Stats view (the timer keeps running behind it) -----------------------------------

    async def on_show_stats(self, e: Any) -> None:
        self._show_view(stats=True)
        self.page.update()  # switch now: the report comes a moment later
        self._track("button_click", "stats_button")
        await self.on_refresh_stats(e)

    def on_show_timer(self, e: Any) -> None:
        self._show_view(stats=False)

    async def on_refresh_stats(self, e: Any) -> None:
        if self._reading_stats:
            return  # a click that raced the Refresh button's disabling: one read is on its way
        self._reading_stats = True
        self.stats.show_loading()
        self._update_stats()
        store_path = self._tracker.settings.store_path
        started = time.perf_counter()
        try:
            # SQLite I/O: off the event loop, so every session's ticker and clicks carry on meanwhile.
            report = await asyncio.to_thread(local_report, store_path)
        except (sqlite3.Error, OSError) as error:
            log.warning("stats: cannot read %s: %s", store_path, error)
            self.stats.show_error(f"Cannot read the local store: {error}")
        else:
            self.stats.show_charts(stats_charts(report), datetime.now(timezone.utc).strftime("%H:%M:%S"))
        finally:
            self._reading_stats = False
        self._update_stats()
        log.debug("stats of session %s shown (store read in %.0f ms)", self.session_id,
                  (time.perf_counter() - started) * 1000)

    def _show_view(self, stats: bool) -> None:
        self.screen.root.visible = not stats
        self.stats.root.visible = stats

    def _update_stats(self) -> None:
        try:
            self.stats.root.update()
        except RuntimeError:  # the session ended while the store was read
            log.debug("stats of session %s not shown: session ended", self.session_id)

    # ---- ticker ------------------------------------------------------------------------------

    async def _run_ticker(self) -> None:
        while not self._closed:
            self._wake.clear()
            events = self.timer.poll()
            if events:
                self._apply(events)
                try:
                    self.screen.root.update()
                except RuntimeError:  # the session ended under us
                    break
            delay = self.timer.seconds_until_next_change()
            try:
                await asyncio.wait_for(self._wake.wait(), None if delay is None else delay + TICK_SLACK)
            except asyncio.TimeoutError:
                pass
        log.debug("ticker of session %s stopped", self.session_id)

    def _apply(self, events: list[TimerEvent]) -> None:
        for event in events:
            if event.kind == "display" and self.timer.state is not TimerState.IDLE:
                # Idle (after Reset) the display previews the typed time instead of the timer's 0.
                self.screen.show_time(format_hms(event.seconds))
            elif event.kind == "countdown":
                self._sounds.say_countdown()
            elif event.kind == "finished":
                self._sounds.play_ending()
                self._track("timer_finished", "timer", {"duration": self._run_length})
        self._show_state()

    # ---- helpers -----------------------------------------------------------------------------

    def _refresh(self, time_text: str | None = None) -> None:
        """After a click changed the timer: show it, and wake the ticker to re-plan its sleep."""
        self._show_state(time_text)
        self._wake.set()

    def _show_state(self, time_text: str | None = None) -> None:
        state = self.timer.state
        if time_text is not None:
            self.screen.show_time(time_text)
        self.screen.show_paused(state is TimerState.PAUSED,
                                can_pause=state in (TimerState.RUNNING, TimerState.PAUSED))

    def _typed_text(self) -> str:
        return self.screen.time_input.value or ""

    def _idle_time_text(self) -> str:
        try:
            return normalize_time_input(self._typed_text())
        except TimeInputError:
            return format_hms(0)

    def _show_background(self) -> None:
        background = self._backgrounds[self._background_index]
        self.screen.show_background(background.name, background.src)

    def _track(self, event_type: str, component: str, metadata: dict[str, Any] | None = None) -> None:
        self._tracker.track_event(event_type, component, metadata, session_id=self.session_id)
