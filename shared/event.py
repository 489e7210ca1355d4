"""A clickstream event: the table's five columns plus event_id (the BigQuery insertId and spool key)."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

# Metadata above this size is cut so one runaway payload cannot bloat a batch (BigQuery rows max 1 MB).
MAX_METADATA_BYTES = 16 * 1024
TRUNCATION_MARK = "truncated"


class Event(NamedTuple):
    """A tuple so it pickles small and fast across the process queue."""

    event_id: str
    session_id: str
    timestamp: str  # ISO 8601, UTC
    event_type: str
    component: str
    metadata: str | None  # JSON text

    def row(self) -> dict[str, str | None]:
        """The five table columns, as BigQuery's insertAll wants them."""
        return {
            "session_id": self.session_id,
            "timestamp": self.timestamp,
            "event_type": self.event_type,
            "component": self.component,
            "metadata": self.metadata,
        }


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat()


def new_session_id() -> str:
    return str(uuid.uuid4())


def new_event_id() -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits.

    Time-ordered ids land at the end of the store's primary-key B-tree instead of at random places,
    which makes spooling several times cheaper than with UUIDv4; 74 random bits per millisecond
    keep them unique.
    """
    value = ((time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | random.getrandbits(12) << 64
             | 0b10 << 62 | random.getrandbits(62))
    # Formatting the hex ourselves skips uuid.UUID's validation; this runs on every click.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# One encoder for all events: json.dumps with non-default options builds a new one per call.
# allow_nan=False: NaN and Infinity are not JSON; `_bounded` has already replaced them by null.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False,
                            separators=(",", ":"))
# Limits of the copy `_bounded` makes before encoding, so a hostile value costs little on the
# caller's thread: nesting depth, containers' items and characters of text in all.
MAX_DEPTH = 32
MAX_ITEMS = 1000
# Half the size limit for text leaves room for JSON's quotes, commas and escapes. Keys are cut on
# their own: names stay readable however long the values are.
MAX_TEXT_CHARS = MAX_METADATA_BYTES // 2
MAX_KEY_CHARS = 128
_TOO_DEEP = "<nested too deep>"
# A flat dict within these bounds cannot exceed MAX_METADATA_BYTES by much: encoded as it is.
_PLAIN_ITEMS = 16
_PLAIN_TEXT = 512
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def metadata_json(metadata: Any) -> str | None:
    """Strict JSON text for metadata, never over MAX_METADATA_BYTES; never raises.

    What JSON cannot hold is made so it can: NaN and +-Infinity become null, lone surrogates are
    written as \\uXXXX escapes, keys that are not strings become their str(), other objects their
    str() (or "<unprintable TYPE>"), cycles and nesting past MAX_DEPTH a marker. Text past the size
    limit is cut before encoding, and a result still too big is replaced by a marked prefix.
    """
    if metadata is None:
        return None
    try:
        safe = metadata if _is_plain(metadata) else _bounded(metadata, MAX_DEPTH, [MAX_TEXT_CHARS])
        text = _ENCODER.encode(safe)
    except Exception as error:  # a bug in the copy above must still give a valid row
        text = json.dumps({"unserializable": type(error).__name__})
    if not text.isascii():
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates: only inside JSON strings, where escapes are valid
            text = _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
            size = len(text.encode("utf-8"))
    else:
        size = len(text)
    if size <= MAX_METADATA_BYTES:
        return text
    # Keep a prefix of the text so the row stays valid JSON and visibly cut. An eighth of the limit
    # leaves room for JSON escaping to grow it (at most 6x for control characters).
    head = text.encode("utf-8")[: MAX_METADATA_BYTES // 8].decode("utf-8", errors="ignore")
    return json.dumps({TRUNCATION_MARK: True, "original_bytes": size, "head": head})


def _is_plain(metadata: Any) -> bool:
    """The app's usual metadata, a small flat dict of short strings, whole numbers, booleans and
    None, needs no copy: checking that is cheaper than copying (this runs on every click)."""
    if type(metadata) is not dict or len(metadata) > _PLAIN_ITEMS:
        return False
    for key, value in metadata.items():
        kind = type(value)
        if type(key) is not str or len(key) > _PLAIN_TEXT:
            return False
        if not (value is None or kind is bool or kind is int or (kind is str and len(value) <= _PLAIN_TEXT)):
            return False
    return True


def _bounded(value: Any, depth: int, chars_left: list[int]) -> Any:
    """A JSON-safe copy of value within the limits above (chars_left is shared by the whole walk)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _cut(value, chars_left)
    if depth <= 0:
        return _TOO_DEEP
    if isinstance(value, dict):
        return {(key if isinstance(key, str) else _text_of(key))[:MAX_KEY_CHARS]:
                _bounded(item, depth - 1, chars_left)
                for key, item in itertools.islice(value.items(), MAX_ITEMS)}
    if isinstance(value, list | tuple):
        return [_bounded(item, depth - 1, chars_left) for item in itertools.islice(value, MAX_ITEMS)]
    return _cut(_text_of(value), chars_left)


def _cut(text: str, chars_left: list[int]) -> str:
    if len(text) <= chars_left[0]:
        chars_left[0] -= len(text)
        return text
    kept = text[: max(0, chars_left[0])]
    chars_left[0] = 0
    return kept


def _text_of(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a hostile __str__
        return f"<unprintable {type(value).__name__}>"


@dataclass(frozen=True)
class EventFactory:
    """Makes events for one default session; a web tab passes its own session_id."""

    session_id: str

    def make(self, event_type: str, component: str, metadata: Any = None,
             session_id: str | None = None) -> Event:
        return Event(
            event_id=new_event_id(),
            session_id=session_id or self.session_id,
            timestamp=utc_now_iso(),
            event_type=str(event_type),
            component=str(component),
            metadata=metadata_json(metadata),
        )
