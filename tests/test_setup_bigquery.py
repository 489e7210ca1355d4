"""setup_bigquery.py against the local-bigquery emulator, using the real BigQuery client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

import setup_bigquery
from shared import schema
from shared.bq_names import dataset_id_problem, project_id_problem, table_id_problem
from worker.bigquery_client import schema_fields

from _emulator import PROJECT

REPO = Path(__file__).resolve().parent.parent
DAY_MS = 86_400_000


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own HL_VOX_* settings must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("HL_VOX_"):
            monkeypatch.delenv(name)


@pytest.fixture
def dataset_name() -> str:
    """A dataset id no test has used, left for setup_bigquery.py to create."""
    return f"s_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, socket.socket]]:
    """A listening port that never answers: a client request would show up as a connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def assert_no_connection(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        listener.accept()


def run_setup(emulator, dataset: str, *flags: str) -> int:
    return setup_bigquery.main(["--project", PROJECT, "--endpoint", emulator.endpoint,
                                "--dataset", dataset, *flags])


def expected_columns() -> list[tuple[str, str, str, str]]:
    return [(c.name, c.type, c.mode, c.description) for c in schema.COLUMNS]


def columns(table: bigquery.Table) -> list[tuple[str, str, str, str]]:
    return [(f.name, f.field_type, f.mode, f.description) for f in table.schema]


# --- creating and re-running -------------------------------------------------------------------

def test_creates_dataset_and_partitioned_clustered_table(emulator, bq_client, dataset_name, capsys):
    assert run_setup(emulator, dataset_name, "--location", "EU") == 0

    dataset = bq_client.get_dataset(f"{PROJECT}.{dataset_name}")
    assert dataset.location == "EU"
    assert dataset.description == schema.DATASET_DESCRIPTION
    table = bq_client.get_table(f"{PROJECT}.{dataset_name}.clickstream")
    assert columns(table) == expected_columns()
    assert table.time_partitioning.type_ == "DAY"
    assert table.time_partitioning.field == "timestamp"
    assert table.time_partitioning.expiration_ms is None
    assert table.clustering_fields == ["session_id", "event_type", "component"]
    assert table.description == schema.TABLE_DESCRIPTION
    out = capsys.readouterr().out
    assert f"Table {PROJECT}.{dataset_name}.clickstream: created" in out
    assert "partitioning: DAY on timestamp" in out
    assert "clustering: session_id, event_type, component" in out
    assert "session_id  STRING    REQUIRED" in out


def test_uses_hl_vox_settings_and_flags_override_them(emulator, bq_client, dataset_name,
                                                      monkeypatch):
    monkeypatch.setenv("HL_VOX_BQ_PROJECT", PROJECT)
    monkeypatch.setenv("HL_VOX_BQ_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("HL_VOX_BQ_DATASET", dataset_name)
    monkeypatch.setenv("HL_VOX_BQ_TABLE", "from_env")

    assert setup_bigquery.main(["--table", "from_flag"]) == 0

    tables = [t.table_id for t in bq_client.list_tables(f"{PROJECT}.{dataset_name}")]
    assert tables == ["from_flag"]


def test_reuses_an_existing_dataset(emulator, bq_client, bq_dataset, capsys):
    dataset = bq_dataset.split(".")[1]
    location = bq_client.get_dataset(bq_dataset).location
    assert run_setup(emulator, dataset, "--location", location) == 0

    assert bq_client.get_table(f"{bq_dataset}.clickstream").clustering_fields
    out = capsys.readouterr().out
    assert "already exists" in out.splitlines()[0]
    assert "Nothing to do" not in out


def test_second_run_is_a_no_op(emulator, bq_client, dataset_name, capsys):
    assert run_setup(emulator, dataset_name) == 0
    table_id = f"{PROJECT}.{dataset_name}.clickstream"
    before = bq_client.get_table(table_id)
    dataset_before = bq_client.get_dataset(f"{PROJECT}.{dataset_name}")
    capsys.readouterr()

    assert run_setup(emulator, dataset_name) == 0

    after = bq_client.get_table(table_id)
    assert (after.etag, after.modified) == (before.etag, before.modified)
    assert bq_client.get_dataset(f"{PROJECT}.{dataset_name}").etag == dataset_before.etag
    out = capsys.readouterr().out
    assert "Table" in out and "already exists as expected" in out
    assert "Nothing to do: nothing was changed." in out


# --- retention ---------------------------------------------------------------------------------

def test_retention_days_sets_partition_expiration_on_create(emulator, bq_client, dataset_name):
    assert run_setup(emulator, dataset_name, "--retention-days", "30") == 0

    table = bq_client.get_table(f"{PROJECT}.{dataset_name}.clickstream")
    assert table.time_partitioning.expiration_ms == 30 * DAY_MS


def test_retention_days_updates_an_existing_table(emulator, bq_client, dataset_name, capsys):
    assert run_setup(emulator, dataset_name) == 0
    table_id = f"{PROJECT}.{dataset_name}.clickstream"
    bq_client.insert_rows_json(table_id, [{"session_id": "s", "timestamp": "2024-01-01T00:00:00Z",
                                           "event_type": "app_start", "component": "application"}])
    before = bq_client.get_table(table_id)
    capsys.readouterr()

    assert run_setup(emulator, dataset_name, "--retention-days", "7") == 0

    table = bq_client.get_table(table_id)
    assert table.etag != before.etag  # the emulator marks updates, so the no-op checks mean something
    assert table.time_partitioning.expiration_ms == 7 * DAY_MS
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("DAY", "timestamp")
    assert columns(table) == expected_columns()
    assert len(list(bq_client.list_rows(table_id))) == 1
    out = capsys.readouterr().out
    assert "partition expiration changed from none (data is kept) to 7 days" in out

    assert run_setup(emulator, dataset_name, "--retention-days", "7") == 0
    assert "Nothing to do" in capsys.readouterr().out


# --- an existing table that differs ------------------------------------------------------------

def wrong_columns() -> list[bigquery.SchemaField]:
    """The app's columns with metadata dropped, component made NULLABLE and one extra column."""
    fields = [bigquery.SchemaField(c.name, c.type, mode=c.mode) for c in schema.COLUMNS
              if c.name not in ("metadata", "component")]
    return fields + [bigquery.SchemaField("component", "STRING", mode="NULLABLE"),
                     bigquery.SchemaField("user_email", "STRING")]


def test_mismatched_table_is_reported_and_left_unchanged(emulator, bq_client, bq_dataset, capsys):
    table_id = f"{bq_dataset}.clickstream"
    wrong = bigquery.Table(table_id, schema=wrong_columns())
    wrong.time_partitioning = bigquery.TimePartitioning(type_="MONTH", field="timestamp")
    wrong.clustering_fields = ["event_type"]
    bq_client.create_table(wrong)
    bq_client.insert_rows_json(table_id, [{"session_id": "s", "timestamp": "2024-01-01T00:00:00Z",
                                           "event_type": "app_start", "component": None}])
    before = bq_client.get_table(table_id)

    location = bq_client.get_dataset(bq_dataset).location
    assert run_setup(emulator, bq_dataset.split(".")[1], "--location", location,
                     "--retention-days", "30") == 1

    after = bq_client.get_table(table_id)
    assert (after.etag, after.modified) == (before.etag, before.modified)
    assert after.time_partitioning.expiration_ms is None
    assert [f.name for f in after.schema] == [f.name for f in before.schema]
    assert len(list(bq_client.list_rows(table_id))) == 1
    err = capsys.readouterr().err
    assert "column component: STRING NULLABLE; expected STRING REQUIRED" in err
    assert "column metadata: missing; expected STRING NULLABLE" in err
    assert "column user_email: not expected (STRING NULLABLE)" in err
    assert "partitioning: MONTH on timestamp; expected DAY on timestamp" in err
    assert "clustering: event_type; expected session_id, event_type, component" in err
    assert "Nothing was changed" in err


def test_unpartitioned_unclustered_table_is_reported(emulator, bq_client, bq_dataset, capsys):
    table_id = f"{bq_dataset}.clickstream"
    bq_client.create_table(bigquery.Table(table_id, schema=schema_fields()))

    location = bq_client.get_dataset(bq_dataset).location
    assert run_setup(emulator, bq_dataset.split(".")[1], "--location", location) == 1

    err = capsys.readouterr().err
    assert "partitioning: none; expected DAY on timestamp" in err
    assert "clustering: none; expected" in err
    assert "column" not in err
    assert bq_client.get_table(table_id).time_partitioning is None


def test_dataset_in_another_location_is_reported(emulator, bq_client, dataset_name, capsys):
    dataset = bigquery.Dataset(f"{PROJECT}.{dataset_name}")
    dataset.location = "EU"
    bq_client.create_dataset(dataset)

    assert run_setup(emulator, dataset_name, "--location", "US") == 1

    assert "dataset location: EU; expected US (use --location EU" in capsys.readouterr().err
    with pytest.raises(NotFound):
        bq_client.get_table(f"{PROJECT}.{dataset_name}.clickstream")


# --- usage errors: nothing reaches BigQuery -----------------------------------------------------

@pytest.mark.parametrize("flag, value", [
    ("--dataset", "my-dataset"),
    ("--dataset", "x;DROP"),
    ("--dataset", ""),
    ("--table", "x;DROP"),
    ("--table", ""),
    ("--project", ""),
    ("--project", "My_Project"),
    ("--project", "x;DROP"),
    ("--location", ""),
])
def test_invalid_names_are_rejected_before_any_request(flag, value, silent_endpoint, capsys):
    endpoint, listener = silent_endpoint
    argv = ["--project", "my-project", "--endpoint", endpoint, flag, value]

    assert setup_bigquery.main(argv) == 2

    assert_no_connection(listener)
    err = capsys.readouterr().err
    assert "nothing was sent to BigQuery" in err
    assert repr(value) in err or "location is empty" in err


def test_invalid_name_from_settings_is_rejected(monkeypatch, silent_endpoint, capsys):
    endpoint, listener = silent_endpoint
    monkeypatch.setenv("HL_VOX_BQ_DATASET", "my-dataset")

    assert setup_bigquery.main(["--project", "my-project", "--endpoint", endpoint]) == 2

    assert_no_connection(listener)
    assert "dataset id 'my-dataset' is not valid" in capsys.readouterr().err


def test_missing_project_is_a_usage_error(silent_endpoint, capsys):
    endpoint, listener = silent_endpoint
    assert setup_bigquery.main(["--endpoint", endpoint]) == 2
    assert_no_connection(listener)
    assert "pass --project PROJECT_ID or set HL_VOX_BQ_PROJECT" in capsys.readouterr().err


def test_bad_settings_are_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("HL_VOX_BATCH_SIZE", "abc")
    assert setup_bigquery.main(["--project", "my-project", "--dry-run"]) == 2
    assert "HL_VOX_BATCH_SIZE" in capsys.readouterr().err


def test_flags_supply_what_the_bigquery_sink_settings_lack(monkeypatch, capsys):
    """The app refuses HL_VOX_SINK=bigquery without a project; setup takes it from --project."""
    monkeypatch.setenv("HL_VOX_SINK", "bigquery")
    monkeypatch.setenv("HL_VOX_BQ_DATASET", "bad-name")
    assert setup_bigquery.main(["--dry-run"]) == 2
    assert "no Google Cloud project" in capsys.readouterr().err
    assert setup_bigquery.main(["--project", "my-project", "--dataset", "good_name", "--dry-run"]) == 0


@pytest.mark.parametrize("days", ["0", "-3", "thirty"])
def test_bad_retention_days_is_a_usage_error(days, capsys):
    argv = ["--project", "my-project", "--dry-run", "--retention-days", days]
    assert setup_bigquery.main(argv) == 2
    assert "--retention-days" in capsys.readouterr().err


def test_help_exits_zero(capsys):
    assert setup_bigquery.main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--project", "--dataset", "--table", "--location", "--endpoint",
                 "--retention-days", "--dry-run"):
        assert flag in out


def test_dry_run_makes_no_request(silent_endpoint, capsys):
    endpoint, listener = silent_endpoint
    argv = ["--project", "my-project", "--endpoint", endpoint, "--retention-days", "30",
            "--dry-run"]

    assert setup_bigquery.main(argv) == 0

    assert_no_connection(listener)
    out = capsys.readouterr().out
    assert "Dry run, no request made" in out
    assert "Table my-project.hl_timeleft.clickstream" in out
    assert "partitioning: DAY on timestamp" in out
    assert "partition expiration: 30 days" in out
    assert "clustering: session_id, event_type, component" in out


def test_dry_run_creates_nothing_in_the_emulator(emulator, bq_client, dataset_name):
    assert run_setup(emulator, dataset_name, "--dry-run") == 0
    with pytest.raises(NotFound):
        bq_client.get_dataset(f"{PROJECT}.{dataset_name}")


# --- the identifier rules themselves ------------------------------------------------------------

@pytest.mark.parametrize("project", ["my-project", "test-project", "abcdef", "example.com:my-proj",
                                     "a" * 63])
def test_valid_project_ids(project):
    assert project_id_problem(project) is None


@pytest.mark.parametrize("project", ["", "abcde", "a" * 64, "1project", "my-project-",
                                     "My-Project", "my_project", "my project", "p.d"])
def test_invalid_project_ids(project):
    assert project_id_problem(project) is not None


def test_dataset_and_table_rules():
    assert dataset_id_problem("hl_timeleft") is None
    assert dataset_id_problem("D" * 1024) is None
    assert dataset_id_problem("D" * 1025) is not None
    assert dataset_id_problem("données") is not None  # datasets are ASCII only
    assert table_id_problem("click-stream 2024") is None  # tables allow dashes and spaces
    assert table_id_problem("données") is None
    assert table_id_problem("é" * 513) is not None  # 1026 bytes
    for bad in ("a.b", "a`b", "a/b", "a\nb"):
        assert table_id_problem(bad) is not None


# --- credentials and permissions ----------------------------------------------------------------

def test_no_credentials_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))

    assert setup_bigquery.main(["--project", "my-project"]) == 1

    err = capsys.readouterr().err
    assert "no Google Cloud credentials found" in err
    assert "missing-key.json" in err
    assert "gcloud auth application-default login" in err
    assert "GOOGLE_APPLICATION_CREDENTIALS" in err


