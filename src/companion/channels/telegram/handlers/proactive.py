"""``/proactive [on|off|quiet HH-HH|timezone Area/City]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CommandHandler, filters

from companion.channels.telegram.formatting import proactive_text

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["changes_from", "register"]

USAGE = (
    "Use <code>/proactive</code> to see your settings, <code>/proactive on</code> or "
    "<code>off</code>, <code>/proactive quiet 22-08</code>, or "
    "<code>/proactive timezone Europe/Paris</code>."
)


def changes_from(args: list[str]) -> dict[str, Any] | None:
    """The settings change ``args`` ask for (``{}``: just show); ``None`` when unclear."""
    if not args:
        return {}
    word, rest = args[0].lower(), args[1:]
    if word in ("on", "off") and not rest:
        return {"enabled": word == "on"}
    if word == "quiet" and len(rest) == 1:
        return {"quiet_hours": rest[0][:11]}
    if word in ("timezone", "tz") and len(rest) == 1:
        return {"timezone": rest[0][:64]}
    return None


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add ``/proactive``."""

    async def proactive(incoming: Incoming) -> None:
        changes = changes_from(incoming.args)
        if changes is None:
            await bot.send(incoming.chat_id, USAGE, reply=incoming)
            return
        settings = await bot.companion.proactive(incoming.user_id, **changes)
        await bot.send(incoming.chat_id, proactive_text(settings), reply=incoming)

    app.add_handler(
        CommandHandler(
            "proactive",
            bot.handler(proactive, private_only=True),
            filters=filters.UpdateType.MESSAGE,
        )
    )
