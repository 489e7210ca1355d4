"""Comparison 8: what a web session costs the server: CPU per minute and memory per open tab with a
running timer, for 1, 5 and 20 tabs in one Chromium.

Method. A real server (`python -m ui --web`, its store in a temporary folder: bench.web_server) and
headless Chromium with one browser context, every tab its own Flet session (its own page,
TimerSession and ticker). The server with no tab is measured over a window first; then tabs are
added (1, 4 more, 15 more: 1, 5 and 20 open), each one's Start clicked (the default 25:00, so every
countdown runs through the windows and each tab's display changes every second), and after a
settling pause (the Start sounds' browser events, the clicks' tracking) the server is measured over
the same window again. CPU is user + system time from /proc (all threads: the event loop, the
tracker's sender thread, Flet's) in CPU seconds per minute of real time (60: one core kept busy).
The uploader (the UI process's children: the uploader and multiprocessing's resource tracker) and
the browser (Chromium and Playwright's driver) are read the same way and given in the notes, not
summed in. Memory is the UI process's VmRSS at a window's end. Per tab: (with N tabs - with none) /
N; the first tab's share carries what the first session loads once, so the notes also give the
memory per tab added since the previous count.

What the numbers mean: CPU s/min per tab is what one visitor with a running timer costs the server;
RSS per tab is what holding a session costs. No target: the issue names none; they are for sizing a
server. The other half of the web issue, how late a flooding tab makes another tab's click, is
comparison 7 (bench.web_flood).

Findings (2 shared cores, 30 s windows): the idle server takes 0.2-0.25 s/min and 62 MB; each
counting-down tab adds about 0.1 s/min (1.7 ms of CPU per displayed second) at 1, 5 and 20 tabs
alike, and 0.25-0.35 MB once the first session (+5 MB) has loaded what all share; the uploader
stays near 0 (a tick tracks nothing). Profiled (py-spy, 20 tabs), the server's busy time is the
ticker's two updates a second per tab: the tab title's `page.update()` 37 % (Flet diffs and packs
the page's own fields for it), the display's text 6 %, Flet's send loop 28 % (two websocket
messages, each deflated and written), the session's tick and render about 10 %. The browser costs
far more than the server: 8-10 s/min per tab in headless Chromium (software drawing, a frame a
second), so 20 tabs fill both cores and each later tab loads more slowly; the server's own CPU
time is what is measured, contention or not.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import browser
from bench.child import emit, rss_mb, run_child
from bench.figures import Figure
from bench.web_server import child_pids, cpu_seconds, descendant_pids, web_app

FULL_TABS, QUICK_TABS = (1, 5, 20), (1, 5)
FULL_WINDOW, QUICK_WINDOW = 30.0, 3.0  # seconds measured per tab count (and with none)
FULL_SETTLE, QUICK_SETTLE = 3.0, 1.0  # after the Start clicks, before a window
# Each of a tab's flet-audio players (8) makes a Web Audio context of its own, and a running context
# renders silence all the time: 70 % of an idle tab's CPU in this Chromium (0.10 -> 0.03 CPU
# seconds a second). With 20 tabs sharing the server's 2 cores, the tab's players share one context:
# every sound still plays and ends (checked), and the server gets the same messages.
ONE_AUDIO_CONTEXT = """
{ const Original = window.AudioContext; let shared = null;
  window.AudioContext = function (...options) {
    if (!shared) { shared = new Original(...options); shared.close = () => Promise.resolve(); }
    return shared;
  };
  window.AudioContext.prototype = Original.prototype; }
