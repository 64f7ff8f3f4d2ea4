"""Prometheus metrics of the turn pipeline (exposed by ``GET /metrics``).

Defined once per process in the default registry; labels stay low-cardinality
(channel, provider, model, outcome), never user ids.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ACTIVE_USERS",
    "INCIDENTS",
    "MEMORY_OPS",
    "MODEL_CALLS",
    "MODEL_LATENCY",
    "MODEL_TOKENS",
    "TURNS",
    "TURN_OVERHEAD",
    "ActiveUsers",
    "observe_model_call",
]

_FAST = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.5, 5.0)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

TURNS = Counter("companion_turns_total", "Turns answered", ["channel", "outcome"])
TURN_OVERHEAD = Histogram(
    "companion_turn_overhead_seconds",
    "Time of a turn spent outside the model call",
    ["channel"],
    buckets=_FAST,
)
MODEL_LATENCY = Histogram(
    "companion_model_latency_seconds",
    "Latency of chat model calls",
    ["role", "provider", "model"],
    buckets=_SLOW,
)
MODEL_TOKENS = Counter(
    "companion_model_tokens_total", "Tokens used by model calls", ["role", "provider", "kind"]
)
MODEL_CALLS = Counter(
    "companion_model_calls_total", "Model calls by outcome", ["role", "provider", "outcome"]
)
MEMORY_OPS = Counter(
    "companion_memory_operations_total", "Memory operations by the pipeline", ["op", "outcome"]
)
INCIDENTS = Counter("companion_security_incidents_total", "Flagged messages", ["category"])
ACTIVE_USERS = Gauge("companion_active_users", "Users with a turn in the last 5 minutes")


def observe_model_call(record: Any) -> None:
    """Listener for the models' call recorder (``llm.recorder.CallRecord``)."""
    outcome = "success" if record.success else "failure"
    MODEL_CALLS.labels(record.role, record.provider, outcome).inc()
    if record.success:
        MODEL_LATENCY.labels(record.role, record.provider, record.model).observe(
            record.latency_ms / 1000
        )
    MODEL_TOKENS.labels(record.role, record.provider, "prompt").inc(record.prompt_tokens)
    MODEL_TOKENS.labels(record.role, record.provider, "completion").inc(record.completion_tokens)


class ActiveUsers:
    """Who spoke recently, to set ``ACTIVE_USERS`` (this process's view)."""

    def __init__(self, *, window: float = 300.0, cap: int = 100_000) -> None:
        self._seen: dict[str, float] = {}
        self._window = window
        self._cap = cap

    def saw(self, user_id: str) -> None:
        """Record a turn by ``user_id`` and refresh the gauge."""
        now = time.monotonic()
        self._seen.pop(user_id, None)
        self._seen[user_id] = now  # re-insert keeps the dict oldest-first
        self._expire(now)
        ACTIVE_USERS.set(len(self._seen))

    def _expire(self, now: float) -> None:
        while self._seen:
            user, seen = next(iter(self._seen.items()))
            if now - seen <= self._window and len(self._seen) <= self._cap:
                return
            del self._seen[user]
