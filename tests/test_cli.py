"""`python -m ui --web` refuses a bad --port or --host, or a port in use, with one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from _app_server import REPO, app_env


def run_ui(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui", "--web", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=app_env(data_dir))


@pytest.mark.parametrize("args, words", [
    (["--port", "70000"], "70000 is not a port number"),
    (["--port", "0"], "0 is not a port number"),
    (["--port", "http"], "'http' is not a port number"),
    (["--host", "no-such-host.invalid"], "is not a name or address this machine can use"),
    (["--host", "192.0.2.1"], "is not an address of this machine"),
])
def test_bad_addresses_are_one_line_and_exit_2(args: list[str], words: str, data_dir: Path) -> None:
    result = run_ui(args, data_dir)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert not (data_dir / "clickstream.sqlite3").exists()  # nothing started


def test_a_port_in_use_is_one_line_and_exit_2(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ui(["--port", str(port)], data_dir)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
