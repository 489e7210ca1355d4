"""The drain lock. Only the uploader's process imports it, and filelock with it: the app's own
start-up (which imports the uploader's module to spawn it) does not pay for that (25 ms)."""

from __future__ import annotations

from pathlib import Path

import filelock


class DrainLock:
    """Which uploader drains the store: an OS lock on `<store>.lock`, released when its holder
    exits or dies, so two apps on one data folder never send the same events twice."""

    def __init__(self, store_path: Path) -> None:
        self._lock = filelock.FileLock(store_path.with_name(store_path.name + ".lock"),
                                       thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self) -> bool:
        """Takes the lock if it is free; never waits. A folder that cannot hold the lock file
        counts as taken (the store there cannot be written either)."""
        if not self._lock.is_locked:
            try:
                self._lock.acquire(timeout=0)
            except (filelock.Timeout, OSError):
                return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)
