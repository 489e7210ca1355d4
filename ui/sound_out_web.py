"""Sound for web sessions: played by the user's browser (flet-audio), never by the server.

`WebSoundBank` is made once per server process: it resolves every sound to what the browser can
load (an asset URL, or the file's bytes for a user's own sound folder) and joins the spoken
countdown. `BrowserAudio` is one per tab: it keeps one flet-audio player per sound, so repeated
clicks replay buffered audio, and a fresh player for each spoken sentence.
"""

from __future__ import annotations

import asyncio
import logging
import random
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flet as ft
import flet_audio as fta

from ui.soundpack import UI_EFFECTS, SoundPack
from ui.vox import VOX_WORDS
from ui.weapons import WEAPONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebSound:
    key: str  # names the player, e.g. "/sounds/ui/start.wav"
    src: str | bytes
    seconds: float


class WebSoundBank:
    def __init__(self, pack: SoundPack) -> None:
        self.pack = pack
        self.effects = {name: self._sound(pack.effect(name)) for name in UI_EFFECTS}
        self.shots = {weapon: [self._sound(path) for path in pack.shot_variants(weapon)]
                      for weapon in WEAPONS}
        self.deploys = {weapon: [self._sound(path) for path in pack.deploy(weapon)] for weapon in WEAPONS}
        self.endings = [self._sound(path) for path in pack.endings()]
        self.countdown = pack.countdown_wav()
        # Decode every announcer word now, so a click only joins samples already in memory.
        pack.sentence_wav(sorted(VOX_WORDS))

    def sentence(self, words: list[str]) -> bytes:
        return self.pack.sentence_wav(words)

    def _sound(self, path: Path) -> WebSound:
        url = self.pack.asset_url(path)
        with wave.open(str(path), "rb") as wav:
            seconds = wav.getnframes() / wav.getframerate()
        return WebSound(key=url or str(path), src=url or path.read_bytes(), seconds=seconds)


class BrowserAudio:
    """The SoundOut of one browser tab. Create it inside the tab's main(page): players register there.

    A player asked to play before the browser has loaded its source plays once it reports loaded:
    play() on a source still loading is silently lost in the browser.
    """

    def __init__(self, page: ft.Page, bank: WebSoundBank, weapon: str) -> None:
        self._page = page
        self._bank = bank
        self._players: dict[str, fta.Audio] = {}
        self._loaded: set[str] = set()
        self._waiting: set[str] = set()  # asked to play while still loading
        self._speech_count = 0
        self._speech: str | None = None  # key of the current speech player
        self._closed = False
        # Loaded now, so the first clicks sound at once too.
        for sound in [*bank.effects.values(), *bank.shots.get(weapon, []), *bank.deploys.get(weapon, [])]:
            self._player(sound.key, sound.src)

    def play_effect(self, name: str) -> None:
        self._play(self._bank.effects.get(name))

    def play_shot(self, weapon: str) -> None:
        variants = self._bank.shots.get(weapon)
        self._play(random.choice(variants) if variants else None)

    def play_deploy(self, weapon: str) -> None:
        parts = self._bank.deploys.get(weapon) or []
        for sound in [*parts, *self._bank.shots.get(weapon, [])]:
            self._player(sound.key, sound.src)  # start loading what this weapon will play next
        self._run(self._play_in_turn, parts)

    def play_ending(self) -> None:
        self._play(random.choice(self._bank.endings) if self._bank.endings else None)

    def say(self, words: list[str]) -> None:
        self._speak(self._bank.sentence(words))

    def say_countdown(self) -> None:
        self._speak(self._bank.countdown)

    def stop_speech(self) -> None:
        player = self._players.get(self._speech) if self._speech else None
        if player is not None:
            self._waiting.discard(self._speech)
            self._run(player.pause)

    def close(self) -> None:
        # The tab is gone and its players with it; nothing may play from now on.
        self._closed = True
        self._players.clear()

    # ---- internals ---------------------------------------------------------------------------

    def _player(self, key: str, src: str | bytes, release_mode: Any = fta.ReleaseMode.STOP) -> fta.Audio:
        player = self._players.get(key)
        if player is None:
            player = fta.Audio(src=src, release_mode=release_mode,
                               on_loaded=lambda e, key=key: self._on_loaded(key),
                               on_state_change=lambda e, key=key: _log_state(key, e))
            self._players[key] = player
        return player

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
            self._play_key(sound.key, sound.src)

    def _play_key(self, key: str, src: str | bytes, release_mode: Any = fta.ReleaseMode.STOP) -> None:
        player = self._player(key, src, release_mode)
        if key in self._loaded:
            self._run(player.play)
        else:
            self._waiting.add(key)

    async def _play_in_turn(self, sounds: list[WebSound]) -> None:
        for sound in sounds:
            self._play(sound)
            await asyncio.sleep(sound.seconds)

    def _speak(self, wav: bytes) -> None:
        self.stop_speech()
        if self._speech is not None:
            self._players.pop(self._speech, None)  # Flet unregisters players nobody references
            self._loaded.discard(self._speech)
        self._speech_count += 1
        self._speech = f"speech {self._speech_count}"
        # RELEASE: a sentence plays once, so the browser may free it when it ends.
        self._play_key(self._speech, wav, fta.ReleaseMode.RELEASE)

    def _run(self, action: Callable[..., Awaitable[Any]], *args: Any) -> None:
        if self._closed:
            return
        try:
            self._page.run_task(_logged, action, *args)
        except Exception as error:  # e.g. the tab just disconnected: sound is never worth an error
            log.debug("sound not played: %s", error)


async def _logged(action: Callable[..., Awaitable[Any]], *args: Any) -> None:
    try:
        await action(*args)
    except Exception as error:
        log.debug("sound failed in the browser: %s", error)


def _log_state(key: str, event: Any) -> None:
    log.debug("browser audio %s: %s", key, getattr(event.state, "value", event.state))
