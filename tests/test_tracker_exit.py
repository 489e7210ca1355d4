"""Exit paths of a real app process: atexit, SIGTERM, SIGINT; and the spawned uploader never runs the
app's __main__ script."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from _store import count

REPO = Path(__file__).resolve().parents[1]

APP = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    # A spawned child re-running this script would write this marker.
    if __name__ != "__main__":
        Path(os.environ["MARKER"]).write_text(__name__)
    from shared.settings import Settings
    from worker import ClickstreamTracker, stop_trackers_on_signals
    tracker = ClickstreamTracker(Settings(data_dir=Path(os.environ["DATA_DIR"]))).start()
    stop_trackers_on_signals()
    for i in range(500):
        tracker.track_event("button_click", "start_button", {"i": i})
    print(tracker.get_stats()["uploader_pid"], flush=True)
    if sys.argv[1] == "wait":
        time.sleep(60)
""")


def run_app(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, int]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "MARKER": str(tmp_path / "marker"),
           "PYTHONPATH": str(REPO)}
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen([sys.executable, str(script), mode], env=env,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    uploader_pid = int(process.stdout.readline())
    return process, uploader_pid


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of an exited parent is reaped by init soon; treat it as gone.
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in {"Z", "X"}


@pytest.mark.parametrize("mode, signum, exit_code", [
    ("exit", None, 0),  # plain end of the script: atexit
    ("wait", signal.SIGTERM, -signal.SIGTERM),  # still dies by the signal, after the shutdown
    ("wait", signal.SIGINT, -signal.SIGINT),  # KeyboardInterrupt, after the shutdown
])
def test_events_are_stored_and_uploader_gone_after_exit(tmp_path: Path, mode: str, signum,
                                                        exit_code: int) -> None:
    process, uploader_pid = run_app(tmp_path, mode)
    if signum is not None:
        process.send_signal(signum)
    try:
        code = process.wait(timeout=15)
    finally:
        process.kill()
    assert code == exit_code, (tmp_path / "stderr.txt").read_text()
    assert count(tmp_path / "data" / "clickstream.sqlite3", "clickstream") == 500
    deadline = time.monotonic() + 2
    while pid_alive(uploader_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(uploader_pid)
    assert not (tmp_path / "marker").exists()


def test_the_tracker_leaves_signal_handlers_to_the_app(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import signal, sys
        from pathlib import Path
        from shared.settings import Settings
        from worker import ClickstreamTracker
        before = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]
        tracker = ClickstreamTracker(Settings(data_dir=Path(sys.argv[1]))).start()
        after = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]
        tracker.shutdown()
        print(before == after)
    """)
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")], capture_output=True,
                            text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "True", result.stderr
