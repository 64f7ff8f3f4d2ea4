"""Every model call is recorded: in-process counters plus a row in ``llm_calls``.

The database write runs as a background task so a reply is never delayed by it. It
starts ``gather`` seconds (default 0.25) after the first record that finds no write
pending, and records that arrive meanwhile or while a write runs go together (one
connection checkout and one multi-row INSERT for many calls, not one per call: on a
busy gateway a write per turn was ~3.5 % of its CPU and a commit per turn in PostgreSQL);
``flush`` and ``aclose`` write what is pending at once and wait for it. Metrics
exporters (the gateway's Prometheus endpoint) subscribe with
``CallRecorder.add_listener`` and receive each ``CallRecord``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ulid import ULID

if TYPE_CHECKING:
    from companion.store.database import Database

__all__ = ["CallRecord", "CallRecorder", "CallStats", "new_call_id"]

log = logging.getLogger(__name__)


def new_call_id() -> str:
    """A fresh ULID string (sortable by time)."""
    return str(ULID())


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One attempt's outcome on one provider (a fallback yields several records)."""

    id: str
    role: str
    provider: str
    model: str
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    success: bool = True
    fallback_used: bool = False
    error: str | None = None
    user_id: str | None = None


@dataclass
class CallStats:
    """Counters by (role, provider, outcome) and latency totals, for metrics."""

    calls: Counter[tuple[str, str, str]]
    latency_ms_total: defaultdict[tuple[str, str], float]
    tokens: Counter[tuple[str, str, str]]
    fallbacks: Counter[str]

    @classmethod
    def empty(cls) -> CallStats:
        """All counters at zero."""
        return cls(Counter(), defaultdict(float), Counter(), Counter())

    def add(self, record: CallRecord) -> None:
        """Count one record."""
        outcome = "success" if record.success else "failure"
        self.calls[(record.role, record.provider, outcome)] += 1
        self.latency_ms_total[(record.role, record.provider)] += record.latency_ms
        self.tokens[(record.role, record.provider, "prompt")] += record.prompt_tokens
        self.tokens[(record.role, record.provider, "completion")] += record.completion_tokens
        if record.fallback_used and record.success:
            self.fallbacks[record.role] += 1


Listener = Callable[[CallRecord], None]


class CallRecorder:
    """Counts every call and persists it to ``llm_calls`` without blocking the caller."""

    def __init__(self, db: Database | None = None, *, gather: float = 0.25) -> None:
        self._db = db
        self._gather = gather
        #: Set while a write waits to gather records; ``flush`` ends the wait early.
        self._soon: asyncio.Future[None] | None = None
        self.stats = CallStats.empty()
        self._listeners: list[Listener] = []
        self._waiting: list[dict[str, object]] = []
        self._writer: asyncio.Task[None] | None = None

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(record)`` for every future record (must not block)."""
        self._listeners.append(listener)

    def record(self, record: CallRecord) -> None:
        """Count ``record`` now and write it to the database in the background."""
        self.stats.add(record)
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("llm call listener failed")
        if self._db is not None:
            self._waiting.append(_columns(record))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        """Write what is waiting, batch after batch, until nothing is left."""
        from sqlalchemy import Table, insert

        from companion.store.models.llm_call import LLMCall

        assert self._db is not None
        if self._gather > 0:
            loop = asyncio.get_running_loop()
            self._soon = soon = loop.create_future()
            timer = loop.call_later(self._gather, _settle, soon)
            try:
                await soon
            finally:
                timer.cancel()
                self._soon = None
        while self._waiting:
            rows, self._waiting = self._waiting, []
            try:
                # On the table (Core), not the mapped class (the ORM's bulk insert cost
                # more CPU than the write), autocommitted (no BEGIN and COMMIT round
                # trips): up to a thousand rows are one multi-row INSERT.
                async with self._db.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(insert(cast(Table, LLMCall.__table__)), rows)
            except Exception as exc:
                # Losing metrics rows must never break a conversation.
                log.warning("could not record %d llm call(s): %s", len(rows), exc)

    async def flush(self) -> None:
        """Write what is pending now and wait until every write has finished."""
        while self._writer is not None and not self._writer.done():
            if self._soon is not None:
                _settle(self._soon)
            await asyncio.gather(self._writer, return_exceptions=True)

    async def aclose(self) -> None:
        """Flush pending writes."""
        await self.flush()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _columns(record: CallRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "role": record.role,
        "provider": record.provider,
        "model": record.model[:200],
        "latency_ms": record.latency_ms,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "success": record.success,
        "fallback_used": record.fallback_used,
        "error": record.error,
    }
