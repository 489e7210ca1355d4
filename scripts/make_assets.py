"""Generate the app's own sound pack, backgrounds and icon into ui/assets.

Everything here is made from scratch (no Valve files): announcer words with espeak-ng + sox, the
other sounds and the images with numpy. Reproducible: every random choice is seeded from the
asset's name, so running it twice writes identical bytes.

Run from the repository root:  .venv/bin/python -m scripts.make_assets
Needs numpy (dev dependency) and the apt packages espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import struct
import subprocess
import tempfile
import wave
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ui.soundpack import ASSETS_DIR, DEPLOY_PARTS, ENDINGS, UI_EFFECTS
from ui.vox import VOX_WORDS
from ui.weapons import WEAPONS

log = logging.getLogger("make_assets")

RATE = 22050  # effects: 16-bit mono at 22.05 kHz is plenty for clicks and shots and keeps files small
# The announcer voice: espeak-ng's own "announcer" variant, slowed a little, then band-limited and
# stored like Half-Life's VOX clips (8-bit 11025 Hz mono). Silence is trimmed at both ends (1 %) so
# the clips join without gaps.
ESPEAK = ["espeak-ng", "-v", "en-us+announcer", "-s", "140", "-p", "30"]
SOX_WORD = ["-r", "11025", "-b", "8", "-c", "1", "{out}", "highpass", "120", "lowpass", "4500",
            "silence", "1", "0.005", "1%", "reverse", "silence", "1", "0.005", "1%", "reverse",
            "norm", "-1"]

Signal = np.ndarray


# ---------------------------------------------------------------------------------------------
# Synthesis building blocks (float signals in -1..1 at RATE)

def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def timeline(seconds: float) -> Signal:
    return np.arange(int(seconds * RATE)) / RATE


def band(signal: Signal, low: float, high: float) -> Signal:
    """Band-pass by zeroing FFT bins outside low..high Hz, with soft edges to avoid ringing."""
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(len(signal), 1 / RATE)
    gain = 1 / (1 + (low / np.maximum(freqs, 1e-3)) ** 4) / (1 + (freqs / high) ** 4)
    return np.fft.irfft(spectrum * gain, len(signal))


def decay(seconds: float, tau: float, attack: float = 0.001) -> Signal:
    t = timeline(seconds)
    return np.minimum(t / attack, 1) * np.exp(-t / tau)


def chirp(f_start: float, f_end: float, seconds: float, shape: Callable[[Signal], Signal] = np.sin) -> Signal:
    """A tone gliding exponentially from f_start to f_end (phase integrated, so no clicks)."""
    t = timeline(seconds)
    freq = f_start * (f_end / f_start) ** (t / seconds)
    return shape(2 * np.pi * np.cumsum(freq) / RATE)


def square(phase: Signal) -> Signal:
    """A soft square wave: bright like an old game beep but without aliasing harshness."""
    return np.tanh(4 * np.sin(phase))


def place(parts: list[tuple[float, Signal]], seconds: float) -> Signal:
    """Mix signals starting at the given times into one signal of the given length."""
    out = np.zeros(int(seconds * RATE))
    for start, part in parts:
        begin = int(start * RATE)
        part = part[: len(out) - begin]
        out[begin: begin + len(part)] += part
    return out


def finish(signal: Signal, peak: float = 0.9) -> Signal:
    """Normalize, saturate gently and fade the last 5 ms so nothing ends with a click."""
    signal = np.tanh(1.5 * signal / np.max(np.abs(signal))) / np.tanh(1.5) * peak
    fade = min(len(signal), int(0.005 * RATE))
    signal[-fade:] *= np.linspace(1, 0, fade)
    return signal


# ---------------------------------------------------------------------------------------------
# Sounds

def click(rng: np.random.Generator, pitch: float, seconds: float = 0.04) -> Signal:
    """A metallic tick: a noise spark plus a quickly damped resonance."""
    spark = band(rng.standard_normal(int(seconds * RATE)), 1500, 9000) * decay(seconds, 0.003)
    ring = np.sin(2 * np.pi * pitch * timeline(seconds)) * decay(seconds, 0.008)
    return spark + 0.6 * ring


def slide(rng: np.random.Generator, seconds: float, low: float, high: float) -> Signal:
    """Metal sliding on metal: band-limited noise swelling and fading."""
    envelope = np.sin(np.pi * timeline(seconds) / seconds) ** 2
    return 0.5 * band(rng.standard_normal(int(seconds * RATE)), low, high) * envelope


# Per weapon: thump pitch (Hz), body band (Hz), body decay, tail decay, length (s), silenced?
# Numbers chosen by ear-free reasoning: bigger calibres get lower thumps and longer tails.
SHOT_PROFILES = {
    "glock18": (180, (700, 6000), 0.018, 0.10, 0.45, False),
    "usp": (240, (500, 3000), 0.012, 0.05, 0.35, True),
    "deagle": (110, (400, 5000), 0.030, 0.22, 0.80, False),
    "ak47": (120, (500, 5500), 0.028, 0.16, 0.60, False),
    "m4a1": (140, (600, 7000), 0.022, 0.13, 0.55, False),
    "awp": (70, (300, 5000), 0.045, 0.45, 1.30, False),
}
assert set(SHOT_PROFILES) == set(WEAPONS)


def shot(weapon: str, variant: int) -> Signal:
    thump_hz, (low, high), body_tau, tail_tau, seconds, silenced = SHOT_PROFILES[weapon]
    rng = rng_for(f"{weapon}/shot{variant}")
    jitter = rng.uniform(0.92, 1.08)  # variants differ a little in pitch and length, like real shots
    n = int(seconds * RATE)
    crack = band(rng.standard_normal(n), 2000, 10000) * decay(seconds, 0.004)
    body = band(rng.standard_normal(n), low * jitter, high * jitter) * decay(seconds, body_tau * jitter)
    thump = chirp(thump_hz * 2.5 * jitter, thump_hz * jitter, seconds) * decay(seconds, body_tau * 2)
    tail = band(rng.standard_normal(n), 80, 1500) * decay(seconds, tail_tau * jitter, attack=0.01)
    if silenced:  # a suppressed "pfft": almost no crack or boom, then the slide cycling
        signal = 1.2 * body + 0.3 * thump + 0.2 * tail
        signal = place([(0, signal), (0.03, 0.5 * click(rng, 3200))], seconds)
    else:
        signal = 0.8 * crack + body + 1.2 * thump + 0.6 * tail
    return finish(signal)


def deploy(weapon: str) -> Signal:
    rng = rng_for(f"{weapon}/deploy")
    pitch = 2400 if weapon in ("glock18", "usp", "deagle") else 1700  # pistols are lighter
    return finish(place([
        (0.00, slide(rng, 0.18, 800, 5000)),
        (0.16, click(rng, pitch)),
        (0.30, click(rng, pitch * 1.3)),
    ], 0.40), peak=0.7)


def boltpull(weapon: str) -> Signal:
    rng = rng_for(f"{weapon}/boltpull")
    return finish(place([
        (0.00, click(rng, 1900)),
        (0.02, slide(rng, 0.12, 1000, 6000)),
        (0.14, click(rng, 2300)),
        (0.30, slide(rng, 0.08, 1200, 6000)),
        (0.37, 1.5 * click(rng, 1500, 0.06)),
    ], 0.50), peak=0.7)


# The synthesizer of each part a weapon plays when drawn (ui.soundpack.DEPLOY_PARTS lists them per weapon).
DEPLOY_SOUNDS: dict[str, Callable[[str], Signal]] = {"deploy": deploy, "boltpull": boltpull}


def blips(freqs: list[float], length: float = 0.07, gap: float = 0.02) -> Signal:
    notes = [square(2 * np.pi * f * timeline(length)) * decay(length, length / 2, 0.003) for f in freqs]
    return finish(place([(i * (length + gap), note) for i, note in enumerate(notes)],
                        len(freqs) * (length + gap)), peak=0.5)


def ui_sound(name: str) -> Signal:
    rng = rng_for(f"ui/{name}")
    if name == "start":
        return blips([660, 990])
    if name == "pause":
        return blips([990, 660])
    if name == "reset":
        sweep = chirp(1400, 250, 0.25, square) * decay(0.25, 0.12, 0.003)
        return finish(place([(0, click(rng, 2000)), (0.03, sweep)], 0.3), peak=0.5)
    if name == "timeleft":  # the attention chime before an announcement
        chime = [np.sin(2 * np.pi * f * timeline(0.3)) * decay(0.3, 0.1, 0.005) for f in (784, 523)]
        return finish(place([(0, chime[0]), (0.16, chime[1])], 0.5), peak=0.6)
    if name == "background":  # a whoosh: noise swelling through a rising band
        whoosh = band(rng.standard_normal(int(0.45 * RATE)), 300, 2500)
        whoosh *= np.sin(np.pi * timeline(0.45) / 0.45) ** 3
        return finish(whoosh + 0.1 * chirp(200, 800, 0.45), peak=0.5)
    raise ValueError(f"no recipe for UI sound {name!r}")


def ending(name: str) -> Signal:
    rng = rng_for(f"endings/{name}")
    if name == "alarm":  # a two-tone klaxon
        t = timeline(2.0)
        tone = np.where((t * 4).astype(int) % 2 == 0, 740.0, 554.0)
        signal = square(2 * np.pi * np.cumsum(tone) / RATE)
        return finish(band(signal, 200, 3000) * np.minimum(1, (2.0 - t) / 0.1))
    if name == "explosion":
        n = int(2.5 * RATE)
        blast = band(rng.standard_normal(n), 30, 4000) * decay(2.5, 0.25, 0.005)
        rumble = band(rng.standard_normal(n), 20, 250) * decay(2.5, 0.9, 0.05)
        return finish(blast + 2.0 * rumble)
    if name == "victory":  # a rising major arpeggio, the last note held
        notes = [(0.0, 523.25, 0.15), (0.15, 659.25, 0.15), (0.30, 783.99, 0.15), (0.45, 1046.5, 1.0)]
        parts = []
        for start, freq, seconds in notes:
            t = timeline(seconds)
            voice = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3, 4))
            parts.append((start, voice * decay(seconds, seconds * 0.7, 0.01)))
        return finish(place(parts, 1.5), peak=0.7)
    raise ValueError(f"no recipe for ending {name!r}")


def write_wav(path: Path, signal: Signal) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.round(np.clip(signal, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def speak_word(word: str, path: Path, workdir: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = workdir / f"{word}.wav"
    subprocess.run([*ESPEAK, "-w", str(raw), word], check=True)
    sox_args = [arg.replace("{out}", str(path)) for arg in SOX_WORD]
    subprocess.run(["sox", "-R", str(raw), *sox_args], check=True)


# ---------------------------------------------------------------------------------------------
# Images

WIDTH, HEIGHT = 960, 540

# name: (zenith colour, horizon colour, sun (x, y, colour) or None, cloud amount, stars?, ground colour)
SKIES = {
    "desert_dawn": ((40, 60, 120), (250, 170, 90), (0.72, 0.78, (255, 220, 150)), 0.35, False, (70, 45, 30)),
    "high_noon": ((30, 90, 190), (170, 210, 240), (0.30, 0.15, (255, 255, 235)), 0.55, False, (90, 80, 60)),
    "blood_sunset": ((50, 20, 60), (240, 80, 40), (0.50, 0.86, (255, 180, 90)), 0.45, False, (25, 10, 15)),
    "storm_front": ((45, 50, 60), (120, 125, 130), None, 0.95, False, (30, 32, 35)),
    "starry_night": ((5, 8, 25), (25, 35, 70), (0.80, 0.22, (230, 235, 255)), 0.15, True, (8, 10, 15)),
    "polar_aurora": ((5, 15, 30), (20, 60, 70), None, 0.10, True, (12, 20, 25)),
}


def smooth_noise(rng: np.random.Generator, height: int, width: int, octaves: int = 5) -> np.ndarray:
    """Fractal value noise in 0..1: random grids upsampled bilinearly and summed over octaves."""
    total = np.zeros((height, width))
    for octave in range(octaves):
        cells = 3 * 2**octave
        grid = rng.random((cells + 2, cells * 2 + 2))
        ys = np.linspace(0, cells, height)
        xs = np.linspace(0, cells * 2, width)
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
        bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
        total += (top * (1 - fy) + bottom * fy) / 2**octave
    return total / (2 - 2 ** (1 - octaves))


def sky(name: str) -> np.ndarray:
    zenith, horizon, sun, clouds, stars, ground = SKIES[name]
    rng = rng_for(f"backgrounds/{name}")
    y = np.linspace(0, 1, HEIGHT)[:, None, None]
    image = np.array(zenith) * (1 - y**1.5) + np.array(horizon) * y**1.5
    image = np.broadcast_to(image, (HEIGHT, WIDTH, 3)).copy()
    if stars:
        mask = rng.random((HEIGHT, WIDTH)) > 0.9985
        image[mask] = 200 + 55 * rng.random((int(mask.sum()), 1))
    if name == "polar_aurora":  # green curtains waving across the upper sky
        x = np.linspace(0, 1, WIDTH)[None, :]
        centre = 0.35 + 0.12 * np.sin(7 * x + 2 * np.sin(3 * x))
        curtain = np.exp(-((y[..., 0] - centre) / 0.12) ** 2) * smooth_noise(rng, HEIGHT, WIDTH, 3)
        image += curtain[..., None] * np.array([40, 220, 140])
    if sun:
        sx, sy, colour = sun
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
        distance = np.hypot(xx / HEIGHT - sx * WIDTH / HEIGHT, yy / HEIGHT - sy)
        glow = np.exp(-distance / 0.12) * 0.8 + (distance < 0.035)
        image += np.minimum(glow, 1)[..., None] * (np.array(colour) - image) * 0.9
    if clouds:
        density = np.clip((smooth_noise(rng, HEIGHT, WIDTH) - (1 - clouds)) * 2.5, 0, 1)
        density *= np.clip(1.3 - y[..., 0] * 1.2, 0, 1)  # thinner towards the horizon
        shade = np.array(horizon) * 0.6 + np.array([255, 255, 255]) * 0.3 * (not stars)
        image += density[..., None] * (shade - image) * 0.85
    # A ridge of hills along the bottom, so it reads as a landscape behind the timer.
    ridge = 0.82 + 0.07 * (smooth_noise(rng, 1, WIDTH, 4)[0] - 0.5) * 2
    land = np.linspace(0, 1, HEIGHT)[:, None] > ridge[None, :]
    image[land] = ground
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def icon(size: int = 256) -> np.ndarray:
    """A stopwatch: orange ring, two hands, on a dark rounded tile; drawn 4x larger, then averaged."""
    big = size * 4
    yy, xx = (np.mgrid[0:big, 0:big] + 0.5) / big - 0.5
    radius = np.hypot(xx, yy)
    tile = np.maximum(np.abs(xx), np.abs(yy)) < 0.47
    ring = (radius > 0.30) & (radius < 0.38)
    crown = (np.abs(xx) < 0.05) & (yy > -0.46) & (yy < -0.37)
    minute_hand = (np.abs(xx) < 0.022) & (yy < 0) & (yy > -0.26)
    angle_hand = np.abs(xx * 0.5 - yy * 0.866) < 0.022  # the second hand, pointing at four o'clock
    second_hand = angle_hand & (radius < 0.2) & (xx * 0.866 + yy * 0.5 > 0)
    image = np.zeros((big, big, 4))
    image[tile] = (30, 30, 34, 255)
    orange = (255, 140, 0, 255)
    for part in (ring, crown, minute_hand, second_hand):
        image[part] = orange
    image[radius < 0.03] = orange
    small = image.reshape(size, 4, size, 4, 4).mean(axis=(1, 3))
    return np.round(small).astype(np.uint8)


def write_png(path: Path, pixels: np.ndarray) -> None:
    """A PNG with the usual per-row filter choice (smallest absolute sum), written with zlib.

    zlib level 6: level 9 is ten times slower on these images for about 12 % smaller files.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width, channels = pixels.shape
    raw = pixels.astype(np.int16).reshape(height, width * channels)
    left = np.zeros_like(raw)
    left[:, channels:] = raw[:, :-channels]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    up_left = np.zeros_like(raw)
    up_left[1:, channels:] = raw[:-1, :-channels]
    estimate = left + up - up_left
    pa, pb, pc = np.abs(estimate - left), np.abs(estimate - up), np.abs(estimate - up_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    candidates = np.stack([raw, raw - left, raw - up, raw - (left + up) // 2, raw - paeth]) % 256
    cost = np.where(candidates < 128, candidates, 256 - candidates).sum(axis=2)
    choice = cost.argmin(axis=0)
    rows = candidates[choice, np.arange(height)].astype(np.uint8)
    data = np.concatenate([choice.astype(np.uint8)[:, None], rows], axis=1).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    colour_type = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(data, 6)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------

def write_words(root: Path) -> None:
    """The announcer word bank (espeak-ng + sox)."""
    with tempfile.TemporaryDirectory() as workdir:
        for word in sorted(VOX_WORDS):
            speak_word(word, root / "sounds" / "vox" / f"{word}.wav", Path(workdir))


def write_synthesized(root: Path) -> None:
    """Everything made with numpy alone: UI sounds, weapons, endings, backgrounds and the icon."""
    sounds = root / "sounds"
    for name in UI_EFFECTS:
        write_wav(sounds / "ui" / f"{name}.wav", ui_sound(name))
    for weapon in WEAPONS:
        for variant in (1, 2):
            write_wav(sounds / "weapons" / weapon / f"shot{variant}.wav", shot(weapon, variant))
        for part in DEPLOY_PARTS.get(weapon, ("deploy",)):
            write_wav(sounds / "weapons" / weapon / f"{part}.wav", DEPLOY_SOUNDS[part](weapon))
    for name in ENDINGS:
        write_wav(sounds / "endings" / f"{name}.wav", ending(name))
    for name in SKIES:
        write_png(root / "backgrounds" / f"{name}.png", sky(name))
    write_png(root / "icon.png", icon())


def generate(root: Path) -> None:
    # Only the folders this script owns are cleared, so renamed assets leave no stale files behind.
    for owned in ("sounds", "backgrounds"):
        shutil.rmtree(root / owned, ignore_errors=True)
    write_words(root)
    write_synthesized(root)
    log.info("wrote %d files under %s", sum(1 for p in root.rglob("*") if p.is_file()), root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="assets folder (default: ui/assets)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.out)


if __name__ == "__main__":
    main()
