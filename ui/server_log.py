"""Keeps visitors' addresses out of the web server's log.

Uvicorn (under Flet) logs every HTTP request with the client's IP and port (its access log) and
each websocket it accepts with the same; Flet logs its session keys, which end in a hash of the
client's IP and browser (user agent). We keep none of it: the access log is dropped, the websocket
lines say "<client>" instead of the address, and the session keys lose their hash. What the log
keeps is what the README's Privacy section lists.

Filters sit on the loggers themselves: uvicorn replaces its loggers' handlers when it starts, but
leaves their filters.
"""

from __future__ import annotations

import logging
import re

HIDDEN = "<client>"
# Every request of every visitor, with its address: nothing in it that the app needs.
ACCESS_LOGGER = "uvicorn.access"
# Its websocket lines: '%s - "WebSocket %s" [accepted]' (and 403, or a status), the client first.
WEBSOCKET_LOGGER = "uvicorn.error"
WEBSOCKET_LINE = '%s - "WebSocket'
# Flet's session keys: <page>_<session id>_<sha1 of the client's IP and user agent>.
SESSION_LOGGER = "flet_web.fastapi"
_CLIENT_HASH = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])")


class DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


class HideWebSocketClient(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(WEBSOCKET_LINE) and record.args:
            args = tuple(record.args) if isinstance(record.args, tuple) else (record.args,)
            record.args = (HIDDEN, *args[1:])
        return True


class HideClientHash(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = _CLIENT_HASH.sub(HIDDEN, message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


def hide_client_addresses() -> None:
    """Installs the filters; call before the web server starts. Idempotent."""
    for name, log_filter in ((ACCESS_LOGGER, DropAll()), (WEBSOCKET_LOGGER, HideWebSocketClient()),
                             (SESSION_LOGGER, HideClientHash())):
        logger = logging.getLogger(name)
        if not any(type(existing) is type(log_filter) for existing in logger.filters):
            logger.addFilter(log_filter)
