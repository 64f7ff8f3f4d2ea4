"""Run Alembic migrations programmatically (``companion migrate``, startup, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ["alembic_config", "downgrade", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, *, vector_dimensions: int) -> Config:
    """An Alembic config pointing at our migrations and ``url`` (an asyncpg URL)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["vector_dimensions"] = vector_dimensions
    return config


async def upgrade(url: str, *, vector_dimensions: int, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (runs Alembic in a worker thread)."""
    config = alembic_config(url, vector_dimensions=vector_dimensions)
    await asyncio.to_thread(command.upgrade, config, revision)


async def downgrade(url: str, *, vector_dimensions: int, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    config = alembic_config(url, vector_dimensions=vector_dimensions)
    await asyncio.to_thread(command.downgrade, config, revision)
