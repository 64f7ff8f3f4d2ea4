"""``/start`` (onboarding, preset buttons), ``/help``, ``/reset``, ``/export`` and
``/deletemydata`` (the whole account, after the owner presses a confirmation)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from companion.channels.telegram import texts
from companion.channels.telegram.access import Role
from companion.channels.telegram.formatting import help_text, welcome_text
from companion.channels.telegram.handlers.companions import companion_rows
from companion.channels.telegram.markup import escape

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["erase_keyboard", "preset_keyboard", "register"]

#: ``preset:<account>:<preset>`` — the account that may press it, and the choice.
PRESET_DATA = r"^preset:(\d+):([a-z_]{1,40})$"
#: ``erase:<account>`` deletes the account's data; ``spare:<account>`` cancels.
ERASE_DATA = r"^(erase|spare):(\d+)$"


def preset_keyboard(
    account_id: int, above: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    """One button per preset, two per row (below the rows ``above``, if any)."""
    buttons = [
        InlineKeyboardButton(
            p.replace("_", " ").capitalize(), callback_data=f"preset:{account_id}:{p}"
        )
        for p in texts.PRESETS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*(above or []), *rows])


def erase_keyboard(account_id: int) -> InlineKeyboardMarkup:
    """Delete or keep; the data names the only account allowed to press."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Delete everything", callback_data=f"erase:{account_id}"),
                InlineKeyboardButton("Keep my data", callback_data=f"spare:{account_id}"),
            ]
        ]
    )


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the account commands and the preset buttons."""

    async def start(incoming: Incoming) -> None:
        status = await bot.companion.status(incoming.user_id)
        items = await bot.companion.companions(incoming.user_id)
        # Several companions: choosing who to talk with comes first.
        choice = companion_rows(incoming.account_id, items) if len(items) > 1 else None
        await bot.send(
            incoming.chat_id,
            welcome_text(status, companions=len(items)),
            reply=incoming,
            keyboard=preset_keyboard(incoming.account_id, choice),
        )

    async def choose_preset(incoming: Incoming) -> None:
        query = incoming.update.callback_query
        assert query is not None and query.data is not None
        _, owner, preset = query.data.split(":", 2)
        if int(owner) != incoming.account_id or preset not in texts.PRESETS:
            await bot.answer(incoming, texts.FOREIGN_BUTTON)
            return
        await bot.companion.setup(incoming.user_id, preset)
        await query.edit_message_text(
            f"Done — I'm your <b>{escape(preset.replace('_', ' '))}</b> now. Say hello!",
            parse_mode="HTML",
        )
        await query.answer()

    async def help_(incoming: Incoming) -> None:
        await bot.send(
            incoming.chat_id, help_text(admin=incoming.role is Role.ADMIN), reply=incoming
        )

    async def reset(incoming: Incoming) -> None:
        await bot.companion.reset(incoming.user_id, conversation=f"telegram:{incoming.chat_id}")
        await bot.answer(incoming, "Fresh start — I still remember who you are.")

    async def export(incoming: Incoming) -> None:
        data = await bot.companion.export(incoming.user_id)
        payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
        app_bot = app.bot
        await app_bot.send_document(
            incoming.chat_id,
            document=InputFile(payload, filename="companion-export.json"),
            caption="Here is everything I keep about you.",
        )

    async def delete_my_data(incoming: Incoming) -> None:
        await bot.send(
            incoming.chat_id,
            "Should I delete <b>everything</b> I keep about you: our conversations, "
            "memories, my personality with you and your settings? This cannot be undone.",
            reply=incoming,
            keyboard=erase_keyboard(incoming.account_id),
        )

    async def erase_pressed(incoming: Incoming) -> None:
        query = incoming.update.callback_query
        assert query is not None and query.data is not None
        action, owner = query.data.split(":")
        if int(owner) != incoming.account_id:
            await bot.answer(incoming, texts.FOREIGN_BUTTON)
            return
        if action == "spare":
            await query.edit_message_text(texts.ERASE_CANCELLED)
            await query.answer()
            return
        removed = await bot.companion.delete_user(incoming.user_id)
        rows = sum(removed.values())
        await query.edit_message_text(
            f"Done: I deleted everything I kept about you ({rows} records). "
            "If you write again, we start as strangers."
        )
        await query.answer()

    only_new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", bot.handler(start), filters=only_new))
    app.add_handler(CommandHandler("help", bot.handler(help_), filters=only_new))
    app.add_handler(CommandHandler("reset", bot.handler(reset), filters=only_new))
    app.add_handler(
        CommandHandler("export", bot.handler(export, private_only=True), filters=only_new)
    )
    app.add_handler(
        CallbackQueryHandler(bot.handler(choose_preset, count=False), pattern=PRESET_DATA)
    )
    app.add_handler(
        CommandHandler(
            "deletemydata", bot.handler(delete_my_data, private_only=True), filters=only_new
        )
    )
    app.add_handler(
        CallbackQueryHandler(bot.handler(erase_pressed, count=False), pattern=ERASE_DATA)
    )
