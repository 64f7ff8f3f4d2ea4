"""The hottest statements, run straight on the asyncpg connection under SQLAlchemy.

A turn runs a dozen statements and its memory work a few more; SQLAlchemy's work per
execution (the compiled-cache key, parameter and result processing, the greenlet
switches, ORM objects) cost the gateway about as much CPU as everything else in it.
A ``DriverStatement`` is a SQLAlchemy statement compiled ONCE for asyncpg: its text
with ``$n`` placeholders and the order of its parameters. ``fetch``/``fetchrow``/
``execute`` run it on the connection that SQLAlchemy already holds for the caller's
session or connection, so it joins the caller's transaction (atomicity and the turn's
"one read, one write transaction" stay as they were), and asyncpg keeps it prepared
per connection. Rows come back as asyncpg ``Record``s (by position or name).

The statement stays written in SQLAlchemy where it was (one source of SQL, with the
per-user ``user_id`` filter in it); only the execution changes. Every statement run
here is reported to SQLAlchemy's ``before_cursor_execute`` listeners (no cursor, no
execution context), so the statement counters of the tests and benches keep seeing
it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = [
    "DriverStatement",
    "execute",
    "execute_many",
    "fetch",
    "fetch_text",
    "fetchrow",
    "made_from",
    "once",
]

T = TypeVar("T")

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _Compiled:
    """A statement as asyncpg runs it."""

    sql: str
    #: The bound parameter of each ``$n``, in order.
    names: tuple[str, ...]
    #: Values of the statement's own literals (``literal("x")``), by parameter name.
    fixed: Mapping[str, Any]
    #: ``(position, converter)`` of the parameters whose type converts the value first
    #: (JSON written as text), as SQLAlchemy would.
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]


class DriverStatement:
    """A SQLAlchemy statement compiled once for asyncpg, run by ``fetch`` and friends.

    Args:
        name: What the statement does (for errors and readers).
        statement: The SQLAlchemy statement, with named ``bindparam``s.
    """

    def __init__(self, name: str, statement: ClauseElement) -> None:
        self.name = name
        self.statement = statement

    @functools.cached_property
    def compiled(self) -> _Compiled:
        """Compiled at first use (module import stays cheap)."""
        compiled = self.statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        converters = []
        for position, name in enumerate(names):
            bind = compiled.binds[name]
            convert = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if convert is not None:
                converters.append((position, convert))
        fixed = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        return _Compiled(compiled.string, names, fixed, tuple(converters))

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``params`` (a missing name is a ``KeyError``)."""
        compiled = self.compiled
        fixed = compiled.fixed
        values = [params[n] if n in params else fixed[n] for n in compiled.names]
        for position, convert in compiled.converters:
            values[position] = convert(values[position])
        return values

    def __repr__(self) -> str:
        return f"DriverStatement({self.name!r})"


#: ``made_from``'s results by kind and by the identity of what each was made from (kept
#: beside it, so a new object that reuses a dead one's id is not taken for it).
_MADE: dict[tuple[str, int], tuple[Any, Any]] = {}


def made_from(source: Any, kind: str, make: Callable[[Any], T]) -> T:
    """``make(source)``, made at its first use for ``source`` and ``kind`` and kept for
    the same object after that: for what is derived from statements built once and
    handed around (``kind`` names what ``make`` makes, one name per ``make``)."""
    key = (kind, id(source))
    held = _MADE.get(key)
    if held is None or held[0] is not source:
        held = _MADE[key] = (source, make(source))
    return cast(T, held[1])


def once(statement: ClauseElement, name: str = "a caller's statement") -> DriverStatement:
    """The ``DriverStatement`` of ``statement``, made at its first use and kept for the
    same object after that (for statements built once and handed around)."""
    return made_from(statement, "once", lambda built: DriverStatement(name, built))


#: Where a session keeps the connection its transaction holds (``Session.info``).
_HELD = "companion.store.driver"


