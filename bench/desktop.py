"""The real Flet desktop window under Xvfb: the desktop venv's Python (flet 0.82.2, the last with a
bundled Linux client, made by scripts/install-desktop-venv.sh), a private X display, and finding
and reading the app's window with python-xlib. What the desktop test and the start-up benchmark
share."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def desktop_python() -> Path | None:
    """The desktop venv's python (HL_VOX_DESKTOP_VENV, default ~/.cache/hl-vox-timeleft/flet-0.82.2),
    or None when that venv is missing or was never completed."""
    venv = Path(os.environ.get("HL_VOX_DESKTOP_VENV")
                or Path.home() / ".cache" / "hl-vox-timeleft" / "flet-0.82.2")
    python = venv / "bin" / "python"
    return python if (venv / ".ready").exists() and python.exists() else None


@contextlib.contextmanager
def xvfb(screen: str = "1024x768x24") -> Iterator[str]:
    """A private X display, e.g. ":5"; Xvfb picks a free number and tells us through a pipe.
    `screen` is its size and depth (a window's pixels can be read only where it is on screen)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", screen,
                               "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 10)
        number = os.read(read_end, 16).decode().strip() if ready else ""
        if not number:
            raise RuntimeError("Xvfb did not report its display number")
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(5)


def find_window(x: Any, title: str) -> Any:
    """The top-level window with that title (the client's other windows are off-screen helpers)."""
    from Xlib.error import BadWindow

    for window in x.screen().root.query_tree().children:
        with contextlib.suppress(BadWindow):  # it went away since the tree was read
            if window.get_wm_name() == title:
                return window
    return None


def window_pixels(window: Any) -> tuple[bytes, int, int]:
    """The window's content as BGRx bytes (24-bit visuals), with its width and height."""
    from Xlib import X

    geometry = window.get_geometry()
    image = window.get_image(0, 0, geometry.width, geometry.height, X.ZPixmap, 0xFFFFFFFF)
    return image.data, geometry.width, geometry.height
