"""The report: the questions of worker.questions asked of BigQuery or of the local SQLite store,
each giving the same answers from either source.

This module imports no google.cloud at import time: the UI calls local_report() for its Stats view.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.settings import Settings
from worker.questions import BIGQUERY_EVENTS, QUESTIONS, SQLITE_EVENTS, SQLITE_SESSION_EVENTS, Question
from worker.store import EPOCH, micros_since_epoch, reader

Row = dict[str, str | int | float | None]
Report = dict[str, list[Row]]

# Interactive command: give up after this long instead of the client's default 600 s of retries.
BIGQUERY_TIMEOUT = 30.0


class ReportError(Exception):
    """A report could not be made; the message says why and what to do."""


def window(days: int | None, now: datetime | None = None) -> tuple[datetime, date]:
    """(since, today): events at or after `since` count; `today` is the current UTC date.

    days=None means all events; days=N means the last N*24 hours before `now`.
    """
    if days is not None and days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = EPOCH if days is None else max(EPOCH, now - timedelta(days=days))
    return since, now.date()


def local_report(store_path: Path, days: int | None = None, now: datetime | None = None,
                 session_id: str | None = None) -> Report:
    """The answers from the local store, {question name: [row dict, ...]}: of every session, or of
    the one `session_id` names.

    A store that does not exist yet (tracking never ran) gives empty answers, not an error.
    """
    return ask_local(store_path, QUESTIONS, days, now, session_id)


def bigquery_report(settings: Settings, days: int | None = None,
                    now: datetime | None = None) -> Report:
    """The answers from the BigQuery table of `settings`; raises ReportError."""
    return ask_bigquery(settings, QUESTIONS, days, now)


def ask_local(store_path: Path, questions: Sequence[Question], days: int | None = None,
              now: datetime | None = None, session_id: str | None = None) -> Report:
    if not store_path.is_file():
        return {question.name: [] for question in questions}
    since, today = window(days, now)
    params = {"since": micros_since_epoch(since), "today": today.isoformat(), "session_id": session_id}
    events = SQLITE_EVENTS if session_id is None else SQLITE_SESSION_EVENTS
    with reader(store_path) as db:
        return {question.name: _sqlite_rows(db, events + question.sqlite_sql, params)
                for question in questions}


def _sqlite_rows(db: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Row]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def ask_bigquery(settings: Settings, questions: Sequence[Question], days: int | None = None,
                 now: datetime | None = None) -> Report:
    # Imported here so the UI and local reports never load google.cloud.
    from google.cloud import bigquery

    from worker.bigquery_client import ERRORS, QUERY, Where, explain, make_client

    since, today = window(days, now)
    job_config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
        bigquery.ScalarQueryParameter("today", "DATE", today),
    ])
    retry = bigquery.DEFAULT_RETRY.with_timeout(BIGQUERY_TIMEOUT)
    events = BIGQUERY_EVENTS.format(table_id=settings.table_id)
    where = Where(settings.bq_project or "", settings.table_id, settings.bq_endpoint)
    client = None
    try:
        client = make_client(where.project, settings.bq_endpoint, settings.bq_location)
        report: Report = {}
        for question in questions:
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
