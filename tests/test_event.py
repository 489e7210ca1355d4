import json
import math
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from shared.event import (
    MAX_DEPTH,
    MAX_METADATA_BYTES,
    MAX_TEXT_CHARS,
    TRUNCATION_MARK,
    EventFactory,
    metadata_json,
    new_event_id,
)


def parsed(text: str | None) -> Any:
    assert text is not None
    return json.loads(text)

def test_event_has_ids_utc_timestamp_and_json_metadata() -> None:
    event = EventFactory("session-1").make("button_click", "pause_button", {"is_paused": True})
    assert uuid.UUID(event.event_id).version == 7
    assert event.session_id == "session-1"
    stamp = datetime.fromisoformat(event.timestamp)
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 5
    assert parsed(event.metadata) == {"is_paused": True}
    assert event.metadata != str({"is_paused": True})  # JSON, never a Python repr
    assert set(event.row()) == {"session_id", "timestamp", "event_type", "component", "metadata"}


def test_explicit_session_and_no_metadata() -> None:
    event = EventFactory("default").make("app_start", "application", session_id="tab-2")
    assert event.session_id == "tab-2" and event.metadata is None


def test_unserializable_metadata_is_coerced() -> None:
    stamp = datetime(2026, 1, 2, tzinfo=UTC)
    assert parsed(metadata_json({"when": stamp})) == {"when": str(stamp)}
    circular: dict = {}
    circular["self"] = circular
    text = metadata_json(circular)
    assert text is not None and text.count('"self"') == MAX_DEPTH and "<nested too deep>" in text


def strict(text: str | None) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    assert text is not None
    text.encode("utf-8")  # no lone surrogates
    return json.loads(text, parse_constant=refuse)


def test_what_json_cannot_hold_is_made_strict_json() -> None:
    assert strict(metadata_json({"a": math.nan, "b": [math.inf, -math.inf, 1.5]})) == {
        "a": None, "b": [None, None, 1.5]}
    assert strict(metadata_json({"s": "\udcff x é", "\ud800": 1})) == {"s": "\udcff x é", "\ud800": 1}
    assert strict(metadata_json({1: "one", (2, 3): "pair"})) == {"1": "one", "(2, 3)": "pair"}

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("hostile")

    assert strict(metadata_json({"o": Unprintable()})) == {"o": "<unprintable Unprintable>"}


def test_long_text_is_cut_before_it_is_encoded() -> None:
    text = metadata_json({"blob": "a" * 10_000_000, "after": "b" * 10})
    parsed_text = strict(text)
    assert len(parsed_text["blob"]) == MAX_TEXT_CHARS and parsed_text["after"] == ""
    assert len(text or "") <= MAX_METADATA_BYTES + 100


def test_oversized_metadata_is_truncated_and_marked() -> None:
    text = metadata_json({"blob": "\x01" * (MAX_METADATA_BYTES * 2)})
    assert text is not None and len(text.encode()) <= MAX_METADATA_BYTES
    marked = parsed(text)
    assert marked[TRUNCATION_MARK] is True and marked["original_bytes"] > MAX_METADATA_BYTES


def test_event_ids_are_unique_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    time.sleep(0.002)  # ids of a later millisecond sort after all earlier ones
    assert new_event_id() > max(ids)
