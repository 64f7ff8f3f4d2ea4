"""Admin-only commands (TELEGRAM_ADMIN_IDS): ``/status`` and ``/incidents [n]``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CommandHandler, filters

from companion.channels.telegram.formatting import incidents_text, system_status_text

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["register"]

_DEFAULT_INCIDENTS = 10
_MAX_INCIDENTS = 20


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add ``/status`` and ``/incidents`` (refused to everyone but admins)."""

    async def status(incoming: Incoming) -> None:
        system = await bot.companion.system_status()
        uptime = time.monotonic() - bot.started
        await bot.send(
            incoming.chat_id, system_status_text(system, uptime_seconds=uptime), reply=incoming
        )

    async def incidents(incoming: Incoming) -> None:
        limit = _DEFAULT_INCIDENTS
        if incoming.args and incoming.args[0].isdigit():
            limit = max(1, min(int(incoming.args[0]), _MAX_INCIDENTS))
        items = await bot.companion.incidents(limit=limit)
        await bot.send(incoming.chat_id, incidents_text(items), reply=incoming)

    only_new = filters.UpdateType.MESSAGE
    guard = {"private_only": True, "admin_only": True}
    app.add_handler(CommandHandler("status", bot.handler(status, **guard), filters=only_new))
    app.add_handler(CommandHandler("incidents", bot.handler(incidents, **guard), filters=only_new))
