"""One of Flet's per-event costs, paid once per kind of event instead of on every event.

For every event a client sends, Flet (1.0.5 and the 0.82.2 desktop client alike) works out the
event's payload type from the annotations of the control's class: it walks the class's MRO and
takes the repr of every annotation, about 0.3 ms a click on this machine and 70 % of what the server
spends on a click that changes nothing (a flood's, say; measured with cProfile, bench/web_flood.py).
The answer depends only on the control's class and the event's name, so it is kept per pair: the
original runs for a pair's first event (again, if it raised) and Flet gets its answer, so nothing
changes but the cost. A Flet without that function is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_PATCHED = "_hl_vox_cached"


def cache_event_types() -> None:
    """Makes Flet's event-type lookup remember its answers; idempotent."""
    try:
        from flet.controls import base_control
    except ImportError:
        return
    original = getattr(base_control, "get_event_field_type", None)
    if original is None or getattr(original, _PATCHED, False):
        return
    # By name: mypy would hold the replacement to the original's exact signature.
    setattr(base_control, "get_event_field_type", _cached(original))  # noqa: B010


def _cached(original: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    answers: dict[tuple[type, str], Any] = {}

    def get_event_field_type(control: Any, field_name: str) -> Any:
        key = (type(control), field_name)
        if key not in answers:
            answers[key] = original(control, field_name)
        return answers[key]

    setattr(get_event_field_type, _PATCHED, True)
    return get_event_field_type
