"""API keys: only a SHA-256 digest of the secret is stored, with a short display prefix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["ApiKey"]


class ApiKey(Base):
    """A credential that authenticates as ``user_id`` (and as an admin if ``is_admin``)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column(index=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str | None] = mapped_column(String(100))
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when the key is rotated: the old key keeps working until then.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
