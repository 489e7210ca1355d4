"""Sinks: where the uploader delivers spooled events. The uploader knows only the Sink protocol."""

from __future__ import annotations

from shared.settings import Settings
from worker.sinks.base import Delivery, Sink, SinkUnavailable
from worker.store import SinkStateStore

__all__ = ["Delivery", "Sink", "SinkUnavailable", "make_sink"]


def make_sink(settings: Settings) -> Sink:
    # Sinks are imported here so a local-only uploader never loads google.cloud (memory, start-up
    # time), and only the chosen BigQuery method's client (gRPC for storage_write) is loaded.
    if settings.sink != "bigquery":
        from worker.sinks.local import LocalSink

        return LocalSink()
    if settings.bq_method == "insert_all":
        from worker.sinks.bigquery import BigQuerySink

        return BigQuerySink(settings)
    from worker.sinks.ledger import Ledger

    # The exactly-once methods keep their batch in flight in the store, on a handle of their own.
    ledger = Ledger(SinkStateStore(settings.store_path), settings.bq_method)
    if settings.bq_method == "load":
        from worker.sinks.load_job import LoadJobSink

        return LoadJobSink(settings, ledger)
    from worker.sinks.storage_write import StorageWriteSink

    return StorageWriteSink(settings, ledger)
