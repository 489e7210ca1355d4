"""Where every sound and background lives, and gapless VOX sentences joined into one WAV.

Pure file lookups plus the stdlib `wave` module (no pygame, no numpy), so both the pygame player
and the web app (which hands WAV bytes or asset URLs to the browser) use it.

Our generated pack lives in ui/assets (see scripts/make_assets.py). A user may also point at their
own Half-Life / Counter-Strike `sound` folder: announcer words then come from its vox/<word>.wav,
shots and deploys from weapons/<weapon>-1.wav / <weapon>1.wav, <weapon>_deploy.wav and
<weapon>_boltpull.wav where those names exist. Anything missing or unreadable falls back to ours;
each bad file is logged once and skipped.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import wave
from array import array
from pathlib import Path

from ui.speed import NORMAL_SPEED, at_speed
from ui.timer import COUNTDOWN_SECONDS
from ui.vox import SILENCE_SECONDS, number_words
from ui.weapons import WEAPONS

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
UI_EFFECTS: tuple[str, ...] = ("start", "pause", "reset", "timeleft", "background")
ENDINGS: tuple[str, ...] = ("alarm", "explosion", "victory")
# What a weapon plays when drawn, in order (the M4A1 is cocked after it is drawn).
DEPLOY_PARTS: dict[str, tuple[str, ...]] = {"m4a1": ("deploy", "boltpull")}

# Joined sentences are 16-bit mono at 22.05 kHz: every source (our 8-bit 11 kHz words, a user's
# 8-bit or 16-bit clips) converts to it without loss of what speech needs, and the files stay small.
OUTPUT_RATE = 22050
# Word clips are trimmed to where the signal first/last exceeds 1 % of full scale (the level the
# generator trims at), so leading or trailing silence in a clip cannot put gaps into a sentence.
SILENCE_LEVEL = 328
_TOP_BIT_FLIPPED = bytes(byte ^ 0x80 for byte in range(256))  # bytes.translate table


class SoundPack:
    def __init__(self, root: Path = ASSETS_DIR, user_sound_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.user_sound_dir = Path(user_sound_dir) if user_sound_dir else None
        self._decoded: dict[Path, array | None] = {}  # None marks a file already logged as bad
        self._missing: set[str] = set()  # words already logged as having no clip
        self._countdowns: dict[tuple[int, float], bytes] = {}  # (first number, speed) -> WAV
        if self.user_sound_dir and not self.user_sound_dir.is_dir():
            log.warning("Sound folder %s does not exist; using the built-in sounds", self.user_sound_dir)
            self.user_sound_dir = None

    # ---- asset paths -------------------------------------------------------------------------

    def effect(self, name: str) -> Path:
        if name not in UI_EFFECTS:
            raise KeyError(f"unknown effect {name!r}; expected one of {UI_EFFECTS}")
        return self.root / "sounds" / "ui" / f"{name}.wav"

    def shot_variants(self, weapon: str) -> list[Path]:
        ours = sorted(self._weapon_dir(weapon).glob("shot*.wav"))
        # Counter-Strike names shots like ak47-1.wav, usp1.wav or m4a1_unsil-1.wav.
        pattern = re.compile(rf"{re.escape(weapon)}(_unsil)?-?\d+\.wav")
        theirs = sorted(path for path in self._user_files("weapons") if pattern.fullmatch(path.name.lower()))
        return self._usable_only(theirs) or self._usable_only(ours)

    def deploy(self, weapon: str) -> list[Path]:
        parts = DEPLOY_PARTS.get(weapon, ("deploy",))
        found = [self._first_usable([self._user_path("weapons", f"{weapon}_{part}.wav"),
                                     self._weapon_dir(weapon) / f"{part}.wav"]) for part in parts]
        return [path for path in found if path]

    def endings(self, only: str | None = None) -> list[Path]:
        """The usable ending sounds; `only` one of ENDINGS (an experiment's pick): just that one."""
        folder = self.root / "sounds" / "endings"
        return self._usable_only([folder / f"{name}.wav" for name in ENDINGS if only in (None, name)])

    def word(self, word: str) -> Path:
        """The clip for an announcer word: the user's vox file if usable, else ours; KeyError if none."""
        path = self._first_usable([self._user_path("vox", f"{word}.wav"),
                                   self.root / "sounds" / "vox" / f"{word}.wav"])
        if path is None:
            raise KeyError(f"no announcer clip for {word!r}")
        return path

    def backgrounds(self) -> list[tuple[str, Path]]:
        """(display name, image) for each background, e.g. ("Desert Dawn", .../desert_dawn.png)."""
        images = sorted((self.root / "backgrounds").glob("*.png"))
        return [(image.stem.replace("_", " ").title(), image) for image in images]

    def asset_url(self, path: Path) -> str | None:
        """The URL Flet's web server serves a file under the assets folder at ("/sounds/ui/start.wav").

        None for files outside it (a user's sound folder): send those as bytes instead.
        """
        try:
            relative = Path(path).resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        return "/" + relative.as_posix()

    # ---- joined speech -----------------------------------------------------------------------

    def sentence_wav(self, words: list[str], speed: float = NORMAL_SPEED) -> bytes:
        """One WAV of the words back to back (silence tokens as silence): plays without gaps.
        `speed` (ui.speed) plays the whole sentence faster or slower."""
        return _wav_bytes(at_speed(self._joined(words), speed))

    def prepare(self, word: str) -> None:
        """Decodes a word's clip now (a sentence decodes those it lacks when it is first said)."""
        self._token_samples(word)

    def countdown_wav(self, start: int = COUNTDOWN_SECONDS, speed: float = NORMAL_SPEED) -> bytes:
        """`start` down to one, each number starting on its second: in step with the display.
        At another `speed` each number is said faster or slower and still starts on its second."""
        if not 1 <= start <= COUNTDOWN_SECONDS:
            raise ValueError(f"the countdown starts at 1..{COUNTDOWN_SECONDS}, not {start}")
        key = (start, speed)
        if key not in self._countdowns:
            samples = array("h")
            for n in range(start, 0, -1):
                spoken = at_speed(self._joined(number_words(n)), speed)
                if len(spoken) > OUTPUT_RATE:
                    log.debug("%r is longer than a second; cut to keep the countdown in step", n)
                samples += spoken[:OUTPUT_RATE] + array("h", bytes(2 * max(0, OUTPUT_RATE - len(spoken))))
            self._countdowns[key] = _wav_bytes(samples)
        return self._countdowns[key]

    # ---- internals ---------------------------------------------------------------------------

    def _joined(self, words: list[str]) -> array:
        samples = array("h")
        for token in words:
            samples += self._token_samples(token)
        return samples

    def _token_samples(self, token: str) -> array:
        if token in SILENCE_SECONDS:
            return array("h", bytes(2 * round(SILENCE_SECONDS[token] * OUTPUT_RATE)))
        try:
            clip = self._decode(self.word(token))
        except KeyError:
            clip = None
        if clip is None:
            if token not in self._missing:
                self._missing.add(token)
                log.warning("No announcer clip for %r; it is left out of sentences", token)
            return array("h")
        return _trimmed(clip)

    def _weapon_dir(self, weapon: str) -> Path:
        if weapon not in WEAPONS:
            raise KeyError(f"unknown weapon {weapon!r}; expected one of {WEAPONS}")
        return self.root / "sounds" / "weapons" / weapon

    def _user_path(self, folder: str, name: str) -> Path | None:
        return self.user_sound_dir / folder / name if self.user_sound_dir else None

    def _user_files(self, folder: str) -> list[Path]:
        directory = self._user_path(folder, "")
        try:
            return [path for path in directory.iterdir() if path.is_file()] if directory else []
        except OSError:
            return []

    def _first_usable(self, candidates: list[Path | None]) -> Path | None:
        return next((path for path in candidates if path and path.is_file() and self._usable(path)), None)

    def _usable_only(self, paths: list[Path]) -> list[Path]:
        return [path for path in paths if self._usable(path)]

    def _usable(self, path: Path) -> bool:
        return self._decode(path) is not None

    def _decode(self, path: Path) -> array | None:
        """The file as 16-bit mono samples at OUTPUT_RATE, decoded once; None (logged once) if bad."""
        if path not in self._decoded:
            try:
                self._decoded[path] = _read_wav(path)
            except (OSError, EOFError, ValueError, wave.Error) as error:
                log.warning("Skipping unreadable sound %s: %s", path, error)
                self._decoded[path] = None
        return self._decoded[path]


def _read_wav(path: Path) -> array:
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        data = wav.readframes(wav.getnframes())
    if width == 1:
        # 8-bit WAV is unsigned, centred on 128: a byte with its top bit flipped is the high byte
        # of the 16-bit sample, (byte - 128) << 8, laid out little-endian with a zero low byte.
        wide = bytearray(2 * len(data))
        wide[1::2] = data.translate(_TOP_BIT_FLIPPED)
        data = bytes(wide)
    elif width != 2:
        raise ValueError(f"{width * 8}-bit samples are not supported (use 8 or 16-bit PCM)")
    samples = array("h")
    samples.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels == 2:
        pairs = zip(samples[::2], samples[1::2], strict=False)  # an odd last sample is dropped
        samples = array("h", [(left + right) // 2 for left, right in pairs])
    elif channels != 1:
        raise ValueError(f"{channels} channels are not supported")
    if not samples:
        raise ValueError("no audio in file")
    return _resampled(samples, rate)


def _resampled(samples: array, rate: int) -> array:
    """Linear interpolation to OUTPUT_RATE: plenty for speech and clicks, and tiny. The usual rates,
    half OUTPUT_RATE (Half-Life's own 11025 Hz: our words) and its multiples (44100 Hz), take
    shorter ways to the same samples: the web server decodes every word as its first tabs open."""
    if rate == OUTPUT_RATE:
        return samples
    if not 4000 <= rate <= 192000:
        raise ValueError(f"sample rate {rate} Hz is not plausible")
    if 2 * rate == OUTPUT_RATE:  # each sample, then the midpoint to the next one
        following = samples[1:]
        following.append(samples[-1])
        doubled = array("h", bytes(4 * len(samples)))
        doubled[0::2] = samples
        pairs = zip(samples, following, strict=True)
        doubled[1::2] = array("h", [(left + right) >> 1 for left, right in pairs])
        return doubled
    if rate % OUTPUT_RATE == 0:  # every output sample falls on an input sample
        skip = rate // OUTPUT_RATE
        return samples[: len(samples) // skip * skip: skip]
    step = rate / OUTPUT_RATE
    last = len(samples) - 1
    out = array("h")
    for index in range(int(len(samples) / step)):
        position = index * step
        left = int(position)
        right = min(left + 1, last)
        out.append(int(samples[left] + (samples[right] - samples[left]) * (position - left)))
    return out


def _trimmed(samples: array) -> array:
    """The samples from the first to the last one louder than SILENCE_LEVEL (empty if none is)."""
    first = next((i for i, value in enumerate(samples) if abs(value) > SILENCE_LEVEL), len(samples))
    last = next((i for i in range(len(samples) - 1, first - 1, -1) if abs(samples[i]) > SILENCE_LEVEL),
                first - 1)
    return samples[first: last + 1]


def _wav_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(OUTPUT_RATE)
        wav.writeframes(samples.tobytes())
    return buffer.getvalue()
