"""Vendor HTTP failures to ``companion.errors.Provider*``, most specific first.

No transport exception (aiohttp's, see ``providers.http``) and no vendor status
leaves ``llm/providers/`` untranslated. Error messages carry the status and a short
reason, never the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from companion.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)

__all__ = ["MALFORMED", "error_for_status", "map_http_errors"]

#: ``ProviderError.status`` for a 200 whose body did not parse: not retried (a
#: broken deployment rarely fixes itself within a second), the chain moves on.
MALFORMED = 200


def error_for_status(provider: str, status: int, detail: str) -> ProviderError:
    """The error for an HTTP error status, with a short excerpt of the body."""
    message = f"{provider}: HTTP {status} {detail[:200]}".strip()
    if status == 429:
        return ProviderRateLimited(message, provider=provider, status=status)
    if status in (401, 403):
        return ProviderAuthError(message, provider=provider, status=status)
    return ProviderError(message, provider=provider, status=status)


@contextmanager
def map_http_errors(provider: str) -> Iterator[None]:
    """Translate transport failures raised inside the block (no connection, a broken
    or timed-out one) into ``ProviderTimeout`` and ``ProviderError``."""
    try:
        yield
    except TimeoutError as exc:  # aiohttp's connect and read timeouts are TimeoutErrors
        raise ProviderTimeout(
            f"{provider}: timed out ({type(exc).__name__})", provider=provider
        ) from exc
    except aiohttp.ClientError as exc:
        raise ProviderError(f"{provider}: {type(exc).__name__}: {exc}", provider=provider) from exc
