"""Bookkeeping of scheduled jobs: one row per run, one mark per user and period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column

__all__ = ["JobRun", "JobUserMark"]


class JobRun(Base):
    """One run of a job for a period (e.g. ``reflection`` for ``2026-11-21``)."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    period_key: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="running")
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    users_processed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    errors: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    host: Mapped[str | None] = mapped_column(Text)


class JobUserMark(Base):
    """Marks a user as done for a job and period, so a rerun or resume skips them."""

    __tablename__ = "job_user_marks"
    __table_args__ = (PrimaryKeyConstraint("job_name", "period_key", "user_id"),)

    job_name: Mapped[str] = mapped_column(String(64), nullable=False)
    period_key: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str] = mapped_column(String(100), nullable=False)
    done_at: Mapped[datetime] = created_at_column()
