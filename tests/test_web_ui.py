"""The web app in a real headless Chromium: every control, the Stats view, two independent tabs,
a clean stop, and exactly the expected clickstream in the local store.

One server serves most tests of the module, but no test expects anything of another: each opens its
own tabs and checks only its own sessions (the ones that started after it began), and the Stats
test compares with what the store held before its clicks. The stop tests run their own server.
Every test passes alone and in any order.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.timefmt import TimeInputError, normalize_time_input, parse_time_input
from ui.soundpack import SoundPack
from ui.stats_data import SESSIONS_SHOWN

from _app_server import REPO, Row, WebServer, by_session, read_store
from _browser import chromium_path, launch, open_app
from conftest import missing_part, wait_for

pytestmark = pytest.mark.browser

HMS = re.compile(r"^\d\d:\d\d:\d\d$")
BAD_INPUT, BAD_INPUT_MESSAGE = "12:75", "Seconds must be below 60."
TIME_FIELD = "Time (HH:MM:SS)"
STATS_VIEWPORT = {"width": 900, "height": 1500}
READ_AT = re.compile(r"^All events in the local store, read at \d\d:\d\d:\d\d UTC$")
# A session's legend line: short id, start, duration, events (one semantics node, lines joined by \n).
SESSION_LINE = re.compile(r"^[0-9a-f]{8}\s\d\d:\d\d:\d\d UTC, \d\d:\d\d:\d\d\s\d+$")
ARTIFACTS = Path(os.environ.get("HL_VOX_ARTIFACTS_DIR", REPO / "artifacts"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        missing_part("Chromium", "run bash scripts/install-system.sh (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_part("Playwright", "run bash scripts/install-app.sh dev")
    with sync_playwright() as playwright:
        chromium = launch(playwright, executable)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[WebServer]:
    app = WebServer(data_dir, data_dir.parent / "web-server.log")
    try:
        app.wait_ready()
        yield app
        app.stop(signal.SIGTERM)
    finally:
        if app.process.poll() is None or app.group_alive():
            app.kill_group()


@pytest.fixture
def context(browser) -> Iterator[object]:
    """A test's own browser context: its tabs close when the test ends."""
    ctx = browser.new_context(viewport={"width": 900, "height": 800})
    yield ctx
    ctx.close()


def display(page):
    return page.get_by_text(HMS)


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def type_time(page, text: str, attempts: int = 3) -> None:
    """Types into an idle timer's field as a user would, until the app shows that it got the text:
    the preview of a valid time, the message of a bad one. Flutter drops text filled into a field it
    has not focused yet, which on a loaded machine can happen even right after the click, so the
    text is retyped."""
    from playwright.sync_api import expect

    try:
        reaction = page.get_by_text(normalize_time_input(text), exact=True)
    except TimeInputError as error:
        reaction = page.get_by_text(str(error), exact=True)
    field = page.get_by_label(TIME_FIELD)
    for _ in range(attempts):
        field.click()
        field.fill(text)
        try:
            expect(reaction).to_be_visible(timeout=1500)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the app never took {text!r} from the time field")


def wait_for_log(server: WebServer, pattern: str, since: int = 0, timeout: float = 5.0) -> None:
    """Waits for a line matching `pattern` in the server's log after its first `since` characters."""
    if not wait_for(lambda: re.search(pattern, server.log_text()[since:]) is not None, timeout):
        raise AssertionError(f"server log never matched {pattern!r}:\n{server.log_text()[-3000:]}")


def session_ids(data_dir: Path) -> set[str]:
    return {row.session_id for row in read_store(data_dir)}


def own_sessions(data_dir: Path, known: set[str], events: list[int],
                 timeout: float = 5.0) -> list[list[Row]]:
    """The sessions not in `known`, in the order they started, once the store holds (at least)
    `events[i]` events of the i-th: a click reaches the store a moment after it happened."""
    def found() -> list[list[Row]]:
        return [session for session in by_session(read_store(data_dir))
                if session[0].session_id not in known]

    def complete() -> bool:
        sessions = found()
        return len(sessions) == len(events) and all(
            len(session) >= count for session, count in zip(sessions, events, strict=True))

    if not wait_for(complete, timeout):
        raise AssertionError(f"expected sessions of {events} events, the store has {found()}")
    return found()


