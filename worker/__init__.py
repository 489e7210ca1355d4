"""Clickstream uploader process and the ClickstreamTracker handle the UI uses."""

from worker.exit_hooks import stop_trackers_on_signals
from worker.tracker import ClickstreamTracker

__all__ = ["ClickstreamTracker", "stop_trackers_on_signals"]
