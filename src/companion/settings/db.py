"""Storage settings: PostgreSQL (embedded or external) and optional Redis."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from companion.settings._base import Section

__all__ = ["DEFAULT_DB_PASSWORDS", "DatabaseSettings"]

#: Passwords shipped in examples and seeds; production refuses them.
DEFAULT_DB_PASSWORDS = frozenset(
    {"password", "changeme", "changethis", "postgres", "companion", "secret", "admin"}
)


class DatabaseSettings(Section):
    """DATABASE_URL (unset = embedded PostgreSQL), pool sizes, REDIS_URL."""

    database_url: str | None = None
    db_pool_min_size: int = Field(default=5, ge=1, le=200)
    db_pool_max_size: int = Field(default=20, ge=1, le=500)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_url: str | None = None
    redis_key_prefix: str = "companion:"
    #: Where `companion backup` writes when --out is not given (and what doctor checks).
    backup_dir: Path | None = None

    @field_validator("database_url", "redis_url", "backup_dir", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"postgres", "postgresql"}:
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis:// URL")
        return value

    @property
    def database_password(self) -> str | None:
        """The password in DATABASE_URL, if any."""
        if self.database_url is None:
            return None
        return urlsplit(self.database_url).password
