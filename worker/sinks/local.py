"""The embedded default sink: the store's clickstream table is the destination itself."""

from __future__ import annotations

from collections.abc import Sequence

from shared.event import Event
from worker.sinks.base import Delivery


class LocalSink:
    """Events are in the local clickstream table from the moment they are spooled: the uploader
    does not queue them for it. What another writer queued (the tracker's overflow, its leftovers at
    exit, a store from a BigQuery run) is delivered by marking it stored."""

    name = "local"
    max_batch = 5000  # a local transaction has no request-size limit; bigger batches, fewer commits
    min_interval = 0.0
    delivers_on_spool = True

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        return Delivery(delivered=[event.event_id for event in events])

    def close(self) -> None:
        pass
