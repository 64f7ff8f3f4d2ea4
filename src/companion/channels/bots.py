"""Starting the chat bots whose tokens are configured, next to the gateway.

``companion serve`` calls ``start_bots(runtime)`` once the runtime is up and
``stop_bots`` before it closes (DECISIONS.md#one-process: one process runs the gateway, the
scheduler and any configured bots). Each bot module is imported only when its token
is set, so a gateway without bots never loads discord.py or python-telegram-bot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["start_bots", "stop_bots"]

log = logging.getLogger(__name__)


async def start_bots(runtime: Runtime) -> list[Any]:
    """Start every configured bot; returns handles for ``stop_bots``."""
    handles: list[Any] = []
    if runtime.settings.channels.discord_token:
        from companion.channels.discord import start_discord

        service = await start_discord(runtime)
        if service is not None:
            handles.append(service)
            log.info("discord bot started in-process")
    if runtime.settings.channels.telegram_bot_token:
        from companion.channels.telegram import start_telegram

        telegram = await start_telegram(runtime)
        if telegram is not None:
            handles.append(telegram)
            log.info("telegram bot started in-process")
    return handles


async def stop_bots(handles: list[Any]) -> None:
    """Stop the bots ``start_bots`` started (each knows its own way down)."""
    for handle in handles:
        try:
            await handle.stop()
        except Exception:  # one bot failing to stop must not keep the others up
            log.exception("stopping a bot failed")
