import io
import logging
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from ui.soundpack import ASSETS_DIR, ENDINGS, OUTPUT_RATE, SILENCE_LEVEL, UI_EFFECTS, SoundPack
from ui.timer import COUNTDOWN_SECONDS
from ui.vox import SILENCE_SECONDS, VOX_WORDS, number_words, time_left_words
from ui.weapons import WEAPONS


def samples_of(wav_bytes: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, OUTPUT_RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int, channels: int = 1) -> None:
    """A test clip; float samples in -1..1, interleaved when stereo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if width == 1:
        data = np.round(samples * 127 + 128).astype(np.uint8).tobytes()
    else:
        data = np.round(samples * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(data)


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)


def longest_quiet_run(samples: np.ndarray) -> int:
    quiet = np.concatenate([[False], np.abs(samples.astype(int)) <= SILENCE_LEVEL, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    return int((edges[1::2] - edges[::2]).max()) if len(edges) else 0


@pytest.fixture(scope="module")
def pack() -> SoundPack:
    return SoundPack()


# ---- the committed pack -------------------------------------------------------------------------

def test_every_word_the_announcer_can_say_has_a_clip(pack: SoundPack) -> None:
    for word in VOX_WORDS:
        path = pack.word(word)
        assert path == ASSETS_DIR / "sounds" / "vox" / f"{word}.wav"
        with wave.open(str(path)) as wav:  # the Half-Life VOX format
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 1, 11025)
            assert 0.15 < wav.getnframes() / 11025 < 1.0  # a spoken word that fits a countdown second


def test_ui_weapon_and_ending_sounds_exist(pack: SoundPack) -> None:
    for name in UI_EFFECTS:
        assert pack.effect(name).is_file()
    assert set(WEAPONS) >= {"glock18", "usp", "deagle", "ak47", "m4a1", "awp"}
    for weapon in WEAPONS:
        shots = pack.shot_variants(weapon)
        assert len(shots) >= 2 and all(path.is_file() for path in shots)
        assert [path.name for path in pack.deploy(weapon)] == (
            ["deploy.wav", "boltpull.wav"] if weapon == "m4a1" else ["deploy.wav"])
    assert len(pack.endings()) == len(ENDINGS) >= 3


def test_shot_variants_differ(pack: SoundPack) -> None:
    for weapon in WEAPONS:
        first, second = (path.read_bytes() for path in pack.shot_variants(weapon)[:2])
        assert first != second


def test_backgrounds_are_named_modest_pngs(pack: SoundPack) -> None:
    backgrounds = pack.backgrounds()
    assert len(backgrounds) >= 6
    assert len({name for name, _ in backgrounds}) == len(backgrounds)
    for name, path in backgrounds:
        assert name and name[0].isupper() and "_" not in name
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == (960, 540)
        assert path.stat().st_size < 300_000


def test_the_whole_pack_stays_small() -> None:
    total = sum(path.stat().st_size for path in ASSETS_DIR.rglob("*") if path.is_file())
    assert total < 4_000_000


def test_unknown_names_raise_key_error(pack: SoundPack) -> None:
    with pytest.raises(KeyError):
        pack.effect("explode")
    with pytest.raises(KeyError):
        pack.shot_variants("bfg")
    with pytest.raises(KeyError):
        pack.word("banana")


def test_asset_urls_are_site_root_paths(pack: SoundPack, tmp_path: Path) -> None:
    assert pack.asset_url(ASSETS_DIR / "sounds" / "weapons" / "m4a1" / "shot1.wav") == \
        "/sounds/weapons/m4a1/shot1.wav"
    assert (pack.asset_url(pack.backgrounds()[0][1]) or "").startswith("/backgrounds/")
    assert pack.asset_url(tmp_path / "own.wav") is None


# ---- joined sentences ---------------------------------------------------------------------------

def test_a_sentence_is_its_words_back_to_back_without_gaps(pack: SoundPack) -> None:
    words = time_left_words(1500 + 37)  # twenty five minutes and thirty seven seconds remaining
    clips = [samples_of(pack.sentence_wav([word])) for word in words]
    joined = samples_of(pack.sentence_wav(words))
    assert np.array_equal(joined, np.concatenate(clips))
    boundaries = np.cumsum([len(clip) for clip in clips])[:-1]
    for boundary in boundaries:  # 2 ms either side of each join stays loud: no inserted silence
        assert longest_quiet_run(joined[boundary - 44: boundary + 44]) < 44


def test_word_clips_start_and_end_loud(pack: SoundPack) -> None:
    for word in VOX_WORDS:
        clip = samples_of(pack.sentence_wav([word]))
        assert abs(int(clip[0])) > SILENCE_LEVEL and abs(int(clip[-1])) > SILENCE_LEVEL


def test_silence_tokens_are_exact_silence(pack: SoundPack) -> None:
    one = samples_of(pack.sentence_wav(["one"]))
    for token, seconds in SILENCE_SECONDS.items():
        joined = samples_of(pack.sentence_wav(["one", token, "one"]))
        gap = round(seconds * OUTPUT_RATE)
        assert len(joined) == 2 * len(one) + gap
        assert not joined[len(one): len(one) + gap].any()


def test_countdown_numbers_start_on_the_second(pack: SoundPack) -> None:
    countdown = samples_of(pack.countdown_wav())
    assert len(countdown) == COUNTDOWN_SECONDS * OUTPUT_RATE
    for slot, n in enumerate(range(COUNTDOWN_SECONDS, 0, -1)):
        clip = samples_of(pack.sentence_wav(number_words(n)))
        second = countdown[slot * OUTPUT_RATE: (slot + 1) * OUTPUT_RATE]
        assert np.array_equal(second[: len(clip)], clip)  # the word starts on the second
        assert not second[len(clip):].any()  # and silence fills the rest


def test_unknown_words_are_left_out_and_logged_once(pack: SoundPack, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        first = pack.sentence_wav(["one", "xyzzy"])
        second = pack.sentence_wav(["xyzzy", "one"])
    assert first == second == pack.sentence_wav(["one"])
    assert sum("xyzzy" in record.getMessage() for record in caplog.records) == 1


# ---- a user's own Half-Life / Counter-Strike sound folder ---------------------------------------

@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    root = tmp_path / "sound"
    write_wav(root / "vox" / "five.wav", tone(0.3, 11025), 11025, 1)  # the real VOX format
    (root / "vox" / "four.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    stereo = np.repeat(tone(0.2, 44100), 2)
    write_wav(root / "weapons" / "ak47-1.wav", stereo, 44100, 2, channels=2)
    write_wav(root / "weapons" / "ak47-2.wav", stereo * 0.5, 44100, 2, channels=2)
    write_wav(root / "weapons" / "m4a1_deploy.wav", tone(0.2, 22050), 22050, 2)
    write_wav(root / "weapons" / "awp1.wav", tone(0.1, 22050), 22050, 1)  # 8-bit: fine
    (root / "weapons" / "deagle-1.wav").write_bytes(b"")  # empty: skipped
    return root


def test_user_files_are_used_where_names_match(user_dir: Path) -> None:
    pack = SoundPack(user_sound_dir=user_dir)
    assert pack.word("five") == user_dir / "vox" / "five.wav"
    assert pack.word("three") == ASSETS_DIR / "sounds" / "vox" / "three.wav"
    assert pack.shot_variants("ak47") == [user_dir / "weapons" / "ak47-1.wav",
                                          user_dir / "weapons" / "ak47-2.wav"]
    assert pack.shot_variants("awp") == [user_dir / "weapons" / "awp1.wav"]
    assert pack.shot_variants("glock18") == SoundPack().shot_variants("glock18")
    assert pack.deploy("m4a1") == [user_dir / "weapons" / "m4a1_deploy.wav",
                                   ASSETS_DIR / "sounds" / "weapons" / "m4a1" / "boltpull.wav"]


def test_bad_user_files_are_logged_once_and_fall_back(user_dir: Path, caplog) -> None:
    pack = SoundPack(user_sound_dir=user_dir)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert pack.word("four") == ASSETS_DIR / "sounds" / "vox" / "four.wav"
            assert pack.shot_variants("deagle") == SoundPack().shot_variants("deagle")
            pack.sentence_wav(["four", "five"])
    assert sum("four.wav" in record.getMessage() for record in caplog.records) == 1
    assert sum("deagle-1.wav" in record.getMessage() for record in caplog.records) == 1


def test_user_clips_are_converted_to_the_common_format(user_dir: Path) -> None:
    pack = SoundPack(user_sound_dir=user_dir)
    five = samples_of(pack.sentence_wav(["five"])).astype(float) / 32768
    # 0.3 s of a 440 Hz tone at 8-bit 11025 Hz comes back as the same tone at 22050 Hz (less the
    # quiet first/last samples that trimming removes).
    assert abs(len(five) - 0.3 * OUTPUT_RATE) < 0.002 * OUTPUT_RATE
    ideal = tone(0.3, OUTPUT_RATE)
    start = int(np.argmax(np.abs(ideal) > SILENCE_LEVEL / 32768))
    # The very last sample is held, not interpolated (there is no next source sample), so skip it.
    error = five[:-1] - ideal[start: start + len(five) - 1]
    assert np.max(np.abs(error)) < 0.02  # 8-bit quantization plus linear interpolation



@pytest.mark.parametrize("rate", [11025, 16000, 44100])  # the 2x path, the general one, every 2nd
@pytest.mark.parametrize("width", [1, 2])
def test_clips_are_interpolated_linearly_at_every_rate(tmp_path: Path, rate: int, width: int) -> None:
    noise = np.random.default_rng(rate + width).uniform(-1, 1, int(0.2 * rate))
    noise[0] = noise[-1] = 0.9  # loud at both ends: trimming keeps every sample
    write_wav(tmp_path / "vox" / "five.wav", noise, rate, width)
    decoded = samples_of(SoundPack(user_sound_dir=tmp_path).sentence_wav(["five"])).astype(int)
    if width == 1:  # unsigned 8-bit, centred on 128, becomes the high byte of a 16-bit sample
        source = (np.round(noise * 127 + 128).astype(int) - 128) * 256
    else:
        source = np.round(noise * 32767).astype(int)
    step = rate / OUTPUT_RATE
    positions = np.arange(int(len(source) / step)) * step
    expected = np.interp(positions, np.arange(len(source)), source)
    assert len(decoded) == len(expected)
    assert np.max(np.abs(decoded - expected)) <= 1  # truncated to whole samples
def test_a_missing_user_folder_means_our_sounds(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        pack = SoundPack(user_sound_dir=tmp_path / "nope")
    assert pack.word("one") == ASSETS_DIR / "sounds" / "vox" / "one.wav"
    assert "does not exist" in caplog.text


# ---- the generator reproduces the committed files -----------------------------------------------

def committed_files(under: Path) -> dict[str, bytes]:
    return {path.relative_to(under).as_posix(): path.read_bytes()
            for path in sorted(under.rglob("*")) if path.is_file()}


def test_synthesized_assets_match_the_generator(tmp_path: Path) -> None:
    make_assets = pytest.importorskip("scripts.make_assets")
    make_assets.write_synthesized(tmp_path)
    made = committed_files(tmp_path)
    committed = {name: data for name, data in committed_files(ASSETS_DIR).items() if name in made}
    assert len(made) > 30
    assert made.keys() == committed.keys()
    assert [name for name in made if made[name] != committed[name]] == []


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")
def test_word_bank_matches_the_generator(tmp_path: Path) -> None:
    make_assets = pytest.importorskip("scripts.make_assets")
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    if "1.51" not in version:
        pytest.skip(f"word bank was made with espeak-ng 1.51, this is {version.strip()}")
    make_assets.write_words(tmp_path)
    assert committed_files(tmp_path / "sounds" / "vox") == committed_files(ASSETS_DIR / "sounds" / "vox")
