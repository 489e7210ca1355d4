"""Clickstream uploader process and the ClickstreamTracker handle the UI uses."""

from worker.tracker import ClickstreamTracker, stop_trackers_on_signals

__all__ = ["ClickstreamTracker", "stop_trackers_on_signals"]