async def _driver(conn: AsyncSession | AsyncConnection) -> tuple[asyncpg.Connection, Any]:
    """The asyncpg connection under ``conn`` with its transaction begun, and the
    SQLAlchemy connection whose listeners hear of the statement.

    A session's is looked up once per transaction (``AsyncSession.connection()`` costs
    a greenlet switch per call): it is kept with the transaction it belongs to and used
    only while that same transaction is the session's.
    """
    if isinstance(conn, AsyncSession):
        transaction = conn.sync_session.get_transaction()
        held = conn.info.get(_HELD)
        if transaction is not None and held is not None and held[0] is transaction:
            return held[1], held[2]
        found = await _driver(await conn.connection())
        conn.info[_HELD] = (conn.sync_session.get_transaction(), *found)
        return found
    sync = conn.sync_connection
    assert sync is not None
    pooled = sync.connection
    adapted: Any = pooled.dbapi_connection
    # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement: begun
    # here when none went yet, so this statement is inside the caller's transaction
    # (on an autocommit connection there is none to begin, and this does nothing).
    if adapted._transaction is None:
        await adapted._start_transaction()
    return pooled.driver_connection, sync


def _report(sync: Any, statement: DriverStatement | str, args: Sequence[Any]) -> None:
    listeners = sync.dispatch.before_cursor_execute
    if listeners:
        sql = statement if isinstance(statement, str) else statement.compiled.sql
        listeners(sync, None, sql, tuple(args), None, False)


async def fetch(
    conn: AsyncSession | AsyncConnection, statement: DriverStatement, params: Mapping[str, Any]
) -> list[asyncpg.Record]:
    """Every row of ``statement`` run with ``params``, in the caller's transaction."""
    driver, sync = await _driver(conn)
    args = statement.arguments(params)
    _report(sync, statement, args)
    rows: list[asyncpg.Record] = await driver.fetch(statement.compiled.sql, *args)
    return rows


async def fetchrow(
    conn: AsyncSession | AsyncConnection, statement: DriverStatement, params: Mapping[str, Any]
) -> asyncpg.Record | None:
    """The first row of ``statement`` run with ``params`` (``None``: no row)."""
    driver, sync = await _driver(conn)
    args = statement.arguments(params)
    _report(sync, statement, args)
    return await driver.fetchrow(statement.compiled.sql, *args)


async def execute(
    conn: AsyncSession | AsyncConnection, statement: DriverStatement, params: Mapping[str, Any]
) -> str:
    """Run ``statement`` with ``params`` for its effect; returns the command status
    (``"UPDATE 3"``)."""
    driver, sync = await _driver(conn)
    args = statement.arguments(params)
    _report(sync, statement, args)
    return str(await driver.execute(statement.compiled.sql, *args))


async def fetch_text(
    conn: AsyncSession | AsyncConnection, sql: str, args: Sequence[Any]
) -> list[asyncpg.Record]:
    """Every row of ``sql`` (already written for asyncpg: ``$n`` placeholders, ``args``
    in their order), in the caller's transaction, as ``fetch`` runs a compiled one.

    For statements built as text (the memory search's, one per filter shape): through
    SQLAlchemy's ``exec_driver_sql`` the cursor wrapper and a ``Row`` per result row
    cost ~0.5 ms of CPU for the ~200 candidates of a search. Reported to the
    ``before_cursor_execute`` and ``after_cursor_execute`` listeners both.
    """
    driver, sync = await _driver(conn)
    _report(sync, sql, args)
    rows: list[asyncpg.Record] = await driver.fetch(sql, *args)
    # Its end too, as SQLAlchemy's cursor would (listeners timing or ordering statements).
    listeners = sync.dispatch.after_cursor_execute
    if listeners:
        listeners(sync, None, sql, tuple(args), None, False)
    return rows


async def execute_many(
    conn: AsyncSession | AsyncConnection,
    statement: DriverStatement,
    params: Sequence[Mapping[str, Any]],
) -> None:
    """Run ``statement`` once per mapping of ``params``, in one round trip (asyncpg's
    ``executemany``: the executions pipelined in the caller's transaction). Reported
    to the listeners once, as SQLAlchemy reports an ``executemany``."""
    if not params:
        return
    driver, sync = await _driver(conn)
    rows = [statement.arguments(p) for p in params]
    listeners = sync.dispatch.before_cursor_execute
    if listeners:
        listeners(sync, None, statement.compiled.sql, tuple(rows), None, True)
    await driver.executemany(statement.compiled.sql, rows)
