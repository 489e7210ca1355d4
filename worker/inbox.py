"""The uploader's end of the events queue, read on a thread of its own.

A multiprocessing queue's get() blocks inside the pipe read until a whole message has arrived. If the
app dies while writing a message, the rest never comes (the uploader holds the pipe's write end too,
so no end-of-file either): a loop reading the pipe itself would hang there for good, holding the
events it had received before. Reading on a thread keeps the loop free: it commits what it has,
sees that the app is gone and exits.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from worker.messages import Inbox, ToUploader

log = logging.getLogger(__name__)

EXIT_UNREADABLE = 70  # EX_SOFTWARE


class ThreadedInbox:
    """Moves messages from a process queue to an in-process queue the loop waits on."""

    def __init__(self, source: Inbox) -> None:
        self._source = source
        self._messages: queue.Queue[ToUploader] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, name="uploader-inbox", daemon=True)
        self._thread.start()

    def get(self, block: bool = True, timeout: float | None = None) -> ToUploader:
        return self._messages.get(block, timeout)

    def get_nowait(self) -> ToUploader:
        return self._messages.get_nowait()

    def _pump(self) -> None:
        while True:
            try:
                message = self._source.get()
            except (EOFError, OSError, ValueError):  # the queue is closed: nothing more will come
                return
            except Exception:
                # A message that cannot be unpickled. Acknowledging anything after it would lose
                # its events, so the process ends: the app restarts it and resends what is not
                # acknowledged, and the store ignores what it already has.
                log.exception("unreadable message from the app; exiting so that it resends")
                os._exit(EXIT_UNREADABLE)
            self._messages.put(message)
