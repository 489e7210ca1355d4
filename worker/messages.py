"""The messages between the tracker (app process) and the uploader process, and the queue ends
each side sees. Both queues are multiprocessing queues; tests may pass any object with the same
methods (queue.Queue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.event import EventRow


@dataclass(frozen=True, slots=True)
class EventsBatch:
    """Tracker -> uploader: accepted events in sequence order, numbered first_seq, first_seq + 1, ...

    The tracker numbers every accepted event, one more than the last; a batch is a run of them.
    """

    first_seq: int
    rows: list[EventRow]

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.rows) - 1


@dataclass(frozen=True, slots=True)
class Stop:
    """Tracker -> uploader: flush for at most `budget` seconds, then exit."""

    budget: float


@dataclass(slots=True)
class UploaderStats:
    received: int = 0
    sent: int = 0
    failed: int = 0  # failed send attempts
    spooled: int = 0  # events waiting in the spool for the sink
    quarantined: int = 0
    last_error: str | None = None  # the latest problem with the sink or the store, None when fine
    # The latest problem's place and exception type, e.g. "sink:NotFound" (no message text): what the
    # app tracks as an app_error event.
    error_kind: str | None = None
    store_writable: bool = True


@dataclass(frozen=True, slots=True)
class Report:
    """Uploader -> tracker: every sequence number up to `acked` is committed to the spool."""

    acked: int
    stats: UploaderStats = field(default_factory=UploaderStats)


ToUploader = EventsBatch | Stop


class Inbox(Protocol):
    """The uploader's end of the events queue."""

    def get(self, block: bool = True, timeout: float | None = None) -> ToUploader: ...
    def get_nowait(self) -> ToUploader: ...


class Outbox(Protocol):
    """The uploader's end of the reports queue."""

    def put(self, obj: Report, block: bool = True, timeout: float | None = None) -> None: ...
