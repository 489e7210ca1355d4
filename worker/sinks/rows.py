"""Events as rows of the clickstream table (shared.schema), checked before they are sent.

BigQuery refuses a whole Storage Write request, or a whole load job, for one bad row; a row it would
refuse for its form (a REQUIRED value missing, a time that is not ISO 8601) is caught here instead,
so it is quarantined alone and never holds up the others. The checked values are then written as a
line of newline-delimited JSON (load jobs) or as a protocol buffer message whose descriptor is built
from the same schema (Storage Write API).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from shared import schema
from shared.event import Event
from worker.store import micros_since_epoch

Value = str | datetime | None
# The Storage Write API's proto type for each BigQuery type the schema uses; TIMESTAMP is int64
# microseconds since the epoch.
_PROTO_TYPES: dict[str, int] = {
    "STRING": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "TIMESTAMP": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
}
ROW_MESSAGE = "ClickstreamRow"


class CheckedRow(NamedTuple):
    event_id: str
    values: dict[str, Value]  # column name -> text, an aware UTC datetime, or None


def checked_rows(events: Sequence[Event]) -> tuple[list[CheckedRow], dict[str, str]]:
    """The events BigQuery can take, as rows, and the others' ids with what is wrong with them."""
    rows: list[CheckedRow] = []
    rejected: dict[str, str] = {}
    for event in events:
        try:
            rows.append(CheckedRow(event.event_id, _checked(event.row())))
        except ValueError as problem:
            rejected[event.event_id] = f"not sent, it does not fit the table: {problem}"
    return rows, rejected


def _checked(row: dict[str, str | None]) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for column in schema.COLUMNS:
        value = row.get(column.name)
        if value is None:
            if column.mode == "REQUIRED":
                raise ValueError(f"{column.name} is REQUIRED but missing")
            values[column.name] = None
        elif column.type == "TIMESTAMP":
            values[column.name] = _timestamp(column.name, value)
        else:
            values[column.name] = _text(column.name, value)
    return values


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:  # e.g. a lone surrogate: not valid in any BigQuery string
        raise ValueError(f"{name} is not valid Unicode text ({error.reason})") from None
    return value


def _timestamp(name: str, value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(name, value))
        # BigQuery reads a time without an offset as UTC.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: e.g. year 1 with a positive offset
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from None


def json_line(row: CheckedRow) -> bytes:
    """One line of newline-delimited JSON; times as ISO 8601 in UTC."""
    values = {name: value.isoformat() if isinstance(value, datetime) else value
              for name, value in row.values.items()}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def row_descriptor() -> descriptor_pb2.DescriptorProto:
    """The message type of one row, as the Storage Write API's writer schema.

    Fields are optional (proto2): REQUIRED is BigQuery's to enforce, so a row missing a value gets
    BigQuery's per-row error instead of failing to serialize here.
    """
    message = descriptor_pb2.DescriptorProto(name=ROW_MESSAGE)
    for number, column in enumerate(schema.COLUMNS, start=1):
        if column.type not in _PROTO_TYPES:
            raise TypeError(f"no protocol buffer type for BigQuery {column.type} ({column.name})")
        message.field.add(name=column.name, number=number, type=_PROTO_TYPES[column.type],
                          label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    return message


@functools.cache
def row_message_class() -> type[Message]:
    """The class of row_descriptor()'s message (built once: building a descriptor pool is slow)."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto(name="hl_vox_clickstream_row.proto",
                                                message_type=[row_descriptor()]))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(ROW_MESSAGE))


def proto_row(row: CheckedRow) -> bytes:
    """The row serialized as the message row_descriptor() describes."""
    fields = {name: micros_since_epoch(value) if isinstance(value, datetime) else value
              for name, value in row.values.items() if value is not None}
    return row_message_class()(**fields).SerializeToString()
