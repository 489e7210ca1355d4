"""Comparison 7: one browser tab floods the web server with clicks; how late is another tab answered,
and what does a click cost the server?

Method. A real server (`python -m ui --web`, its store in a temporary folder) and headless Chromium,
each visitor in a browser context of its own. Tab A replays its Fire click's websocket frame
FLOOD_PER_SECOND times a second (the rate of the flood in issue 13: 4,500 clicks in 10 s) for the
flood's length. Tab B meanwhile sends its own Change-background click every PROBE_INTERVAL and
times the server's answer: from sending the frame to the first frame back (bench.browser.answer_ms),
so the figure is the server's delay, not the browser's drawing. The same probes without a flood
give the baseline. Then A sends BURST clicks at once (as fast as a script can) and B's click sent
right after them is timed. Server CPU is the UI process's user + system time from /proc (all its threads, the
tracker's included) over a phase, less what the idle server spends in the same time, divided by
the clicks it handled: the flood's (almost all over the session's fair share, so dropped after a
few microseconds of our code, the rest being Flet's) and, separately, clicks within the share
(B's probes alone: render, send, track, play a sound).

Target: another tab answered within 200 ms (the worst probe) under the flood, on a 2-core machine.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import browser
from bench.child import emit, run_child
from bench.figures import Figure, Target
from bench.web_server import cpu_seconds, web_app

FLOOD_PER_SECOND = 450
BURST = 5000
PROBE_INTERVAL = 0.1
IDLE_SECONDS = 2.0
TARGET_MS = 200.0


def run(quick: bool) -> list[Figure]:
    if browser.chromium_path() is None:
        note = "skipped: no Chromium (bash scripts/install-system.sh)"
        return [Figure("other tab's click answered, worst, under flood", None, "ms", note=note)]
    seconds, burst = (3.0, 1000) if quick else (10.0, BURST)
    result = run_child("bench.web_flood", str(seconds), str(burst), timeout=180.0)
    flood = f"{result['flooded']:,} Fire clicks in {result['seconds']:.0f} s from one tab"
    return [
        Figure("other tab's click answered, median, under flood", result["flood_median_ms"], "ms",
               note=f"{result['probes']} probes; {flood}"),
        Figure("other tab's click answered, worst, under flood", result["flood_max_ms"], "ms",
               Target("<=", TARGET_MS), note=flood),
        Figure("other tab's click answered, median, no flood", result["idle_median_ms"], "ms",
               note=f"worst {result['idle_max_ms']:.1f} ms"),
        Figure("other tab's click answered after a burst", result["burst_ms"], "ms",
               note=f"{result['burst']:,} Fire clicks sent at once from one tab"),
        Figure("server CPU per flooded click", result["flood_cpu_ms"], "ms/click",
               note=f"{result['tracked']} tracked, the rest dropped and counted (fair share)"),
        Figure("server CPU per click within the share", result["click_cpu_ms"], "ms/click",
               note="Change background: render, send, track, play; the browser's audio events"),
    ]


def _click_message(page: Any, name: str) -> list[Any]:
    before = browser.frames_sent(page)
    page.get_by_role("button", name=name, exact=True).click()
    deadline = time.monotonic() + 10
    while not (clicks := browser.event_messages(browser.messages_sent(page, before), "click")):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no click message from {name}")
        time.sleep(0.05)
    return clicks[0]


def _probe(page: Any, message: list[Any], seconds: float) -> list[float]:
    delays = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        delays.append(browser.answer_ms(page, message))
        time.sleep(PROBE_INTERVAL)
    return delays


def _measure(seconds: float, burst: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = browser.chromium_path()
    assert executable is not None
    with tempfile.TemporaryDirectory() as tmp:
        with web_app(Path(tmp)) as (server, url), sync_playwright() as playwright:
            chromium = browser.launch(playwright, executable)
            tabs = []
            for _ in range(2):
                context = chromium.new_context()
                context.add_init_script(browser.WS_HOOK)
                tabs.append(browser.open_app(context, url))
            flooder, other = tabs
            fire = _click_message(flooder, "Fire")
            background = _click_message(other, "Change background")

            time.sleep(1.0)  # the first clicks' sounds and events are done
            cpu, started = cpu_seconds(server.pid), time.monotonic()
            time.sleep(IDLE_SECONDS)
            idle_rate = (cpu_seconds(server.pid) - cpu) / (time.monotonic() - started)

            cpu, started = cpu_seconds(server.pid), time.monotonic()
            idle = _probe(other, background, min(seconds, 3.0))
            spent = cpu_seconds(server.pid) - cpu - idle_rate * (time.monotonic() - started)
            click_cpu = spent / len(idle)

            cpu = cpu_seconds(server.pid)
            started = time.monotonic()
            browser.start_flood(flooder, fire, FLOOD_PER_SECOND)
            flood = _probe(other, background, seconds)
            flooded = browser.stop_flood(flooder)
            elapsed = time.monotonic() - started
            time.sleep(1.0)  # the last frames of the flood are handled
            flood_cpu = (cpu_seconds(server.pid) - cpu - idle_rate * (time.monotonic() - started)
                         - click_cpu * len(flood))

            browser.send_burst(flooder, fire, burst)
            burst_ms = browser.answer_ms(other, background)  # sent after the whole burst
            chromium.close()
        tracked = _tracked_shots(Path(tmp))
    answered = [delay for delay in flood if delay >= 0]
    return {"seconds": elapsed, "flooded": flooded, "probes": len(flood), "tracked": tracked,
            "burst": burst, "burst_ms": burst_ms,
            "flood_median_ms": statistics.median(answered),
            "flood_max_ms": max(answered) if len(answered) == len(flood) else float("inf"),
            "idle_median_ms": statistics.median(idle), "idle_max_ms": max(idle),
            "flood_cpu_ms": 1000 * flood_cpu / flooded, "click_cpu_ms": 1000 * click_cpu}


def _tracked_shots(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "clickstream.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM clickstream WHERE component = 'shoot_gun_button'")
                   .fetchone()[0])


if __name__ == "__main__":
    emit(_measure(float(sys.argv[1]), int(sys.argv[2])))
