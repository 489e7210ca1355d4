"""The contract between the uploader loop and a sink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.event import Event


@dataclass
class Delivery:
    """What happened to a batch. Events in neither map stay spooled and are sent again later."""

    delivered: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # event_id -> error text (quarantined)


class SinkUnavailable(Exception):
    """The whole batch could not be sent now (network, server, credentials, missing table).

    The events stay spooled; the uploader backs off and tries again.
    """


class Sink(Protocol):
    name: str
    max_batch: int  # most events one send() takes
    # Least seconds between the starts of two sends (0: none), for a destination that limits how
    # often it is written (load jobs: a daily quota). The uploader keeps it, except that its final
    # flush at exit always makes one send.
    min_interval: float
    # True when the store's clickstream table is the destination itself: spooling an event delivers
    # it, so it never waits in the outbox (the local sink).
    delivers_on_spool: bool

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        """Delivers one batch (<= max_batch events) within `timeout` seconds or raises SinkUnavailable."""
        ...

    def close(self) -> None: ...
