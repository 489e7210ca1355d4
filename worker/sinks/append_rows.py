"""One Storage Write API connection: an AppendRows call (a bidirectional gRPC stream) to one write
stream, reused for request after request.

BigQuery counts open connections and asks clients to keep few and reuse them. The library's
AppendRowsStream does that, but its futures poll with a first wait of about a second and its opening
waits up to 600 s; here every wait is bounded by the caller's timeout (the uploader's exit budget).
One request is in flight at a time (the sink sends batch after batch), so each answer belongs to the
request before it. A reader thread turns the blocking response iterator into a queue the caller
waits on with a timeout.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as api_exceptions
from google.cloud.bigquery_storage_v1 import types
from google.protobuf import descriptor_pb2

if TYPE_CHECKING:
    from google.cloud.bigquery_storage_v1 import BigQueryWriteClient

log = logging.getLogger(__name__)


class ConnectionClosed(api_exceptions.ServiceUnavailable):
    """The server ended the AppendRows call without an error (it closes idle connections)."""


class AppendRowsConnection:
    def __init__(self, client: BigQueryWriteClient, stream: str,
                 descriptor: descriptor_pb2.DescriptorProto) -> None:
        self.stream = stream
        self._descriptor = descriptor
        self._requests: queue.SimpleQueue[types.AppendRowsRequest | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[types.AppendRowsResponse | Exception] = queue.SimpleQueue()
        self._schema_sent = False
        self._call: Any = None
        self._closed = False
        threading.Thread(target=self._read, args=(client,), name="append-rows", daemon=True).start()

    @property
    def usable(self) -> bool:
        """Open, and nothing arrived that no request asked for (an error that ended the call)."""
        return not self._closed and self._answers.empty()

    def append(self, rows: list[bytes], offset: int, timeout: float) -> types.AppendRowsResponse:
        """Sends serialized rows at `offset` and returns BigQuery's answer (which may carry an error
        status and row errors). Raises TimeoutError, or the api_core error that ended the call; the
        connection is closed then, as a late answer would be taken for the next request's."""
        request = types.AppendRowsRequest(
            offset=offset, proto_rows=types.AppendRowsRequest.ProtoData(
                rows=types.ProtoRows(serialized_rows=rows)))
        if not self._schema_sent:  # the first request of a connection names the stream and the schema
            request.write_stream = self.stream
            request.proto_rows.writer_schema = types.ProtoSchema(proto_descriptor=self._descriptor)
            self._schema_sent = True
        self._requests.put(request)
        try:
            answer = self._answers.get(timeout=max(0.0, timeout))
        except queue.Empty:
            self.close()
            raise TimeoutError(f"no answer from the Storage Write API within {timeout:.1f} s") from None
        if isinstance(answer, Exception):
            self.close()
            raise answer
        return answer

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)  # ends the request iterator: the call is half-closed
        if self._call is not None:
            self._call.cancel()

    def _read(self, client: BigQueryWriteClient) -> None:
        # Everything this thread meets goes to the waiting caller: it is the only one who can act.
        try:
            # The call blocks until the first answer, so it is made here rather than by the caller.
            self._call = client.append_rows(
                requests=iter(self._requests.get, None), retry=None, timeout=None,
                metadata=(("x-goog-request-params", f"write_stream={self.stream}"),))
            for response in self._call:
                self._answers.put(response)
            self._answers.put(ConnectionClosed("the Storage Write API closed the connection"))
        except Exception as error:
            if not self._closed:
                log.debug("AppendRows call to %s ended: %s", self.stream, error)
            self._answers.put(error)
