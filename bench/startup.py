"""Comparison 9: start-up, next to a bare Flet hello-world app (bench.hello_flet) started the same way.

Method. Each start is a fresh `python -m <module>` (ours: `ui`), its store in a fresh temporary
folder, timed from time.monotonic() just before Popen:
- web: `--web --port P`. Headless Chromium is launched, and the tab opened, before the server
  starts, so the browser's own start-up is not counted: the figure is the server's. A new tab
  keeps both cores busy for about half a second (its renderer starting, the last one's ending), so
  every start, in both modes, waits for a quiet machine first (QUIET). The URL is
  polled until it answers, then the tab loads it (a fresh browser context: a first visit, nothing
  cached); the figure ends when the page's main button (ours: Start) is clickable, i.e. Playwright's
  trial click finds it visible, stable and enabled. The time the server first answered is in the
  note.
- desktop, under Xvfb with the desktop venv's Python (flet 0.82.2): the figure ends when an X window
  with the app's title exists and is viewable (mapped); the first drawn pixels (the window's content
  no longer one colour) are in the note.
Every child gets the same environment: no sound card (SDL's dummy driver), and compiled bytecode
kept in a temporary PYTHONPYCACHEPREFIX, as a user's installed copy has it (this machine sets
PYTHONDONTWRITEBYTECODE, which would make every start compile our code again). One uncounted start
of each app fills that cache and the disk cache first. Then RUNS rounds, each starting every app
once, in turn; figures are medians. Our app is also started with tracking off
(HL_VOX_CLICKSTREAM_ENABLED=false): the difference is what starting the uploader costs the first
page. Target: our start-up <= 1.3 x hello world's, in both modes.

Findings (2-core EPYC; traces with monotonic timestamps in both processes, CPU time from /proc for
the server, its uploader and every Chromium process, Chromium's own trace and profiler, cProfile):
- desktop: Flet 0.82.2's own import (0.4 s) and its client's start (0.45 s) are hello world's too.
  Ours added the sound decoding (pygame and every clip, 0.45-0.6 s) and the session's modules
  (0.15 s) before the client was even started: 1.6 s against 0.9 s. Now the modules import on a
  thread while the client starts and the sounds decode once the window is shown (ui.app).
- web: the browser and the server share the 2 cores, and the browser needs both while it loads
  Flet's client, so what counts is CPU, wherever it is spent; work moved into the browser's load
  (ui.web_parts) gains nothing here (it does where the browser runs elsewhere, as for visitors).
  Ours was 1.5-1.9 x. What it spent more than hello world, and what was done:
  - the browser (+1.0 s of CPU): Flutter fades from its default theme to ours over 200 ms,
    rebuilding every control in each frame (+0.6 s of CPU for our page, 0.2-0.3 s later usable;
    a page of our controls without a theme costs 1.1 x): the theme now arrives unanimated. The
    eight sound players (a Web Audio context each and a fetch, ~0.3 s of CPU) came before the
    page, then with its first answer, which comes as the browser starts drawing the page: the
    page arrived 0.44-0.48 s before it was usable, 0.28-0.39 s with the players half a second
    later, as now (hello world's: 0.21-0.25 s). The hidden Stats screen, Pomodoro numbers and
    shortcut list: no longer sent with the first page.
  - the server before it answered (+0.4 s): decoding the announcer's words (0.25-0.3 s of pure
    Python resampling, now 26 ms, and done after the first tab's parts), Flet's charts (40 ms,
    now imported by the first chart), filelock (25 ms, now imported by the uploader only); the
    rest (the session's modules, the backgrounds) is now made after it answers. Left: our own
    modules and settings before it answers (~50 ms), and after it Flet's theme classes (~50 ms
    the first time a theme is made; hello world makes none).
  - the first tab's session (0.15 s, against 15 ms for later ones: Flet imports a control's
    module when it is first named): now made once, unseen, before the first tab asks.
  - Chromium's new tab kept both cores busy for half a second as each start began: every start
    now waits for a quiet machine.
- the uploader starts in parallel (its own process, spawned in ~10 ms; ~0.1 s of CPU with
  multiprocessing's resource tracker, mostly before the browser loads). It delays the server's
  first answer by ~40 ms (median of 50 starts: the two cores are not two free ones). Running it
  at niceness +10 took only 10 ms off that and drains slower whenever the UI floods the CPU
  (events were dropped once in a test that does), so it keeps the app's priority. Tracking on
  and off differ by less than the spread between starts in the page's figure (20-90 ms over
  20-start comparisons, -0.15 to +0.15 s in 5).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench import browser, desktop, hello_flet
from bench.child import ROOT
from bench.emulator import closed_port
from bench.figures import Figure, Target
from ui.session import APP_TITLE

log = logging.getLogger(__name__)

RUNS = 5  # the figures swing by a tenth of a second between starts on this machine
QUICK_RUNS = 1
TARGET_RATIO = 1.3
START_TIMEOUT = 40.0  # seconds a start may take before the comparison gives up
POLL = 0.01  # seconds between looks: well below the differences we measure
SCREEN = "1920x1080x24"  # room for a window of Flet's default size (1280x720)
# A start waits until the machine's CPUs were this busy or less (in cores) over QUIET_WINDOW, for at
# most QUIET_TIMEOUT seconds: other work on this shared machine must not stop the bench.
QUIET, QUIET_WINDOW, QUIET_TIMEOUT = 0.2, 0.1, 5.0
Result = TypeVar("Result")


@dataclass(frozen=True)
class App:
    name: str
    module: str
    button: str  # web: the button that makes the page usable
    title: str  # desktop: its window's title
    env: dict[str, str] = field(default_factory=dict)


HELLO = App("hello world", "bench.hello_flet", hello_flet.BUTTON, hello_flet.TITLE)
OURS = App("our app", "ui", "Start", APP_TITLE, {"HL_VOX_CLICKSTREAM_ENABLED": "true"})
UNTRACKED = App("our app, tracking off", "ui", "Start", APP_TITLE, {"HL_VOX_CLICKSTREAM_ENABLED": "false"})
APPS = (HELLO, OURS, UNTRACKED)


@dataclass(frozen=True)
class Start:
    """Seconds from the process start to the figure's moment, and to the one in its note."""

    seconds: float  # web: the page interactive; desktop: the window mapped
    noted: float  # web: the server first answered; desktop: the first pixels drawn


