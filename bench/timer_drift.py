"""Comparison 5: timer drift, our countdown vs a naive `sleep(1)` loop, both with a busy callback.

Each runs a countdown of WINDOW seconds of real time in its own fresh child, both at the same time;
on every displayed second each calls the same callback, which keeps the CPU busy for BUSY seconds
(a heavy screen update plus a sound start on a slow machine). The error is when each one says
"finished" minus when it should have: start + WINDOW, on time.monotonic().
- ours: ui.timer.CountdownTimer driven as the app's ticker drives it (ui.app_session): sleep until
  seconds_until_next_change() + the app's TICK_SLACK on an asyncio loop, then poll();
- naive: `while remaining: sleep(1); remaining -= 1; callback()`, the loop tracking clients' docs
  and many timer tutorials use: each callback and each late wake-up adds to the error.
"""

from __future__ import annotations

import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.child import emit, run_child
from bench.figures import Figure, Target

BUSY = 0.02  # seconds of CPU the callback burns per displayed second
FULL_WINDOW, QUICK_WINDOW = 60, 5


def run(quick: bool) -> list[Figure]:
    window = QUICK_WINDOW if quick else FULL_WINDOW
    with ThreadPoolExecutor(2) as pool:  # side by side: the same seconds of the same machine
        ours, naive = pool.map(lambda kind: run_child("bench.timer_drift", kind, str(window)),
                               ("ours", "naive"))
    note = f"{window} s window{' (quick: shortened from 60 s)' if quick else ''}, " \
           f"callback busy {BUSY * 1000:g} ms per second"
    return [
        Figure("timer error at the end, ours", ours["error_ms"], "ms", Target("<=", 5.0), note=note),
        Figure("timer error at the end, naive sleep(1) loop", naive["error_ms"], "ms", note=note),
    ]


def busy_callback() -> None:
    until = time.perf_counter() + BUSY
    while time.perf_counter() < until:
        pass


async def _ours(window: int) -> float:
    from ui.app_session import TICK_SLACK  # the app's own wake-up margin
    from ui.timer import CountdownTimer

    timer = CountdownTimer(time.monotonic)
    should_end = time.monotonic() + window
    timer.start(window)
    for _ in range(window * 10):  # bounded: about one wake-up per second is expected
        events = timer.poll()
        now = time.monotonic()  # the moment the timer says what changed, before any callback runs
        if any(event.kind == "finished" for event in events):
            return now - should_end
        if any(event.kind == "display" for event in events):
            busy_callback()
        delay = timer.seconds_until_next_change()
        await asyncio.sleep(0.0 if delay is None else delay + TICK_SLACK)
    raise RuntimeError("the timer never finished")


def _naive(window: int) -> float:
    should_end = time.monotonic() + window
    remaining = window
    while remaining:
        time.sleep(1)
        remaining -= 1
        if remaining:
            busy_callback()
    return time.monotonic() - should_end


if __name__ == "__main__":
    kind, seconds = sys.argv[1], int(sys.argv[2])
    error = asyncio.run(_ours(seconds)) if kind == "ours" else _naive(seconds)
    emit({"error_ms": error * 1000})
