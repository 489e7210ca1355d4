"""Comparison 6: click -> first non-silent output sample, and silence at word joins of a sentence.

Method. The app's AudioPlayer runs in a fresh child with SDL's disk driver, which writes the mixed
output to a raw s16le file; latency is counted in samples of that stream.
- The stream's clock: a music track (pygame.mixer.music, apart from the effect channels) is started
  first: a short loud marker, then silence. pygame counts the frames mixed since the music started
  (its post-mix hook); music.get_pos() is that count in ms plus the ms since the last mix, and the
  marker's first sample is where the count starts in the file.
- A click reads get_pos() and at once calls the player (play_effect / play_shot / play_deploy). Its
  sound's first loud sample in the file gives the buffer it was mixed into and its own leading
  quiet frames. The click happened `ms since the last mix` into the previous buffer, which was
  sounding then (the driver outputs a buffer when it writes it). Latency = one buffer - that
  elapsed part + the leading quiet frames: the wait for the next mix plus the clip's own silence.
Why not SDL_DISKAUDIODELAY=0: the driver then writes as fast as the CPU allows, the stream runs
~100x faster than the wall clock and a click's offset in it measures the mixer thread's speed. We
keep SDL's own pacing (a sleep of one buffer period, in whole ms, between writes, as a device
consumes), so clicks at random wall-clock moments land at random phases of a buffer. Whole ms make
the stream run a few % fast, so the elapsed ms are turned into frames at the stream's measured rate.
Resolution: SDL's millisecond tick, about +-1 ms per click; a busy machine that delays the mixer
thread shows up as outliers (the max), which the median over many clicks shrugs off.

The sentence ("five minutes and ten seconds remaining", no pause tokens) is said once; the figure is
the longest silence (|sample| <= QUIET) touching a join between two words, in ms. The output is also
compared with the joined sentence sample for sample.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import tempfile
import time
import wave
from functools import partial
from pathlib import Path

from bench.child import emit, run_child
from bench.figures import Figure, Target

QUIET = 4  # |sample| at or below this is silence (as in tests/test_audio.py)
MARKER_SECONDS = 0.01
# Each click's sound plays this long (its start is mixed within one buffer), then all effect
# channels are stopped: the next click then starts from silence.
SOUND_SECONDS = 0.03
# Random wait before a click, so clicks fall at random phases of the mixer's buffer period; long
# enough that the stopped sound is silent well before the click.
GAP_SECONDS = (0.02, 0.035)
SENTENCE_SECONDS = 310  # "five minutes and ten seconds remaining"


def run(quick: bool) -> list[Figure]:
    from ui.audio import BUFFER, FREQUENCY

    clicks = 100 if quick else 1000  # the median of a uniform wait needs many
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(Path(tmp) / "out.raw"),
               # One buffer period in whole ms: SDL's own default, set so no outside value applies.
               "SDL_DISKAUDIODELAY": str(BUFFER * 1000 // FREQUENCY)}
        result = run_child("bench.audio_latency", tmp, str(clicks), env=env)
    note = f"{clicks} clicks, {BUFFER}-frame buffer at {FREQUENCY} Hz"
    return [
        Figure("click -> first sound sample, median", result["median_ms"], "ms", Target("<=", 6.0),
               note=note),
        Figure("click -> first sound sample, max", result["max_ms"], "ms", note=note),
        Figure("largest silence at a word join in a sentence", result["join_gap_ms"], "ms",
               Target("==", 0.0), note=f"output equals the joined sentence: {result['bit_exact']}"),
    ]


# ---- child ----------------------------------------------------------------------------------


def _marker_wav(path: Path, rate: int, seconds: float) -> None:
    """A loud square burst, then silence long enough to outlast the run (it keeps the clock going)."""
    import numpy as np

    samples = np.zeros(int(rate * seconds), np.int16)
    burst = int(rate * MARKER_SECONDS)
    samples[:burst] = np.where(np.arange(burst) % 20 < 10, 20000, -20000)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def _measure(tmp: Path, clicks: int) -> dict[str, object]:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from ui.audio import FREQUENCY, AudioPlayer
    from ui.soundpack import UI_EFFECTS, WEAPONS, SoundPack
    from ui.vox import time_left_words

    player = AudioPlayer(SoundPack())
    if player.silent:
        raise RuntimeError("the mixer did not start with SDL's disk driver")
    actions: list[partial[None]] = (
        [partial(player.play_effect, name) for name in UI_EFFECTS]
        + [partial(player.play_shot, weapon) for weapon in WEAPONS]
        + [partial(player.play_deploy, weapon) for weapon in WEAPONS])
    rng = random.Random(6)
    longest = clicks * (SOUND_SECONDS + GAP_SECONDS[1]) + 30  # the sentence and margins
    _marker_wav(tmp / "marker.wav", FREQUENCY, longest)
    pygame.mixer.music.load(str(tmp / "marker.wav"))
    pygame.mixer.music.play()
    time.sleep(0.1)

    clock_ms, wall = [], []
    for action in itertools.islice(itertools.cycle(actions), clicks):
        time.sleep(rng.uniform(*GAP_SECONDS))
        wall.append(time.perf_counter())
        clock_ms.append(_stream_clock_ms())
        action()
        time.sleep(SOUND_SECONDS)
        pygame.mixer.stop()

    time.sleep(GAP_SECONDS[1])
    words = time_left_words(SENTENCE_SECONDS)
    sentence_clock_ms = _stream_clock_ms()
    player.say(words)
    speech = pygame.mixer.Channel(0)  # AudioPlayer's speech channel
    sentence = speech.get_sound().get_raw()
    deadline = time.monotonic() + 30
    while speech.get_busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    word_frames = []  # after the sentence in the stream, so these short plays do not disturb it
    for word in words:
        player.say([word])
        word_frames.append(len(speech.get_sound().get_raw()) // 4)
        player.stop_speech()
    player.close()
    return _analyse(tmp / "out.raw", clock_ms, wall, sentence_clock_ms, sentence, word_frames)


def _stream_clock_ms() -> int:
    """pygame.mixer.music.get_pos(), read until two readings agree.

    get_pos() reads the mixed-frame count and the time of the last mix without a lock, so a read
    that races a buffer write can be a whole buffer off; two readings within a millisecond of each
    other were not torn.
    """
    import pygame

    reading = pygame.mixer.music.get_pos()
    for _ in range(10):
        previous, reading = reading, pygame.mixer.music.get_pos()
        if 0 <= reading - previous <= 1:
            return reading
    raise RuntimeError("pygame.mixer.music.get_pos() never gave two consistent readings")


def _analyse(out_path: Path, clock_ms: list[int], wall: list[float], sentence_clock_ms: int,
             sentence: bytes, word_frames: list[int]) -> dict[str, object]:
    import numpy as np

    from ui.audio import BUFFER, FREQUENCY

    out = np.fromfile(out_path, "<i2").reshape(-1, 2)[:, 0].astype(np.int32)
    loud = np.abs(out) > QUIET
    marker = int(np.flatnonzero(loud)[0])

    def first_loud(frame: float) -> int:
        start = int(frame)
        return start + int(np.flatnonzero(loud[start:])[0])

    # The stream's rate against the wall clock: get_pos() advances by the frames mixed.
    rate = (clock_ms[-1] - clock_ms[0]) / 1000 * FREQUENCY / (wall[-1] - wall[0])
    latencies = []
    for ms in clock_ms:
        # Search from half a buffer before where pygame's clock puts the click (it counts a buffer
        # as played once mixed); the previous click's sound was stopped well before.
        onset = first_loud(marker + ms * FREQUENCY / 1000 - 1.5 * BUFFER)
        latencies.append(_latency_frames(onset - marker, ms, rate, BUFFER, FREQUENCY) * 1000 / FREQUENCY)

    source = np.frombuffer(sentence, "<i2")[::2].astype(np.int32)
    lead = int(np.flatnonzero(np.abs(source) > QUIET)[0])
    start = first_loud(marker + sentence_clock_ms * FREQUENCY / 1000 - 1.5 * BUFFER) - lead
    played = out[start: start + len(source)]
    joins = np.cumsum(word_frames)[:-1]
    return {"median_ms": float(np.median(latencies)), "max_ms": float(np.max(latencies)),
            "stream_rate": rate, "bit_exact": bool(np.array_equal(played, source)),
            "join_gap_ms": _longest_quiet_at(played, joins) * 1000 / FREQUENCY}


def _latency_frames(onset: int, clock_ms: int, rate: float, buffer: int, frequency: int) -> float:
    """Frames from a click to its sound's first loud frame, both counted from the music's start.

    The sound starts in buffer `onset // buffer`, after `onset % buffer` quiet frames of its own
    clip. get_pos() at the click was the frames mixed before that buffer (floored to ms, as pygame
    does) plus the ms since they were mixed; the click was that far into the previous buffer, which
    was sounding then. A click whose sound missed the next buffer shows up as a negative elapsed
    time, hence a latency above one buffer.
    """
    mixed_buffers, lead = divmod(onset, buffer)
    elapsed_ms = clock_ms - 1000 * mixed_buffers * buffer // frequency
    return buffer + lead - elapsed_ms / 1000 * rate


def _longest_quiet_at(samples, joins) -> int:
    """Length in frames of the longest quiet run that touches any of the join positions."""
    import numpy as np

    quiet = np.concatenate([[False], np.abs(samples) <= QUIET, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)  # [start, end) of each quiet run
    return max((end - begin for begin, end in runs
                if any(begin <= join <= end for join in joins.tolist())), default=0)


if __name__ == "__main__":
    emit(_measure(Path(sys.argv[1]), int(sys.argv[2])))