def run(quick: bool) -> list[Figure]:
    runs = QUICK_RUNS if quick else RUNS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return _web(runs, folder) + _desktop(runs, folder)


# ---- web ------------------------------------------------------------------------------------

def _web(runs: int, folder: Path) -> list[Figure]:
    executable = browser.chromium_path()
    if executable is None:
        return _skipped("web", "no Chromium (bash scripts/install-system.sh)")
    from playwright.sync_api import sync_playwright

    env = _env(folder)
    env.pop("DISPLAY", None)  # a web server: Flet opens no browser window of its own
    with sync_playwright() as playwright:
        chromium = browser.launch(playwright, executable)
        try:
            starts = _rounds(runs, lambda app: _web_start(chromium, app, env, folder))
        finally:
            chromium.close()
    return _figures("web", "first interactive page", "server answered", starts)


def _web_start(chromium: Any, app: App, env: dict[str, str], folder: Path) -> Start:
    context = chromium.new_context()  # a first visit: nothing cached
    try:
        page = context.new_page()
        port = closed_port()
        url = f"http://127.0.0.1:{port}/"
        _wait_quiet()
        started = time.monotonic()
        with _process(app, [sys.executable, "-m", app.module, "--web", "--port", str(port)], env,
                      folder) as process:
            _wait(lambda: _answers(url), process, f"{app.name} answering")
            answered = time.monotonic()
            page.goto(url)
            browser.wait_loaded(page, app.button)
            page.get_by_role("button", name=app.button).click(trial=True)  # clickable, not clicked
            return Start(time.monotonic() - started, answered - started)
    finally:
        context.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


# ---- desktop --------------------------------------------------------------------------------

def _desktop(runs: int, folder: Path) -> list[Figure]:
    python = desktop.desktop_python()
    if python is None:
        return _skipped("desktop", "no flet 0.82.2 desktop venv (bash scripts/install-desktop-venv.sh)")
    if shutil.which("Xvfb") is None:
        return _skipped("desktop", "no Xvfb (bash scripts/install-system.sh)")
    try:
        from Xlib import display as xdisplay
    except ImportError:
        return _skipped("desktop", "no python-xlib (bash scripts/install-app.sh dev)")

    with desktop.xvfb(SCREEN) as display:
        # This checkout's code, whichever checkout the desktop venv was installed from.
        env = {**_env(folder), "DISPLAY": display, "PYTHONPATH": str(ROOT)}
        x = xdisplay.Display(display)
        try:
            starts = _rounds(runs, lambda app: _desktop_start(x, python, app, env, folder))
        finally:
            x.close()
    return _figures("desktop", "window mapped", "first pixels drawn at", starts)


