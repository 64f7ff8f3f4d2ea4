"""Browser sign-in: an API key is exchanged once for a server-side session.

The cookie holds only a random session id; the session (user, admin flag, the key it
came from, a CSRF token) lives in the key-value store and expires after
``DASHBOARD_SESSION_MINUTES``. Two kinds exist: ``user`` (the chat page and ``/me``)
and ``admin`` (the dashboard, cookie path ``/admin``). Every use re-checks that the
key was not revoked since.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Literal

from fastapi import Request, Response

from companion.runtime import Runtime
from companion.store.repositories import api_keys

__all__ = [
    "ADMIN_COOKIE",
    "USER_COOKIE",
    "Kind",
    "WebSession",
    "check_csrf",
    "end_session",
    "load_session",
    "start_session",
]

Kind = Literal["user", "admin"]
USER_COOKIE = "companion_session"
ADMIN_COOKIE = "companion_admin"
_COOKIES: dict[Kind, tuple[str, str]] = {
    "user": (USER_COOKIE, "/"),
    "admin": (ADMIN_COOKIE, "/admin"),
}


@dataclass(frozen=True)
class WebSession:
    """One signed-in browser."""

    user_id: str
    is_admin: bool
    key_id: int
    csrf: str
    kind: Kind


def _store_key(kind: Kind, session_id: str) -> str:
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    return f"web:session:{kind}:{digest}"


def is_secure(request: Request, runtime: Runtime) -> bool:
    """Whether the browser reached us over TLS (directly, via a proxy, or by config)."""
    return (
        request.url.scheme == "https"
        or request.headers.get("x-forwarded-proto", "").lower() == "https"
        or runtime.settings.core.public_url.startswith("https://")
    )


async def start_session(
    request: Request,
    response: Response,
    runtime: Runtime,
    *,
    kind: Kind,
    user_id: str,
    is_admin: bool,
    key_id: int,
) -> WebSession:
    """Create a session and set its cookie (HttpOnly, SameSite=Strict, Secure on TLS)."""
    minutes = runtime.settings.security.dashboard_session_minutes
    session_id = secrets.token_urlsafe(32)
    session = WebSession(user_id, is_admin, key_id, secrets.token_urlsafe(24), kind)
    await runtime.kv.set(
        _store_key(kind, session_id), json.dumps(asdict(session)), ttl=minutes * 60
    )
    name, path = _COOKIES[kind]
    response.set_cookie(
        name,
        session_id,
        max_age=minutes * 60,
        path=path,
        httponly=True,
        samesite="strict",
        secure=is_secure(request, runtime),
    )
    return session


async def load_session(request: Request, runtime: Runtime, kind: Kind) -> WebSession | None:
    """The request's live session of ``kind``, or None (expired, revoked key, none)."""
    session_id = request.cookies.get(_COOKIES[kind][0])
    if not session_id or len(session_id) > 100:
        return None
    raw = await runtime.kv.get(_store_key(kind, session_id))
    if raw is None:
        return None
    data = json.loads(raw)
    session = WebSession(
        user_id=str(data["user_id"]),
        is_admin=bool(data["is_admin"]),
        key_id=int(data["key_id"]),
        csrf=str(data["csrf"]),
        kind=kind,
    )
    async with runtime.db.session() as db:
        live = await api_keys.key_is_live(db, key_id=session.key_id)
    if not live or (kind == "admin" and not session.is_admin):
        await runtime.kv.delete(_store_key(kind, session_id))
        return None
    return session


async def end_session(request: Request, response: Response, runtime: Runtime, kind: Kind) -> None:
    """Forget the session and clear its cookie."""
    name, path = _COOKIES[kind]
    session_id = request.cookies.get(name)
    if session_id:
        await runtime.kv.delete(_store_key(kind, session_id))
    response.delete_cookie(name, path=path, httponly=True, samesite="strict")


def check_csrf(session: WebSession, token: str | None) -> bool:
    """Whether ``token`` (form field or ``X-CSRF-Token`` header) matches the session's."""
    return bool(token) and hmac.compare_digest(session.csrf, str(token))
