"""Starts the local-bigquery emulator (installed by scripts/install-emulator.sh) on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

PROJECT = "test-project"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_emulator_dir() -> Path | None:
    configured = os.environ.get("HL_VOX_EMULATOR_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path.home() / ".cache" / "hl-vox-timeleft" / "local-bigquery-0.3.2")
    for candidate in candidates:
        if (candidate / ".ready").exists():
            return candidate
    return None


class Emulator:
    """One emulator server; stop() and start() keep its data dir and port, like a real outage."""

    def __init__(self, install_dir: Path, data_dir: Path) -> None:
        self.install_dir = install_dir
        self.data_dir = data_dir
        self.port = free_port()
        self.grpc_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / "emulator.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.install_dir / "home")}
        command = [str(self.install_dir / "venv" / "bin" / "local-bigquery"), "serve",
                   "--host", "127.0.0.1", "--port", str(self.port), "--grpc-port", str(self.grpc_port),
                   "--project", PROJECT, "--data-dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint}/bigquery/v2/projects/{PROJECT}/datasets"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"emulator exited early, see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"emulator not ready after {timeout} s, see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
