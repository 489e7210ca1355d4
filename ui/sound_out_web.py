"""Sound for web sessions: played by the user's browser (flet-audio), never by the server.

`WebSoundBank` is made once per server process: it resolves every sound to what the browser can
load (an asset URL, or the file's bytes for a user's own sound folder) and joins the spoken
countdown. `BrowserAudio` is one per tab: it keeps one flet-audio player per sound, so repeated
clicks replay buffered audio, and a fresh player for each spoken sentence. The players the first
clicks need are made by `load_ahead()`, which the app calls with the tab's first answer; they are
made LOAD_AHEAD_AFTER later, once the browser has drawn the page: each is a Web Audio context and a
fetch, and made with the page they delayed it (a click before then makes its own player).

After a reconnect the browser's players are not the ones we had (a reloaded tab made new ones; a
tab whose socket dropped keeps players that no longer answer: measured with flet 1.0.5), so
`reconnected()` starts over with fresh players. A failure is reported through `on_error` (the
session's app_error) and never raised: sound is decoration.

What a sound took is reported to `on_played`: from our play request (the click's handler) to the
browser player's "playing" report, so it counts the socket both ways, a first play's loading and the
browser's start of the sound. Muted (volume 0), nothing is sent to the browser to play at all.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flet as ft
import flet_audio as fta

from ui.soundpack import UI_EFFECTS, SoundPack
from ui.speed import NORMAL_SPEED
from ui.timer import COUNTDOWN_SECONDS
from ui.weapons import WEAPONS

log = logging.getLogger(__name__)

# A player's answer takes milliseconds; one that never comes (its tab went away mid-call, when Flet
# drops the question) must not keep our task waiting for ever, which Flet's own calls would.
BROWSER_TIMEOUT = 10.0
# The first answer comes as the browser starts drawing the page, which takes it 0.3-0.4 s here
# (bench/startup.py): the players wait for that.
LOAD_AHEAD_AFTER = 0.5


@dataclass(frozen=True)
class WebSound:
    key: str  # names the player, e.g. "/sounds/ui/start.wav"
    src: str | bytes
    seconds: float
    kind: str  # what sound_played calls it: an effect's name, "shot", "deploy" or "ending"


class WebSoundBank:
    def __init__(self, pack: SoundPack) -> None:
        self.pack = pack
        self.effects = {name: self._sound(pack.effect(name), name) for name in UI_EFFECTS}
        self.shots = {weapon: [self._sound(path, "shot") for path in pack.shot_variants(weapon)]
                      for weapon in WEAPONS}
        self.deploys = {weapon: [self._sound(path, "deploy") for path in pack.deploy(weapon)]
                        for weapon in WEAPONS}
        # Per ending's name; None: all of them (a session without an ending experiment).
        self.endings: dict[str | None, list[WebSound]] = {None: [
            self._sound(path, "ending") for path in pack.endings()]}
        for sound in self.endings[None]:
            self.endings.setdefault(Path(sound.key).stem, []).append(sound)

    def sentence(self, words: list[str], speed: float) -> bytes:
        return self.pack.sentence_wav(words, speed)

    def countdown(self, start: int, speed: float) -> bytes:
        return self.pack.countdown_wav(start, speed)

    def _sound(self, path: Path, kind: str) -> WebSound:
        url = self.pack.asset_url(path)
        with wave.open(str(path), "rb") as wav:
            seconds = wav.getnframes() / wav.getframerate()
        return WebSound(key=url or str(path), src=url or path.read_bytes(), seconds=seconds, kind=kind)


class BrowserAudio:
    """The SoundOut of one browser tab. Create it inside the tab's main(page): players register there.

    A player asked to play before the browser has loaded its source plays once it reports loaded:
    play() on a source still loading is silently lost in the browser.
    """

    def __init__(self, page: ft.Page, bank: WebSoundBank, ending: str | None = None,
                 speed: float = NORMAL_SPEED) -> None:
        self._page = page
        self._bank = bank
        self._weapon: str | None = None  # whose sounds are loaded ahead; None: none yet
        self._endings = bank.endings.get(ending) or bank.endings[None]  # the variant's, or all
        self._speed = speed  # the announcer's (ui.speed)
        self._volume = 1.0
        self._kinds: dict[str, str] = {}  # player key -> what sound_played calls it
        self._requested: dict[str, float] = {}  # player key -> when we asked it to play
        self._players: dict[str, fta.Audio] = {}
        self._loaded: set[str] = set()
        self._waiting: set[str] = set()  # asked to play while still loading
        self._speech_count = 0
        self._speech: str | None = None  # key of the current speech player
        self._speaking = False  # the current speech was asked to play and not stopped since
        self._closed = False
        self.on_error: Callable[[BaseException, str], None] | None = None  # (error, where)
        # (sound, milliseconds from request to the browser playing it, what else was measured)
        self.on_played: Callable[[str, float, dict[str, float]], None] | None = None

    def load_ahead(self, weapon: str) -> None:
        """Players for the effects and `weapon`'s sounds, so the next clicks sound at once."""
        self._weapon = weapon
        self._run(self._load_ahead_later)

    def reconnected(self) -> None:
        """The tab is back: fresh players (Flet drops the old ones nobody references)."""
        if self._closed:
            return
        self._players.clear()
        self._loaded.clear()
        self._waiting.clear()
        self._requested.clear()
        self._speech, self._speaking = None, False
        self._run(self._load_ahead_later)  # the page is sent again, to draw again

    def play_effect(self, name: str) -> None:
        self._play(self._bank.effects.get(name))

    def play_shot(self, weapon: str) -> None:
        variants = self._bank.shots.get(weapon)
        self._play(random.choice(variants) if variants else None)

    def play_deploy(self, weapon: str) -> None:
        self._weapon = weapon
        parts = self._bank.deploys.get(weapon) or []
        for sound in [*parts, *self._bank.shots.get(weapon, [])]:
            self._player(sound.key, sound.src)  # start loading what this weapon will play next
        self._run(self._play_in_turn, parts)

    def play_ending(self) -> None:
        self._play(random.choice(self._endings) if self._endings else None)

    def say(self, words: list[str]) -> None:
        self._speak(self._bank.sentence(words, self._speed), "speech")

    def say_countdown(self, start: int = COUNTDOWN_SECONDS) -> None:
        self._speak(self._bank.countdown(start, self._speed), "countdown")

    def set_volume(self, volume: float) -> None:
        """0..1 for every player, those playing too; 0 also stops the speech (and mutes all). The
        same volume again sends nothing (a tab's stored preferences set it as it opens)."""
        volume = min(max(volume, 0.0), 1.0)
        if volume == self._volume:
            return
        self._volume = volume
        if not self._volume:
            self.stop_speech()
        for player in self._players.values():
            player.volume = self._volume
            self._run(self._updated, player)

    def stop_speech(self) -> None:
        if not self._speaking:
            return  # nothing to stop: no message to the browser (Reset and Start call this each time)
        self._speaking = False
        player = self._players.get(self._speech) if self._speech else None
        if player is not None:
            self._waiting.discard(self._speech)
            self._run(player.pause)

    def close(self) -> None:
        # The tab is gone and its players with it; nothing may play from now on.
        self._closed = True
        self._players.clear()

    # ---- internals ---------------------------------------------------------------------------

    async def _load_ahead_later(self) -> None:
        await asyncio.sleep(LOAD_AHEAD_AFTER)
        self._load_ahead()

    def _load_ahead(self) -> None:
        if self._weapon is None or self._closed:
            return
        bank = self._bank
        for sound in [*bank.effects.values(), *bank.shots.get(self._weapon, []),
                      *bank.deploys.get(self._weapon, [])]:
            self._player(sound.key, sound.src)

    def _player(self, key: str, src: str | bytes, release_mode: Any = fta.ReleaseMode.STOP) -> fta.Audio:
        player = self._players.get(key)
        if player is None:
            player = fta.Audio(src=src, release_mode=release_mode, volume=self._volume,
                               on_loaded=lambda e, key=key: self._on_loaded(key),
                               on_state_change=lambda e, key=key: self._on_state(key, e))
            self._players[key] = player
        return player

    def _on_state(self, key: str, event: Any) -> None:
        _log_state(key, event)
        requested = self._requested.pop(key, None) if event.state is fta.AudioState.PLAYING else None
        if requested is not None and self.on_played is not None and not self._closed:
            latency = round((time.perf_counter() - requested) * 1000, 1)
            self.on_played(self._kinds.get(key, "sound"), latency, {})

    async def _updated(self, player: fta.Audio) -> None:
        player.update()

    def _on_loaded(self, key: str) -> None:
        player = self._players.get(key)
        if player is None:  # a sentence replaced before it finished loading
            return
        self._loaded.add(key)
        if key in self._waiting:
            self._waiting.discard(key)
            self._run(player.play)

    def _play(self, sound: WebSound | None) -> None:
        if sound is not None:
            self._play_key(sound.key, sound.src, sound.kind)

    def _play_key(self, key: str, src: str | bytes, kind: str,
                  release_mode: Any = fta.ReleaseMode.STOP) -> None:
        if not self._volume:
            return  # muted: the browser is not asked to play anything
        player = self._player(key, src, release_mode)
        self._kinds[key] = kind
        self._requested[key] = time.perf_counter()
        if key in self._loaded:
            self._run(player.play)
        else:
            self._waiting.add(key)

    async def _play_in_turn(self, sounds: list[WebSound]) -> None:
        for sound in sounds:
            self._play(sound)
            await asyncio.sleep(sound.seconds)

    def _speak(self, wav: bytes, kind: str) -> None:
        if not self._volume:
            return
        self.stop_speech()
        if self._speech is not None:
            self._players.pop(self._speech, None)  # Flet unregisters players nobody references
            self._loaded.discard(self._speech)
            self._kinds.pop(self._speech, None)
            self._requested.pop(self._speech, None)
        self._speech_count += 1
        self._speech = f"speech {self._speech_count}"
        self._speaking = True
        # RELEASE: a sentence plays once, so the browser may free it when it ends.
        self._play_key(self._speech, wav, kind, fta.ReleaseMode.RELEASE)

    def _run(self, action: Callable[..., Awaitable[Any]], *args: Any) -> None:
        if self._closed:
            return
        try:
            self._page.run_task(self._call, action, *args)
        except Exception as error:
            self._failed(error, "run_task")

    async def _call(self, action: Callable[..., Awaitable[Any]], *args: Any) -> None:
        try:
            await asyncio.wait_for(action(*args), BROWSER_TIMEOUT)
        except Exception as error:  # e.g. the browser did not answer in time
            if not self._dropped(action):  # a dropped player's call was expected to fail
                self._failed(error, getattr(action, "__name__", "action"))

    def _dropped(self, action: Callable[..., Awaitable[Any]]) -> bool:
        """Whether `action` is a player's that reconnected() or close() let go."""
        player = getattr(action, "__self__", None)
        return isinstance(player, fta.Audio) and all(player is not mine for mine in self._players.values())

    def _failed(self, error: BaseException, step: str) -> None:
        log.debug("sound %s failed in the browser: %r", step, error)
        if self.on_error is not None and not self._closed:
            self.on_error(error, f"sound_out_web.{step}")


def _log_state(key: str, event: Any) -> None:
    log.debug("browser audio %s: %s", key, getattr(event.state, "value", event.state))
