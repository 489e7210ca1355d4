"""Desktop smoke test: the real Flet window under Xvfb (flet 0.82.2, the last with a bundled Linux
client, in its own venv made by scripts/install-desktop-venv.sh). A Start click is tracked and a
window-manager close request ends the app, uploader included, within 6 s with every event stored."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.desktop import desktop_python, find_window, window_pixels
from bench.desktop import xvfb as private_display
from ui.screen import COMPACT_HEIGHT, COMPACT_WIDTH, WINDOW_HEIGHT, WINDOW_WIDTH

from _app_server import REPO, AppProcess, Row, app_env, read_store
from conftest import missing_part

pytestmark = pytest.mark.desktop

TITLE = "HL VOX TimeLEFT"
# Where Start sits in the app's 440x720 window (see artifacts/desktop-app.png).
START_BUTTON = (103, 353)
STATS_BUTTON = (288, 399)
COMPACT_BUTTON = (220, 565)
FULL_VIEW_BUTTON = (160, 181)  # in the compact window (see artifacts/desktop-compact.png)
CLOSE_BUDGET = 6.0
ARTIFACTS = Path(os.environ.get("HL_VOX_ARTIFACTS_DIR", REPO / "artifacts"))


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A private X display, e.g. ":5"."""
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            missing_part(tool, "run bash scripts/install-system.sh")
    with private_display() as display:
        yield display


