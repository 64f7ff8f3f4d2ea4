"""A durable work queue in PostgreSQL: the transactional outbox of the turn pipeline.

Producers write an item with ``enqueue(session, …)`` inside their own transaction, so
the work exists exactly when the data it is about exists. Workers claim due items with
``FOR UPDATE SKIP LOCKED`` (many workers, on many machines, share one table without
blocking each other), hold them under a lease that a heartbeat extends, mark them done,
or put them back with exponential backoff; after ``max_attempts`` an item is
``failed`` and logged. A worker that dies (``kill -9``) stops renewing its lease: the
item becomes due again when the lease runs out. Handlers must be idempotent per
``(kind, key)``: an item can run more than once (a lease expired mid-run), never zero
times once committed.

Why a table and not ``pgqueuer`` or ``procrastinate``: the item must be written in
the *same* SQLAlchemy/asyncpg transaction as the turn, and be deleted with its user
(``user_id`` with ``ON DELETE CASCADE``); both libraries enqueue through their own
connection and schema (procrastinate needs psycopg, pgqueuer brings uvloop, croniter
and its own CLI and installer), so neither gives the outbox without reaching under
SQLAlchemy. What we need is a few hundred lines of SQL and asyncio.

Workers in a process that also answers turns (``companion serve``) give way to them
(``give_way``): the turns and the memory work share one event loop and two cores,
and a turn waits for every callback queued before its own. While turns are in
flight, one worker task claims, and after a batch that was not full it rests (up to
``settle`` seconds, or until no turn is in flight) so that the work gathers into
fewer, fuller batches instead of one claim per turn. The other workers join in when
items waited longer than ``behind_after`` seconds, so the queue cannot grow without
bound behind a steady stream of turns.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from companion.store import driver
from companion.store.database import Database
from companion.store.models import WorkItem

__all__ = ["BatchHandler", "Handler", "QueuedItem", "WorkQueue", "backoff_seconds"]

log = logging.getLogger(__name__)

Handler = Callable[["QueuedItem"], Awaitable[None]]
#: Several items of one kind at once; returns each item's outcome in order (``None``:
#: done, an exception: failed, retried alone like an item whose handler raised).
BatchHandler = Callable[[list["QueuedItem"]], Awaitable[list[Exception | None]]]


@dataclass(frozen=True)
class QueuedItem:
    """A claimed item, as its handler sees it."""

    id: int
    kind: str
    key: str
    user_id: str
    payload: dict[str, Any]
    attempts: int
    #: Seconds the item had been due when it was claimed.
    waited: float = 0.0


def _never() -> bool:
    return False


def backoff_seconds(attempts: int, *, base: float, cap: float, jitter: float = 0.5) -> float:
    """Wait before retry number ``attempts`` (1, 2, …): ``base·2^(n-1)``, capped, jittered.

    The jitter takes off up to ``jitter`` of the wait, so many failing items spread out.
    """
    wait = min(cap, base * 2.0 ** max(0, attempts - 1))
    return float(wait * (1.0 - jitter * random.random()))


#: Items' success: done, their lease and last error cleared.
_DONE = (
    "UPDATE work_items SET status = 'done', done_at = now(), locked_until = NULL, "
    "last_error = NULL WHERE id = ANY(CAST(:done AS bigint[]))"
)

#: Take up to ``:limit`` due items (pending, or running past their lease) of the kinds
#: this queue handles; ``{exclude}`` narrows the choice further.
_CLAIM_SQL = """
    UPDATE work_items SET status = 'running', attempts = attempts + 1,
           locked_until = now() + make_interval(secs => :lease), claimed_by = :worker
    WHERE id IN (
        SELECT id FROM work_items
        WHERE run_after <= now()
          AND (status = 'pending' OR (status = 'running' AND locked_until < now()))
          AND kind = ANY(:kinds) {exclude}
        ORDER BY run_after, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, kind, key, user_id, payload, attempts,
              extract(epoch FROM now() - run_after)::float8
"""

_CLAIM = driver.DriverStatement("due work items claimed", text(_CLAIM_SQL.format(exclude="")))

#: The claim with the previous items' outcome in the same statement: a worker that
#: finished items records them done and takes the next ones in one round trip. The
#: finished items are still ``running`` under their lease in the claim's snapshot, so
#: the claim never takes them again.
_FINISH_AND_CLAIM = driver.DriverStatement(
    "finished work items done, due ones claimed",
    text(
        f"WITH finished AS ({_DONE}) "
        + _CLAIM_SQL.format(exclude="AND id <> ALL(CAST(:done AS bigint[]))")
    ),
)


_ITEMS = cast(Table, WorkItem.__table__)
#: Let the pending item ``(due_kind, due_key)`` run now (``make_due``; the turn's
#: write transaction runs it as part of one statement).
DUE_NOW = (
    update(_ITEMS)
    .where(
        _ITEMS.c.kind == bindparam("due_kind"),
        _ITEMS.c.key == bindparam("due_key"),
        _ITEMS.c.status == "pending",
    )
    .values(run_after=func.now())
)


class WorkQueue:
    """Enqueue in the caller's transaction; run handlers in worker tasks."""

    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: float = 30.0,
        max_attempts: int = 8,
        backoff_base: float = 2.0,
        backoff_cap: float = 600.0,
        poll_seconds: float = 1.0,
        concurrency: int = 2,
        batch: int = 1,
    ) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        #: Items a worker task claims at once (kinds with a batch handler run them
        #: together; others one by one).
        self.batch = batch
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._handlers: dict[str, Handler] = {}
        self._batch_handlers: dict[str, BatchHandler] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        #: Items this process's worker tasks are running now.
        self.items_running = 0
        #: Whether turns are in flight in this process (``give_way``), and the rules.
        self._busy: Callable[[], bool] = _never
        self.settle = 0.25
        self.behind_after = 2.0
        #: The last claim found items due longer than ``behind_after``.
        self._behind = False

    # -- producing ------------------------------------------------------------------

    def register(self, kind: str, handler: Handler, *, batch: BatchHandler | None = None) -> None:
        """Handle items of ``kind`` in this process's workers.

        ``batch``: runs several claimed items of the kind in one call (cheaper per item
        when the queue is behind); ``handler`` still runs single items.
        """
        self._handlers[kind] = handler
        if batch is not None:
            self._batch_handlers[kind] = batch

    @staticmethod
    async def enqueue(
        session: AsyncSession,
        *,
        kind: str,
        key: str,
        user_id: str,
        payload: dict[str, Any] | None = None,
        run_after: datetime | None = None,
    ) -> None:
        """Add an item in ``session``'s transaction (a second enqueue of the key is a no-op)."""
        values: dict[str, Any] = {
            "kind": kind,
            "key": key,
            "user_id": user_id,
            "payload": payload or {},
        }
        if run_after is not None:
            values["run_after"] = run_after
        await session.execute(
            insert(WorkItem)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_work_items_kind_key")
        )

    @staticmethod
    async def make_due(session: AsyncSession, *, kind: str, key: str) -> None:
        """Let a pending item run now (in ``session``'s transaction)."""
        await session.execute(DUE_NOW, {"due_kind": kind, "due_key": key})

    def wake(self) -> None:
        """Tell this process's workers that an item may be due (skips one poll), or
        that turns they gave way to have finished."""
        self._wake.set()

    def give_way(
        self, busy: Callable[[], bool], *, settle: float = 0.25, behind_after: float = 2.0
    ) -> None:
        """Let turns go first while ``busy()`` says some are in flight (the module's
        docstring): one worker task claims, resting up to ``settle`` s after a batch
        that was not full; all of them work once items waited ``behind_after`` s.
        Whoever makes ``busy()`` false calls ``wake()``."""
        if settle <= 0:  # a rest that never waits would spin on the loop
            raise ValueError("settle must be positive")
        self._busy, self.settle, self.behind_after = busy, settle, behind_after

    def _giving_way(self, number: int) -> bool:
        """Whether worker ``number`` stays out while turns are in flight."""
        return number > 0 and not self._behind and self._busy()

    async def _rest(self) -> None:
        """Wait up to ``settle`` s while turns are in flight (a wake re-checks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle
        while self._busy() and not self._behind and not self._stopping.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=left)
            except TimeoutError:
                return

    # -- consuming ------------------------------------------------------------------

    async def claim(
        self, limit: int = 1, *, done: int | list[int] | None = None
    ) -> list[QueuedItem]:
        """Claim up to ``limit`` due items of the kinds this process handles.

        ``done``: items this worker has just finished, recorded done in the same
        statement (one round trip and one transaction instead of two).
        """
        if isinstance(done, int):
            done = [done]
        if not done:
            done = None
        if not self._handlers:
            if done is not None:
                await self._done(done)
            return []
        params: dict[str, Any] = {
            "lease": self.lease_seconds,
            "worker": self.worker_id,
            "kinds": list(self._handlers),
            "limit": limit,
        }
        if done is not None:
            params["done"] = done
        async with self.db.transaction() as session:
            rows = await driver.fetch(
                session, _CLAIM if done is None else _FINISH_AND_CLAIM, params
            )
            return [QueuedItem(r[0], r[1], r[2], r[3], dict(r[4]), r[5], r[6]) for r in rows]

    async def process(self, item: QueuedItem, *, record_done: bool = True) -> bool:
        """Run ``item``'s handler and record the outcome; True when it succeeded.

        ``record_done=False``: a success is left for the caller to record (the worker
        loop records it with its next claim); a failure is always recorded here.
        """
        handler = self._handlers[item.kind]
        heartbeat = asyncio.create_task(self._heartbeat(item.id))
        try:
            await handler(item)
        except asyncio.CancelledError:
            raise  # the lease runs out and another worker takes the item
        except Exception as exc:
            await self._failed(item, exc)
            return False
        finally:
            heartbeat.cancel()
        if record_done:
            await self._done([item.id])
        return True

    async def process_many(self, items: list[QueuedItem]) -> list[int]:
        """Run claimed items, those of a kind with a batch handler together; the ids
        that succeeded (for the caller to record done). Failures are recorded here."""
        succeeded: list[int] = []
        groups: dict[str, list[QueuedItem]] = {}
        for item in sorted(items, key=lambda i: i.id):
            groups.setdefault(item.kind, []).append(item)
        for kind, group in groups.items():
            run_together = self._batch_handlers.get(kind)
            if run_together is None or len(group) == 1:
                for item in group:
                    if await self.process(item, record_done=False):
                        succeeded.append(item.id)
                continue
            heartbeat = asyncio.create_task(self._heartbeat(*(i.id for i in group)))
            try:
                try:
                    outcomes = await run_together(group)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the batch as a whole failed (a shared read)
                    outcomes = [exc] * len(group)
            finally:
                heartbeat.cancel()
            for item, outcome in zip(group, outcomes, strict=True):
                if outcome is None:
                    succeeded.append(item.id)
                else:
                    await self._failed(item, outcome)
        return succeeded

    async def _done(self, item_ids: list[int]) -> None:
        await self._execute(_DONE, done=item_ids)

    async def run_once(self, limit: int = 10) -> int:
        """Claim up to ``limit`` due items and process them (in batches where a kind has
        a batch handler, like the worker tasks); the number processed."""
        items = await self.claim(limit)
        succeeded = await self.process_many(items)
        if succeeded:
            await self._done(succeeded)
        return len(items)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Process due items until none is left (tests, ``drain``); the number processed."""
        total = 0
        for _ in range(max_rounds):
            done = await self.run_once()
            if done == 0:
                break
            total += done
        return total

    async def prune(self, *, keep_done_hours: float = 24.0) -> int:
        """Delete items done more than ``keep_done_hours`` ago; the number deleted.

        Failed items stay (with their last error) until someone looks at them.
        """
        async with self.db.transaction() as session:
            result = await session.execute(
                text(
                    "DELETE FROM work_items WHERE status = 'done' "
                    "AND done_at < now() - make_interval(secs => :keep)"
                ),
                {"keep": keep_done_hours * 3600},
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        """How many items are in each status."""
        async with self.db.session() as session:
            rows = await session.execute(
                text("SELECT status, count(*) FROM work_items GROUP BY status")
            )
            return {str(status): int(n) for status, n in rows}

    # -- worker tasks ----------------------------------------------------------------

    def start(self) -> None:
        """Start ``concurrency`` worker tasks in this process (serve, worker)."""
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.get_running_loop().create_task(self._loop(n), name=f"queue-worker-{n}")
            for n in range(self.concurrency)
        ]
        log.info("work queue started", extra={"workers": self.concurrency, "id": self.worker_id})

    @property
    def running(self) -> bool:
        """Whether this process runs workers."""
        return bool(self._tasks)

    async def stop(self, timeout: float = 10.0) -> None:
        """Let running items finish for ``timeout`` s, then cancel (their leases expire)."""
        if not self._tasks:
            return
        self._stopping.set()
        self._wake.set()
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _loop(self, number: int) -> None:
        next_prune = 0.0
        loop = asyncio.get_running_loop()
        finished: list[int] = []  # done, recorded with the next claim
        try:
            while not self._stopping.is_set():
                if number == 0 and loop.time() >= next_prune:  # housekeeping, every 10 min
                    next_prune = loop.time() + 600
                    try:
                        await self.prune()
                    except Exception:
                        log.warning("work queue: pruning done items failed", exc_info=True)
                if self._giving_way(number):
                    if finished:  # not left claimed while this worker stays out
                        try:
                            await self._done(finished)
                        except Exception:  # the lease expires and the items run again
                            log.warning("work queue: recording an outcome failed", exc_info=True)
                        finished = []
                    await self._rest()
                    continue
                try:
                    items = await self.claim(self.batch, done=finished)
                    finished = []
                except Exception:  # the database is down: wait and try again
                    log.warning("work queue: claiming failed; retrying", exc_info=True)
                    items = []
                if items:
                    self._behind = max(i.waited for i in items) > self.behind_after
                    self.items_running += len(items)
                    try:
                        finished = await self.process_many(items)
                    except Exception:  # recording an outcome failed: the lease expires
                        log.warning("work queue: recording an outcome failed", exc_info=True)
                    finally:
                        self.items_running -= len(items)
                    if len(items) < self.batch:  # caught up: turns first for a while
                        await self._rest()
                    continue
                self._behind = False
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
        finally:
            if finished:  # stopping right after items: record them now
                try:
                    await self._done(finished)
                except Exception:  # the lease expires and the item runs again (idempotent)
                    log.warning("work queue: recording an outcome failed", exc_info=True)

    async def _heartbeat(self, *item_ids: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self._execute(
                    "UPDATE work_items SET locked_until = now() + make_interval(secs => :lease) "
                    "WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'running'",
                    ids=list(item_ids),
                    lease=self.lease_seconds,
                )
            except Exception:
                log.warning("work queue: lease renewal failed", exc_info=True)

    async def _failed(self, item: QueuedItem, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        extra = {
            "kind": item.kind,
            "key": item.key,
            "user_id": item.user_id,
            "attempt": item.attempts,
        }
        if item.attempts >= self.max_attempts:
            log.error("work item failed for good: %s", error, extra=extra, exc_info=exc)
            await self._execute(
                "UPDATE work_items SET status = 'failed', locked_until = NULL, last_error = :error "
                "WHERE id = :id",
                id=item.id,
                error=error,
            )
            return
        wait = backoff_seconds(item.attempts, base=self.backoff_base, cap=self.backoff_cap)
        log.warning("work item failed; retrying in %.1f s: %s", wait, error, extra=extra)
        await self._execute(
            "UPDATE work_items SET status = 'pending', locked_until = NULL, last_error = :error, "
            "run_after = now() + make_interval(secs => :wait) WHERE id = :id",
            id=item.id,
            error=error,
            wait=wait,
        )

    async def _execute(self, sql: str, **params: Any) -> None:
        async with self.db.transaction() as session:
            await session.execute(text(sql), params)
