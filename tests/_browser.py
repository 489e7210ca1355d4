"""Headless Chromium (Debian's) driven by Playwright, and opening a Flet web app in it."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    # Sounds must play when the test clicks, as they would for a user.
    "--autoplay-policy=no-user-gesture-required",
]
APP_LOAD_TIMEOUT_MS = 30_000


def chromium_path() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def launch(playwright, executable: Path):
    return playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)


def open_app(context, url: str):
    """A new tab with the Flet app loaded and its semantics tree on, so roles and names work."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("flutter-view", timeout=APP_LOAD_TIMEOUT_MS)
    page.wait_for_selector("#loading", state="detached", timeout=APP_LOAD_TIMEOUT_MS)
    # Flutter builds its accessibility tree only after this placeholder is activated.
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=APP_LOAD_TIMEOUT_MS)
    page.eval_on_selector("flt-semantics-placeholder", "el => el.click()")
    page.get_by_role("button", name="Start").wait_for(timeout=APP_LOAD_TIMEOUT_MS)
    return page
