"""Per-IP rate limiting for HTTP routes (per-user limits live in the turn pipeline).

Counters are shared through the key-value store (Redis when present), so every
gateway process counts against the same budget; 429 carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from companion.api.deps import runtime_of
from companion.conversation.limits import Limit, RateLimiter

__all__ = ["IpLimitDep", "limit_ip"]


async def limit_ip(request: Request) -> None:
    """Count the request against its client address (RATE_LIMIT_PER_IP_PER_MINUTE)."""
    runtime = runtime_of(request)
    address = request.client.host if request.client else "unknown"
    per_minute = runtime.settings.security.rate_limit_per_ip_per_minute
    await RateLimiter(runtime.kv).hit(f"ip:{address}", (Limit(per_minute, 60, "minute"),))


IpLimitDep = Annotated[None, Depends(limit_ip)]
