"""A measured figure, the target it is held to, and the verdict."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    op: str  # one of _COMPARE's keys
    bound: float

    def met_by(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.bound)

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None  # None only when the comparison was skipped (see note)
    unit: str
    target: Target | None = None  # None: reported for context, not judged
    _: KW_ONLY
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "skipped"
        if self.target is None:
            return "-"
        return "pass" if self.target.met_by(self.value) else "MISS"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit,
                "target": str(self.target) if self.target else None,
                "verdict": self.verdict, "note": self.note}
