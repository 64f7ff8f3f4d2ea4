"""Starting and stopping the bot: inside ``companion serve`` or on its own.

``start_discord(runtime)`` runs the bot as a task next to the HTTP gateway, with an
in-process client; ``run_standalone`` is ``companion discord``, with either a runtime
of its own or a remote gateway. Both log in with ``DISCORD_TOKEN``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.channels.client import CompanionClient
from companion.channels.discord.bot import CompanionBot
from companion.channels.discord.delivery import DiscordDelivery
from companion.settings.channels import ChannelSettings

if TYPE_CHECKING:
    from companion.channels.outbox import OutboxConsumer
    from companion.runtime import Runtime

__all__ = ["DiscordService", "start_discord", "stop_discord"]

log = logging.getLogger(__name__)


@dataclass
class DiscordService:
    """A running bot, its client and its delivery port."""

    bot: CompanionBot
    client: CompanionClient
    delivery: DiscordDelivery
    task: asyncio.Task[None]
    outbox: OutboxConsumer | None = None

    async def stop(self) -> None:
        """Log out and release the client (same as ``stop_discord(self)``)."""
        await stop_discord(self)


def _log_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the discord bot stopped", exc_info=task.exception())


async def launch(client: CompanionClient, settings: ChannelSettings) -> DiscordService:
    """Log in and run the bot in a background task (``settings`` must have a token)."""
    assert settings.discord_token, "launch() needs DISCORD_TOKEN"
    bot = CompanionBot(client, settings)
    task = asyncio.create_task(bot.start(settings.discord_token), name="discord-bot")
    task.add_done_callback(_log_exit)
    return DiscordService(bot=bot, client=client, delivery=DiscordDelivery(bot, client), task=task)


async def start_discord(runtime: Runtime) -> DiscordService | None:
    """Run the bot inside this process when ``DISCORD_TOKEN`` is set, else ``None``.

    The delivery port is offered to the proactive engine if it accepts channels.
    """
    settings = runtime.settings.channels
    if not settings.discord_token:
        return None
    from companion.channels.inprocess import InProcessClient

    service = await launch(InProcessClient(runtime), settings)
    register = getattr(runtime.proactive, "register_delivery", None)
    if callable(register):
        register(service.delivery)
    # Messages queued by other processes (``companion worker``) for Discord users.
    from companion.channels.outbox import OutboxConsumer

    service.outbox = OutboxConsumer(
        runtime.db, channel="discord", send=service.delivery.deliver_when_ready
    )
    await service.outbox.start()
    runtime.extras["discord"] = service
    return service


async def stop_discord(service: DiscordService | None) -> None:
    """Log out, wait for the task, release the client. ``None`` is a no-op."""
    if service is None:
        return
    if service.outbox is not None:
        await service.outbox.stop()
    await service.bot.close()
    service.task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await service.task
    await service.client.aclose()
