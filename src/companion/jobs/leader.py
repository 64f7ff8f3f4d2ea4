"""Leader election across processes with a PostgreSQL advisory lock.

The lock is session-scoped and held on a dedicated connection (outside the pool), so
it lives exactly as long as that connection: if the leader's process dies or its
connection drops, PostgreSQL releases the lock and a standby's next attempt wins.
"""

from __future__ import annotations

import contextlib
import logging

import asyncpg

__all__ = ["LEADER_LOCK_KEY", "AdvisoryLock"]

log = logging.getLogger(__name__)

#: Arbitrary 64-bit key reserved for the scheduler leader ("compjobs" in ASCII).
LEADER_LOCK_KEY = 0x636F6D706A6F6273


class AdvisoryLock:
    """``pg_try_advisory_lock`` on its own connection."""

    def __init__(self, dsn: str, *, key: int = LEADER_LOCK_KEY) -> None:
        self.dsn, self.key = dsn, key
        self._conn: asyncpg.Connection | None = None

    @property
    def held(self) -> bool:
        """Whether we believe we hold the lock (``check`` confirms it)."""
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """Take the lock if free; never waits."""
        if self._conn is not None:
            return await self.check()
        try:
            conn = await asyncpg.connect(self.dsn, timeout=10)
        except Exception as exc:  # database down: stay standby, retry later
            log.warning("leader election cannot connect: %s", type(exc).__name__)
            return False
        try:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        except Exception:
            await _close(conn)
            return False
        if not got:
            await _close(conn)
            return False
        self._conn = conn
        return True

    async def check(self) -> bool:
        """Confirm the lock is still ours (the connection is alive); drop it if not."""
        if self._conn is None:
            return False
        try:
            await self._conn.fetchval("SELECT 1", timeout=10)
            return True
        except Exception:
            log.warning("leader lost its lock connection")
            await _close(self._conn)
            self._conn = None
            return False

    async def backend_pid(self) -> int | None:
        """The server process id of the lock connection (tests kill it to fake a crash)."""
        return self._conn.get_server_pid() if self._conn is not None else None

    async def release(self) -> None:
        """Give the lock up and close the connection."""
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.fetchval("SELECT pg_advisory_unlock($1)", self.key)
        await _close(self._conn)
        self._conn = None


async def _close(conn: asyncpg.Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.close(timeout=2)
