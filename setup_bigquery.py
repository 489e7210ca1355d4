"""Create the BigQuery dataset and the partitioned, clustered clickstream table. Safe to run again.

Defaults come from the app's settings (HL_VOX_BQ_* environment variables); flags override them.
An existing table is checked, never dropped or rewritten: differences are reported and the run
fails. Exit codes: 0 success (created, updated or already up to date), 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from google.api_core import exceptions as api_errors
from google.cloud import bigquery

from shared import schema
from shared.bq_names import id_problems
from shared.cli import EXIT_FAILURE, EXIT_OK, UsageError, parse_args, positive_days, usage_error
from shared.settings import Settings, SettingsError
from worker.bigquery_client import ERRORS, SETUP, Where, clickstream_table, explain, make_client
from worker.bigquery_views import UNCHANGED, ensure_views

PROG = "setup_bigquery.py"
DAY_MS = 24 * 60 * 60 * 1000
# A setup run is interactive: give up after 30 s instead of the client's default 600 s of retries.
RETRY = bigquery.DEFAULT_RETRY.with_timeout(30.0)
REQUEST_TIMEOUT = 15.0


@dataclass(frozen=True)
class Target:
    """What to create, after settings and flags are merged and the ids are validated."""
    project: str
    dataset: str
    table: str
    location: str
    endpoint: str | None
    retention_days: int | None
    views: bool = False

    @property
    def dataset_id(self) -> str:
        return f"{self.project}.{self.dataset}"

    @property
    def table_id(self) -> str:
        return f"{self.dataset_id}.{self.table}"

    @property
    def expiration_ms(self) -> int | None:
        return None if self.retention_days is None else self.retention_days * DAY_MS


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        target = resolve_target(args)
    except UsageError as problem:
        return usage_error(PROG, str(problem))
    if args.dry_run:
        print_plan(target)
        return EXIT_OK
    return run(target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Create the BigQuery dataset and the clickstream table (DAY partitions on "
                    "timestamp, clustered by session_id, event_type, component). Safe to run "
                    "again: an existing table is checked, never dropped or rewritten.",
        epilog="Defaults come from HL_VOX_BQ_PROJECT, HL_VOX_BQ_DATASET, HL_VOX_BQ_TABLE, "
               "HL_VOX_BQ_LOCATION and HL_VOX_BQ_ENDPOINT. Exit codes: 0 success, 1 failure, "
               "2 usage error.")
    parser.add_argument("--project", help="Google Cloud project id (default: $HL_VOX_BQ_PROJECT)")
    parser.add_argument("--dataset", help="dataset id (default: $HL_VOX_BQ_DATASET or hl_timeleft)")
    parser.add_argument("--table", help="table id (default: $HL_VOX_BQ_TABLE or clickstream)")
    parser.add_argument("--location", help="dataset location (default: $HL_VOX_BQ_LOCATION or US)")
    parser.add_argument("--endpoint", help="API endpoint of a BigQuery emulator, e.g. "
                                           "http://127.0.0.1:9050 (default: $HL_VOX_BQ_ENDPOINT)")
    parser.add_argument("--retention-days", type=positive_days, metavar="N",
                        help="delete partitions older than N days (30 is a sensible choice); "
                             "also updates an existing table. Default: keep data forever")
    parser.add_argument("--views", action="store_true",
                        help="also create a view per report question (report_<question>) for "
                             "dashboards; safe to run again")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be created and make no request")
    return parser


def resolve_target(args: argparse.Namespace) -> Target:
    """Flags over settings; every id is checked here so that a bad one never reaches BigQuery."""
    try:
        settings = Settings.from_env(check_sink=False)  # the flags may supply what is missing
    except SettingsError as problem:
        raise UsageError(f"{problem} (fix or unset that environment variable)") from None
    project = args.project if args.project is not None else settings.bq_project
    if project is None:
        raise UsageError("no Google Cloud project: pass --project PROJECT_ID "
                         "or set HL_VOX_BQ_PROJECT")
    target = Target(project=project,
                    dataset=args.dataset if args.dataset is not None else settings.bq_dataset,
                    table=args.table if args.table is not None else settings.bq_table,
                    location=args.location if args.location is not None else settings.bq_location,
                    endpoint=args.endpoint or settings.bq_endpoint,
                    retention_days=args.retention_days, views=args.views)
    problems = id_problems(target.project, target.dataset, target.table)
    if not target.location.strip():
        problems.append("location is empty: use e.g. US, EU or europe-west1")
    if problems:
        raise UsageError("\n  ".join(["nothing was sent to BigQuery:", *problems]))
    return target


def run(target: Target) -> int:
    """Talk to BigQuery; every failure ends as one message that says what to do about it."""
    try:
        client = make_client(target.project, target.endpoint, target.location)
        try:
            return set_up(client, target)
        finally:
            client.close()
    except ERRORS as problem:
        error(explain(problem, SETUP, Where(target.project, target.table_id, target.endpoint)))
    return EXIT_FAILURE


def set_up(client: bigquery.Client, target: Target) -> int:
    dataset, dataset_created = ensure_dataset(client, target)
    table = get_table(client, target.table_id)
    differences = dataset_differences(dataset, target)
    if table is not None:
        differences += table_differences(table)
    if differences:
        report_differences(target, differences)
        return EXIT_FAILURE
    table, outcome = create_or_update_table(client, table, target)
    print(f"Dataset {target.dataset_id} ({dataset.location}): "
          f"{'created' if dataset_created else 'already exists'}")
    print(f"Table {target.table_id}: {outcome}")
    print_table(table)
    views = ensure_views(client, target.dataset_id, target.table_id, RETRY, REQUEST_TIMEOUT) \
        if target.views else []
    for view_id, view_outcome in views:
        print(f"View {view_id}: {view_outcome}")
    if not dataset_created and outcome == UNCHANGED and all(o == UNCHANGED for _, o in views):
        print("Nothing to do: nothing was changed.")
    return EXIT_OK


def create_or_update_table(client: bigquery.Client, table: bigquery.Table | None,
                           target: Target) -> tuple[bigquery.Table, str]:
    """Create a missing table; on a matching one, only the partition expiration may change."""
    if table is None:
        created = client.create_table(wanted_table(target), retry=RETRY, timeout=REQUEST_TIMEOUT)
        return created, "created"
    before = table.time_partitioning.expiration_ms
    if target.expiration_ms in (None, before):
        return table, UNCHANGED
    table = update_expiration(client, table, target.expiration_ms)
    return table, (f"partition expiration changed from {describe_expiration(before)} "
                   f"to {describe_expiration(table.time_partitioning.expiration_ms)}")


def ensure_dataset(client: bigquery.Client, target: Target) -> tuple[bigquery.Dataset, bool]:
    """The dataset and whether this run created it."""
    try:
        dataset = client.get_dataset(target.dataset_id, retry=RETRY, timeout=REQUEST_TIMEOUT)
        return dataset, False
    except api_errors.NotFound as missing:
        if "Not found: Project" in (missing.message or ""):
            raise  # BigQuery's answer for an unknown project; run() explains it
    dataset = bigquery.Dataset(target.dataset_id)
    dataset.location = target.location
    dataset.description = schema.DATASET_DESCRIPTION
    return client.create_dataset(dataset, retry=RETRY, timeout=REQUEST_TIMEOUT), True


def get_table(client: bigquery.Client, table_id: str) -> bigquery.Table | None:
    try:
        return client.get_table(table_id, retry=RETRY, timeout=REQUEST_TIMEOUT)
    except api_errors.NotFound:
        return None


def wanted_table(target: Target) -> bigquery.Table:
    table = clickstream_table(target.table_id)
    return with_expiration(table, target.expiration_ms)


def update_expiration(client: bigquery.Client, table: bigquery.Table,
                      expiration_ms: int) -> bigquery.Table:
    return client.update_table(with_expiration(table, expiration_ms), ["time_partitioning"],
                               retry=RETRY, timeout=REQUEST_TIMEOUT)


def with_expiration(table: bigquery.Table, expiration_ms: int | None) -> bigquery.Table:
    partitioning = table.time_partitioning  # not documented as live: assign it back below
    partitioning.expiration_ms = expiration_ms
    table.time_partitioning = partitioning
    return table


def dataset_differences(dataset: bigquery.Dataset, target: Target) -> list[str]:
    # Locations are case-insensitive ("us" is "US"); a dataset's location can never change.
    if (dataset.location or "").lower() == target.location.lower():
        return []
    return [f"dataset location: {dataset.location}; expected {target.location} "
            f"(use --location {dataset.location} or HL_VOX_BQ_LOCATION={dataset.location} "
            f"to keep this dataset)"]


def table_differences(table: bigquery.Table) -> list[str]:
    """How the existing table differs from shared.schema (descriptions are not compared)."""
    differences = column_differences(table.schema)
    wanted_partitioning = f"{schema.PARTITION_TYPE} on {schema.PARTITION_FIELD}"
    if describe_partitioning(table.time_partitioning) != wanted_partitioning:
        differences.append(f"partitioning: {describe_partitioning(table.time_partitioning)}; "
                           f"expected {wanted_partitioning}")
    clustering = tuple(table.clustering_fields or ())
    if clustering != schema.CLUSTERING_FIELDS:
        differences.append(f"clustering: {', '.join(clustering) or 'none'}; "
                           f"expected {', '.join(schema.CLUSTERING_FIELDS)}")
    return differences


def column_differences(fields: list[bigquery.SchemaField]) -> list[str]:
    # Rows are inserted by column name, so column order is not a difference.
    actual = {field.name: field for field in fields}
    differences = []
    for column in schema.COLUMNS:
        field = actual.pop(column.name, None)
        if field is None:
            differences.append(f"column {column.name}: missing; "
                               f"expected {column.type} {column.mode}")
        elif (field.field_type, field.mode) != (column.type, column.mode):
            differences.append(f"column {column.name}: {field.field_type} {field.mode}; "
                               f"expected {column.type} {column.mode}")
    differences += [f"column {name}: not expected ({field.field_type} {field.mode})"
                    for name, field in actual.items()]
    return differences


def report_differences(target: Target, differences: list[str]) -> None:
    error("\n  ".join([f"the existing dataset or table for {target.table_id} differs from "
                       "what the app writes:",
                       *(f"- {difference}" for difference in differences),
                       "Nothing was changed (this script never drops or rewrites data).",
                       "Use another --dataset/--table, or migrate the existing table yourself."]))


def print_plan(target: Target) -> None:
    print("Dry run, no request made. Would create, if missing:")
    print(f"Dataset {target.dataset_id} ({target.location})")
    print(f"Table {target.table_id}")
    print_table(wanted_table(target))
    if target.expiration_ms is not None:
        print("An existing table would get the partition expiration above.")


def print_table(table: bigquery.Table) -> None:
    print("  schema:")
    for field in table.schema:
        print(f"    {field.name:<11} {field.field_type:<9} {field.mode:<8}  "
              f"{field.description or ''}")
    expiration = table.time_partitioning.expiration_ms if table.time_partitioning else None
    print(f"  partitioning: {describe_partitioning(table.time_partitioning)}")
    print(f"  partition expiration: {describe_expiration(expiration)}")
    print(f"  clustering: {', '.join(table.clustering_fields or ()) or 'none'}")


def describe_partitioning(partitioning: bigquery.TimePartitioning | None) -> str:
    if partitioning is None:
        return "none"
    return f"{partitioning.type_} on {partitioning.field or '_PARTITIONTIME (ingestion time)'}"


def describe_expiration(expiration_ms: int | None) -> str:
    if expiration_ms is None:
        return "none (data is kept)"
    return f"{expiration_ms / DAY_MS:g} days"


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
