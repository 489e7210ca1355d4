"""Clickstream uploader process and the ClickstreamTracker handle the UI uses."""

from worker.tracker import ClickstreamTracker

__all__ = ["ClickstreamTracker"]
