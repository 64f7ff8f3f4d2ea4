"""Storage: PostgreSQL (embedded or external) with pgvector, optional Redis, migrations."""

from __future__ import annotations

from companion.store.base import Base, UserId
from companion.store.database import Database, DatabaseInfo
from companion.store.embedded import EmbeddedPostgres

__all__ = ["Base", "Database", "DatabaseInfo", "EmbeddedPostgres", "UserId"]
