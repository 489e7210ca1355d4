"""A/B experiments: declared in a small TOML file, assigned per session from its id.

The assignment is a hash of the experiment's name and the session id mapped onto the variants'
weights, so it needs no state and no server: the same session always gets the same variant, and over
many sessions each variant's share approaches its weight.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).resolve().parent / "experiments.toml"
# Names become JSON keys and report arguments: keep them plain.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
Change = str | int | float | bool


class ExperimentsError(ValueError):
    """The experiments file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    changes: Mapping[str, Change] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]

    def variant_for(self, session_id: str) -> Variant:
        digest = hashlib.sha256(f"{self.name}\0{session_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in self.variants)
        for variant in self.variants:
            point -= variant.weight
            if point < 0:
                return variant
        return self.variants[-1]  # only reached through float rounding at the very top


@dataclass(frozen=True)
class Assignment:
    """One session's variants: {experiment: variant} for app_start, and what the app changes."""

    variants: dict[str, str]
    changes: dict[str, Change]


def assign(experiments: tuple[Experiment, ...], session_id: str) -> Assignment:
    variants: dict[str, str] = {}
    changes: dict[str, Change] = {}
    for experiment in experiments:
        variant = experiment.variant_for(session_id)
        variants[experiment.name] = variant.name
        changes.update(variant.changes)
    return Assignment(variants, changes)


def load(path: Path | None = None) -> tuple[Experiment, ...]:
    """The experiments of `path` (default: the file that ships with the app); raises ExperimentsError."""
    path = path or DEFAULT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ExperimentsError(f"experiments file {path}: {error}") from None
    try:
        return parse(data)
    except ExperimentsError as error:
        raise ExperimentsError(f"experiments file {path}: {error}") from None


def parse(data: Mapping[str, Any]) -> tuple[Experiment, ...]:
    entries = data.get("experiment", [])
    if not isinstance(entries, list):
        raise ExperimentsError("use [[experiment]] tables")
    experiments = tuple(_experiment(entry, index) for index, entry in enumerate(entries, 1))
    names = [experiment.name for experiment in experiments]
    if len(set(names)) != len(names):
        raise ExperimentsError(f"experiment names must be unique: {names}")
    return experiments


def _experiment(entry: Any, index: int) -> Experiment:
    where = f"experiment {index}"
    if not isinstance(entry, dict):
        raise ExperimentsError(f"{where}: not a table")
    name = _name(entry.get("name"), where)
    raw_variants = entry.get("variants")
    if not isinstance(raw_variants, list) or len(raw_variants) < 2:
        raise ExperimentsError(f"experiment {name!r}: needs at least two variants")
    variants = tuple(_variant(raw, f"experiment {name!r}") for raw in raw_variants)
    if len({variant.name for variant in variants}) != len(variants):
        raise ExperimentsError(f"experiment {name!r}: variant names must be unique")
    return Experiment(name, variants)


def _variant(raw: Any, where: str) -> Variant:
    if not isinstance(raw, dict):
        raise ExperimentsError(f"{where}: a variant is not a table")
    name = _name(raw.get("name"), where)
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < float("inf"):
        raise ExperimentsError(f"{where}, variant {name!r}: weight must be a positive number")
    changes = raw.get("changes", {})
    if not isinstance(changes, dict) or not all(
            isinstance(key, str) and isinstance(value, Change) for key, value in changes.items()):
        raise ExperimentsError(f"{where}, variant {name!r}: changes must be a table of plain values")
    return Variant(name, float(weight), dict(changes))


def is_valid_name(text: str) -> bool:
    return bool(_NAME.fullmatch(text))


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not is_valid_name(value):
        raise ExperimentsError(f"{where}: name {value!r} must be letters, digits and underscores, "
                               "starting with a letter")
    return value
