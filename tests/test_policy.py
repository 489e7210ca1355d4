import pytest

from worker.policy import Backoff, FlushPolicy


@pytest.mark.parametrize("pending, age, due, wait", [
    (0, 0.0, False, None),
    (3, 0.5, False, 1.5),
    (3, 2.0, True, 0.0),
    (10, 0.0, True, 0.0),
    (1, float("inf"), True, 0.0),
])
def test_flush_on_size_or_age(pending: int, age: float, due: bool, wait: float | None) -> None:
    policy = FlushPolicy(batch_size=10, flush_interval=2.0)
    assert policy.due(pending, age) is due
    assert policy.wait(pending, age) == wait


def test_backoff_doubles_with_jitter_caps_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=lambda: 1.0)  # rng=1 -> full step
    assert [backoff.failed(0.0) for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert not backoff.ready(7.9) and backoff.ready(8.0)
    backoff.succeeded()
    assert backoff.ready(0.0) and backoff.failed(0.0) == 1.0
    assert Backoff(base=1.0, rng=lambda: 0.0).failed(0.0) == 0.5  # jitter never below half a step
