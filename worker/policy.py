"""Pure decisions of the uploader loop: when to flush, and how long to back off after a failure."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FlushPolicy:
    """Flush when batch_size events wait OR the oldest has waited flush_interval seconds."""

    batch_size: int
    flush_interval: float

    def due(self, pending: int, oldest_age: float) -> bool:
        return pending >= self.batch_size or (pending > 0 and oldest_age >= self.flush_interval)

    def wait(self, pending: int, oldest_age: float) -> float | None:
        """Seconds until a flush is due, 0 if it is due now, None if nothing waits."""
        if pending == 0:
            return None
        if self.due(pending, oldest_age):
            return 0.0
        return self.flush_interval - oldest_age


@dataclass
class Backoff:
    """Exponential backoff with jitter: base, 2*base, 4*base ... capped; reset by a success.

    Jitter (50-100 % of the step) keeps many clients that failed together from retrying together.
    """

    base: float = 0.5
    cap: float = 60.0
    rng: Callable[[], float] = random.random
    failures: int = 0
    ready_at: float = field(default=float("-inf"))

    def failed(self, now: float) -> float:
        """Records a failure at `now`; returns the delay before the next attempt."""
        self.failures += 1
        step = min(self.cap, self.base * 2 ** (self.failures - 1))
        delay = step * (0.5 + self.rng() / 2)
        self.ready_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.ready_at = float("-inf")

    def ready(self, now: float) -> bool:
        return now >= self.ready_at


@dataclass
class Pacing:
    """The least time between the starts of two sends, as the sink asks (Sink.min_interval)."""

    min_interval: float
    last_send: float = field(default=float("-inf"))

    @property
    def ready_at(self) -> float:
        return self.last_send + self.min_interval

    def ready(self, now: float) -> bool:
        return now >= self.ready_at

    def sending(self, now: float) -> None:
        self.last_send = now

    def waive(self) -> None:
        """The next send may start at once (the final flush's one send at exit)."""
        self.last_send = float("-inf")
