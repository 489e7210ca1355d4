"""The one definition of the clickstream table, used by setup_bigquery.py, the sinks and the tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # BigQuery standard SQL type name
    mode: str  # REQUIRED or NULLABLE
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("session_id", "STRING", "REQUIRED",
           "Random UUID of the app run (desktop) or browser tab (web)"),
    Column("timestamp", "TIMESTAMP", "REQUIRED", "When the event happened (UTC)"),
    Column("event_type", "STRING", "REQUIRED",
           "Kind of event, e.g. button_click, weapon_select, app_start"),
    Column("component", "STRING", "REQUIRED",
           "UI component that produced the event, e.g. start_button"),
    Column("metadata", "STRING", "NULLABLE", "Additional context as a JSON string"),
)

PARTITION_FIELD = "timestamp"
PARTITION_TYPE = "DAY"
CLUSTERING_FIELDS: tuple[str, ...] = ("session_id", "event_type", "component")

DATASET_DESCRIPTION = "HL-VOX-TimeLEFT analytics"
TABLE_DESCRIPTION = "HL-VOX-TimeLEFT clickstream: one row per UI interaction"
