"""Process-wide exit handling for trackers: an atexit hook always, signals only when the app asks.

A library must not take over SIGTERM/SIGINT silently, so the app turns that on explicitly with
`stop_trackers_on_signals()` from its main thread (ui/__main__.py does).
"""

from __future__ import annotations

import atexit
import signal
import weakref
from types import FrameType
from typing import Any, Protocol


class Stoppable(Protocol):
    def shutdown(self, timeout: float = ...) -> None: ...


_live: weakref.WeakSet[Any] = weakref.WeakSet()
_atexit_registered = False


def shut_down_at_exit(tracker: Stoppable) -> None:
    """Shuts the tracker down on interpreter exit (if it is still alive then)."""
    global _atexit_registered
    _live.add(tracker)
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(shut_down_all)


def shut_down_all() -> None:
    for tracker in list(_live):
        tracker.shutdown()


def stop_trackers_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Makes SIGTERM and SIGINT shut every live tracker down (bounded) before the signal's earlier
    handling runs: a chained handler is called, a default one ends the process by the signal.
    Call it from the main thread."""
    for signum in signals:
        previous = signal.getsignal(signum)
        signal.signal(signum, _make_signal_handler(previous))


def _make_signal_handler(previous: Any) -> Any:
    def handle(signum: int, frame: FrameType | None) -> None:
        shut_down_all()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            # Die by the signal as we would have without us.
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    return handle
