"""The connection to PostgreSQL: embedded or external, with pgvector checked up front."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncpg import exceptions as asyncpg_errors
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from companion.errors import DatabaseUnavailable, PgvectorMissing
from companion.settings import Settings
from companion.store.embedded import EmbeddedPostgres
from companion.store.vector import register_codec

__all__ = [
    "VECTOR_SESSION_SETTINGS",
    "Database",
    "DatabaseInfo",
    "asyncpg_url",
    "is_connection_error",
]

log = logging.getLogger(__name__)

#: pgvector settings of every session, set once when a connection is opened (so a
#: search needs no round trip for them; PostgreSQL keeps them as placeholders until
#: pgvector loads). Memory search walks the HNSW index with iterative scans so that a
#: ``user_id`` filter still yields a full top-n (``memory/search.py``);
#: ``max_scan_tuples`` (pgvector's default is 20,000) lets a user at the exact-search
#: threshold in a 4M-row table fill its pool.
VECTOR_SESSION_SETTINGS = {
    "hnsw.iterative_scan": "relaxed_order",
    "hnsw.ef_search": "100",
    "hnsw.max_scan_tuples": "50000",
}
_SET_VECTOR_SETTINGS = "; ".join(f"SET {k} = '{v}'" for k, v in VECTOR_SESSION_SETTINGS.items())


def _vector_settings(dbapi_connection: Any, record: Any) -> None:
    """On each new connection, outside any transaction (a rollback cannot undo them).

    Not in the startup packet: PgBouncer (which docs/DEPLOY.md allows in session mode)
    refuses startup parameters it does not know. A server whose pgvector lacks one of
    them (before 0.8) still serves: the search then walks HNSW without iterative scans.
    """
    try:
        dbapi_connection.run_async(lambda conn: conn.execute(_SET_VECTOR_SETTINGS))
    except Exception as exc:  # an unknown setting must not cost the connection
        log.warning("pgvector settings not applied: %s", exc)


#: A statement whose result has every type our statements send or read that asyncpg has
#: no codec for until it looks the type up in the server's catalog: arrays (asyncpg
#: derives an array's codec from the catalog), and pgvector's ``vector`` on a
#: connection that did not get the binary codec (``store.vector``) first.
#: Each lookup is a recursive catalog query that PostgreSQL plans in ~7 ms, with a
#: ``jit`` check before it and the statement that needed it prepared again after it;
#: a new connection met these types in four or five different statements, one lookup
#: each. Prepared once when the connection opens, they are all looked up at once.
_TYPES_WE_USE = (
    "SELECT NULL::vector, NULL::bigint[], NULL::integer[], NULL::varchar[], NULL::real[], "
    "NULL::uuid[], NULL::float8[], NULL::timestamptz[], NULL::bool[]"
)


def _known_types(dbapi_connection: Any, record: Any) -> None:
    """On each new connection: the binary ``vector`` codec (``store.vector``), then
    asyncpg learns every type in ``_TYPES_WE_USE`` at once."""
    _vector_codec(dbapi_connection, record)
    try:
        dbapi_connection.run_async(lambda conn: conn.prepare(_TYPES_WE_USE))
    except Exception as exc:  # a server without pgvector: looked up when met, as before
        log.debug("types not looked up in advance: %s", exc)


#: ``ConnectionRecord.info`` key: the connection has the binary ``vector`` codec.
_VECTOR_CODEC = "companion.vector_codec"


def _vector_codec(dbapi_connection: Any, record: Any) -> None:
    """The binary ``vector`` codec on the connection, once pgvector is installed."""
    try:
        registered = dbapi_connection.run_async(register_codec)
    except Exception as exc:  # the connection still serves; vectors would go as text
        log.warning("binary vector codec not registered: %s", exc)
        registered = False
    record.info[_VECTOR_CODEC] = registered


def _vector_codec_at_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A connection opened before pgvector was installed (before the migrations) gets
    the codec at its next checkout (a dictionary look-up once it has it)."""
    if not record.info.get(_VECTOR_CODEC):
        _vector_codec(dbapi_connection, record)


_PGVECTOR_QUERY = "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"


def asyncpg_url(url: str) -> str:
    """Normalise any ``postgres[ql][+driver]://`` URL to the asyncpg driver."""
    _, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("not a URL")
    return f"postgresql+asyncpg://{rest}"


#: asyncpg's errors that mean the server cannot serve us now (down, restarting, full),
#: by class: the SQLAlchemy wrapper of an error raised while connecting is a plain
#: ``DBAPIError``, so the original is found on the cause chain.
_UNREACHABLE = (
    asyncpg_errors.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg_errors.AdminShutdownError,  # terminated by a restart
    asyncpg_errors.CrashShutdownError,  # another backend crashed; the server resets
    asyncpg_errors.PostgresConnectionError,  # the connection failed or is gone
    asyncpg_errors.TooManyConnectionsError,
    # Raised by a statement run on the driver directly (``store.driver``) when the
    # connection went away; SQLAlchemy would have wrapped it as a disconnect.
    asyncpg_errors.ConnectionDoesNotExistError,
)


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is unreachable" rather than a bad query.

    Decided by the exception's type and its causes' types, never by its text.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (OperationalError, InterfaceError, ConnectionError, OSError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNREACHABLE):
            return True
        current = current.__cause__ or getattr(current, "orig", None)
    return False


