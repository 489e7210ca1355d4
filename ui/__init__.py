"""The Flet app with its countdown timer, VOX announcer and sounds (never imports google.cloud)."""