def test_window_tracks_start_and_closes_cleanly(xvfb: str, tmp_path: Path) -> None:
    python = desktop_python()
    if python is None:
        missing_part("the flet 0.82.2 desktop venv", "run bash scripts/install-desktop-venv.sh")
    try:
        from Xlib import display as xdisplay
    except ImportError:
        missing_part("python-xlib", "run bash scripts/install-app.sh dev")
    data_dir = tmp_path / "data"
    # This checkout's code, whichever checkout the shared venv was installed from; no sound card.
    env = app_env(data_dir, DISPLAY=xvfb, SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
    app = AppProcess(["--verbose"], env, tmp_path / "desktop-app.log", python=str(python))
    x = xdisplay.Display(xvfb)
    try:
        window = wait_for(lambda: find_window(x, TITLE), 40, "the app window", app)
        wait_for(lambda: amber_pixels(window) > 2000, 20, "the screen to be drawn", app)
        wait_for(lambda: has(data_dir, "app_start"), 10, "app_start in the store", app)

        click(window, START_BUTTON, xvfb)
        wait_for(lambda: has(data_dir, "start_button"), 10, "the Start click in the store", app)
        # The window's title says the time left while the countdown runs.
        wait_for(lambda: re.fullmatch(rf"2[45]:\d\d · {TITLE}", window.get_wm_name() or ""), 10,
                 "the time left in the window title", app)
        save_png(window, ARTIFACTS / "desktop-app.png")

        # Compact: a small window asked to stay on top (GTK asks the window manager with a
        # _NET_WM_STATE message to the root window, which we listen to), and back.
        states = WindowStates(x, window)
        click(window, COMPACT_BUTTON, xvfb)
        wait_for(lambda: size(window) == (COMPACT_WIDTH, COMPACT_HEIGHT), 10, "the compact window", app)
        wait_for(lambda: states.above() is True, 5, "the always-on-top request", app)
        save_png(window, ARTIFACTS / "desktop-compact.png", settled=True)
        click(window, FULL_VIEW_BUTTON, xvfb)
        wait_for(lambda: size(window) == (WINDOW_WIDTH, WINDOW_HEIGHT), 10, "the full window again", app)
        wait_for(lambda: states.above() is False, 5, "the end of always-on-top", app)

        click(window, STATS_BUTTON, xvfb)
        wait_for(lambda: "stats of session" in app.log_text(), 10, "the Stats view", app)
        wait_for(lambda: has(data_dir, "stats_button"), 10, "the Stats click in the store", app)
        save_png(window, ARTIFACTS / "desktop-stats.png", settled=True)

        asked = time.monotonic()
        request_close(x, window)
        assert app.wait(CLOSE_BUDGET) == 0, app.log_text()[-3000:]
        assert time.monotonic() - asked < CLOSE_BUDGET
        assert app.leftover_processes() == []
    finally:
        x.close()
        if app.process.poll() is None or app.group_alive():
            app.kill_group()

    rows = read_store(data_dir)
    assert len({row.session_id for row in rows}) == 1  # one session per desktop run
    assert rows[0].event_type == "app_start"
    started = rows[0].metadata or {}
    assert set(started) == {"version", "startup_ms", "experiments"}
    assert started["startup_ms"] > 0  # from the process start: the imports and the window
    assert [(row.event_type, row.component, row.metadata) for row in rows[1:]] == [
        ("button_click", "start_button", {"time_input": "00:25:00"}),
        ("button_click", "compact_button", {"compact": True}),
        ("button_click", "compact_button", {"compact": False}),
        ("button_click", "stats_button", None),
        ("app_stop", "application", {"reason": "window_closed"}),
    ]


def wait_for(check: Callable[[], object], timeout: float, what: str, app: AppProcess):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if app.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s:\n{app.log_text()[-3000:]}")
        time.sleep(0.1)


def has(data_dir: Path, what: str) -> bool:
    try:
        rows: list[Row] = read_store(data_dir)
    except Exception:  # the store or its table does not exist before the first flush
        return False
    return any(what in (row.event_type, row.component) for row in rows)


def click(window, position: tuple[int, int], display: str) -> None:
    # Move first and let the pointer settle: Flutter ignores a press from a pointer it has not
    # seen enter the window yet.
    subprocess.run(["xdotool", "mousemove", "--window", str(window.id), *map(str, position),
                    "sleep", "0.3", "click", "1"], env={**os.environ, "DISPLAY": display}, check=True)


def amber_pixels(window) -> int:
    from Xlib.error import BadMatch

    try:
        data, _, _ = window_pixels(window)
    except BadMatch:  # the window exists but is not mapped yet
        return 0
    blue, green, red = data[0::4], data[1::4], data[2::4]  # 24-bit visuals come as BGRx
    return sum(1 for b, g, r in zip(blue, green, red, strict=True) if r > 200 and 120 < g < 200 and b < 90)


def save_png(window, path: Path, settled: bool = False, timeout: float = 5.0) -> None:
    """With `settled`, waits until two captures 0.2 s apart agree (the client paints a moment after
    the app logged what it showed)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    data, width, height = window_pixels(window)
    deadline = time.monotonic() + timeout
    while settled:
        time.sleep(0.2)
        previous, (data, width, height) = data, window_pixels(window)
        if data == previous:
            break
        assert time.monotonic() < deadline, f"the window never stopped changing for {path.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(pygame.image.frombuffer(data, (width, height), "BGRA"), str(path))


def size(window) -> tuple[int, int]:
    geometry = window.get_geometry()
    return geometry.width, geometry.height


class WindowStates:
    """The window's always-on-top requests, as a window manager receives them: _NET_WM_STATE
    client messages to the root window (there is no window manager under Xvfb to act on them)."""

    def __init__(self, x, window) -> None:
        from Xlib import X

        self._x, self._window = x, window
        self._state, self._above = x.intern_atom("_NET_WM_STATE"), x.intern_atom("_NET_WM_STATE_ABOVE")
        self._latest: bool | None = None
        x.screen().root.change_attributes(event_mask=X.SubstructureNotifyMask)
        x.sync()

    def above(self) -> bool | None:
        """The latest request for the window: True (on top), False (not), None (none yet)."""
        from Xlib import X

        while self._x.pending_events():
            event = self._x.next_event()
            if (event.type == X.ClientMessage and event.client_type == self._state
                    and event.window.id == self._window.id and self._above in event.data[1][1:3]):
                self._latest = event.data[1][0] == 1  # _NET_WM_STATE_ADD; 0 is REMOVE
        return self._latest


def request_close(x, window) -> None:
    """What a window manager sends when the user clicks the close button: WM_DELETE_WINDOW."""
    from Xlib import X, protocol

    message = protocol.event.ClientMessage(
        window=window, client_type=x.intern_atom("WM_PROTOCOLS"),
        data=(32, [x.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]))
    window.send_event(message, event_mask=X.NoEventMask)
    x.flush()


def test_no_display_asks_for_web_instead(monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """Without a display Flet would quietly serve on port 8000; the app says what to do instead."""
    from ui.__main__ import main

    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux decides by DISPLAY whether there is a screen")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert main([]) == 2
    assert "--web" in caplog.text
