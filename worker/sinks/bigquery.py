"""The BigQuery sink: insertAll with our event_ids as insertIds, so a retried batch never duplicates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from google.cloud import bigquery

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_client import ERRORS, MAX_ROWS_PER_REQUEST, WRITE, Where, explain, make_client
from worker.sinks.base import Delivery, SinkUnavailable

log = logging.getLogger(__name__)

# Per-row reasons that mean "this row was fine, another row spoiled the request": send it again.
_RETRY_ROW_REASONS = frozenset({"stopped", "timeout", "backendError", "internalError"})


class BigQuerySink:
    name = "bigquery insert_all"
    max_batch = MAX_ROWS_PER_REQUEST
    min_interval = 0.0
    delivers_on_spool = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._where = Where(settings.bq_project or "", settings.table_id, settings.bq_endpoint)
        self._client: bigquery.Client | None = None

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        try:
            client = self._connect()
            # retry=None: the client's default retry may run for 600 s; the uploader owns retries so
            # they never outlive the shutdown budget.
            errors = client.insert_rows_json(
                self._where.table_id, [event.row() for event in events],
                row_ids=[event.event_id for event in events],
                retry=None,  # type: ignore[arg-type]  # the client takes None: no retry
                timeout=timeout)
        except ERRORS as error:
            raise SinkUnavailable(explain(error, WRITE, self._where)) from error
        return _delivery(events, errors)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _connect(self) -> bigquery.Client:
        if self._client is None:
            settings = self._settings
            self._client = make_client(self._where.project, settings.bq_endpoint, settings.bq_location)
        return self._client


def _delivery(events: Sequence[Event], row_errors: Sequence[dict[str, Any]]) -> Delivery:
    failed: dict[int, list[dict[str, Any]]] = {entry["index"]: entry["errors"] for entry in row_errors}
    delivery = Delivery()
    for index, event in enumerate(events):
        errors = failed.get(index)
        if errors is None:
            delivery.delivered.append(event.event_id)
        elif not all(error.get("reason") in _RETRY_ROW_REASONS for error in errors):
            delivery.rejected[event.event_id] = "; ".join(
                f"{e.get('reason')}: {e.get('location') or '-'}: {e.get('message')}" for e in errors)
    return delivery
