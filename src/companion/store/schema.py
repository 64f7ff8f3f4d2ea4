"""Imports every table so ``Base.metadata`` is complete (for Alembic and tests)."""

from __future__ import annotations

import companion.memory.models
import companion.personality.models
import companion.proactive.models
import companion.security.models
import companion.store.models
import companion.tools.models  # noqa: F401
from companion.store.base import Base

__all__ = ["metadata", "user_tables"]

metadata = Base.metadata


def user_tables() -> list[str]:
    """Names of the tables that hold per-user rows (they have a ``user_id`` column)."""
    return sorted(name for name, table in metadata.tables.items() if "user_id" in table.c)
