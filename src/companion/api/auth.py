"""Who is calling: API keys (hashed at rest), JWT, or X-User-Id in development.

``Principal.act_as(user_id)`` is the one rule for acting on a user: an admin may act
for anyone; a user only for themselves, and any other id reads as ``NotFound`` (never
"forbidden", which would confirm the user exists).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from companion.api.key_cache import ApiKeyCache
from companion.errors import AuthenticationError, NotFound, PermissionDenied
from companion.runtime import Runtime
from companion.store.repositories import api_keys, users

__all__ = ["Principal", "authenticate", "key_cache"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    is_admin: bool = False
    method: str = "api_key"

    def act_as(self, user_id: str | None) -> str:
        """The user this request acts for: ``user_id`` if allowed, else our own."""
        if user_id is None or user_id == self.user_id:
            return self.user_id
        if self.is_admin:
            return user_id
        raise NotFound(f"user {user_id!r} not found")

    def require_admin(self) -> None:
        """Raise ``PermissionDenied`` unless an admin."""
        if not self.is_admin:
            raise PermissionDenied("this endpoint needs an admin key")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _browser_session(request: Request, runtime: Runtime) -> Principal | None:
    """The chat page's signed-in user (cookie); unsafe methods need the CSRF header.

    A browser session never carries admin rights on the API, even if it was opened
    with an admin key: the dashboard has its own session and pages.
    """
    if "companion_session" not in request.cookies:
        return None
    from companion.web.session import check_csrf, load_session

    session = await load_session(request, runtime, "user")
    if session is None:
        return None
    if request.method not in _SAFE_METHODS and not check_csrf(
        session, request.headers.get("x-csrf-token")
    ):
        raise PermissionDenied("missing or wrong X-CSRF-Token header for this browser session")
    return Principal(user_id=session.user_id, is_admin=False, method="session")


def key_cache(runtime: Runtime) -> ApiKeyCache:
    """The process's memory of live API keys (see ``companion.api.key_cache``)."""
    cache = runtime.extras.get("api_key_cache")
    if cache is None:
        ttl = runtime.settings.security.api_key_cache_seconds
        cache = runtime.extras["api_key_cache"] = ApiKeyCache(ttl=ttl)
    assert isinstance(cache, ApiKeyCache)
    return cache


async def _api_key(runtime: Runtime, token: str) -> Principal:
    cache = key_cache(runtime)
    known = cache.get(token)
    if known is not None:
        return Principal(user_id=known.user_id, is_admin=known.is_admin, method="api_key")
    async with runtime.db.transaction() as session:
        key = await api_keys.find_api_key(session, secret=token)
    if key is None:
        raise AuthenticationError("unknown or revoked API key")
    cache.put(
        token,
        key_id=key.id,
        user_id=key.user_id,
        is_admin=key.is_admin,
        expires_at=key.expires_at,
    )
    return Principal(user_id=key.user_id, is_admin=key.is_admin, method="api_key")


async def authenticate(request: Request, runtime: Runtime) -> Principal:
    """Resolve the caller from the request headers, or raise ``AuthenticationError``."""
    token = _bearer(request)
    if token is not None and token.startswith(api_keys.KEY_PREFIX):
        return await _api_key(runtime, token)
    if token is not None:
        from companion.api.jwt import decode_token

        principal = decode_token(token, runtime.settings)
        async with runtime.db.transaction() as session:  # first contact creates the user
            await users.ensure_user(session, user_id=principal.user_id)
        return principal
    browser = await _browser_session(request, runtime)
    if browser is not None:
        return browser
    if not runtime.settings.security.require_authentication:
        user_id = request.headers.get("x-user-id")
        if user_id:
            async with runtime.db.transaction() as session:
                await users.ensure_user(session, user_id=user_id)
            return Principal(user_id=user_id, is_admin=False, method="header")
    raise AuthenticationError(
        "authentication required: send 'Authorization: Bearer <API key or JWT>' or 'X-API-Key'"
    )
