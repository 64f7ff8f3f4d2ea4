"""A person using Companion: lifecycle, timezone, preferences and privacy flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, Float, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column

__all__ = ["USER_STATUSES", "User"]

USER_STATUSES = ("active", "inactive", "suspended", "deleted")


class User(Base):
    """One user; every user-owned row references ``users.id`` and is deleted with it."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active','inactive','suspended','deleted')", name="status_valid"
        ),
        Index("ix_users_last_active", "last_active"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="active")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, server_default="UTC")
    preferred_language: Mapped[str] = mapped_column(String(10), nullable=False, server_default="en")
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    channels: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = created_at_column()
    last_active: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total_interactions: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    total_proactive_conversations: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="0"
    )
    average_session_length_minutes: Mapped[float | None] = mapped_column(Float)
    data_retention_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="365")
    analytics_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    proactive_messaging_enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="true"
    )
    quiet_hours: Mapped[str | None] = mapped_column(String(16))
    #: 0 none, 1 warned, 2 restricted, 3 suspended (security escalation levels).
    security_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
