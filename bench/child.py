"""Runs a measurement in a fresh Python process and reads memory (peak and current) from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    """A measuring child process exited non-zero or printed no result."""


def run_child(module: str, *args: str, env: dict[str, str] | None = None,
              timeout: float = 300.0) -> dict[str, Any]:
    """Runs `python -m module args` from the repo root; returns the JSON on its last stdout line."""
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise ChildFailed(f"{module} {' '.join(args)} exited {done.returncode}: "
                          f"{done.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


def emit(result: dict[str, Any]) -> None:
    """A child's answer: one JSON line, last on stdout."""
    print(json.dumps(result), flush=True)


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM (peak resident set size) of a live process, in MB."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int | str = "self") -> float:
    """VmRSS (resident set size now) of a live process, in MB."""
    return _status_mb(pid, "VmRSS")


def _status_mb(pid: int | str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")