def clicks(session: list[Row]) -> list[tuple[str, str, dict | None]]:
    return [(row.event_type, row.component, row.metadata) for row in session]


def refresh_until(page, text: str, timeout: float = 5.0) -> None:
    """Clicks Refresh until `text` shows: the store gets a click a moment after it happened."""
    deadline = time.monotonic() + timeout
    while not page.get_by_text(text, exact=True).is_visible():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not shown within {timeout} s of refreshing")
        button(page, "Refresh").click()
        time.sleep(0.1)


def settled_screenshot(page, path: Path, timeout: float = 5.0) -> None:
    """Saves the page once two screenshots in a row agree: Flutter paints its canvas a little after
    it updates the accessibility tree the test waits on, so one shot can show the frame before."""
    page.mouse.move(0, 0)  # no hover highlight in the picture
    deadline = time.monotonic() + timeout
    previous = page.screenshot()
    while (shot := page.screenshot()) != previous:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never stopped changing for {path.name}")
        previous = shot
        time.sleep(0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(shot)


def test_every_control_works(server: WebServer, data_dir: Path, context) -> None:
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    page = open_app(context, server.url)
    expect(display(page)).to_have_text("00:25:00")
    expect(button(page, "Pause")).to_be_disabled()

    names = [name for name, _ in SoundPack().backgrounds()]
    expect(page.get_by_text(names[0], exact=True)).to_be_visible()
    button(page, "Change background").click()
    expect(page.get_by_text(names[1], exact=True)).to_be_visible()

    button(page, "Weapon").click()
    button(page, "M4A1").click()
    button(page, "Fire").click()

    type_time(page, BAD_INPUT)
    expect(page.get_by_text(BAD_INPUT_MESSAGE)).to_be_visible()
    button(page, "Start").click()  # refused: the message stays, nothing runs, the field gets focus
    expect(page.get_by_label(TIME_FIELD)).to_be_focused()
    expect(page.get_by_text(BAD_INPUT_MESSAGE)).to_be_visible()
    expect(button(page, "Pause")).to_be_disabled()

    type_time(page, "1:00")
    expect(page.get_by_text(BAD_INPUT_MESSAGE)).to_have_count(0)
    expect(display(page)).to_have_text("00:01:00")
    button(page, "Start").click()
    expect(display(page)).to_have_text("00:00:59", timeout=2500)
    button(page, "Pause").click()
    expect(button(page, "Resume")).to_be_visible()
    frozen = display(page).inner_text()
    time.sleep(1.2)
    expect(display(page)).to_have_text(frozen)
    button(page, "Resume").click()
    expect(button(page, "Pause")).to_be_enabled()
    button(page, "Time left").click()
    # The announcement plays in the browser; Reset would stop it, so let it start first.
    wait_for_log(server, r"browser audio speech \d+: playing", since=log_start)
    button(page, "Reset").click()
    expect(display(page)).to_have_text("00:01:00")
    expect(button(page, "Pause")).to_be_disabled()

    type_time(page, "3")
    expect(display(page)).to_have_text("00:00:03")
    started = time.monotonic()
    button(page, "Start").click()
    expect(display(page)).to_have_text("00:00:00", timeout=6000)
    assert 2.0 < time.monotonic() - started < 5.0
    expect(button(page, "Pause")).to_be_disabled()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-app.png"))

    # Sounds play in the browser: the tab's players report back to the server.
    wait_for_log(server, r"browser audio /sounds/ui/start\.wav: playing", since=log_start)
    wait_for_log(server, r"browser audio /sounds/weapons/m4a1/shot\d\.wav: playing", since=log_start)
    wait_for_log(server, r"browser audio /sounds/endings/\w+\.wav: playing", since=log_start)

    [session] = own_sessions(data_dir, known, [12])
    [timeleft] = [row for row in session if row.component == "timeleft_button"]
    assert re.fullmatch(r"00:00:5\d", (timeleft.metadata or {})["remaining_time"])
    assert session.index(timeleft) == 8  # after Resume, before Reset
    assert clicks([row for row in session if row != timeleft]) == [
        ("app_start", "application", None),
        ("button_click", "change_background_button", None),
        ("weapon_select", "weapon_dropdown", {"weapon": "m4a1"}),
        ("button_click", "shoot_gun_button", {"weapon": "m4a1"}),
        ("input_error", "time_input", {"message": BAD_INPUT_MESSAGE}),
        ("button_click", "start_button", {"time_input": "00:01:00"}),
        ("button_click", "pause_button", {"is_paused": True}),
        ("button_click", "pause_button", {"is_paused": False}),
        ("button_click", "reset_button", None),
        ("button_click", "start_button", {"time_input": "00:00:03"}),
        ("timer_finished", "timer", {"duration": "00:00:03"}),
    ]


def click_counts(rows: list[Row]) -> Counter[str]:
    """What the Stats view's first two charts count: clicks per component, uses per weapon."""
    counts = Counter(row.component for row in rows if row.event_type == "button_click")
    counts.update(row.metadata["weapon"] for row in rows
                  if row.component in ("shoot_gun_button", "weapon_dropdown") and row.metadata)
    return counts


def test_stats_view_counts_the_clicks_while_the_timer_runs(server: WebServer, data_dir: Path,
                                                           context) -> None:
    """Stats shows every event in the store: what was there before this test plus this tab's clicks
    (its Stats click arrives moments after the view opened, which Refresh picks up)."""
    from playwright.sync_api import expect

    known = session_ids(data_dir)
    before = click_counts(read_store(data_dir))
    page = open_app(context, server.url)
    page.set_viewport_size(STATS_VIEWPORT)  # the whole Stats panel on screen, for its screenshot
    button(page, "Change background").click()
    button(page, "Weapon").click()
    button(page, "M4A1").click()
    button(page, "Fire").click()
    type_time(page, "10:00")
    button(page, "Start").click()
    expect(display(page)).to_have_text("00:09:59", timeout=2500)
    seen_599 = time.monotonic()

    button(page, "Stats").click()
    expect(display(page)).to_have_count(0)  # the timer screen is hidden, not underneath
    [session] = own_sessions(data_dir, known, [6])
    assert clicks(session) == [
        ("app_start", "application", None),
        ("button_click", "change_background_button", None),
        ("weapon_select", "weapon_dropdown", {"weapon": "m4a1"}),
        ("button_click", "shoot_gun_button", {"weapon": "m4a1"}),
        ("button_click", "start_button", {"time_input": "00:10:00"}),
        ("button_click", "stats_button", None),
    ]
    expected = before + Counter({"change_background_button": 1, "shoot_gun_button": 1, "start_button": 1,
                                 "stats_button": 1, "m4a1": 2})
    assert click_counts(read_store(data_dir)) == expected  # nothing else clicked meanwhile
    refresh_until(page, f"stats_button {expected['stats_button']}")
    for name, count in expected.items():
        expect(page.get_by_text(f"{name} {count}", exact=True)).to_be_visible()
    sessions = len(session_ids(data_dir))
    expect(page.get_by_text(SESSION_LINE)).to_have_count(min(sessions, SESSIONS_SHOWN))
    expect(page.get_by_text(re.compile(rf"^{session[0].session_id[:8]}\s"))).to_be_visible()
    expect(page.get_by_text(READ_AT)).to_be_visible()
    settled_screenshot(page, ARTIFACTS / "web-stats.png")

    button(page, "Timer").click()
    expect(button(page, "Pause")).to_be_enabled()
    # It counted down all along behind Stats (not paused, not reset): 00:09:59 showed up to a second
    # before seen_599; the margins cover that and a late tick.
    elapsed = time.monotonic() - seen_599
    assert 599 - elapsed - 2 < parse_time_input(display(page).inner_text()) < 599 - elapsed + 1.5


def test_two_tabs_run_independent_timers(server: WebServer, data_dir: Path, context) -> None:
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    first, second = open_app(context, server.url), open_app(context, server.url)
    type_time(first, "30")
    button(first, "Start").click()
    # Any second after the start: on a loaded machine one of them may be on screen too briefly to see.
    expect(display(first)).to_have_text(re.compile(r"00:00:2\d"), timeout=3500)
    expect(display(second)).to_have_text("00:25:00")
    expect(button(second, "Pause")).to_be_disabled()

    type_time(second, "10:00")
    button(second, "Start").click()
    button(first, "Pause").click()
    expect(button(first, "Resume")).to_be_visible()
    expect(button(second, "Pause")).to_be_enabled()  # pausing one tab does not pause the other
    frozen = display(first).inner_text()
    expect(display(second)).to_have_text(re.compile(r"00:09:5[0-8]"), timeout=3500)
    expect(display(first)).to_have_text(frozen)

    first_id = own_sessions(data_dir, known, [1, 1])[0][0].session_id
    first.close()
    # Flet notices a closed tab when its socket closes, which can take a few seconds.
    wait_for_log(server, rf"ticker of session {first_id} stopped", since=log_start, timeout=15)
    wait_for_log(server, rf"session {first_id} ended \(disconnected\)", since=log_start, timeout=15)
    shown = display(second).inner_text()
    expect(display(second)).not_to_have_text(shown, timeout=2500)  # still running on its own
    assert parse_time_input(display(second).inner_text()) < parse_time_input(shown)

    first_tab, second_tab = own_sessions(data_dir, known, [4, 2])
    assert clicks(first_tab) == [
        ("app_start", "application", None),
        ("button_click", "start_button", {"time_input": "00:00:30"}),
        ("button_click", "pause_button", {"is_paused": True}),
        ("app_stop", "application", {"reason": "disconnected"}),
    ]
    assert clicks(second_tab) == [
        ("app_start", "application", None),
        ("button_click", "start_button", {"time_input": "00:10:00"}),
    ]


def send_sigterm(app: WebServer) -> None:
    app.process.send_signal(signal.SIGTERM)  # to the app only: it must take its uploader down itself


def press_ctrl_c(app: WebServer) -> None:
    os.killpg(app.process.pid, signal.SIGINT)  # a terminal signals the whole group, uploader included


@pytest.mark.parametrize("stop", [send_sigterm, press_ctrl_c], ids=["sigterm", "ctrl_c"])
def test_a_signal_stops_the_server_cleanly_and_ends_every_session_once(
        browser, tmp_path: Path, stop: Callable[[WebServer], None]) -> None:
    """One tab closed before the stop, one still open with its timer running."""
    from playwright.sync_api import expect

    app = WebServer(tmp_path, tmp_path / "web-server.log")
    try:
        app.wait_ready()
        context = browser.new_context()
        closed, running = open_app(context, app.url), open_app(context, app.url)
        closed.close()
        type_time(running, "10:00")
        button(running, "Start").click()
        expect(display(running)).to_have_text("00:09:59", timeout=2500)
        own_sessions(tmp_path, set(), [1, 2])  # both tabs' clicks are in the store

        started = time.monotonic()
        stop(app)
        assert app.wait(6.0) == 0, app.log_text()[-3000:]
        assert time.monotonic() - started < 6.0
        assert app.leftover_processes() == []
        context.close()
    finally:
        if app.process.poll() is None or app.group_alive():
            app.kill_group()

    closed_tab, running_tab = by_session(read_store(tmp_path))
    # Every session ends exactly once: "disconnected" when Flet noticed its tab go before ft.run
    # returned, else "app_exit". Flet may notice a closed tab only seconds later.
    for session in (closed_tab, running_tab):
        assert [row.event_type for row in session].count("app_stop") == 1
        assert session[-1].event_type == "app_stop"
        assert session[-1].metadata in ({"reason": "disconnected"}, {"reason": "app_exit"})
    assert clicks(closed_tab)[:-1] == [("app_start", "application", None)]
    assert clicks(running_tab)[:-1] == [("app_start", "application", None),
                                        ("button_click", "start_button", {"time_input": "00:10:00"})]


def test_bad_setting_is_named_and_nothing_starts(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from ui.__main__ import main

    monkeypatch.setenv("HL_VOX_BATCH_SIZE", "lots")
    assert main(["--web", "--port", "1"]) == 2
    assert "HL_VOX_BATCH_SIZE" in caplog.text