def _desktop_start(x: Any, python: Path, app: App, env: dict[str, str], folder: Path) -> Start:
    from Xlib import X

    def mapped() -> Any:
        window = desktop.find_window(x, app.title)
        return window if window and window.get_attributes().map_state == X.IsViewable else None

    _wait_quiet()
    started = time.monotonic()
    with _process(app, [str(python), "-m", app.module], env, folder) as process:
        window = _wait(mapped, process, f"{app.name}'s window")
        shown = time.monotonic()
        _wait(lambda: _drawn(window), process, f"{app.name}'s first pixels")
        drawn = time.monotonic()
    # The X server drops a killed client's window a moment later: the next start must not find it.
    _wait(lambda: desktop.find_window(x, app.title) is None, None, f"{app.name}'s window to close")
    return Start(shown - started, drawn - started)


def _drawn(window: Any) -> bool:
    """Whether anything is drawn: the window's pixels are not all the colour of the first one."""
    from Xlib.error import BadMatch

    try:
        pixels, _, _ = desktop.window_pixels(window)
    except BadMatch:  # not viewable (any more)
        return False
    return pixels != pixels[:4] * (len(pixels) // 4)


# ---- shared ---------------------------------------------------------------------------------

def _env(folder: Path) -> dict[str, str]:
    env = {**os.environ, "HL_VOX_SINK": "local", "SDL_AUDIODRIVER": "dummy",
           "PYTHONPYCACHEPREFIX": str(folder / "bytecode")}
    for name in ("PYTHONDONTWRITEBYTECODE", "FLET_FORCE_WEB_SERVER", "FLET_SERVER_PORT", "FLET_SERVER_IP"):
        env.pop(name, None)  # bytecode is cached as on a user's machine; no `flet run` leftovers
    return env


@contextlib.contextmanager
def _process(app: App, command: list[str], env: dict[str, str],
             folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The app running in its own session (its client and uploader too), killed on leaving."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=folder))
    with (data_dir / "app.log").open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT,
                                   env={**env, **app.env, "HL_VOX_DATA_DIR": str(data_dir)},
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    except Exception:
        log.error("%s failed; its output:\n%s", app.name, (data_dir / "app.log").read_text()[-3000:])
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _wait(check: Callable[[], Result], process: subprocess.Popen[bytes] | None, what: str) -> Result:
    """Polls `check` until it is truthy; returns its value at once, so the caller can read the clock."""
    deadline = time.monotonic() + START_TIMEOUT
    while not (result := check()):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {START_TIMEOUT:.0f} s")
        time.sleep(POLL)
    return result


def _wait_quiet() -> None:
    """Returns once the machine's CPUs were at most QUIET cores busy over a QUIET_WINDOW (/proc/stat),
    or after QUIET_TIMEOUT seconds."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    before = _cpu_ticks()
    while time.monotonic() < deadline:
        time.sleep(QUIET_WINDOW)
        now = _cpu_ticks()
        busy, total = now[0] - before[0], now[1] - before[1]
        if total and busy / total * (os.cpu_count() or 1) <= QUIET:
            return
        before = now
    log.warning("the machine stayed busy: a start-up begins anyway")


def _cpu_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of all CPUs since boot: idle and iowait are not busy."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def _rounds(runs: int, start: Callable[[App], Start]) -> dict[str, list[Start]]:
    """Each app's starts by name: after uncounted ones that fill the bytecode and disk caches (ours
    tracked: its uploader's modules too), `runs` rounds starting every app in turn."""
    for app in (HELLO, OURS):
        start(app)
    starts: dict[str, list[Start]] = {app.name: [] for app in APPS}
    for _ in range(runs):
        for app in APPS:
            starts[app.name].append(start(app))
    return starts


def _figures(mode: str, moment: str, noted: str, starts: dict[str, list[Start]]) -> list[Figure]:
    ours, hello, untracked = (statistics.median(start.seconds for start in starts[app.name])
                              for app in (OURS, HELLO, UNTRACKED))

    def note(app: App) -> str:
        times = sorted(start.seconds for start in starts[app.name])
        return (f"{noted} {statistics.median(start.noted for start in starts[app.name]):.2f} s; "
                f"median of {len(times)}, range {times[0]:.2f}-{times[-1]:.2f} s")

    return [
        Figure(f"{mode}: {moment}, our app", ours, "s", note=note(OURS)),
        Figure(f"{mode}: {moment}, hello world", hello, "s", note=note(HELLO)),
        Figure(f"{mode}: start-up, our app / hello world", ours / hello, "x", Target("<=", TARGET_RATIO)),
        Figure(f"{mode}: delay from starting the uploader", 1000 * (ours - untracked), "ms",
               note=f"our app tracking on - off, medians; off: {untracked:.2f} s"),
    ]


def _skipped(mode: str, why: str) -> list[Figure]:
    return [Figure(f"{mode}: start-up, our app / hello world", None, "x", Target("<=", TARGET_RATIO),
                   note=f"skipped: {why}")]
