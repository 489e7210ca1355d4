"""BigQuery's naming rules for project, dataset and table ids, checked before any request is made.

Each check returns None for a good id, or a message that says what is wrong and what is allowed.
"""

from __future__ import annotations

import re
import unicodedata

# BigQuery's own "Invalid project ID" error: 6-63 lowercase letters, digits or dashes, starting with
# a letter and not ending with a dash; some older projects carry a "domain.com:" prefix.
_PROJECT_ID = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,61}[a-z0-9]")
# Dataset ids: ASCII letters, digits and underscores only, at most 1024 characters.
_DATASET_ID = re.compile(r"[A-Za-z0-9_]{1,1024}")
# Table ids: Unicode letters, marks, numbers, connectors (_), dashes and spaces, at most 1024 bytes.
_TABLE_CATEGORIES = ("L", "M", "N", "Pc", "Pd", "Zs")
_TABLE_MAX_BYTES = 1024


def project_id_problem(project: str) -> str | None:
    if _PROJECT_ID.fullmatch(project):
        return None
    return (f"project id {project!r} is not valid: use your Google Cloud project id "
            "(6-63 lowercase letters, digits or dashes, starting with a letter, not ending "
            "with a dash), "
            "e.g. my-project-123")


def dataset_id_problem(dataset: str) -> str | None:
    if _DATASET_ID.fullmatch(dataset):
        return None
    return (f"dataset id {dataset!r} is not valid: use 1-1024 letters, digits or underscores "
            "(no dashes, dots or spaces), e.g. hl_timeleft")


def table_id_problem(table: str) -> str | None:
    allowed = all(unicodedata.category(char).startswith(_TABLE_CATEGORIES) for char in table)
    if table and allowed and len(table.encode("utf-8")) <= _TABLE_MAX_BYTES:
        return None
    return (f"table id {table!r} is not valid: use letters, digits, underscores, dashes or spaces "
            "(at most 1024 bytes), e.g. clickstream")


def id_problems(project: str, dataset: str, table: str) -> list[str]:
    """Every problem with the three ids, so a user fixes them all in one go."""
    problems = (project_id_problem(project), dataset_id_problem(dataset), table_id_problem(table))
    return [problem for problem in problems if problem is not None]
