"""The work queue's retry schedule (pure arithmetic)."""

from __future__ import annotations

from companion.store.queue import backoff_seconds


def test_backoff_doubles_per_attempt_up_to_the_cap() -> None:
    waits = [backoff_seconds(n, base=2.0, cap=60.0, jitter=0.0) for n in range(1, 8)]
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_jitter_only_shortens_the_wait() -> None:
    for _ in range(200):
        wait = backoff_seconds(3, base=2.0, cap=60.0, jitter=0.5)
        assert 4.0 <= wait <= 8.0
