"""One autocommit connection for a run of single statements, opened at first use.

A pooled connection's checkout and return (SQLAlchemy's pool, its events, the
isolation level set and reset) cost ~150 µs of CPU here, about as much as running a
short statement on it. A turn's memory search ran its candidates statement on one
connection and the access statistics of what it found on another; a ``LazyReader``
lends both the same one. It is opened when the first statement needs it (not before:
a search first waits for its query embedding, and no pooled connection should wait
with it) and kept until ``close``. Autocommit: each statement is its own
transaction, so a failed one leaves nothing to roll back; the connection is still
given back after a failure, so the next statement starts on a fresh one (a failure
may have been the connection's own).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["LazyReader"]


class LazyReader:
    """An autocommit connection of ``engine``, opened by the first ``use``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._stack: contextlib.AsyncExitStack | None = None
        self._conn: AsyncConnection | None = None

    @property
    def opened(self) -> bool:
        """Whether a connection is held now."""
        return self._conn is not None

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection]:
        """The held connection (opened now if none is); given back if the body fails."""
        if self._conn is None:
            self._stack = contextlib.AsyncExitStack()
            try:
                conn = await self._stack.enter_async_context(self._engine.connect())
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                await self.close()
                raise
        try:
            yield self._conn
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Give the connection back to the pool (nothing to do when none is held)."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> LazyReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