def test_no_credentials_at_all_as_a_script(tmp_path):
    """A user with no gcloud login, no key file and no metadata server (checked in a fresh process:
    google.auth reads NO_GCE_CHECK at import time)."""
    env = {name: value for name, value in os.environ.items()
           if name != "GOOGLE_APPLICATION_CREDENTIALS" and not name.startswith("HL_VOX_")}
    env.update(HOME=str(tmp_path), CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), NO_GCE_CHECK="true")

    result = subprocess.run([sys.executable, "setup_bigquery.py", "--project", "my-project"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1, result.stderr
    assert "no Google Cloud credentials found" in result.stderr
    assert "gcloud auth application-default login" in result.stderr
    assert result.stdout == ""


class RecordingServer(ThreadingHTTPServer):
    """Remembers the path of every request it answered."""

    paths: list[str]

    def server_activate(self) -> None:
        self.paths = []
        super().server_activate()


def fake_bigquery(status: int, message: str, reason: str) -> RecordingServer:
    """A server that answers every request with one BigQuery-style error.

    The emulator grants every permission and accepts any project, so 403 and "Not found: Project"
    cannot come from it; this fake is the smallest stand-in, and the real client still parses it.
    """
    body = json.dumps({"error": {"code": status, "message": message, "status": reason.upper(),
                                 "errors": [{"message": message, "domain": "global",
                                             "reason": reason}]}}).encode()

    class Handler(BaseHTTPRequestHandler):
        server: RecordingServer

        def do_GET(self) -> None:
            self.server.paths.append(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PATCH = do_GET

        def log_message(self, *args) -> None:
            pass

    server = RecordingServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


def run_against_fake(status: int, message: str, reason: str) -> tuple[int, list[str]]:
    server = fake_bigquery(status, message, reason)
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        code = setup_bigquery.main(["--project", "my-project", "--endpoint", endpoint])
        return code, server.paths
    finally:
        server.shutdown()
        server.server_close()


def test_permission_denied_names_the_role(capsys):
    message = ("Access Denied: Project my-project: User does not have bigquery.datasets.get "
               "permission in project my-project.")
    code, paths = run_against_fake(403, message, "accessDenied")

    assert code == 1
    assert len(paths) == 1  # not retried, nothing created
    err = capsys.readouterr().err
    assert "permission denied: " in err and message in err
    assert "roles/bigquery.dataEditor" in err
    assert "gcloud projects add-iam-policy-binding my-project" in err


def test_unknown_project(capsys):
    code, paths = run_against_fake(404, "Not found: Project my-project", "notFound")

    assert code == 1
    assert paths == ["/bigquery/v2/projects/my-project/datasets/hl_timeleft?prettyPrint=false"]
    err = capsys.readouterr().err
    assert "Not found: Project my-project" in err
    assert "gcloud projects list" in err


@pytest.mark.emulator
def test_views_give_the_report_and_a_second_run_changes_nothing(emulator, bq_client, dataset_name,
                                                                capsys, tmp_path) -> None:
    from shared.event import EventFactory
    from worker.questions import QUESTIONS, VIEW_PREFIX
    from worker.report import bigquery_report

    from _bigquery import bq_settings

    assert run_setup(emulator, dataset_name, "--views") == 0
    table_id = f"{PROJECT}.{dataset_name}.clickstream"
    out = capsys.readouterr().out
    assert out.count(": created") == len(QUESTIONS) + 2  # the dataset, the table and each view
    factory = EventFactory("view-session")
    events = [factory.make("app_start", "application"),
              factory.make("button_click", "shoot_gun_button", {"weapon": "awp"}),
              factory.make("app_error", "stats_button", {"error": "OSError", "where": "stats"})]
    assert bq_client.insert_rows_json(table_id, [e.row() for e in events],
                                      row_ids=[e.event_id for e in events]) == []
    report = bigquery_report(bq_settings(tmp_path, table_id, emulator.endpoint))
    for question in QUESTIONS:
        view_id = f"{PROJECT}.{dataset_name}.{VIEW_PREFIX}{question.name}"
        rows = [dict(row.items()) for row in bq_client.query(f"SELECT * FROM `{view_id}`").result()]
        assert rows == report[question.name], question.name
    views_before = {q.name: bq_client.get_table(f"{PROJECT}.{dataset_name}.{VIEW_PREFIX}{q.name}").etag
                    for q in QUESTIONS}

    assert run_setup(emulator, dataset_name, "--views") == 0
    out = capsys.readouterr().out
    assert "Nothing to do: nothing was changed." in out and ": created" not in out
    assert views_before == {
        q.name: bq_client.get_table(f"{PROJECT}.{dataset_name}.{VIEW_PREFIX}{q.name}").etag
        for q in QUESTIONS}
