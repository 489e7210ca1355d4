"""What an A/B experiment's variant changes in the app, checked once against what the app can do.

The experiments file (shared.experiments) is plain data; only the app knows which sounds and weapons
exist. `usable` checks every variant's changes when the app starts and drops the ones it cannot
apply, with one warning for the file; a session's `AppVariant` is then built from changes already
known to be good.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.experiments import Assignment, Change, Experiment, Variant
from ui.soundpack import ENDINGS
from ui.speed import NORMAL_SPEED, is_valid_speed
from ui.weapons import DEFAULT_WEAPON, WEAPONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppVariant:
    """One session's version of the app."""

    ending_sound: str | None = None  # one of ENDINGS; None: a random ending each time
    default_weapon: str = DEFAULT_WEAPON
    announcer_speed: float = NORMAL_SPEED

    @classmethod
    def of(cls, assignment: Assignment) -> AppVariant:
        """The session's changes (from `usable` experiments) applied over the plain app."""
        known = {name: value for name, value in assignment.changes.items() if _valid(name, value)}
        if "announcer_speed" in known:
            known["announcer_speed"] = float(known["announcer_speed"])
        return cls(**known)  # type: ignore[arg-type]


_CHECKS: dict[str, Callable[[Change], bool]] = {
    "ending_sound": lambda value: value in ENDINGS,
    "default_weapon": lambda value: value in WEAPONS,
    "announcer_speed": is_valid_speed,
}
assert set(_CHECKS) == {field.name for field in dataclasses.fields(AppVariant)}


def _valid(name: str, value: Change) -> bool:
    check = _CHECKS.get(name)
    return check is not None and check(value)


def usable(experiments: tuple[Experiment, ...]) -> tuple[Experiment, ...]:
    """The experiments with every change the app cannot apply left out (one warning says which);
    the variants themselves stay, so assignment and the report are unchanged."""
    ignored: list[str] = []

    def kept(experiment: Experiment, variant: Variant) -> Variant:
        good = {name: value for name, value in variant.changes.items() if _valid(name, value)}
        ignored.extend(f"{experiment.name}/{variant.name}: {name}={value!r}"
                       for name, value in variant.changes.items() if name not in good)
        return dataclasses.replace(variant, changes=good)

    checked = tuple(dataclasses.replace(experiment, variants=tuple(
        kept(experiment, variant) for variant in experiment.variants)) for experiment in experiments)
    if ignored:
        log.warning("experiments: ignoring changes the app cannot apply: %s (known: %s)",
                    ", ".join(ignored), ", ".join(sorted(_CHECKS)))
    return checked
