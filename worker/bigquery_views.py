"""BigQuery views over the clickstream table, one per report question, for dashboard tools.

Each view is the report's own SQL over all events (worker.questions.view_sql), named
`report_<question>` in the table's dataset. Creating them again changes nothing; a view whose SQL
differs (the app was updated) gets the new SQL.
"""

from __future__ import annotations

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.cloud import bigquery

from worker.questions import QUESTIONS, VIEW_PREFIX, view_sql

CREATED, UPDATED = "created", "updated"
UNCHANGED = "already exists as expected"  # also setup_bigquery.py's word for an unchanged table


def ensure_views(client: bigquery.Client, dataset_id: str, table_id: str, retry: Retry,
                 timeout: float) -> list[tuple[str, str]]:
    """(view id, what happened) for every question's view."""
    outcomes = []
    for question in QUESTIONS:
        view_id = f"{dataset_id}.{VIEW_PREFIX}{question.name}"
        sql = view_sql(question, table_id)
        try:
            view = client.get_table(view_id, retry=retry, timeout=timeout)
        except api_exceptions.NotFound:
            view = bigquery.Table(view_id)
            view.view_query = sql
            view.description = question.title
            client.create_table(view, retry=retry, timeout=timeout)
            outcomes.append((view_id, CREATED))
            continue
        if view.view_query == sql:
            outcomes.append((view_id, UNCHANGED))
            continue
        view.view_query = sql
        client.update_table(view, ["view_query"], retry=retry, timeout=timeout)
        outcomes.append((view_id, UPDATED))
    return outcomes
