"""Everything the app knows about talking to BigQuery: the client, the clickstream table built from
shared.schema (the one definition), a request's row limit, and what its errors mean for the user.

The sink, the report and setup_bigquery.py all come here, so an error reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import google.auth.exceptions
import requests.exceptions
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from shared import schema

# BigQuery recommends at most 500 rows per insertAll request.
MAX_ROWS_PER_REQUEST = 500
# What a BigQuery call can raise that `explain` turns into a message (anything else is a bug).
ERRORS: tuple[type[Exception], ...] = (
    api_exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError,
    requests.exceptions.RequestException, TimeoutError)


def make_client(project: str, endpoint: str | None = None, location: str | None = None) -> bigquery.Client:
    """A client for the project; an explicit endpoint (an emulator) gets anonymous credentials.

    Without an endpoint the client finds Application Default Credentials and raises
    google.auth.exceptions.DefaultCredentialsError when there are none.
    """
    if endpoint:
        return bigquery.Client(project=project, location=location,
                               credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=endpoint))
    return bigquery.Client(project=project, location=location)


def schema_fields() -> list[bigquery.SchemaField]:
    return [bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description)
            for c in schema.COLUMNS]


def clickstream_table(table_id: str) -> bigquery.Table:
    """The table as setup_bigquery.py creates it: DAY partitions on timestamp, clustered."""
    table = bigquery.Table(table_id, schema=schema_fields())
    table.description = schema.TABLE_DESCRIPTION
    table.time_partitioning = bigquery.TimePartitioning(type_=schema.PARTITION_TYPE,
                                                        field=schema.PARTITION_FIELD)
    table.clustering_fields = list(schema.CLUSTERING_FIELDS)
    return table


@dataclass(frozen=True)
class Task:
    """What the app was doing when BigQuery said no, as the messages need it."""

    name: str  # "insert", "query", "setup": in "BigQuery insert failed"
    doing: str  # "writing to the table", ...
    roles: tuple[str, ...]  # IAM roles the task needs
    note: str = ""  # appended to every message, e.g. where the events are meanwhile


WRITE = Task("insert", "writing to the table", ("roles/bigquery.dataEditor",),
             " (events stay in the local spool)")
QUERY = Task("query", "querying the table", ("roles/bigquery.jobUser", "roles/bigquery.dataViewer"))
SETUP = Task("setup", "creating the dataset and table", ("roles/bigquery.dataEditor",))


@dataclass(frozen=True)
class Where:
    project: str
    table_id: str
    endpoint: str | None = None


def explain(error: Exception, task: Task, where: Where) -> str:
    """One message for the user: what went wrong and what to do about it. BigQuery's own reason is
    kept where it says more than we can (e.g. the free tier's refusal of streaming inserts)."""
    return _explain(error, task, where) + task.note


def _explain(error: Exception, task: Task, where: Where) -> str:
    reason = first_line(error)
    if isinstance(error, google.auth.exceptions.DefaultCredentialsError):
        return (f"no Google Cloud credentials found ({reason}): sign in with "
                "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS "
                "to the path of a service-account key file")
    if isinstance(error, google.auth.exceptions.RefreshError | api_exceptions.Unauthorized):
        return (f"Google Cloud rejected your credentials ({reason}): sign in again with "
                "`gcloud auth application-default login` or check the key file "
                "GOOGLE_APPLICATION_CREDENTIALS points to")
    if isinstance(error, api_exceptions.Forbidden):
        roles = " and ".join(task.roles)
        return (f"permission denied: {getattr(error, 'message', reason)}. {task.doing.capitalize()} "
                f"needs {roles} on project {where.project}; a project owner can grant it with "
                f"`gcloud projects add-iam-policy-binding {where.project} --member=user:YOUR_EMAIL "
                f"--role={task.roles[0]}`. If BigQuery says the API is disabled, billing is off or "
                "streaming is not allowed in the free tier, enable that in the Google Cloud console")
    if isinstance(error, api_exceptions.NotFound):
        if "Not found: Project" in (error.message or ""):
            return (f"{error.message}: check the project id {where.project!r} (the id, not the "
                    "project's name or number) with `gcloud projects list`")
        return (f"BigQuery table {where.table_id} not found: run `python setup_bigquery.py` "
                "(same HL_VOX_BQ_* variables)")
    if isinstance(error, api_exceptions.RetryError | requests.exceptions.ConnectionError
                  | requests.exceptions.Timeout | TimeoutError):
        cause = first_line(error.cause) if isinstance(error, api_exceptions.RetryError) and error.cause \
            else reason
        return (f"BigQuery did not answer at {where.endpoint or 'bigquery.googleapis.com'} "
                f"({type(error).__name__}: {cause}): check the network (or HL_VOX_BQ_ENDPOINT)")
    return f"BigQuery {task.name} failed: {type(error).__name__}: {reason}"


def first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:300]
