"""What app_start says about the app itself: its version and how long it took to become usable.

Nothing about the machine or the person: the version is the package's, and the start-up time a
duration. `PROCESS_STARTED` is taken when the `ui` package is first imported, which `python -m ui`
does before anything else of ours, so a desktop start-up counts Python's imports of Flet and ours
too (the sounds decode after the window is shown, see ui.app).
"""

from __future__ import annotations

import time
from importlib import metadata

PACKAGE = "hl-vox-timeleft"
PROCESS_STARTED = time.monotonic()


def app_version() -> str:
    """The installed package's version; "unknown" when run from a tree that was never installed."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def elapsed_ms(since: float, now: float | None = None) -> float:
    """Milliseconds from the monotonic time `since` to `now` (default: the present), to 0.1 ms."""
    return round(((time.monotonic() if now is None else now) - since) * 1000, 1)
