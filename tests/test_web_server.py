"""The web server's set-up without a browser: no visitor's address in the log, a store of its own,
Flet's event-type lookup cached without changing its answers."""

from __future__ import annotations

import logging
from pathlib import Path

import flet as ft
import pytest

from shared.settings import Settings, default_data_dir
from ui.__main__ import WEB_DATA_SUBDIR, web_settings
from ui.server_log import HIDDEN, hide_client_addresses


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def passes(record_: logging.LogRecord) -> bool:
    return logging.getLogger(record_.name).filter(record_) is not False


def test_the_server_log_keeps_no_client_address() -> None:
    hide_client_addresses()
    hide_client_addresses()  # idempotent: one filter each
    assert len(logging.getLogger("uvicorn.access").filters) == 1
    access = record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', "192.168.1.7:51234", "GET", "/", "1.1", 200)
    assert not passes(access)

    websocket = record("uvicorn.error", '%s - "WebSocket %s" [accepted]', "192.168.1.7:51234", "/ws")
    assert passes(websocket) and websocket.getMessage() == f'{HIDDEN} - "WebSocket /ws" [accepted]'
    startup = record("uvicorn.error", "Uvicorn running on %s://%s:%d", "http", "127.0.0.1", 8550)
    assert passes(startup) and startup.getMessage() == "Uvicorn running on http://127.0.0.1:8550"

    client_hash = "b141b4b682c113d76b899182ecc6fe396a76e81f"  # sha1 of the client's IP and browser
    session = record("flet_web.fastapi", f"Session reconnected: _AbC123_{client_hash}")
    assert passes(session) and session.getMessage() == f"Session reconnected: _AbC123_{HIDDEN}"


def test_the_web_server_keeps_a_store_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    desktop = Settings.from_env({})
    assert web_settings(desktop).store_path == default_data_dir() / WEB_DATA_SUBDIR / desktop.store_path.name
    chosen = Settings.from_env({"HL_VOX_DATA_DIR": str(tmp_path / "mine")})
    assert web_settings(chosen) == chosen  # an explicit folder is used as given


def test_flets_event_types_are_cached_with_the_same_answers() -> None:
    from flet.controls import base_control

    from ui.flet_tuning import cache_event_types

    original = base_control.get_event_field_type
    controls = [(ft.Button(), "on_click"), (ft.Dropdown(), "on_select"), (ft.TextField(), "on_change"),
                (ft.TextField(), "on_submit"), (ft.Dropdown(), "on_change")]
    expected = [original(control, name) for control, name in controls]
    try:
        cache_event_types()
        cached = base_control.get_event_field_type
        cache_event_types()  # idempotent
        assert base_control.get_event_field_type is cached and cached is not original
        assert [cached(control, name) for control, name in controls] * 2 == expected * 2
    finally:
        base_control.get_event_field_type = original
