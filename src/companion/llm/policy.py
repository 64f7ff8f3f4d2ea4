"""Pure retry and circuit-breaker rules for provider calls (no I/O, no sleeping).

Retries follow the Discord design's Groq client: on HTTP 429 up to two retries waiting
``2**n`` backoff units (1 s, 2 s); on 5xx or a transport error one retry after one
unit; on a timeout one immediate retry. Anything else (401, 400, malformed JSON)
is not retried. After that, the chain moves to the next provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from companion.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)

__all__ = ["CircuitBreaker", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry a failed attempt and how long to wait first.

    ``backoff_base`` is the length of one backoff unit in seconds (1.0 in production;
    tests shrink it so retries run fast).
    """

    backoff_base: float = 1.0
    max_rate_limit_retries: int = 2
    max_server_error_retries: int = 1
    max_timeout_retries: int = 1

    def delay(self, error: ProviderError, *, attempt: int) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up.

        Args:
            error: the failure of attempt ``attempt`` (0 = the first call).
            attempt: how many retries were already made.
        """
        if isinstance(error, ProviderRateLimited):
            if attempt < self.max_rate_limit_retries:
                return float(2**attempt) * self.backoff_base
            return None
        if isinstance(error, ProviderTimeout):
            return 0.0 if attempt < self.max_timeout_retries else None
        if isinstance(error, ProviderAuthError) or not _is_server_side(error):
            return None
        return self.backoff_base if attempt < self.max_server_error_retries else None


def _is_server_side(error: ProviderError) -> bool:
    # status None = transport error (connection refused/reset): worth one retry.
    return error.status is None or error.status >= 500


@dataclass
class CircuitBreaker:
    """Skips a provider after ``threshold`` consecutive failed calls, for ``cooldown`` s.

    After the cooldown one trial call is let through (half-open); success closes the
    circuit, failure opens it again.
    """

    threshold: int = 3
    cooldown: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = field(default=None)

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        """Whether a call may be attempted now."""
        return self.state != "open"

    def success(self) -> None:
        """Record a successful call (closes the circuit)."""
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        """Record a failed call (after its retries)."""
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock()
