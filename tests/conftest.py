"""Shared fixtures: the BigQuery emulator is started once per session and fails (never skips) on CI."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from _emulator import PROJECT, Emulator, find_emulator_dir

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# google.auth probes the GCE metadata server when it finds no credentials; tests must send nothing
# off this machine, so that probe is switched off and pointed at a closed loopback port.
os.environ["NO_GCE_CHECK"] = "true"
os.environ["GCE_METADATA_HOST"] = "127.0.0.1:9"
os.environ["GCE_METADATA_IP"] = "127.0.0.1:9"


def missing_part(what: str, how: str) -> NoReturn:
    """On CI a missing part is a failure; on a developer's machine it is a skip with the fix."""
    message = f"{what} is not available: {how}"
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Polls until the condition holds; False if it never did within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    install_dir = find_emulator_dir()
    if install_dir is None:
        missing_part("the local-bigquery emulator", "run bash scripts/install-emulator.sh")
    server = Emulator(install_dir, tmp_path_factory.mktemp("bq") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bq_client(emulator: Emulator):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=emulator.endpoint))


@pytest.fixture
def bq_dataset(bq_client) -> str:
    """A fresh dataset id per test so tests never see each other's tables."""
    dataset_id = f"{PROJECT}.t_{uuid.uuid4().hex[:12]}"
    bq_client.create_dataset(dataset_id)
    return dataset_id


@pytest.fixture
def table_id(bq_client, bq_dataset: str) -> str:
    """A fresh clickstream table, as setup_bigquery.py creates it."""
    from worker.bigquery_client import clickstream_table

    table = bq_client.create_table(clickstream_table(f"{bq_dataset}.clickstream"))
    return f"{table.project}.{table.dataset_id}.{table.table_id}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
