"""Sound playback on the machine running Python, with pygame's mixer.

Every sound is decoded once when the player is made; a click only starts a channel, so each call
returns at once. Speech has its own channel: a sentence is one joined Sound (no gaps between
words), and a new announcement replaces the one playing. With no sound device the player says so
once and stays silent; nothing here ever raises into the UI.

What a sound took is reported to `on_played` (the session samples it into `sound_played`): from the
request (the click's handler calling us) to pygame's play() returning, the part Python controls.
The mixer then starts it within one buffer (BUFFER frames, reported as `buffer_ms`), which SDL's
own thread decides and Python cannot see.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame prints a banner on import otherwise
import pygame

from ui.soundpack import UI_EFFECTS, SoundPack
from ui.speed import NORMAL_SPEED
from ui.timer import COUNTDOWN_SECONDS
from ui.vox import SILENCE_SECONDS, VOX_WORDS
from ui.weapons import WEAPONS

log = logging.getLogger(__name__)

# 44.1 kHz stereo 16-bit is what every device takes natively. 256 frames (5.8 ms) halve the wait for
# the next buffer that 512 gave (median click latency 6 ms -> 3 ms); SDL mixes in its own C thread,
# which never waits for Python's GIL, so the smaller buffer does not underrun on a busy machine.
FREQUENCY, BUFFER = 44100, 256
EFFECT_CHANNELS = 16  # enough for rapid fire to overlap
BUFFER_MS = round(BUFFER / FREQUENCY * 1000, 1)

Args = ParamSpec("Args")
PlayerMethod = Callable[Concatenate["AudioPlayer", Args], None]


def _never_raises(method: PlayerMethod[Args]) -> PlayerMethod[Args]:
    """Sound is decoration: a failure is logged and reported to `on_error` (the session's
    app_error), never raised into a click handler; silent skips."""
    @functools.wraps(method)
    def wrapper(self: AudioPlayer, *args: Args.args, **kwargs: Args.kwargs) -> None:
        if self.silent:
            return
        requested = time.perf_counter()
        self._played = None
        try:
            method(self, *args, **kwargs)
        except Exception as error:  # pygame raises several types; none may reach the UI
            log.warning("Sound %s%r failed: %s", method.__name__, args, error)
            if self.on_error is not None:
                self.on_error(error, f"audio.{method.__name__}")
            return
        if self._played is not None and self.on_played is not None:
            latency = round((time.perf_counter() - requested) * 1000, 3)
            self.on_played(self._played, latency, {"buffer_ms": BUFFER_MS})
    return wrapper


class AudioPlayer:
    """`ending` (one of the pack's ENDINGS, None: a random one each time) and `speed` (the
    announcer's, ui.speed) are a session's experiment variant (ui.variant)."""

    def __init__(self, pack: SoundPack, ending: str | None = None, speed: float = NORMAL_SPEED) -> None:
        self.pack = pack
        self.silent = True
        self.on_error: Callable[[BaseException, str], None] | None = None  # (error, where)
        # (sound, milliseconds from request to play(), what else was measured)
        self.on_played: Callable[[str, float, dict[str, float]], None] | None = None
        self._ending, self._speed = ending, speed
        self._volume = 1.0
        self._played: str | None = None  # what the current call started, for on_played
        self._owns_mixer = False
        self._effects: dict[str, pygame.mixer.Sound] = {}
        self._shots: dict[str, list[pygame.mixer.Sound]] = {}
        self._deploys: dict[str, pygame.mixer.Sound] = {}
        self._endings: list[pygame.mixer.Sound] = []
        self._tokens: dict[str, bytes] = {}  # word or silence token -> raw mixer-format samples
        self._unknown_tokens: set[str] = set()
        self._countdowns: dict[int, pygame.mixer.Sound] = {}  # first number -> the countdown from it
        self._speech_sound: pygame.mixer.Sound | None = None  # kept alive while it plays
        try:
            self._owns_mixer = not pygame.mixer.get_init()
            pygame.mixer.init(FREQUENCY, -16, 2, BUFFER)
        except pygame.error as error:
            log.warning("No sound device (%s); the app runs without sound", error)
            return
        pygame.mixer.set_num_channels(1 + EFFECT_CHANNELS)
        pygame.mixer.set_reserved(1)  # channel 0 is speech only; effects never take it
        self._speech = pygame.mixer.Channel(0)
        self.silent = False
        self._load()

    def _load(self) -> None:
        effects = {name: _decoded(self.pack.effect(name)) for name in UI_EFFECTS}
        self._effects = {name: sound for name, sound in effects.items() if sound}
        for weapon in WEAPONS:
            self._shots[weapon] = _decoded_all(self.pack.shot_variants(weapon))
            if parts := _decoded_all(self.pack.deploy(weapon)):
                self._deploys[weapon] = _joined([part.get_raw() for part in parts])
        self._endings = _decoded_all(self.pack.endings(self._ending))
        # Each word once, in the mixer's format: a sentence is then only a join of raw bytes.
        for token in sorted(VOX_WORDS | set(SILENCE_SECONDS)):
            if sound := _decoded(io.BytesIO(self.pack.sentence_wav([token])), token):
                self._tokens[token] = sound.get_raw()
        for start in range(COUNTDOWN_SECONDS, 0, -1):
            wav = self.pack.countdown_wav(start, self._speed)
            if sound := _decoded(io.BytesIO(wav), f"countdown from {start}"):
                self._countdowns[start] = sound

    # ---- effects -----------------------------------------------------------------------------

    @_never_raises
    def play_effect(self, name: str) -> None:
        self._play(self._effects.get(name), name)

    @_never_raises
    def play_shot(self, weapon: str) -> None:
        variants = self._shots.get(weapon)
        self._play(random.choice(variants) if variants else None, f"shot {weapon}")

    @_never_raises
    def play_deploy(self, weapon: str) -> None:
        self._play(self._deploys.get(weapon), f"deploy {weapon}")

    @_never_raises
    def play_ending(self) -> None:
        """The variant's ending sound, or one picked at random."""
        if self._endings:
            self._play(random.choice(self._endings), "ending")

    # ---- speech ------------------------------------------------------------------------------

    @_never_raises
    def say(self, words: list[str]) -> None:
        """Speak a VOX sentence (see ui.vox) as one gapless sound; replaces any speech playing."""
        for word in set(words) - self._tokens.keys() - self._unknown_tokens:
            self._unknown_tokens.add(word)
            log.warning("No announcer clip for %r; it is left out", word)
        clips = [self._tokens[word] for word in words if word in self._tokens]
        if not clips:
            return
        if self._speed == NORMAL_SPEED:
            self._speak(_joined(clips), "speech")
        # Resampled as the pack's 22.05 kHz mono sentence (a quarter of the mixer's samples), then
        # converted by pygame in C: a click must not wait for Python to resample stereo 44.1 kHz.
        elif sound := _decoded(io.BytesIO(self.pack.sentence_wav(words, self._speed)), "speech"):
            self._speak(sound, "speech")

    @_never_raises
    def say_countdown(self, start: int = COUNTDOWN_SECONDS) -> None:
        """The spoken countdown from `start`, one number per second: start it on the timer's
        "countdown" event (its number)."""
        if countdown := self._countdowns.get(start):
            self._speak(countdown, "countdown")

    @_never_raises
    def set_volume(self, volume: float) -> None:
        """0..1 for every sound from now on, and for those playing (0 mutes)."""
        self._volume = min(max(volume, 0.0), 1.0)
        for index in range(pygame.mixer.get_num_channels()):
            pygame.mixer.Channel(index).set_volume(self._volume)

    @_never_raises
    def stop_speech(self) -> None:
        self._speech.stop()

    def close(self) -> None:
        if self.silent:
            return
        self.silent = True
        try:
            pygame.mixer.stop()
            if self._owns_mixer:
                pygame.mixer.quit()
        except pygame.error as error:
            log.warning("Closing the mixer failed: %s", error)

    # ---- internals ---------------------------------------------------------------------------

    def _speak(self, sound: pygame.mixer.Sound, what: str) -> None:
        self._speech_sound = sound
        self._speech.play(sound)  # play() on a busy channel stops what it was playing
        self._speech.set_volume(self._volume)
        self._played = what

    def _play(self, sound: pygame.mixer.Sound | None, what: str) -> None:
        if sound is None:
            log.warning("No sound loaded for %s", what)
            return
        # force=True takes the longest-playing effect channel when all are busy, so a click always sounds.
        channel = pygame.mixer.find_channel(True)
        if channel is not None:
            channel.play(sound)
            channel.set_volume(self._volume)
            self._played = what.split(" ", 1)[0]  # "shot ak47" -> "shot": the kind of sound


def _decoded(source: Path | io.BytesIO, name: str = "") -> pygame.mixer.Sound | None:
    """Decode a sound into the mixer's format; None (logged) if it cannot be read."""
    try:
        return pygame.mixer.Sound(source if isinstance(source, io.BytesIO) else str(source))
    except (pygame.error, OSError) as error:
        log.warning("Skipping sound %s: %s", name or source, error)
        return None


def _decoded_all(paths: list[Path]) -> list[pygame.mixer.Sound]:
    return [sound for sound in map(_decoded, paths) if sound]


def _joined(raws: list[bytes]) -> pygame.mixer.Sound:
    """One Sound of several back to back: raw samples are already in the mixer's format."""
    return pygame.mixer.Sound(buffer=b"".join(raws))
