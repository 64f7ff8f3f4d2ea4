"""The declarative base shared by every table, with a constraint naming convention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "UserId", "companion_id_column", "created_at_column", "user_id_column"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The type of a user id: "discord:123", "telegram:42", "api:alice".
UserId = str


class Base(DeclarativeBase):
    """Base class of every mapped table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def user_id_column(*, index: bool = False) -> Mapped[str]:
    """The ``user_id`` column every user-owned table carries (deleted with the user)."""
    from sqlalchemy import ForeignKey

    return mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=index
    )


def companion_id_column(*, nullable: bool = False) -> Mapped[int]:
    """The ``companion_id`` of a row owned by one companion (deleted with it)."""
    from sqlalchemy import BigInteger, ForeignKey

    return mapped_column(
        BigInteger, ForeignKey("companions.id", ondelete="CASCADE"), nullable=nullable
    )


def created_at_column() -> Mapped[datetime]:
    """A ``timestamptz`` column defaulting to the transaction time."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
