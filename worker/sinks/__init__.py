"""Sinks: where the uploader delivers spooled events. The uploader knows only the Sink protocol."""

from __future__ import annotations

from shared.settings import Settings
from worker.sinks.base import Delivery, Sink, SinkUnavailable

__all__ = ["Delivery", "Sink", "SinkUnavailable", "make_sink"]


def make_sink(settings: Settings) -> Sink:
    if settings.sink == "bigquery":
        # Imported here so a local-only uploader never loads google.cloud (memory, start-up time).
        from worker.sinks.bigquery import BigQuerySink

        return BigQuerySink(settings)
    from worker.sinks.local import LocalSink

    return LocalSink()
