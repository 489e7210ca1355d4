"""Everything the app knows about talking to BigQuery: the clients (REST, and the Storage Write API's
gRPC), the clickstream table built from shared.schema (the one definition), a request's row limit,
and what its errors mean for the user.

The sinks, the report and setup_bigquery.py all come here, so an error reads the same everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import google.auth.exceptions
import requests.exceptions
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from shared import schema

if TYPE_CHECKING:
    from google.cloud.bigquery_storage_v1 import BigQueryWriteClient

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


def make_write_client(endpoint: str | None = None) -> BigQueryWriteClient:
    """A Storage Write API client; an explicit host:port (an emulator) gets a plain-text channel and
    anonymous credentials, like make_client's endpoint.

    Without an endpoint the client finds Application Default Credentials and raises
    google.auth.exceptions.DefaultCredentialsError when there are none.
    """
    # Imported here: only the storage_write method loads gRPC and the Storage Write API.
    from google.cloud.bigquery_storage_v1 import BigQueryWriteClient
    from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
        BigQueryWriteGrpcTransport,
    )

    if endpoint:
        import grpc

        return BigQueryWriteClient(transport=BigQueryWriteGrpcTransport(
            channel=grpc.insecure_channel(endpoint)))
    return BigQueryWriteClient()


def seconds_left(deadline: float) -> float:
    """A request's timeout from what is left until a time.monotonic() deadline. The floor keeps a
    nearly spent budget from turning into "no timeout" or into a request that cannot succeed."""
    return max(0.05, deadline - time.monotonic())


def table_path(table_id: str) -> str:
    """The Storage Write API's name of a table given as project.dataset.table."""
    project, dataset, table = table_id.split(".")
    return f"projects/{project}/datasets/{dataset}/tables/{table}"


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
    streams: bool = False  # a streaming write, which BigQuery's free tier refuses
    quota_hint: str = ""  # what to do when a quota is exceeded


_SPOOLED = " (events stay in the local spool)"
WRITE = Task("insert", "writing to the table", ("roles/bigquery.dataEditor",), _SPOOLED, streams=True)
LOAD = Task("load", "loading into the table", ("roles/bigquery.dataEditor", "roles/bigquery.jobUser"),
            _SPOOLED, quota_hint=(
                ". BigQuery allows 1,500 load jobs per table per day, failed ones included, for "
                "everyone writing to the table: raise HL_VOX_BQ_LOAD_INTERVAL (or, with billing "
                "enabled, use HL_VOX_BQ_METHOD=storage_write)"))
QUERY = Task("query", "querying the table", ("roles/bigquery.jobUser", "roles/bigquery.dataViewer"))
SETUP = Task("setup", "creating the dataset and table", ("roles/bigquery.dataEditor",))


@dataclass(frozen=True)
class Where:
    project: str
    table_id: str
    endpoint: str | None = None
    endpoint_setting: str = "HL_VOX_BQ_ENDPOINT"  # the variable that points `endpoint` elsewhere
    service: str = "bigquery.googleapis.com"  # where requests go without an endpoint


# HL_VOX_BQ_ENDPOINT means an emulator (anonymous credentials), whose Storage Write API is elsewhere.
GRPC_ENDPOINT_MISSING = ("HL_VOX_BQ_ENDPOINT points at an emulator but HL_VOX_BQ_GRPC_ENDPOINT is not "
                         "set: set it to the emulator's gRPC host:port for the Storage Write API, or "
                         "use HL_VOX_BQ_METHOD=load or insert_all")


def load_still_running(job_id: str) -> str:
    return f"BigQuery load job {job_id} is still running; its result is checked on the next attempt"


def load_refused(job_id: str, reason: str, rows: int) -> str:
    return (f"BigQuery refused load job {job_id} ({reason}); loading its {rows} rows in halves to find "
            "the refused one")


def write_api_where(project: str, table_id: str, grpc_endpoint: str | None) -> Where:
    """Where the Storage Write API's requests go."""
    return Where(project, table_id, grpc_endpoint, "HL_VOX_BQ_GRPC_ENDPOINT",
                 "bigquerystorage.googleapis.com")


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
    if task.streams and isinstance(error, api_exceptions.Forbidden) and _refuses_streaming(reason):
        return (f"BigQuery refused a streaming write ({reason}): the free tier (sandbox) does not "
                f"allow streaming; use HL_VOX_BQ_METHOD=load (batch load jobs, free and allowed in "
                f"the free tier), or enable billing on project {where.project}")
    if _quota_exceeded(error, reason):
        return f"BigQuery quota exceeded: {reason}{task.quota_hint}"
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
                  | requests.exceptions.Timeout | TimeoutError
                  | api_exceptions.ServiceUnavailable | api_exceptions.DeadlineExceeded):
        cause = first_line(error.cause) if isinstance(error, api_exceptions.RetryError) and error.cause \
            else reason
        return (f"BigQuery did not answer at {where.endpoint or where.service} "
                f"({type(error).__name__}: {cause}): check the network (or {where.endpoint_setting})")
    return f"BigQuery {task.name} failed: {type(error).__name__}: {reason}"


def _refuses_streaming(reason: str) -> bool:
    """BigQuery's words for a project without billing: "Streaming insert is not allowed in the free
    tier", "billingNotEnabled", "... sandbox ..."."""
    words = reason.lower()
    return any(word in words for word in ("free tier", "sandbox", "billing"))


def _quota_exceeded(error: Exception, reason: str) -> bool:
    # gRPC's RESOURCE_EXHAUSTED arrives as TooManyRequests; REST's quotaExceeded as a 403.
    return isinstance(error, api_exceptions.TooManyRequests) or (
        isinstance(error, api_exceptions.Forbidden) and "quota exceeded" in reason.lower())


def first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:300]
