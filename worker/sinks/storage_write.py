"""The storage_write method: the BigQuery Storage Write API, one COMMITTED write stream with offsets.

Exactly once: the stream's name and next offset are kept in the local store, and each batch is
recorded there (ids and offset) before it is sent (worker/sinks/ledger.py). A batch whose answer
never came is sent again at the same offset: ALREADY_EXISTS then means it was written before, so it
is delivered, never doubled. OUT_OF_RANGE (our offset is past the stream's end) and a stream that no
longer exists get a new stream. BigQuery appends none of a request's rows when one is bad: the bad
rows are quarantined with BigQuery's message and the others are sent again at the same offset.

Rows are billed by their real size ($0.025 per GiB, the first 2 TiB a month free) and become
visible as soon as they are appended; a stream needs no finalizing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc
from google.api_core import exceptions as api_exceptions
from google.cloud.bigquery_storage_v1 import types

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_client import (
    ERRORS,
    GRPC_ENDPOINT_MISSING,
    MAX_ROWS_PER_REQUEST,
    WRITE,
    explain,
    first_line,
    make_write_client,
    seconds_left,
    table_path,
    write_api_where,
)
from worker.sinks.append_rows import AppendRowsConnection
from worker.sinks.base import Delivery, SinkUnavailable
from worker.sinks.ledger import InFlight, Ledger
from worker.sinks.rows import CheckedRow, checked_rows, proto_row, row_descriptor

if TYPE_CHECKING:
    from google.cloud.bigquery_storage_v1 import BigQueryWriteClient

log = logging.getLogger(__name__)

# An AppendRows request may carry 10 MB; this leaves room for the request's own fields.
MAX_REQUEST_BYTES = 9 * 1024 * 1024
_ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS.value[0]
_OUT_OF_RANGE = grpc.StatusCode.OUT_OF_RANGE.value[0]
_NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
# A row with its serialized form.
Encoded = tuple[CheckedRow, bytes]


class StreamGone(Exception):
    """The write stream no longer takes our rows at our offset: a new stream is needed."""

    def __init__(self, error: api_exceptions.GoogleAPICallError) -> None:
        super().__init__(first_line(error))
        self.error = error


class StorageWriteSink:
    name = "bigquery storage_write"
    max_batch = MAX_ROWS_PER_REQUEST  # the same batches as insertAll: one request each
    min_interval = 0.0
    delivers_on_spool = False

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self._endpoint = settings.bq_grpc_endpoint
        self._emulated = settings.bq_endpoint is not None
        self._where = write_api_where(settings.bq_project or "", settings.table_id, self._endpoint)
        self._table = table_path(settings.table_id)
        self._ledger = ledger
        self._descriptor = row_descriptor()
        self._client: BigQueryWriteClient | None = None
        self._connection: AppendRowsConnection | None = None

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        deadline = time.monotonic() + timeout
        inflight = self._ledger.current()
        if inflight is not None and inflight.landed:  # written before a crash, not yet settled
            return Delivery(delivered=[event.event_id for event in inflight.pending])
        if inflight is not None:  # sent before, answer unknown: the same rows at the same offset
            rows, rejected = checked_rows(inflight.pending)
            return self._write(_encoded(rows), deadline, inflight, rejected)
        rows, rejected = checked_rows(events)
        return self._write(_fitting(_encoded(rows), rejected), deadline, None, rejected)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._client is not None:
            self._client.transport.close()
            self._client = None
        self._ledger.close()

    # -- one batch -----------------------------------------------------------------------------

    def _write(self, rows: list[Encoded], deadline: float, inflight: InFlight | None,
               rejected: dict[str, str]) -> Delivery:
        """Appends the rows (recording them first unless they are the in-flight batch)."""
        if not rows:
            return Delivery(rejected=rejected)
        ids = [row.event_id for row, _ in rows]
        try:
            if inflight is None:
                stream, offset = self._stream(deadline)
                self._ledger.record(ids, _details(stream, offset))
                recorded = len(rows)
            else:
                stream, offset = inflight.details["stream"], int(inflight.details["offset"])
                recorded = len(inflight.ids)
            try:
                delivery = self._append(stream, offset, rows, recorded, deadline)
            except StreamGone as gone:
                log.info("write stream %s cannot take offset %d (%s); using a new stream",
                         stream, offset, gone)
                stream, offset = self._new_stream(deadline), 0
                self._ledger.record(ids, _details(stream, offset))
                delivery = self._append(stream, offset, rows, len(rows), deadline)
        except StreamGone as gone:  # the new stream too: BigQuery's trouble, tried again later
            raise SinkUnavailable(explain(gone.error, WRITE, self._where)) from gone.error
        except ERRORS as error:
            raise SinkUnavailable(explain(error, WRITE, self._where)) from error
        delivery.rejected.update(rejected)
        return delivery

    def _append(self, stream: str, offset: int, rows: list[Encoded], recorded: int,
                deadline: float) -> Delivery:
        """One AppendRows request and what its answer means; `recorded` is how many rows the batch
        had when it was first sent at this offset."""
        try:
            response = self._connect(stream).append([data for _, data in rows], offset,
                                                     seconds_left(deadline))
        except (api_exceptions.NotFound, api_exceptions.InvalidArgument) as error:
            # BigQuery says NOT_FOUND for a stream it dropped; the emulator, which forgets its streams
            # when restarted, "Invalid stream name". Either way, asking for the stream tells.
            if self._stream_exists(stream, deadline):
                raise
            raise StreamGone(error) from error
        ids = [row.event_id for row, _ in rows]
        code = response.error.code
        if code in (0, _ALREADY_EXISTS):
            if code == _ALREADY_EXISTS:
                log.info("%d event(s) at offset %d of %s were written before (the answer was lost): "
                         "delivered once", len(rows), offset, stream)
            end = offset + (len(rows) if code == 0 else recorded)
            self._ledger.landed(_details(stream, offset), {"stream": stream, "next_offset": str(end)})
            return Delivery(delivered=ids)
        refusal = api_exceptions.from_grpc_status(code, response.error.message, response=response)
        if code in (_OUT_OF_RANGE, _NOT_FOUND):
            raise StreamGone(refusal)
        if response.row_errors:
            return self._quarantine(stream, offset, rows, response.row_errors)
        raise refusal

    def _quarantine(self, stream: str, offset: int, rows: list[Encoded],
                    row_errors: Sequence[types.RowError]) -> Delivery:
        """BigQuery wrote none of the request's rows: the bad ones are quarantined and the rest become
        the batch in flight at the same offset, sent by the next send().

        (The local-bigquery emulator writes the good rows of such a request; resending them then
        answers ALREADY_EXISTS, which delivers them just the same.)"""
        bad = {error.index: f"refused by BigQuery: {error.message}" for error in row_errors}
        good = [row.event_id for index, (row, _) in enumerate(rows) if index not in bad]
        self._ledger.record(good, _details(stream, offset))
        return Delivery(rejected={rows[index][0].event_id: message for index, message in bad.items()})

    # -- stream and connection -------------------------------------------------------------------

    def _stream(self, deadline: float) -> tuple[str, int]:
        """The stored stream of this table and its next offset, or a new stream."""
        values = self._ledger.values()
        stream = values.get("stream", "")
        if stream.startswith(f"{self._table}/streams/"):
            return stream, int(values.get("next_offset", "0"))
        return self._new_stream(deadline), 0

    def _new_stream(self, deadline: float) -> str:
        created = self._write_client().create_write_stream(
            parent=self._table, write_stream=types.WriteStream(type_=types.WriteStream.Type.COMMITTED),
            retry=None, timeout=seconds_left(deadline))
        self._ledger.set_values({"stream": created.name, "next_offset": "0"})
        log.info("created write stream %s", created.name)
        return created.name

    def _stream_exists(self, stream: str, deadline: float) -> bool:
        try:
            self._write_client().get_write_stream(name=stream, retry=None, timeout=seconds_left(deadline))
        except (api_exceptions.NotFound, api_exceptions.InvalidArgument):
            return False
        return True

    def _connect(self, stream: str) -> AppendRowsConnection:
        connection = self._connection
        if connection is None or connection.stream != stream or not connection.usable:
            if connection is not None:
                connection.close()
            connection = AppendRowsConnection(self._write_client(), stream, self._descriptor)
            self._connection = connection
        return connection

    def _write_client(self) -> BigQueryWriteClient:
        if self._client is None:
            if self._emulated and self._endpoint is None:
                raise SinkUnavailable(GRPC_ENDPOINT_MISSING + WRITE.note)
            self._client = make_write_client(self._endpoint)
        return self._client


def _details(stream: str, offset: int) -> dict[str, str]:
    return {"stream": stream, "offset": str(offset)}


def _encoded(rows: list[CheckedRow]) -> list[Encoded]:
    return [(row, proto_row(row)) for row in rows]


def _fitting(rows: list[Encoded], rejected: dict[str, str]) -> list[Encoded]:
    """The leading rows that fit one request; the rest stay spooled for the next. A single row
    too big for any request is rejected."""
    fitting: list[Encoded] = []
    size = 0
    for row, data in rows:
        if len(data) > MAX_REQUEST_BYTES:
            rejected[row.event_id] = f"not sent: {len(data):,} bytes is over a request's limit"
            continue
        size += len(data)
        if size > MAX_REQUEST_BYTES:
            break
        fitting.append((row, data))
    return fitting
