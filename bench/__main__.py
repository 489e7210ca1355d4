"""`python -m bench [--quick] [--only NAME ...] [--json PATH]`: run the comparisons, print a table,
write JSON. Exit code 0 when every comparison ran (missed targets are reported, not failures),
1 when one raised."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import (
    audio_latency,
    bigquery_upload,
    exit_time,
    startup,
    throughput,
    timer_drift,
    track_cost,
    web_flood,
    web_tabs,
)
from bench.child import ROOT
from bench.figures import Figure
from bench.pipeline import NO_METADATA_PROBE

COMPARISONS: dict[str, ModuleType] = {
    "track": track_cost, "throughput": throughput, "exit": exit_time,
    "bigquery": bigquery_upload, "timer": timer_drift, "audio": audio_latency, "flood": web_flood,
    "tabs": web_tabs, "startup": startup}
DEFAULT_JSON = ROOT / "bench" / "results" / "latest.json"


@dataclass
class Outcome:
    seconds: float
    figures: list[Figure]
    error: str | None = None  # why the comparison raised, if it did

    def as_json(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 2), "error": self.error,
                "figures": [figure.as_json() for figure in self.figures]}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.update(NO_METADATA_PROBE)  # inherited by every child: nothing leaves the machine
    started = time.monotonic()
    outcomes = {name: _run(name, args.quick) for name in args.only or COMPARISONS}
    report = {"quick": args.quick, "finished": datetime.now(UTC).isoformat(),
              "seconds": round(time.monotonic() - started, 2), "machine": machine(),
              "comparisons": {name: outcome.as_json() for name, outcome in outcomes.items()}}
    print(table(outcomes))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'quick run' if args.quick else 'full run'} in {report['seconds']:.0f} s on "
          f"{report['machine']['summary']}; JSON: {args.json}")
    return 1 if any(outcome.error for outcome in outcomes.values()) else 0


def _run(name: str, quick: bool) -> Outcome:
    print(f"running {name} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        figures = COMPARISONS[name].run(quick)
    except Exception as error:  # one broken comparison must not hide the others' figures
        logging.exception("comparison %s failed", name)
        return Outcome(time.monotonic() - started, [], f"{type(error).__name__}: {error}")
    return Outcome(time.monotonic() - started, figures)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller samples and a 5 s timer window: under a minute, to check it works")
    parser.add_argument("--only", nargs="+", choices=COMPARISONS, metavar="NAME",
                        help=f"run only these comparisons: {', '.join(COMPARISONS)}")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                        help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})")
    return parser


def table(outcomes: dict[str, Outcome]) -> str:
    rows = [("comparison", "figure", "value", "target", "result", "note")]
    for name, outcome in outcomes.items():
        if outcome.error:
            rows.append((name, "(failed)", "", "", "ERROR", outcome.error[:200]))
        for figure in outcome.figures:
            rows.append((name, figure.name, _value(figure), str(figure.target or ""), figure.verdict,
                         figure.note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join([cell.rjust(width) if i == 2 else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
                       + [row[-1]]).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _value(figure: Figure) -> str:
    if figure.value is None:
        return "-"
    if 0 < abs(figure.value) < 0.01:  # e.g. dollars per million events: three significant digits
        return f"{figure.value:.3g} {figure.unit}"
    digits = 0 if abs(figure.value) >= 100 else 2
    return f"{figure.value:,.{digits}f} {figure.unit}"


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    cores = len(os.sched_getaffinity(0))
    info: dict[str, Any] = {"cpu": cpu, "cores": cores, "memory_gb": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average": [round(load, 2) for load in os.getloadavg()]}
    info["summary"] = (f"{cpu}, {cores} cores, {info['memory_gb']} GB RAM, Python {info['python']}, "
                       f"load {info['load_average'][0]}")
    return info


if __name__ == "__main__":
    sys.exit(main())
