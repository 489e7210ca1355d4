"""The announcer's speed: pure resampling, then on the sound pack's WAV bytes."""

from __future__ import annotations

import io
import wave
from array import array

import numpy as np
import pytest

from ui.soundpack import OUTPUT_RATE, SoundPack
from ui.speed import at_speed, is_valid_speed
from ui.timer import COUNTDOWN_SECONDS
from ui.vox import number_words, time_left_words


def samples_of(wav_bytes: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def test_double_speed_keeps_every_other_frame_and_half_speed_adds_midpoints() -> None:
    samples = array("h", [0, 100, 200, 300, -400, 500])
    assert at_speed(samples, 2.0) == array("h", [0, 200, -400])
    assert at_speed(samples, 0.5) == array("h", [0, 50, 100, 150, 200, 250, 300, -50, -400, 50, 500])
    assert at_speed(samples, 1.0) == samples and at_speed(samples, 1.0) is not samples


def test_stereo_frames_keep_their_channels_apart() -> None:
    left_right = array("h", [1, -1, 3, -3, 5, -5, 7, -7])
    assert at_speed(left_right, 2.0, channels=2) == array("h", [1, -1, 5, -5])
    assert at_speed(left_right, 0.5, channels=2)[:6] == array("h", [1, -1, 2, -2, 3, -3])


def test_the_length_follows_the_speed() -> None:
    samples = array("h", range(22050))
    for speed in (0.5, 0.8, 1.25, 1.5, 2.0):
        assert len(at_speed(samples, speed)) == pytest.approx(22050 / speed, abs=1)
    assert at_speed(array("h"), 1.5) == array("h")


@pytest.mark.parametrize("speed", [0.49, 2.01, 0, -1, float("nan"), float("inf"), "1.5", True, None])
def test_speeds_outside_the_range_are_refused(speed: object) -> None:
    assert not is_valid_speed(speed)
    with pytest.raises(ValueError):
        at_speed(array("h", [1, 2]), speed)  # type: ignore[arg-type]


def test_a_faster_sentence_is_the_joined_sentence_resampled() -> None:
    pack = SoundPack()
    words = time_left_words(1537)
    normal = samples_of(pack.sentence_wav(words))
    fast = samples_of(pack.sentence_wav(words, 1.25))
    assert np.array_equal(fast, np.frombuffer(at_speed(array("h", normal.tobytes()), 1.25), "<i2"))
    assert len(fast) == pytest.approx(len(normal) / 1.25, abs=1)
    assert np.array_equal(samples_of(pack.sentence_wav(words, 2.0)), normal[::2])


def test_a_slower_countdown_still_starts_each_number_on_its_second() -> None:
    pack = SoundPack()
    countdown = samples_of(pack.countdown_wav(speed=0.8))
    assert len(countdown) == COUNTDOWN_SECONDS * OUTPUT_RATE
    for slot, n in enumerate(range(COUNTDOWN_SECONDS, 0, -1)):
        word = samples_of(pack.sentence_wav(number_words(n), 0.8))[:OUTPUT_RATE]
        assert np.array_equal(countdown[slot * OUTPUT_RATE: slot * OUTPUT_RATE + len(word)], word)


def test_a_countdown_resumed_at_three_is_the_last_three_seconds_of_the_full_one() -> None:
    pack = SoundPack()
    full = samples_of(pack.countdown_wav())
    assert np.array_equal(samples_of(pack.countdown_wav(3)), full[2 * OUTPUT_RATE:])
    with pytest.raises(ValueError):
        pack.countdown_wav(0)
