"""``/companion``: the user's companions as buttons; pressing one switches to it.

``/start`` shows the same buttons above the presets when the user has more than one
companion. A button's data names the only account allowed to press it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from companion.channels.telegram import texts
from companion.channels.telegram.markup import escape

if TYPE_CHECKING:
    from companion.channels.client import CompanionItem
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["COMPANION_DATA", "companion_rows", "companions_text", "register"]

#: ``companion:<account>:<id>`` — the account that may press it, and the companion.
COMPANION_DATA = r"^companion:(\d+):(\d{1,19})$"


def companion_rows(account_id: int, items: list[CompanionItem]) -> list[list[InlineKeyboardButton]]:
    """One button per companion (the active one ticked), two per row."""
    buttons = [
        InlineKeyboardButton(
            f"✓ {c.name}" if c.active else c.name,
            callback_data=f"companion:{account_id}:{c.id}",
        )
        for c in items
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def companions_text(items: list[CompanionItem]) -> str:
    """The list above the buttons: names, the active one in bold."""
    lines = [
        f"• <b>{escape(c.name)}</b> (talking now)" if c.active else f"• {escape(c.name)}"
        for c in items
    ]
    return "Your companions — each keeps its own mood and history:\n" + "\n".join(lines)


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add ``/companion`` and the switch buttons."""

    async def companion(incoming: Incoming) -> None:
        items = await bot.companion.companions(incoming.user_id)
        await bot.send(
            incoming.chat_id,
            companions_text(items),
            reply=incoming,
            keyboard=InlineKeyboardMarkup(companion_rows(incoming.account_id, items)),
        )

    async def switch_pressed(incoming: Incoming) -> None:
        query = incoming.update.callback_query
        assert query is not None and query.data is not None
        _, owner, companion_id = query.data.split(":")
        if int(owner) != incoming.account_id:
            await bot.answer(incoming, texts.FOREIGN_BUTTON)
            return
        chosen = await bot.companion.switch_companion(incoming.user_id, int(companion_id))
        await query.edit_message_text(
            f"You're now talking with <b>{escape(chosen.name)}</b>.", parse_mode="HTML"
        )
        await query.answer()

    only_new = filters.UpdateType.MESSAGE
    app.add_handler(
        CommandHandler("companion", bot.handler(companion, private_only=True), filters=only_new)
    )
    app.add_handler(
        CallbackQueryHandler(bot.handler(switch_pressed, count=False), pattern=COMPANION_DATA)
    )
