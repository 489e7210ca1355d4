"""The clickstream document's four questions, asked of BigQuery or of the local SQLite store.

Each question is written once per dialect only where the dialects differ, and both versions return
the same columns with the same values: timestamps as ISO-8601 UTC text with microseconds, counts and
hours as integers, so a report from either source compares equal.

This module imports no google.cloud at import time: the UI calls local_report() for its Stats view.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.settings import Settings
from worker.store import EPOCH, EVENTS_WITH_MICROS, micros_since_epoch, reader

Row = dict[str, str | int]
Report = dict[str, list[Row]]

# Interactive command: give up after this long instead of the client's default 600 s of retries.
BIGQUERY_TIMEOUT = 30.0


class ReportError(Exception):
    """A report could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    columns: tuple[str, ...]
    bigquery_sql: str  # reads the CTE `events`; parameters @since (TIMESTAMP), @today (DATE)
    sqlite_sql: str  # reads the CTE `events` (with an integer `micros` column); :since, :today


def _sqlite_iso(micros: str) -> str:
    """SQL formatting integer microseconds like BigQuery's FORMAT_TIMESTAMP(_ISO_FORMAT, ...)."""
    return (f"strftime('%Y-%m-%dT%H:%M:%S', {micros} / 1000000, 'unixepoch') "
            f"|| printf('.%06d+00:00', {micros} % 1000000)")


_ISO_FORMAT = "%Y-%m-%dT%H:%M:%E6S+00:00"

_BIGQUERY_EVENTS = "WITH events AS (SELECT * FROM `{table_id}` WHERE timestamp >= @since)\n"
_SQLITE_EVENTS = f"WITH events AS (SELECT * FROM ({EVENTS_WITH_MICROS}) WHERE micros >= :since)\n"

_CLICKS_SQL = """SELECT component, COUNT(*) AS click_count
FROM events
WHERE event_type = 'button_click'
GROUP BY component
ORDER BY click_count DESC, component"""

# JSON_EXTRACT_SCALAR gives strings as they are, numbers and booleans as their JSON text, and NULL
# for objects, arrays and null; json_extract would give 5, 1 and '{...}', so the types are mapped.
_SQLITE_WEAPON = """CASE WHEN json_valid(metadata) THEN
    CASE json_type(metadata, '$.weapon')
        WHEN 'text' THEN metadata ->> '$.weapon'
        WHEN 'integer' THEN metadata -> '$.weapon'
        WHEN 'real' THEN metadata -> '$.weapon'
        WHEN 'true' THEN 'true'
        WHEN 'false' THEN 'false'
    END
END"""
_WEAPONS_SQL = """SELECT {weapon} AS weapon, COUNT(*) AS usage_count
FROM events
WHERE component IN ('shoot_gun_button', 'weapon_dropdown') AND {weapon} IS NOT NULL
GROUP BY weapon
ORDER BY usage_count DESC, weapon"""

QUESTIONS: tuple[Question, ...] = (
    Question("clicks_by_component", "Clicks by component", ("component", "click_count"),
             _CLICKS_SQL, _CLICKS_SQL),
    Question(
        "sessions", "Sessions",
        ("session_id", "session_start", "session_end", "session_duration_sec", "total_events"),
        f"""SELECT session_id,
    FORMAT_TIMESTAMP('{_ISO_FORMAT}', MIN(timestamp)) AS session_start,
    FORMAT_TIMESTAMP('{_ISO_FORMAT}', MAX(timestamp)) AS session_end,
    TIMESTAMP_DIFF(MAX(timestamp), MIN(timestamp), SECOND) AS session_duration_sec,
    COUNT(*) AS total_events
FROM events
GROUP BY session_id
ORDER BY session_start DESC, session_id""",
        # TIMESTAMP_DIFF counts whole seconds (1.9 s -> 1): integer division of microseconds does too.
        f"""SELECT session_id,
    {_sqlite_iso('start_us')} AS session_start,
    {_sqlite_iso('end_us')} AS session_end,
    (end_us - start_us) / 1000000 AS session_duration_sec,
    total_events
FROM (SELECT session_id, MIN(micros) AS start_us, MAX(micros) AS end_us, COUNT(*) AS total_events
      FROM events GROUP BY session_id)
ORDER BY session_start DESC, session_id"""),
    Question("weapon_popularity", "Weapon popularity", ("weapon", "usage_count"),
             _WEAPONS_SQL.format(weapon="JSON_EXTRACT_SCALAR(metadata, '$.weapon')"),
             _WEAPONS_SQL.format(weapon=f"({_SQLITE_WEAPON})")),
    Question(
        "hourly_today", "Events per hour of day, today (UTC)", ("hour", "event_count"),
        """SELECT EXTRACT(HOUR FROM timestamp) AS hour, COUNT(*) AS event_count
FROM events
WHERE DATE(timestamp) = @today
GROUP BY hour
ORDER BY hour""",
        """SELECT CAST(strftime('%H', micros / 1000000, 'unixepoch') AS INTEGER) AS hour,
    COUNT(*) AS event_count
FROM events
WHERE date(micros / 1000000, 'unixepoch') = :today
GROUP BY hour
ORDER BY hour"""),
)


def window(days: int | None, now: datetime | None = None) -> tuple[datetime, date]:
    """(since, today): events at or after `since` count; `today` is the current UTC date.

    days=None means all events; days=N means the last N*24 hours before `now`.
    """
    if days is not None and days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = EPOCH if days is None else max(EPOCH, now - timedelta(days=days))
    return since, now.date()


def local_report(store_path: Path, days: int | None = None, now: datetime | None = None) -> Report:
    """The four answers from the local store, {question name: [row dict, ...]}.

    A store that does not exist yet (tracking never ran) gives empty answers, not an error.
    """
    if not store_path.is_file():
        return {question.name: [] for question in QUESTIONS}
    since, today = window(days, now)
    params = {"since": micros_since_epoch(since), "today": today.isoformat()}
    with reader(store_path) as db:
        return {question.name: _sqlite_rows(db, _SQLITE_EVENTS + question.sqlite_sql, params)
                for question in QUESTIONS}


def _sqlite_rows(db: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Row]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def bigquery_report(settings: Settings, days: int | None = None,
                    now: datetime | None = None) -> Report:
    """The four answers from the BigQuery table of `settings`; raises ReportError."""
    # Imported here so the UI and local reports never load google.cloud.
    from google.cloud import bigquery

    from worker.bigquery_client import ERRORS, QUERY, Where, explain, make_client

    since, today = window(days, now)
    job_config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
        bigquery.ScalarQueryParameter("today", "DATE", today),
    ])
    retry = bigquery.DEFAULT_RETRY.with_timeout(BIGQUERY_TIMEOUT)
    events = _BIGQUERY_EVENTS.format(table_id=settings.table_id)
    where = Where(settings.bq_project or "", settings.table_id, settings.bq_endpoint)
    client = None
    try:
        client = make_client(where.project, settings.bq_endpoint, settings.bq_location)
        report: Report = {}
        for question in QUESTIONS:
            job = client.query(events + question.bigquery_sql, job_config=job_config, retry=retry,
                               timeout=BIGQUERY_TIMEOUT)
            result = job.result(retry=retry, timeout=BIGQUERY_TIMEOUT)
            report[question.name] = [dict(row.items()) for row in result]
        return report
    except ERRORS as error:
        raise ReportError(explain(error, QUERY, where)) from error
    finally:
        if client is not None:
            client.close()
