"""Runs the app (`python -m ui ...`) as a real process for tests, and reads what it tracked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _emulator import free_port

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    session_id: str
    event_type: str
    component: str
    metadata: dict | None


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The app's environment: a private store that flushes fast, and no cloud."""
    env = {**os.environ, "HL_VOX_DATA_DIR": str(data_dir), "HL_VOX_SINK": "local",
           "HL_VOX_FLUSH_INTERVAL": "0.1", "HL_VOX_CLICKSTREAM_ENABLED": "true", **extra}
    for name in ("FLET_FORCE_WEB_SERVER", "FLET_SERVER_PORT", "FLET_SERVER_IP"):
        env.pop(name, None)  # a developer's `flet run` environment must not leak into the app
    return env


def read_store(data_dir: Path) -> list[Row]:
    """Every event in the local store, in the order they were tracked (none before it exists)."""
    path = data_dir / "clickstream.sqlite3"
    if not path.exists():
        return []
    # Read-only: a test never creates or changes the app's store.
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT session_id, event_type, component, metadata FROM clickstream "
                          "ORDER BY timestamp").fetchall()
    return [Row(sid, etype, comp, json.loads(meta) if meta is not None else None)
            for sid, etype, comp, meta in rows]


def by_session(rows: list[Row]) -> list[list[Row]]:
    """Rows grouped per session, sessions in the order they started."""
    sessions: dict[str, list[Row]] = {}
    for row in rows:
        sessions.setdefault(row.session_id, []).append(row)
    return list(sessions.values())


class AppProcess:
    """`python -m ui` in its own process group, so a test can see that nothing outlives it."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path,
                 python: str = sys.executable) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log:  # the app writes to its own copy of the file descriptor
            self.process = subprocess.Popen([python, "-m", "ui", *args], cwd=REPO, env=env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 8.0) -> int:
        """Signals the app (not its group: it must take its uploader down itself); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def group_alive(self) -> bool:
        """Whether any process of the app's group (e.g. the uploader) is still running."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def leftover_processes(self, grace: float = 2.0) -> list[str]:
        """Command lines of the app's processes still alive after `grace` seconds (should be none).

        The grace covers multiprocessing's resource tracker, which quits on its own just after its
        parent, once it sees the parent's end of its pipe close.
        """
        deadline = time.monotonic() + grace
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        return [_cmdline(pid) for pid in _group_members(self.process.pid)]

    def kill_group(self) -> None:
        """Last-resort clean-up after a failed test."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)


# A closed tab's session ends this long after its socket closed: short, so tests see it end, yet
# well above the half second a reload or a dropped socket takes to reconnect.
TEST_GRACE_SECONDS = 6.0


class WebServer(AppProcess):
    def __init__(self, data_dir: Path, log_path: Path, *args: str) -> None:
        self.port = free_port()
        env = app_env(data_dir, HL_VOX_WEB_GRACE_SECONDS=str(TEST_GRACE_SECONDS))
        super().__init__(["--web", "--port", str(self.port), "--verbose", *args], env, log_path)
        self.url = f"http://127.0.0.1:{self.port}/"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web app exited early:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the web app did not answer within {timeout} s:\n{self.log_text()}")


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"pid {pid}"
