"""The BigQuery sink: insertAll with our event_ids as insertIds, so a retried batch never duplicates."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import google.auth.exceptions
import requests.exceptions
from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_table import make_client
from worker.policy import MAX_ROWS_PER_REQUEST
from worker.sinks.base import Delivery, SinkUnavailable

log = logging.getLogger(__name__)

# Per-row reasons that mean "this row was fine, another row spoiled the request": send it again.
_RETRY_ROW_REASONS = frozenset({"stopped", "timeout", "backendError", "internalError"})


class BigQuerySink:
    name = "bigquery"
    max_batch = MAX_ROWS_PER_REQUEST

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.table_id = settings.table_id
        self._client: bigquery.Client | None = None

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        client = self._connect()
        try:
            # retry=None: the client's default retry may run for 600 s; the uploader owns retries so
            # they never outlive the shutdown budget.
            errors = client.insert_rows_json(
                self.table_id, [event.row() for event in events],
                row_ids=[event.event_id for event in events], retry=None, timeout=timeout)
        except api_exceptions.NotFound as error:
            raise SinkUnavailable(
                f"BigQuery table {self.table_id} not found: run `python setup_bigquery.py` "
                "(events stay in the local spool)") from error
        except api_exceptions.Forbidden as error:
            # Also how BigQuery refuses streaming inserts in its free tier: keep its own reason.
            raise SinkUnavailable(
                f"Permission denied writing to {self.table_id} ({_first_line(error)}): the account "
                "needs the BigQuery Data Editor role (roles/bigquery.dataEditor), and streaming "
                "inserts need billing enabled on the project") from error
        except (api_exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError,
                requests.exceptions.RequestException) as error:
            raise SinkUnavailable(f"BigQuery insert failed: {type(error).__name__}: "
                                  f"{_first_line(error)}") from error
        return _delivery(events, errors)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _connect(self) -> bigquery.Client:
        if self._client is None:
            settings = self._settings
            try:
                self._client = make_client(settings.bq_project or "", settings.bq_endpoint,
                                           settings.bq_location)
            except google.auth.exceptions.DefaultCredentialsError as error:
                raise SinkUnavailable(
                    "No Google Cloud credentials found: run `gcloud auth application-default login` "
                    "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file "
                    "(events stay in the local spool)") from error
        return self._client


def _delivery(events: Sequence[Event], row_errors: list[dict[str, Any]]) -> Delivery:
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


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [""])[0][:300]
