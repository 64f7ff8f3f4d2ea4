"""A bot's side of the outbound deliveries table: wake on NOTIFY, claim, send, record.

Every bot process runs one ``OutboxConsumer`` per channel it serves. It drains what
is due when it starts (messages queued while the bot was down are delivered on
reconnect), then waits for ``NOTIFY companion_outbox`` with a poll as the safety net.
Two bots of the same channel never send the same row: claims skip locked rows and
hold a lease. A message not sent before its time to live expires with the reason.
``RemoteOutboxConsumer`` does the same through a gateway, for bots without database
access.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from companion.proactive.outbox import record_final
from companion.store.database import Database
from companion.store.repositories import outbox

if TYPE_CHECKING:
    from companion.channels.remote import RemoteClient

__all__ = ["OutboxConsumer", "RemoteOutboxConsumer", "SendFunction"]

log = logging.getLogger(__name__)

#: ``send(user_id, text)`` → an object with ``delivered``, ``via`` and ``detail``.
SendFunction = Callable[[str, str], Awaitable[Any]]


class _Background:
    """One background task running ``_run``: ``start`` it once, ``_cancel`` it."""

    channel: str
    _prefix = "outbox"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Deliver in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._prefix}-{self.channel}")

    async def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class OutboxConsumer(_Background):
    """Delivers ``channel``'s queued messages through ``send``."""

    def __init__(
        self,
        db: Database,
        *,
        channel: str,
        send: SendFunction,
        poll_seconds: float = 15.0,
        lease: timedelta = timedelta(minutes=2),
        retry_in: timedelta = timedelta(seconds=30),
    ) -> None:
        self.db, self.channel, self.send = db, channel, send
        self.poll_seconds, self.lease, self.retry_in = poll_seconds, lease, retry_in
        self.name = f"{channel}@{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._listener: Any = None
        super().__init__()

    async def stop(self) -> None:
        """Stop listening (a row being sent keeps its lease and is retried elsewhere)."""
        await self._cancel()
        await self._unlisten()

    async def drain(self) -> int:
        """Send everything due now; returns how many attempts were made."""
        tried: set[int] = set()
        async with self.db.transaction() as session:
            expired = await outbox.expire_due(session, channel=self.channel)
        await record_final(self.db, expired)
        while True:
            async with self.db.transaction() as session:
                rows = await outbox.claim(
                    session, channel=self.channel, worker=self.name, lease=self.lease,
                    exclude=tried,
                )  # fmt: skip
                batch = [(r.id, r.user_id, r.text) for r in rows]
            if not batch:
                return len(tried)
            for delivery_id, user_id, text in batch:
                tried.add(delivery_id)
                await self._deliver_one(delivery_id, user_id, text)

    async def _deliver_one(self, delivery_id: int, user_id: str, text: str) -> None:
        try:
            raw = await self.send(user_id, text)
            ok, via = bool(raw.delivered), getattr(raw, "via", None)
            detail = str(getattr(raw, "detail", "") or via or "")
        except Exception as exc:  # one broken send must not stop the queue
            log.warning("outbound delivery failed", extra={"channel": self.channel})
            ok, via, detail = False, None, f"error: {type(exc).__name__}"
        async with self.db.transaction() as session:
            final = await outbox.finish(
                session,
                delivery_id=delivery_id,
                delivered=ok,
                via=via,
                detail=detail,
                retry_in=self.retry_in,
            )
        if final is not None:
            await record_final(self.db, [final])
            log.info(
                "outbound delivery finished",
                extra={"delivery_id": delivery_id, "status": final.status, "channel": self.channel},
            )

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
                self._wake.clear()
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: keep trying
                log.exception("outbox consumer step failed", extra={"channel": self.channel})
                await self._unlisten()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        import asyncpg

        url = make_url(self.db.engine.url.render_as_string(hide_password=False))
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        await conn.add_listener(outbox.NOTIFY_CHANNEL, self._on_notify)
        self._listener = conn

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.channel:
            self._wake.set()

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


class RemoteOutboxConsumer(_Background):
    """The same job for a bot that only reaches a gateway over HTTP (``--gateway``).

    Long-polls ``POST /api/admin/deliveries/claim`` and reports each outcome; claims,
    leases and expiry are the gateway's, so both kinds of bot can serve one channel.
    """

    def __init__(
        self, client: RemoteClient, *, channel: str, send: SendFunction, wait_seconds: float = 25.0
    ) -> None:
        self.client, self.channel, self.send = client, channel, send
        self.wait_seconds = wait_seconds
        self.name = f"{channel}@{socket.gethostname()}:{os.getpid()}"
        super().__init__()

    _prefix = "outbox-remote"

    async def stop(self) -> None:
        """Stop polling (a claimed row keeps its lease and is retried later)."""
        await self._cancel()

    async def poll_once(self, *, wait_seconds: float | None = None) -> int:
        """Claim once (waiting up to ``wait_seconds``) and deliver; returns the count."""
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        rows = await self.client.claim_deliveries(self.channel, worker=self.name, wait_seconds=wait)
        for row in rows:
            try:
                raw = await self.send(str(row["user_id"]), str(row["text"]))
                ok, via = bool(raw.delivered), getattr(raw, "via", None)
                detail = str(getattr(raw, "detail", "") or via or "")
            except Exception as exc:  # one broken send must not stop the queue
                ok, via, detail = False, None, f"error: {type(exc).__name__}"
            await self.client.report_delivery(int(row["id"]), delivered=ok, via=via, detail=detail)
        return len(rows)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the gateway may be restarting: keep trying
                log.warning("remote outbox poll failed", extra={"channel": self.channel})
                await asyncio.sleep(5.0)
