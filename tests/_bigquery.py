"""Settings and table reads for tests that send to the BigQuery emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.settings import Settings


def bq_settings(data_dir: Path, table_id: str, endpoint: str, **overrides: Any) -> Settings:
    project, dataset, table = table_id.split(".")
    return Settings(sink="bigquery", bq_project=project, bq_dataset=dataset, bq_table=table,
                    bq_endpoint=endpoint, data_dir=data_dir, **overrides)


def table_rows(bq_client: Any, table_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in bq_client.query(f"SELECT * FROM `{table_id}`").result()]
