"""A clickstream event: the table's five columns plus event_id (the BigQuery insertId and spool key)."""

from __future__ import annotations

import json
import random
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
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":"))


def metadata_json(metadata: Any) -> str | None:
    """JSON text for metadata: never a Python repr, never over MAX_METADATA_BYTES, never raises."""
    if metadata is None:
        return None
    try:
        text = _ENCODER.encode(metadata)
    except (TypeError, ValueError):  # e.g. circular references or non-string keys
        text = json.dumps({"unserializable": str(metadata)}, ensure_ascii=False)
    # Characters are at most 4 UTF-8 bytes: short texts skip the encoding.
    if len(text) * 4 <= MAX_METADATA_BYTES or len(text.encode("utf-8")) <= MAX_METADATA_BYTES:
        return text
    # Keep a prefix of the original text so the row stays valid JSON and visibly cut. An eighth of the
    # limit leaves room for JSON escaping to grow it (at most 6x for control characters).
    head = text.encode("utf-8")[: MAX_METADATA_BYTES // 8].decode("utf-8", errors="ignore")
    return json.dumps({TRUNCATION_MARK: True, "original_bytes": len(text.encode("utf-8")), "head": head},
                      ensure_ascii=False)


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
