"""Plain data shared by the UI and the uploader process (no flet, pygame or google.cloud)."""
