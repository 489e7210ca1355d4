import pytest

from shared.timefmt import (
    MAX_SECONDS,
    TimeInputError,
    format_hms,
    format_short,
    normalize_time_input,
    parse_time_input,
)

GOOD = [
    ("00:25:00", 25 * 60, "00:25:00"),
    ("1:02:03", 3723, "01:02:03"),
    ("  01:00:00  ", 3600, "01:00:00"),
    ("\t25:00\n", 1500, "00:25:00"),
    ("5:07", 307, "00:05:07"),
    ("90", 90, "00:01:30"),
    ("7", 7, "00:00:07"),
    ("007", 7, "00:00:07"),
    ("0" * 5000 + "90", 90, "00:01:30"),  # leading zeros are not digits that count, even past 4,300
    ("99:59:59", MAX_SECONDS, "99:59:59"),
    ("359999", MAX_SECONDS, "99:59:59"),
    ("00:00:01", 1, "00:00:01"),
    ("120:00", 7200, "02:00:00"),  # MM:SS may carry more than 59 minutes, like a stopwatch
]

BAD = [
    ("", "Enter a time"),
    ("   ", "Enter a time"),
    ("abc", "digits"),
    ("1:2a", "digits"),
    ("1.5", "digits"),
    ("1::30", "digits"),
    (":30", "digits"),
    ("1 30", "digits"),
    ("²", "digits"),
    ("-5", "negative"),
    ("-00:01:00", "negative"),
    ("0", "longer than zero"),
    ("00:00:00", "longer than zero"),
    ("0:00", "longer than zero"),
    ("00:60", "Seconds must be below 60"),
    ("01:00:75", "Seconds must be below 60"),
    ("01:60:00", "Minutes must be below 60"),
    ("100:00:00", "longest time is 99:59:59"),
    ("360000", "longest time is 99:59:59"),
    ("1:2:3:4", "HH:MM:SS"),
    ("9" * 4301, "longest time is 99:59:59"),  # past int()'s 4,300-digit limit: a message, no ValueError
    ("x" * 10_000, "digits"),
]


@pytest.mark.parametrize(("text", "seconds", "normalized"), GOOD)
def test_good_inputs_parse_and_normalize(text: str, seconds: int, normalized: str) -> None:
    assert parse_time_input(text) == seconds
    assert normalize_time_input(text) == normalized


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_inputs_raise_a_readable_message(text: str, message: str) -> None:
    with pytest.raises(TimeInputError) as caught:
        parse_time_input(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00:00"), (65, "00:01:05"), (3723, "01:02:03"),
                                               (MAX_SECONDS, "99:59:59"), (-3, "00:00:00")])
def test_format_hms(seconds: int, text: str) -> None:
    assert format_hms(seconds) == text


def test_format_and_parse_round_trip() -> None:
    for seconds in range(1, MAX_SECONDS + 1, 4099):
        assert parse_time_input(format_hms(seconds)) == seconds


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00"), (754, "12:34"), (3599, "59:59"),
                                               (3600, "1:00:00"), (MAX_SECONDS, "99:59:59")])
def test_format_short(seconds: int, text: str) -> None:
    assert format_short(seconds) == text
