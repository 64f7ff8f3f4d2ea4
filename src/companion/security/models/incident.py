"""A security incident (the Discord design's shape)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["SecurityIncident"]


class SecurityIncident(Base):
    """A message judged an attack, with the action taken and the admin's review."""

    __tablename__ = "security_incidents"
    __table_args__ = (
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
        CheckConstraint("severity IN ('low','medium','high','critical')", name="severity_valid"),
        Index("ix_security_incidents_user_time", "user_id", "detected_at"),
        Index(
            "ix_security_incidents_threats",
            "incident_type",
            postgresql_where="confidence > 0.6",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    incident_type: Mapped[str] = mapped_column(String(50), nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    detected_content: Mapped[str] = mapped_column(Text, nullable=False)
    detection_method: Mapped[str | None] = mapped_column(String(50))
    threat_indicators: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    action: Mapped[str | None] = mapped_column(String(30))
    response_generated: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    response_content: Mapped[str | None] = mapped_column(Text)
    user_warned: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    is_repeat_offense: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    previous_incident_count: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="0"
    )
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    detected_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    interaction_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("interactions.id", ondelete="SET NULL")
    )
    admin_reviewed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    admin_notes: Mapped[str | None] = mapped_column(Text)
    false_positive: Mapped[bool | None] = mapped_column(Boolean)
