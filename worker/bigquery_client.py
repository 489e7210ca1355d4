"""The BigQuery client and the clickstream table built from shared.schema (the one definition)."""

from __future__ import annotations

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from shared import schema


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
