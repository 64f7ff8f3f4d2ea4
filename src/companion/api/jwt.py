"""JWT (HS256 with JWT_SECRET_KEY): ``sub`` is the user id, ``admin`` a boolean claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt as pyjwt

from companion.api.auth import Principal
from companion.errors import AuthenticationError
from companion.settings import Settings

__all__ = ["decode_token", "issue_token"]


def issue_token(
    settings: Settings, *, user_id: str, is_admin: bool = False, ttl: timedelta | None = None
) -> str:
    """A signed token for ``user_id`` that expires after ``ttl`` (JWT_EXPIRE_MINUTES)."""
    secret = settings.security.jwt_secret_key
    if not secret:
        raise AuthenticationError("JWT is not configured (JWT_SECRET_KEY is unset)")
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "admin": is_admin,
        "iat": now,
        "exp": now + (ttl or timedelta(minutes=settings.security.jwt_expire_minutes)),
    }
    return pyjwt.encode(claims, secret, algorithm=settings.security.jwt_algorithm)


def decode_token(token: str, settings: Settings) -> Principal:
    """Verify signature and expiry; the error message says which check failed."""
    secret = settings.security.jwt_secret_key
    if not secret:
        raise AuthenticationError("JWT is not configured on this server; use an API key")
    try:
        claims = pyjwt.decode(
            token,
            secret,
            algorithms=[settings.security.jwt_algorithm],
            options={"require": ["sub", "exp"]},
        )
    except pyjwt.ExpiredSignatureError:
        raise AuthenticationError("token expired") from None
    except pyjwt.InvalidTokenError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from None
    return Principal(user_id=str(claims["sub"]), is_admin=bool(claims.get("admin")), method="jwt")
