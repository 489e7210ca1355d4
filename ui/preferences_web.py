"""A web visitor's preferences, kept in their own browser (Flet's SharedPreferences: the browser's
local storage for this site), so they survive a reload and are never shared with another visitor:
the server keeps none of them.

Create it inside the tab's main(page): the service registers with that page. The stored value is
the Preferences JSON under one key; what comes back is read as forgivingly as the desktop's file.
"""

from __future__ import annotations

import json
import logging

import flet as ft

from ui.preferences import Preferences

log = logging.getLogger(__name__)

KEY = "hl_vox_timeleft.preferences"


class BrowserPreferences:
    def __init__(self) -> None:
        self._storage = ft.SharedPreferences()

    async def load(self) -> Preferences:
        """This browser's preferences; the defaults when it has none or they cannot be read."""
        try:
            stored = await self._storage.get(KEY)
        except Exception as error:  # the browser did not answer (a closed tab, a timeout)
            log.debug("browser preferences not read: %r", error)
            return Preferences()
        if not isinstance(stored, str):
            return Preferences()
        try:
            data = json.loads(stored)
        except ValueError:
            log.warning("browser preferences are not JSON; using the defaults")
            return Preferences()
        return Preferences.from_dict(data) if isinstance(data, dict) else Preferences()

    async def save(self, preferences: Preferences) -> None:
        """Raises what the browser's answer raised (the caller reports it)."""
        await self._storage.set(KEY, json.dumps(preferences.to_dict()))
