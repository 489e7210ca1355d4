import random

import pytest

from shared.timefmt import MAX_SECONDS
from ui.cycle import Phase
from ui.vox import SILENCE_SECONDS, VOX_WORDS, duration_words, number_words, phase_words, time_left_words


def sentence(words: list[str]) -> str:
    """Readable form: silence tokens become punctuation."""
    text = " ".join(words)
    return text.replace(" _comma", ",").replace(" _period", ".")


@pytest.mark.parametrize(("n", "words"), [
    (0, ["zero"]), (1, ["one"]), (9, ["nine"]), (10, ["ten"]), (13, ["thirteen"]),
    (19, ["nineteen"]), (20, ["twenty"]), (21, ["twenty", "one"]), (40, ["forty"]),
    (58, ["fifty", "eight"]), (99, ["ninety", "nine"]),
])
def test_number_words(n: int, words: list[str]) -> None:
    assert number_words(n) == words


def test_number_words_are_distinct_for_every_number() -> None:
    spoken = [" ".join(number_words(n)) for n in range(100)]
    assert len(set(spoken)) == 100


@pytest.mark.parametrize("n", [-1, 100])
def test_number_words_out_of_range(n: int) -> None:
    with pytest.raises(ValueError):
        number_words(n)


@pytest.mark.parametrize(("seconds", "text"), [
    (3910, "one hour, five minutes and ten seconds remaining"),
    (1, "one second remaining"),
    (2, "two seconds remaining"),
    (60, "one minute remaining"),
    (61, "one minute and one second remaining"),
    (1500, "twenty five minutes remaining"),
    (3600, "one hour remaining"),
    (7200, "two hours remaining"),
    (3601, "one hour and one second remaining"),
    (3660, "one hour and one minute remaining"),
    (7322, "two hours, two minutes and two seconds remaining"),
    (MAX_SECONDS, "ninety nine hours, fifty nine minutes and fifty nine seconds remaining"),
    (0, "time is up"),
    (-4, "time is up"),
])
def test_time_left_sentences(seconds: int, text: str) -> None:
    assert sentence(time_left_words(seconds)) == text


def test_time_left_uses_a_comma_silence_token() -> None:
    assert time_left_words(3910) == ["one", "hour", "_comma", "five", "minutes", "and", "ten",
                                     "seconds", "remaining"]


def test_vox_words_cover_everything_the_builders_say_and_nothing_more() -> None:
    rng = random.Random(5)
    samples = list(range(0, 7300)) + [rng.randrange(MAX_SECONDS + 1) for _ in range(3000)]
    produced = {word for seconds in samples for word in time_left_words(seconds)}
    produced |= {word for n in range(100) for word in number_words(n)}
    produced |= {word for phase in Phase for done in (False, True)
                 for word in phase_words(phase.value, 12, 90, done)}
    assert produced - set(SILENCE_SECONDS) == VOX_WORDS
    assert not VOX_WORDS & set(SILENCE_SECONDS)


@pytest.mark.parametrize("phase, cycle, seconds, done, text", [
    (Phase.FOCUS, 1, 1500, False, "focus one, twenty five minutes"),
    (Phase.SHORT_BREAK, 3, 300, True, "session complete. short break, five minutes"),
    (Phase.LONG_BREAK, 4, 900, True, "session complete. long break, fifteen minutes"),
    (Phase.SHORT_BREAK, 2, 90, False, "short break, one minute and thirty seconds"),  # a skipped focus
])
def test_phase_announcements(phase: Phase, cycle: int, seconds: int, done: bool, text: str) -> None:
    assert sentence(phase_words(phase.value, cycle, seconds, done)) == text


def test_a_duration_to_say_is_positive() -> None:
    with pytest.raises(ValueError):
        duration_words(0)
