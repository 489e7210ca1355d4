"""The weapons a user can pick: key (sound folder name and event metadata) -> name on screen."""

from __future__ import annotations

WEAPON_NAMES: dict[str, str] = {
    "glock18": "Glock-18", "usp": "USP", "deagle": "Desert Eagle",
    "ak47": "AK-47", "m4a1": "M4A1", "awp": "AWP",
}
WEAPONS: tuple[str, ...] = tuple(WEAPON_NAMES)
DEFAULT_WEAPON = "glock18"
