"""Sound for web sessions: played by the user's browser (flet-audio), never by the server.

`WebSoundBank` is made once per server process: it resolves every sound to what the browser can
load (an asset URL, or the file's bytes for a user's own sound folder) and joins the spoken
countdown. `BrowserAudio` is one per tab: it keeps one flet-audio player per sound, so repeated
clicks replay buffered audio, and one player for speech, replaced by each new sentence.
"""

from __future__ import annotations

import asyncio
import logging
import random
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import flet as ft
import flet_audio as fta

from ui.soundpack import UI_EFFECTS, WEAPONS, SoundPack
from ui.vox import VOX_WORDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebSound:
    key: str  # names the player, e.g. "/sounds/ui/start.wav"
    src: str | bytes
    seconds: float


class WebSoundBank:
    def __init__(self, pack: SoundPack, countdown_threshold: int = 5) -> None:
        self.pack = pack
        self.effects = {name: self._sound(pack.effect(name)) for name in UI_EFFECTS}
        self.shots = {weapon: [self._sound(path) for path in pack.shot_variants(weapon)]
                      for weapon in WEAPONS}
        self.deploys = {weapon: [self._sound(path) for path in pack.deploy(weapon)] for weapon in WEAPONS}
        self.endings = [self._sound(path) for path in pack.endings()]
        self.countdown = pack.countdown_wav(countdown_threshold)
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
    """The SoundOut of one browser tab. Create it inside the tab's main(page): players register there."""

    def __init__(self, page: ft.Page, bank: WebSoundBank) -> None:
        self._page = page
        self._bank = bank
        self._players: dict[str, fta.Audio] = {}
        self._speech: fta.Audio | None = None
        self._closed = False
        for sound in bank.effects.values():  # preloaded: the first click sounds at once too
            self._player(sound)

    def play_effect(self, name: str) -> None:
        self._play(self._bank.effects.get(name))

    def play_shot(self, weapon: str) -> None:
        variants = self._bank.shots.get(weapon)
        self._play(random.choice(variants) if variants else None)

    def play_deploy(self, weapon: str) -> None:
        parts = self._bank.deploys.get(weapon) or []
        for part in parts:
            self._player(part)  # load the later parts while the first one plays
        self._run(self._play_in_turn, parts)

    def play_ending(self) -> None:
        self._play(random.choice(self._bank.endings) if self._bank.endings else None)

    def say(self, words: list[str]) -> None:
        self._speak(self._bank.sentence(words))

    def say_countdown(self) -> None:
        self._speak(self._bank.countdown)

    def stop_speech(self) -> None:
        if self._speech is not None:
            self._run(self._speech.pause)

    def close(self) -> None:
        # The tab is gone: its players went with it; drop our references so nothing replays.
        self._closed = True
        self._players.clear()
        self._speech = None

    # ---- internals ---------------------------------------------------------------------------

    def _player(self, sound: WebSound) -> fta.Audio:
        player = self._players.get(sound.key)
        if player is None:
            # STOP keeps the audio buffered after it ends, so rapid fire replays without reloading.
            player = fta.Audio(src=sound.src, release_mode=fta.ReleaseMode.STOP,
                               on_state_change=lambda e, key=sound.key: _log_state(key, e))
            self._players[sound.key] = player
        return player

    def _play(self, sound: WebSound | None) -> None:
        if sound is not None:
            self._run(self._player(sound).play)

    async def _play_in_turn(self, sounds: list[WebSound]) -> None:
        for sound in sounds:
            await self._player(sound).play()
            await asyncio.sleep(sound.seconds)

    def _speak(self, wav: bytes) -> None:
        self.stop_speech()
        self._speech = fta.Audio(src=wav, on_state_change=lambda e: _log_state("speech", e))
        self._run(self._speech.play)

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
