"""The Flet app with its countdown timer, VOX announcer and sounds (never imports google.cloud)."""

# First of all, so app_start's startup_ms counts from (nearly) the process start: see ui.startup.
from ui import startup as _startup  # noqa: E402,F401