def _replace_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """At checkout, without a round trip: a connection the server closed is replaced.

    (asyncpg notices a closed socket by itself; raising ``DisconnectionError`` here
    makes the pool discard the connection and check out another.)
    """
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None and raw.is_closed():
        raise DisconnectionError("connection closed by the server")


@dataclass(frozen=True)
class DatabaseInfo:
    """What ``doctor`` and ``/health/detailed`` report about the database."""

    server_version: str
    pgvector_version: str | None
    embedded: bool
    latency_ms: float


class Database:
    """Owns the engine and the session factory; one per process."""

    def __init__(self, engine: AsyncEngine, *, embedded: EmbeddedPostgres | None = None) -> None:
        self.engine = engine
        self.embedded = embedded
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, pool: bool = True) -> Database:
        """Start or attach to the embedded server when DATABASE_URL is unset."""
        embedded: EmbeddedPostgres | None = None
        if settings.db.database_url:
            url = asyncpg_url(settings.db.database_url)
        else:
            embedded = EmbeddedPostgres(settings.core.companion_home)
            url = embedded.start()
        return cls(cls._engine(url, settings, pool=pool), embedded=embedded)

    @staticmethod
    def _engine(url: str, settings: Settings, *, pool: bool) -> AsyncEngine:
        connect_args = {"timeout": settings.db.db_connect_timeout_seconds}
        if not pool:
            engine = create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
            event.listen(engine.sync_engine, "connect", _vector_settings)
            event.listen(engine.sync_engine, "connect", _vector_codec)
            event.listen(engine.sync_engine.pool, "checkout", _vector_codec_at_checkout)
            return engine
        engine = create_async_engine(
            url,
            # Every connection up to the maximum is kept once opened: SQLAlchemy closes
            # a connection beyond ``pool_size`` as soon as it is returned, so a pool of
            # 5 (or 10) under a load that needs 12 opened and closed a PostgreSQL
            # backend several times a second, each with its prepared statements to
            # parse again (0.4 new connections per turn at 8 users). The minimum is
            # opened at start (``warm``).
            pool_size=settings.db.db_pool_max_size,
            max_overflow=0,
            # No pre-ping (a round trip per checkout, ~12 per turn): a connection whose
            # socket is closed is replaced at checkout for free, and one that fails in
            # use invalidates the pool's older connections (SQLAlchemy's disconnect
            # handling), so the next checkout connects afresh.
            pool_pre_ping=False,
            pool_recycle=1800,
            pool_timeout=settings.db.db_connect_timeout_seconds,
            connect_args=connect_args,
        )
        event.listen(engine.sync_engine.pool, "checkout", _replace_closed)
        event.listen(engine.sync_engine.pool, "checkout", _vector_codec_at_checkout)
        event.listen(engine.sync_engine, "connect", _vector_settings)
        event.listen(engine.sync_engine, "connect", _known_types)
        return engine

    async def warm(self, connections: int) -> None:
        """Open ``connections`` pooled connections now (they stay in the pool)."""
        stack = contextlib.AsyncExitStack()
        async with stack:
            for _ in range(connections):
                await stack.enter_async_context(self.engine.connect())

    @property
    def url(self) -> str:
        """The engine's URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; unreachable-database errors become ``DatabaseUnavailable``."""
        async with self.sessions() as session:
            try:
                yield session
            except Exception as exc:
                if is_connection_error(exc):
                    raise DatabaseUnavailable(
                        "the database is unavailable; try again shortly"
                    ) from exc
                raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection in autocommit, for one statement (atomic by itself: no
        ``BEGIN`` and ``COMMIT`` round trips); unreachable-database errors become
        ``DatabaseUnavailable`` as in ``session``."""
        try:
            async with self.engine.connect() as conn:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            if is_connection_error(exc):
                raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, rolled back on error."""
        async with self.session() as session, session.begin():
            yield session

    async def check(self) -> DatabaseInfo:
        """Ping the server and report versions; raise if pgvector cannot be used."""
        started = time.perf_counter()
        try:
            async with self.engine.connect() as conn:
                version = (await conn.execute(text("SHOW server_version"))).scalar_one()
                available = (await conn.execute(text(_PGVECTOR_QUERY))).scalar_one_or_none()
        except Exception as exc:
            if is_connection_error(exc) or isinstance(exc, asyncio.TimeoutError):
                message = f"cannot reach PostgreSQL at {self.url}: {exc}"
                raise DatabaseUnavailable(message) from exc
            raise
        latency = (time.perf_counter() - started) * 1000
        if available is None:
            raise PgvectorMissing(
                f"PostgreSQL {version} at {self.url} has no pgvector extension; install "
                "pgvector on that server (e.g. apt install postgresql-<major>-pgvector) "
                "or unset DATABASE_URL to use the embedded PostgreSQL"
            )
        return DatabaseInfo(
            server_version=str(version),
            pgvector_version=str(available),
            embedded=self.embedded is not None,
            latency_ms=latency,
        )

    async def close(self) -> None:
        """Dispose of the pool and let go of the embedded server (stopped if we were last)."""
        await self.engine.dispose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
