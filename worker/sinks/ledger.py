"""The batch in flight of an exactly-once write method, kept in the local store.

A sink records a batch (its event ids, in order, and how it is sent: a stream and offset, a job id)
before it sends it, and marks it landed once BigQuery confirms it. The uploader settles the events
after send() returns; a crash anywhere in between leaves the record, so the next send resolves that
same batch the same way (same offset, same job id) instead of sending its events as something new:

- landed, events still in the outbox: BigQuery has them; they are delivered without a request;
- not landed: the sink asks BigQuery again in a way that cannot write the rows twice;
- every event settled: the record is done and cleared.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shared.event import Event
from worker.store import SinkStateStore

log = logging.getLogger(__name__)

_RECORD = "inflight"


@dataclass(frozen=True)
class InFlight:
    ids: tuple[str, ...]  # the batch as sent, in order
    pending: list[Event]  # those of its events still in the outbox, in the same order
    landed: bool  # BigQuery confirmed the batch
    details: dict[str, str] = field(default_factory=dict)  # how it was sent: stream, offset, job id


class Ledger:
    """One write method's view of the store's sink state: the in-flight record and the method's own
    named values (kept under "<method>.<name>")."""

    def __init__(self, store: SinkStateStore, method: str) -> None:
        self._store = store
        self.method = method

    def values(self) -> dict[str, str]:
        prefix = f"{self.method}."
        return {name.removeprefix(prefix): value for name, value in self._store.sink_values().items()
                if name.startswith(prefix)}

    def set_values(self, values: Mapping[str, str | None]) -> None:
        self._store.set_sink_values(self._named(values))

    def current(self) -> InFlight | None:
        """The batch in flight, or None when there is none left to resolve."""
        raw = self._store.sink_values().get(_RECORD)
        if raw is None:
            return None
        record = json.loads(raw)
        ids, pending = self._store.inflight()
        if not pending:  # settled by the uploader: done
            self.clear()
            return None
        inflight = InFlight(tuple(ids), pending, bool(record["landed"]), dict(record["details"]))
        if record["method"] != self.method and not inflight.landed:
            # Only the method that sent it can ask BigQuery whether it arrived.
            log.warning("%d event(s) sent with HL_VOX_BQ_METHOD=%s were not confirmed before the method "
                        "changed to %s; they are sent again and appear twice in BigQuery if the "
                        "earlier request arrived", len(pending), record["method"], self.method)
            self.clear()
            return None
        return inflight

    def record(self, ids: Sequence[str], details: Mapping[str, str]) -> None:
        """Durably notes a batch about to be sent, replacing any earlier record."""
        self._store.set_sink_values({_RECORD: self._encode(False, details)}, inflight=list(ids))

    def landed(self, inflight_details: Mapping[str, str], values: Mapping[str, str | None]) -> None:
        """BigQuery confirmed the recorded batch: noted together with `values` (e.g. the next offset)."""
        self._store.set_sink_values({**self._named(values), _RECORD: self._encode(True, inflight_details)})

    def clear(self) -> None:
        """No batch in flight any more (e.g. its only event was quarantined)."""
        self._store.set_sink_values({_RECORD: None}, inflight=[])

    def close(self) -> None:
        self._store.close()

    def _encode(self, landed: bool, details: Mapping[str, str]) -> str:
        return json.dumps({"method": self.method, "landed": landed, "details": dict(details)})

    def _named(self, values: Mapping[str, str | None]) -> dict[str, str | None]:
        return {f"{self.method}.{name}": value for name, value in values.items()}
