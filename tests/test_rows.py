"""Events as rows before they go to BigQuery: the local check against shared.schema, the JSON line
of a load job and the protocol buffer of the Storage Write API, both from the same checked values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import descriptor_pb2

from shared.event import Event, EventFactory
from shared.schema import COLUMNS
from worker.sinks.rows import checked_rows, json_line, proto_row, row_descriptor, row_message_class

EVENT = EventFactory("s-1").make("button_click", "start_button", {"time_input": "00:05:00"})


def test_the_descriptor_is_the_schema() -> None:
    fields = [(f.name, f.number, f.type, f.label) for f in row_descriptor().field]
    kinds = {"STRING": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
             "TIMESTAMP": descriptor_pb2.FieldDescriptorProto.TYPE_INT64}
    assert fields == [(c.name, number, kinds[c.type], descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
                      for number, c in enumerate(COLUMNS, start=1)]


def test_a_row_is_the_same_as_json_and_as_protocol_buffer() -> None:
    event = EVENT._replace(timestamp="2026-03-01T01:02:03.000001+02:00")
    [row], rejected = checked_rows([event])
    assert rejected == {} and row.event_id == event.event_id
    as_json = json.loads(json_line(row))
    assert as_json == {**event.row(), "timestamp": "2026-02-28T23:02:03.000001+00:00"}
    message = row_message_class().FromString(proto_row(row))
    assert message.timestamp == 1_772_319_723_000_001  # exact microseconds, no float on the way
    assert (message.session_id, message.component, message.metadata) == (
        event.session_id, event.component, event.metadata)


def test_a_missing_nullable_value_stays_missing() -> None:
    [row], _ = checked_rows([EVENT._replace(metadata=None)])
    assert json.loads(json_line(row))["metadata"] is None
    assert not row_message_class().FromString(proto_row(row)).HasField("metadata")


def test_a_time_without_offset_is_utc_as_bigquery_reads_it() -> None:
    [row], _ = checked_rows([EVENT._replace(timestamp="2026-03-01T00:00:00")])
    assert json.loads(json_line(row))["timestamp"] == "2026-03-01T00:00:00+00:00"


@pytest.mark.parametrize("field, value, words", [
    ("timestamp", "not a time", "timestamp 'not a time' is not an ISO 8601 time"),
    ("timestamp", "0001-01-01T00:00:00+05:00", "is not an ISO 8601 time"),  # before year 1 in UTC
    ("session_id", None, "session_id is REQUIRED but missing"),
    ("component", "bad \udc80 text", "component is not valid Unicode text"),
])
def test_rows_bigquery_would_refuse_are_rejected_alone(field: str, value: str | None, words: str) -> None:
    values: dict[str, Any] = {**EVENT._asdict(), "event_id": "bad", field: value}
    bad = Event(**values)
    rows, rejected = checked_rows([EVENT, bad])
    assert [row.event_id for row in rows] == [EVENT.event_id]
    assert list(rejected) == ["bad"] and words in rejected["bad"]
