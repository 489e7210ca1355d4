"""The web app as a real server for the web comparisons (bench.web_flood, bench.web_tabs), and what
it costs: its CPU time and the process ids of its children (the uploader), read from /proc."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.child import ROOT
from bench.emulator import closed_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@contextlib.contextmanager
def web_app(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m ui --web` as a user starts it (no debug logging), its store in data_dir: the
    process and its URL once it answers; stopped (SIGTERM, its bounded exit) afterwards."""
    port = closed_port()  # free: nothing listens on it
    env = {**os.environ, "HL_VOX_DATA_DIR": str(data_dir), "HL_VOX_SINK": "local",
           "HL_VOX_CLICKSTREAM_ENABLED": "true"}
    server = subprocess.Popen([sys.executable, "-m", "ui", "--web", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_answering(server, url)
        yield server, url
    finally:
        server.terminate()
        try:
            server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_answering(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the web app exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"the web app did not answer within {START_TIMEOUT} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, all its threads, in seconds."""
    # The command name (field 2) may hold spaces and parentheses: count fields after its ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The live children of a process (the web app's: its uploader and multiprocessing's resource
    tracker)."""
    return sorted(child for child, parent in _parents().items() if parent == pid)


def descendant_pids(pid: int, without: int | None = None) -> list[int]:
    """The live descendants of a process, leaving out the `without` process and its own."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        if child != without:
            children.setdefault(parent, []).append(child)
    found: list[int] = []
    parents = [pid]
    while parents:
        below = children.get(parents.pop(), [])
        found += below
        parents += below
    return sorted(found)


def _parents() -> dict[int, int]:
    """{pid: parent pid} of every live process."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # it ended while we looked
            continue
    return parents
