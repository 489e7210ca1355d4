"""`report --experiment NAME`: how the variants of one A/B experiment compare.

Per variant: sessions (from the variant recorded in each session's app_start), timers started
(start_button clicks), timers finished (timer_finished events; a Pomodoro cycle can finish more
phases than it was started, so finishes count up to the starts at most), the finish rate and clicks
per session. The finish rates of each variant and the first one (the control) are compared with a
two-sided two-proportion z-test. Below MIN_STARTS started timers in a variant, the verdict is "not
enough data": the test's normal approximation needs a few dozen trials to mean anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from shared.experiments import is_valid_name
from worker.questions import Question, bigquery_scalar, sqlite_scalar
from worker.report import Row

MIN_STARTS = 30
SIGNIFICANCE = 0.05
COLUMNS = ("variant", "sessions", "timers_started", "timers_finished", "finish_rate",
           "clicks_per_session")

_SQL = """SELECT a.variant AS variant, COUNT(DISTINCT a.session_id) AS sessions,
    SUM(CASE WHEN e.event_type = 'button_click' AND e.component = 'start_button' THEN 1 ELSE 0 END)
        AS timers_started,
    SUM(CASE WHEN e.event_type = 'timer_finished' THEN 1 ELSE 0 END) AS timers_finished,
    SUM(CASE WHEN e.event_type = 'button_click' THEN 1 ELSE 0 END) AS clicks
FROM (SELECT session_id, MIN({variant}) AS variant
      FROM events
      WHERE event_type = 'app_start' AND {variant} IS NOT NULL
      GROUP BY session_id) AS a
JOIN events AS e ON e.session_id = a.session_id
GROUP BY a.variant
ORDER BY a.variant"""


def question(experiment: str) -> Question:
    """The per-variant counts for both engines; raises ValueError for a name that is not one."""
    if not is_valid_name(experiment):
        raise ValueError(f"experiment name {experiment!r} must be letters, digits and underscores")
    path = f"$.experiments.{experiment}"
    return Question(f"experiment_{experiment}", f"Experiment {experiment}",
                    ("variant", "sessions", "timers_started", "timers_finished", "clicks"),
                    _SQL.format(variant=bigquery_scalar(path)),
                    _SQL.format(variant=sqlite_scalar(path)))


@dataclass(frozen=True)
class VariantFigures:
    variant: str
    sessions: int
    timers_started: int
    timers_finished: int
    finish_rate: float
    clicks_per_session: float


@dataclass(frozen=True)
class Comparison:
    variant: str
    control: str
    p_value: float | None  # None: not enough data
    verdict: str


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str
    variants: list[VariantFigures]
    comparisons: list[Comparison]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def compare(experiment: str, rows: Sequence[Row], order: Sequence[str] = ()) -> ExperimentResult:
    """Figures and verdicts from the question's rows; `order` lists the variants as declared (the
    first is the control), else the variants' names in order are used."""
    figures = [_figures(row) for row in rows]
    rank = {name: index for index, name in enumerate(order)}
    figures.sort(key=lambda f: (rank.get(f.variant, len(rank)), f.variant))
    if not figures:
        return ExperimentResult(experiment, [], [])
    control = figures[0]
    return ExperimentResult(experiment, figures,
                            [_compare(variant, control) for variant in figures[1:]])


def _figures(row: Row) -> VariantFigures:
    sessions, started, finished, clicks = (_count(row[key]) for key in
                                           ("sessions", "timers_started", "timers_finished", "clicks"))
    finished = min(finished, started)
    return VariantFigures(str(row["variant"]), sessions, started, finished,
                          round(finished / started, 4) if started else 0.0,
                          round(clicks / sessions, 2) if sessions else 0.0)


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) else 0


def _compare(variant: VariantFigures, control: VariantFigures) -> Comparison:
    if min(variant.timers_started, control.timers_started) < MIN_STARTS:
        return Comparison(variant.variant, control.variant, None,
                          f"not enough data: fewer than {MIN_STARTS} timers started in a variant")
    p_value = two_proportion_p_value(variant.timers_finished, variant.timers_started,
                                     control.timers_finished, control.timers_started)
    if p_value >= SIGNIFICANCE:
        verdict = (f"no clear difference in finish rate ({variant.finish_rate:.1%} vs "
                   f"{control.finish_rate:.1%}, p = {p_value:.3f})")
    else:
        better = variant if variant.finish_rate > control.finish_rate else control
        worse = control if better is variant else variant
        verdict = (f"{better.variant} finishes more timers ({better.finish_rate:.1%} vs "
                   f"{worse.finish_rate:.1%}, p = {p_value:.3f})")
    return Comparison(variant.variant, control.variant, round(p_value, 6), verdict)


def two_proportion_p_value(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test."""
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if spread == 0:
        return 1.0  # all or none finished in both: no difference to see
    z = (successes_a / trials_a - successes_b / trials_b) / spread
    return math.erfc(abs(z) / math.sqrt(2))
