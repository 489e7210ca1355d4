"""`python -m bench --quick` works: every comparison runs and reports numbers.

Targets are not checked here: benchmark figures depend on the machine and its load, so a missed
target is for the benchmark's reader, not a test failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ON_CI

ROOT = Path(__file__).resolve().parent.parent
COMPARISONS = ("track", "throughput", "exit", "bigquery", "timer", "audio", "flood", "tabs", "startup")


def test_quick_benchmark_runs_every_comparison(tmp_path: Path) -> None:
    results = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    report = json.loads(results.read_text())
    assert report["quick"] is True
    assert set(report["comparisons"]) == set(COMPARISONS)
    for name, comparison in report["comparisons"].items():
        assert comparison["error"] is None, comparison["error"]
        assert comparison["figures"], f"{name} reported no figure"
        assert rows.count(name) == len(comparison["figures"]), f"{name}'s rows are not all printed"
        for figure in comparison["figures"]:
            if figure["verdict"] == "skipped":  # a missing part (the emulator) may skip locally only
                assert not ON_CI, figure
                continue
            assert isinstance(figure["value"], (int, float)) and figure["value"] == figure["value"], figure
            assert figure["verdict"] in {"pass", "MISS", "-"}, figure
