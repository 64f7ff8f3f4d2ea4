"""Starting and stopping the Telegram bot: inside ``companion serve`` or on its own.

``start_telegram(runtime)`` runs the bot next to the HTTP gateway with an in-process
client; ``companion telegram`` runs it with a runtime of its own or against a remote
gateway. Updates arrive by long polling ``getUpdates`` — or, with
TELEGRAM_WEBHOOK_URL set (``companion serve`` only), Telegram pushes them to the
gateway's ``/telegram/webhook``, checked against TELEGRAM_WEBHOOK_SECRET.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update

from companion.channels.client import CompanionClient
from companion.channels.telegram.bot import TelegramBot
from companion.channels.telegram.delivery import TelegramDelivery
from companion.errors import ConfigError
from companion.settings.channels import ChannelSettings
from companion.store.kv import KeyValueStore

if TYPE_CHECKING:
    from companion.channels.outbox import OutboxConsumer, RemoteOutboxConsumer
    from companion.runtime import Runtime

__all__ = ["WEBHOOK_PATH", "TelegramService", "launch", "start_telegram", "stop_telegram"]

log = logging.getLogger(__name__)

#: Where the gateway receives Telegram's pushes in webhook mode.
WEBHOOK_PATH = "/telegram/webhook"
#: How long one ``getUpdates`` long poll may wait on Telegram's side, in seconds.
POLL_TIMEOUT = 25


@dataclass
class TelegramService:
    """A running bot, its client and its delivery port."""

    bot: TelegramBot
    client: CompanionClient
    delivery: TelegramDelivery
    webhook: bool = False
    outbox: OutboxConsumer | RemoteOutboxConsumer | None = None

    @property
    def application(self) -> Any:
        """The python-telegram-bot ``Application``."""
        return self.bot.application

    async def feed(self, data: dict[str, Any]) -> None:
        """Queue one update Telegram pushed to the webhook."""
        app = self.bot.application
        assert app is not None
        await app.update_queue.put(Update.de_json(data, app.bot))

    async def stop(self) -> None:
        """Stop polling, finish handlers, release the client (``stop_telegram(self)``)."""
        await stop_telegram(self)


def _check(settings: ChannelSettings, *, webhook: bool) -> None:
    if not settings.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN", "is required to run the Telegram bot")
    if webhook and not settings.telegram_webhook_secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET",
            "is required with TELEGRAM_WEBHOOK_URL (any 1-256 of A-Z a-z 0-9 _ -)",
        )


async def launch(
    client: CompanionClient,
    settings: ChannelSettings,
    *,
    kv: KeyValueStore | None = None,
    webhook: bool = False,
) -> TelegramService:
    """Log in (``getMe``), register the commands and start receiving updates.

    Args:
        client: The engine (in-process or remote).
        settings: The channel settings (token, API URL, admins, mode).
        kv: Where the public rate-limit counters live (the runtime's store, so several
            processes share them); an in-process store when ``None``.
        webhook: Receive updates through the gateway instead of polling.
    """
    _check(settings, webhook=webhook)
    bot = TelegramBot(client, settings, kv=kv)
    app = bot.build_application()
    await app.initialize()
    try:
        await bot.register_commands()
        await app.start()
        if webhook:
            await app.bot.set_webhook(
                url=str(settings.telegram_webhook_url),
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            assert app.updater is not None
            await app.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES)
    except BaseException:
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
            await app.shutdown()
        raise
    log.info(
        "telegram bot started",
        extra={"bot_user": app.bot.username, "mode": "webhook" if webhook else "polling"},
    )
    return TelegramService(bot=bot, client=client, delivery=TelegramDelivery(bot), webhook=webhook)


async def start_telegram(runtime: Runtime) -> TelegramService | None:
    """Run the bot inside this process when TELEGRAM_BOT_TOKEN is set, else ``None``.

    A bot that cannot start (Telegram unreachable, a revoked token) is logged and
    left out: the gateway keeps serving. The delivery port is offered to the
    proactive engine.
    """
    settings = runtime.settings.channels
    if not settings.telegram_bot_token:
        return None
    from companion.channels.inprocess import InProcessClient

    webhook = settings.telegram_webhook_url is not None
    try:
        service = await launch(InProcessClient(runtime), settings, kv=runtime.kv, webhook=webhook)
    except ConfigError:
        raise
    except Exception as exc:
        log.error(
            "the telegram bot could not start", extra={"error": f"{type(exc).__name__}: {exc}"}
        )
        return None
    register = getattr(runtime.proactive, "register_delivery", None)
    if callable(register):
        register(service.delivery)
    # Messages queued by other processes (``companion worker``) for Telegram users.
    from companion.channels.outbox import OutboxConsumer

    service.outbox = OutboxConsumer(runtime.db, channel="telegram", send=service.delivery.deliver)
    await service.outbox.start()
    runtime.extras["telegram"] = service
    return service


async def stop_telegram(service: TelegramService | None) -> None:
    """Stop receiving updates, let running handlers finish, release the client."""
    if service is None:
        return
    if service.outbox is not None:
        await service.outbox.stop()
    app = service.bot.application
    if app is not None:
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()
    await service.client.aclose()
