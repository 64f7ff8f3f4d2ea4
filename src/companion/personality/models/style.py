"""Versions of the evolving style traits (HER): warmth, curiosity, assertiveness, humor, depth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, companion_id_column, created_at_column, user_id_column

__all__ = ["StyleTraitVersion"]


class StyleTraitVersion(Base):
    """One version of the style traits (0–100, bounded [20, 95]) with its reason and diff."""

    __tablename__ = "style_trait_versions"
    __table_args__ = (
        Index(
            "ux_style_trait_versions_current",
            "companion_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("ix_style_trait_versions_timeline", "companion_id", "version"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    companion_id: Mapped[int] = companion_id_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    warmth: Mapped[int] = mapped_column(Integer, nullable=False)
    curiosity: Mapped[int] = mapped_column(Integer, nullable=False)
    assertiveness: Mapped[int] = mapped_column(Integer, nullable=False)
    humor: Mapped[int] = mapped_column(Integer, nullable=False)
    emotional_depth: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(String(30), nullable=False, server_default="initial")
    diff: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
