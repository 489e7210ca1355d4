"""Headless Chromium (Debian's) driven by Playwright, opening the Flet web app and speaking to its
websocket directly: what the browser tests and the flood benchmark share.

`WS_HOOK` (add it with `context.add_init_script`) keeps every websocket the page opens and every
frame it sends, so a test can replay a frame, forge one (decode, change, encode), flood the server
with one, close the socket as a dropped network would, or time how long the server takes to answer.
A frame is one Flet message: a 0x00 byte, then MessagePack `[action, body]`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]  # Flet's own wire format library

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    # Sounds must play when the test clicks, as they would for a user.
    "--autoplay-policy=no-user-gesture-required",
    # A flooding tab in the background must keep flooding: no timer throttling of hidden tabs.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
]
APP_LOAD_TIMEOUT_MS = 30_000
FLET_FRAME = 0x00
CONTROL_EVENT = 3  # Flet's MessageAction numbers (flet.messaging.protocol)
UPDATE_CONTROL_PROPS = 4

WS_HOOK = """
window.__sockets = [];
window.__frames = [];
const originalSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (!window.__sockets.includes(this)) window.__sockets.push(this);
  window.__frames.push(data);
  return originalSend.call(this, data);
};
window.__socket = () => window.__sockets.filter((s) => s.readyState === 1).pop();  // 1: OPEN
"""


def chromium_path() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def launch(playwright: Any, executable: Path) -> Any:
    return playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)


def open_app(context: Any, url: str) -> Any:
    """A new tab with the Flet app loaded and its semantics tree on, so roles and names work."""
    page = context.new_page()
    page.goto(url)
    wait_loaded(page)
    return page


def wait_loaded(page: Any, button: str = "Start") -> None:
    """After a (re)load: the app drawn, its accessibility tree on and its `button` shown."""
    page.wait_for_selector("flutter-view", timeout=APP_LOAD_TIMEOUT_MS)
    page.wait_for_selector("#loading", state="detached", timeout=APP_LOAD_TIMEOUT_MS)
    # Flutter builds its accessibility tree only after this placeholder is activated.
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=APP_LOAD_TIMEOUT_MS)
    page.eval_on_selector("flt-semantics-placeholder", "el => el.click()")
    page.get_by_role("button", name=button).wait_for(timeout=APP_LOAD_TIMEOUT_MS)


# ---- the page's websocket (WS_HOOK) ------------------------------------------------------------

def frames_sent(page: Any) -> int:
    return int(page.evaluate("window.__frames.length"))


def messages_sent(page: Any, since: int = 0) -> list[list[Any]]:
    """The Flet messages the page sent from frame `since` on, decoded: [action, body] each."""
    raw = page.evaluate("""(since) => window.__frames.slice(since).map((d) => Array.from(
        new Uint8Array(d.buffer ? d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) : d)))""",
        since)
    return [msgpack.unpackb(bytes(frame[1:])) for frame in raw if frame and frame[0] == FLET_FRAME]


def send_messages(page: Any, messages: list[list[Any]]) -> None:
    """Sends Flet messages on the page's open socket, as if the app had sent them."""
    frames = [list(bytes([FLET_FRAME]) + msgpack.packb(message)) for message in messages]
    page.evaluate("(frames) => { for (const f of frames) window.__socket().send(new Uint8Array(f)); }",
                  frames)


def event_messages(messages: list[list[Any]], name: str) -> list[list[Any]]:
    """The control events called `name` ("click", "select", "change") among `messages`."""
    return [message for message in messages
            if message[0] == CONTROL_EVENT and message[1].get("name") == name]


def drop_socket(page: Any) -> None:
    """Closes the page's socket from the page, as a dropped network does; Flet's client reconnects."""
    page.evaluate("window.__socket().close()")


def start_flood(page: Any, message: list[Any], per_second: int) -> None:
    """Sends `message` per_second times a second (in 10 ms bursts) until stop_flood()."""
    frame = list(bytes([FLET_FRAME]) + msgpack.packb(message))
    page.evaluate("""([frame, perSecond]) => {
        const data = new Uint8Array(frame); const perTick = Math.max(1, Math.round(perSecond / 100));
        window.__flooded = 0;
        window.__flood = setInterval(() => {
          const socket = window.__socket(); if (!socket) return;
          for (let i = 0; i < perTick; i++) socket.send(data);
          window.__flooded += perTick;
        }, 10);
    }""", [frame, per_second])


def send_burst(page: Any, message: list[Any], count: int) -> None:
    """Sends `message` `count` times back to back, as fast as the page can; returns once the page
    has handed them all to its socket."""
    frame = list(bytes([FLET_FRAME]) + msgpack.packb(message))
    page.evaluate("""([frame, count]) => {
        const data = new Uint8Array(frame); const socket = window.__socket();
        for (let i = 0; i < count; i++) socket.send(data); }""", [frame, count])


def stop_flood(page: Any) -> int:
    """Stops the flood; how many frames it sent."""
    return int(page.evaluate("() => { clearInterval(window.__flood); return window.__flooded; }"))


def answer_ms(page: Any, message: list[Any], timeout_ms: int = 30_000) -> float:
    """Sends `message` and times the server's next frame back, in ms: the server's delay in
    answering a click, without the browser's drawing (-1 when none came within the timeout)."""
    frame = list(bytes([FLET_FRAME]) + msgpack.packb(message))
    return float(page.evaluate("""([frame, timeoutMs]) => new Promise((resolve) => {
        const socket = window.__socket(); const started = performance.now();
        const timer = setTimeout(() => {
          socket.removeEventListener('message', answered); resolve(-1); }, timeoutMs);
        function answered() { clearTimeout(timer); socket.removeEventListener('message', answered);
                              resolve(performance.now() - started); }
        socket.addEventListener('message', answered);
        socket.send(new Uint8Array(frame));
    })""", [frame, timeout_ms]))
