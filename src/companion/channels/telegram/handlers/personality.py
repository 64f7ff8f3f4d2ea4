"""``/personality``: the companion's mood, traits and needs as text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CommandHandler, filters

from companion.channels.telegram.formatting import personality_text
from companion.channels.telegram.markup import escape

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["register"]


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add ``/personality``."""

    async def personality(incoming: Incoming) -> None:
        view = await bot.companion.personality(incoming.user_id)
        status = await bot.companion.status(incoming.user_id)
        needs = ", ".join(status.urgent_needs) if status.urgent_needs else "nothing pressing"
        text = f"{personality_text(view)}\n<b>Needs</b>: {escape(needs)}"
        await bot.send(incoming.chat_id, text, reply=incoming)

    app.add_handler(
        CommandHandler(
            "personality",
            bot.handler(personality, private_only=True),
            filters=filters.UpdateType.MESSAGE,
        )
    )