"""
# A click in the 20th tab waits for a browser busy drawing 19 others on a shared 2-core machine.
START_TIMEOUT_MS = 60_000


def run(quick: bool) -> list[Figure]:
    if browser.chromium_path() is None:
        note = "skipped: no Chromium (bash scripts/install-system.sh)"
        return [Figure("server CPU per tab, timer running", None, "s/min", note=note)]
    counts, window, settle = (QUICK_TABS, QUICK_WINDOW, QUICK_SETTLE) if quick else (
        FULL_TABS, FULL_WINDOW, FULL_SETTLE)
    result = run_child("bench.web_tabs", str(window), str(settle), *map(str, counts), timeout=600.0)
    idle = result["idle"]
    window_note = f"{window:g} s window{' (quick)' if quick else ''}"
    figures = [
        Figure("server CPU, no tab", idle["cpu"], "s/min",
               note=f"uploader {idle['uploader_cpu']:.2f} s/min apart; {window_note}"),
        Figure("server RSS, no tab", idle["rss"], "MB", note="after start-up, before any tab"),
    ]
    before = {"tabs": 0, **idle}
    for sample in result["samples"]:
        count = sample["tabs"]
        tabs = f"{count} tab{'s' if count > 1 else ''}"
        added = (sample["rss"] - before["rss"]) / (count - before["tabs"])
        figures += [
            Figure(f"server CPU, {tabs}", sample["cpu"], "s/min",
                   note=f"uploader {sample['uploader_cpu']:.2f} s/min apart; Chromium "
                        f"{sample['browser_cpu']:.0f} s/min; {window_note}"),
            Figure(f"server CPU per tab, {tabs}", (sample["cpu"] - idle["cpu"]) / count, "s/min",
                   note="above the idle server's; each tab counting down"),
            Figure(f"server RSS, {tabs}", sample["rss"], "MB"),
            Figure(f"server RSS per tab, {tabs}", (sample["rss"] - idle["rss"]) / count, "MB",
                   note=f"above the idle server's; {added:.2f} MB a tab for the "
                        f"{count - before['tabs']} opened since {before['tabs']}"),
        ]
        before = sample
    return figures


def _sample(server: int, seconds: float) -> dict[str, float]:
    """CPU s/min over `seconds` of the server, its uploader and the browser, and the server's RSS at
    the end."""
    groups = {"cpu": [server], "uploader_cpu": child_pids(server),
              "browser_cpu": descendant_pids(os.getpid(), without=server)}  # Playwright's driver too
    started = time.monotonic()
    before = {name: _cpu(pids) for name, pids in groups.items()}
    time.sleep(seconds)
    minutes = (time.monotonic() - started) / 60
    after = {name: _cpu(pids) for name, pids in groups.items()}
    spent = {name: sum(after[name][pid] - before[name][pid] for pid in after[name] if pid in before[name])
             for name in groups}
    return {**{name: cpu / minutes for name, cpu in spent.items()}, "rss": rss_mb(server)}


def _cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of those of `pids` still alive."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            seconds[pid] = cpu_seconds(pid)
    return seconds


def _start(page: Any) -> None:
    """Clicks Start and waits until the countdown runs (Pause enabled)."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Start", exact=True).click(timeout=START_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_enabled(timeout=START_TIMEOUT_MS)


def _measure(window: float, settle: float, counts: list[int]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = browser.chromium_path()
    assert executable is not None
    with tempfile.TemporaryDirectory() as tmp:
        with web_app(Path(tmp)) as (server, url), sync_playwright() as playwright:
            context = browser.launch(playwright, executable).new_context()
            context.add_init_script(ONE_AUDIO_CONTEXT)
            time.sleep(settle)  # the server's own start-up is over
            idle = _sample(server.pid, window)
            tabs: list[Any] = []
            samples = []
            for count in counts:
                # One by one (side by side they load no faster), then started: a running tab draws
                # every second, which slows the next one's loading.
                added = [browser.open_app(context, url) for _ in range(count - len(tabs))]
                for page in added:
                    _start(page)
                tabs += added
                time.sleep(settle)
                samples.append({"tabs": count, **_sample(server.pid, window)})
        started = _sessions_started(Path(tmp))  # the store is complete once the server has exited
    if started != counts[-1]:
        raise RuntimeError(f"{started} sessions tracked a Start, expected {counts[-1]}")
    return {"idle": idle, "samples": samples}


def _sessions_started(data_dir: Path) -> int:
    with contextlib.closing(sqlite3.connect(data_dir / "clickstream.sqlite3")) as db:
        return int(db.execute("SELECT COUNT(DISTINCT session_id) FROM clickstream "
                              "WHERE component = 'start_button'").fetchone()[0])


if __name__ == "__main__":
    emit(_measure(float(sys.argv[1]), float(sys.argv[2]), [int(arg) for arg in sys.argv[3:]]))
