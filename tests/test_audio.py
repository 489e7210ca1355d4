"""Playback through a real pygame mixer, with SDL's disk audio driver writing the output to a file.

SDL reads its driver settings when the mixer starts, so the mixer runs in one child process; the
test then reads the raw s16le stereo output it wrote.
"""

import io
import json
import logging
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from ui.soundpack import SoundPack
from ui.vox import time_left_words

RATE = 44100
QUIET = 4  # |sample| at or below this is silence (SDL's resampler leaves a few LSB around zeros)
MAX_GAP_MS = 5.0  # longest quiet stretch allowed inside speech (words have stop gaps of ~2 ms)
SENTENCE_SECONDS = 3910  # "one hour, five minutes and ten seconds remaining": one comma pause

CHILD = """
import json, sys, time
from ui.audio import AudioPlayer
from ui.soundpack import SoundPack
from ui.vox import time_left_words
import pygame

report = {}
player = AudioPlayer(SoundPack())
report["silent"] = player.silent
speech = pygame.mixer.Channel(0)

made = []
real_sound = pygame.mixer.Sound
pygame.mixer.Sound = lambda *args, **kwargs: made.append(1) or real_sound(*args, **kwargs)

started = time.perf_counter()
player.say(time_left_words(int(sys.argv[1])))
report["say_seconds"] = time.perf_counter() - started
report["sentence_frames"] = len(speech.get_sound().get_raw()) // 4
while speech.get_busy():
    time.sleep(0.001)
time.sleep(0.05)  # keep the next sounds clear of the sentence's tail in the output

made.clear()
started = time.perf_counter()
player.play_shot("ak47")
report["shot_seconds"] = time.perf_counter() - started
for call in (lambda: player.play_effect("start"), lambda: player.play_deploy("m4a1"), player.play_ending):
    call()
report["sounds_made_by_clicks"] = len(made)
time.sleep(0.05)

player.play_shot("bfg")  # unknown: logged, not raised
player.say(["xyzzy"])
player.say(time_left_words(3910))
player.say(["one"])
report["replaced"] = speech.get_sound().get_length() < 1.0
player.close()
player.say(["one"])  # after close: a no-op
print(json.dumps(report))
"""


def quiet_runs(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of every stretch of silence."""
    quiet = np.concatenate([[False], np.abs(samples.astype(int)) <= QUIET, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    return list(zip(edges[::2].tolist(), (edges[1::2] - edges[::2]).tolist(), strict=True))


def speech_gaps_ms(output: np.ndarray, frames: int) -> tuple[int, list[float]]:
    """Where speech starts in the output, and every silence longer than MAX_GAP_MS in its frames."""
    start = int(np.flatnonzero(np.abs(output.astype(int)) > QUIET)[0])
    speech = output[start: start + frames]
    gaps_ms = [length * 1000 / RATE for _, length in quiet_runs(speech)]
    return start, [gap for gap in gaps_ms if gap > MAX_GAP_MS]


def test_the_gap_check_can_fail() -> None:
    """Sanity for the checker: 20 ms of silence between two words is found, 1 ms is not."""
    rng = np.random.default_rng(1)
    word = (rng.standard_normal(4410) * 3000).astype(np.int16)
    for gap_ms, found in ((20, [20.0]), (1, [])):
        gap = np.zeros(int(RATE * gap_ms / 1000), np.int16)
        output = np.concatenate([np.zeros(500, np.int16), word, gap, word, np.zeros(500, np.int16)])
        assert speech_gaps_ms(output, 2 * len(word) + len(gap)) == (500, found)


@pytest.fixture(scope="module")
def disk_run(tmp_path_factory) -> tuple[dict, np.ndarray]:
    out = tmp_path_factory.mktemp("audio") / "out.raw"
    env = {**os.environ, "SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(out),
           "SDL_DISKAUDIODELAY": "0", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(SENTENCE_SECONDS)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    stereo = np.fromfile(out, "<i2").reshape(-1, 2)
    assert np.array_equal(stereo[:, 0], stereo[:, 1])  # mono sources, centred
    return report, stereo[:, 0]


def test_the_disk_driver_gives_a_real_mixer(disk_run) -> None:
    report, _ = disk_run
    assert report["silent"] is False


def test_a_sentence_plays_as_one_contiguous_run(disk_run) -> None:
    report, output = disk_run
    frames = report["sentence_frames"]
    with wave.open(io.BytesIO(SoundPack().sentence_wav(time_left_words(SENTENCE_SECONDS)))) as wav:
        expected = wav.getnframes() * RATE // wav.getframerate()
    assert abs(frames - expected) < 0.01 * RATE  # the joined sound is the whole sentence
    start, gaps = speech_gaps_ms(output, frames)
    assert len(gaps) == 1 and abs(gaps[0] - 250) < 3  # only the comma's pause, at its exact length
    # The speech ends where the joined sound ends: nothing was cut or spread out.
    loud = np.flatnonzero(np.abs(output[start: start + frames + RATE // 50].astype(int)) > QUIET)
    assert frames - int(0.005 * RATE) <= loud[-1] < frames


def test_a_shot_produces_output(disk_run) -> None:
    report, output = disk_run
    start, _ = speech_gaps_ms(output, report["sentence_frames"])
    after_speech = output[start + report["sentence_frames"] + RATE // 50:]
    assert np.abs(after_speech.astype(int)).max() > 8000


def test_clicks_return_at_once_and_decode_nothing(disk_run) -> None:
    report, _ = disk_run
    assert report["shot_seconds"] < 0.01
    assert report["say_seconds"] < 0.05
    assert report["sounds_made_by_clicks"] == 0


def test_a_new_announcement_replaces_the_one_playing(disk_run) -> None:
    report, _ = disk_run
    assert report["replaced"] is True


def test_no_sound_device_means_silent_mode(monkeypatch, caplog) -> None:
    pygame = pytest.importorskip("pygame")
    from ui.audio import AudioPlayer

    if pygame.mixer.get_init():
        pytest.skip("a mixer is already running in this process")
    monkeypatch.setenv("SDL_AUDIODRIVER", "nonexistent")
    with caplog.at_level(logging.WARNING):
        player = AudioPlayer(SoundPack())
        assert player.silent is True
        player.play_effect("start")
        player.play_shot("awp")
        player.play_deploy("m4a1")
        player.play_ending()
        player.say(time_left_words(61))
        player.say_countdown()
        player.stop_speech()
        player.close()
    assert len(caplog.records) == 1 and "No sound device" in caplog.text
    assert not pygame.mixer.get_init()
