"""``companion deliveries list|tail``: the outbound deliveries queue from a terminal.

``tail --channel C`` is a minimal channel consumer: it claims ``C``'s queued messages
like a bot would, prints each as one JSON line on stdout and records it delivered
(``via: stdout``). Useful to pipe messages of a channel into your own program, and
to watch what a bot would receive.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from companion.cli._common import load, run

__all__ = ["app"]

app = typer.Typer(help="Outbound messages queued for chat bots.", no_args_is_help=True)


@dataclass(frozen=True)
class _Printed:
    delivered: bool = True
    via: str = "stdout"
    detail: str = "printed"


@app.command("list")
def list_command(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel's.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, delivered, expired …")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Latest deliveries as JSON lines (newest first)."""
    from companion.runtime import Runtime
    from companion.store.repositories import outbox

    settings = load(log_format="text")

    async def _go() -> list[dict[str, Any]]:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.db.session() as session:
                rows = await outbox.list_deliveries(
                    session, user_id=user, channel=channel, status=status, limit=limit
                )
                return [outbox.view(r) for r in rows]
        finally:
            await runtime.close()

    for item in run(_go):
        typer.echo(json.dumps(item))


@app.command("tail")
def tail_command(
    channel: Annotated[str, typer.Option(help="The channel to consume (discord, telegram …).")],
) -> None:
    """Consume the channel's queue: print each message as a JSON line, mark it delivered."""
    from companion.channels.outbox import OutboxConsumer
    from companion.store.database import Database

    settings = load()

    async def send(user_id: str, text: str) -> _Printed:
        sys.stdout.write(json.dumps({"channel": channel, "user_id": user_id, "text": text}) + "\n")
        sys.stdout.flush()
        return _Printed()

    async def _go() -> None:
        db = Database.from_settings(settings, pool=True)
        await db.check()
        consumer = OutboxConsumer(db, channel=channel, send=send, poll_seconds=5.0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await consumer.start()
        print(f"consuming the {channel} outbox", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await consumer.stop()
            await db.close()

    run(_go)
