"""``/memories [words]`` and ``/forget <id>|all`` with an inline-keyboard confirmation."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from companion.channels.telegram import texts
from companion.channels.telegram.formatting import memories_text
from companion.channels.telegram.markup import escape
from companion.errors import InvalidInput

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["confirm_keyboard", "register"]

#: ``forget:<account>:<memory id | all>`` and ``keep:<account>``.
FORGET_DATA = r"^(forget:\d+:(all|[0-9a-f-]{36})|keep:\d+)$"
_SHOWN = 10
_MAX_QUERY = 200

USAGE = (
    "Tell me what to forget: <code>/forget &lt;id&gt;</code> with an id from /memories, "
    "or <code>/forget all</code>."
)


def confirm_keyboard(account_id: int, target: str) -> InlineKeyboardMarkup:
    """Forget or keep; the data names the only account allowed to press."""
    label = "Forget everything" if target == "all" else "Forget it"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"forget:{account_id}:{target}"),
                InlineKeyboardButton("Keep", callback_data=f"keep:{account_id}"),
            ]
        ]
    )


def _target(args: list[str]) -> str | None:
    """``all``, a memory id, or ``None`` when no argument was given."""
    if not args:
        return None
    word = args[0].strip().lower()
    if word == "all":
        return "all"
    try:
        return str(uuid.UUID(word))
    except ValueError:
        raise InvalidInput(
            f"{args[0][:40]!r} is not a memory id; copy one from /memories"
        ) from None


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add ``/memories``, ``/forget`` and the confirmation buttons."""

    async def memories(incoming: Incoming) -> None:
        query = " ".join(incoming.args).strip()[:_MAX_QUERY]
        items = await bot.companion.memories(incoming.user_id, query=query or None, limit=_SHOWN)
        heading = f"About “{query}”, I remember:" if query else "Here's what I remember lately:"
        await bot.send(incoming.chat_id, memories_text(items, heading=heading), reply=incoming)

    async def forget(incoming: Incoming) -> None:
        target = _target(incoming.args)
        if target is None:
            await bot.send(incoming.chat_id, USAGE, reply=incoming)
            return
        what = "everything I remember about you" if target == "all" else "that memory"
        await bot.send(
            incoming.chat_id,
            f"Should I really forget {escape(what)}? This cannot be undone.",
            reply=incoming,
            keyboard=confirm_keyboard(incoming.account_id, target),
        )

    async def pressed(incoming: Incoming) -> None:
        query = incoming.update.callback_query
        assert query is not None and query.data is not None
        parts = query.data.split(":")
        if int(parts[1]) != incoming.account_id:
            await bot.answer(incoming, texts.FOREIGN_BUTTON)
            return
        if parts[0] == "keep":
            await query.edit_message_text(texts.FORGET_CANCELLED)
            await query.answer()
            return
        target = None if parts[2] == "all" else parts[2]
        forgotten = await bot.companion.forget(incoming.user_id, target)
        noun = "memory" if forgotten == 1 else "memories"
        await query.edit_message_text(f"Forgotten {forgotten} {noun}.")
        await query.answer()

    only_new = filters.UpdateType.MESSAGE
    app.add_handler(
        CommandHandler("memories", bot.handler(memories, private_only=True), filters=only_new)
    )
    app.add_handler(
        CommandHandler("forget", bot.handler(forget, private_only=True), filters=only_new)
    )
    app.add_handler(CallbackQueryHandler(bot.handler(pressed, count=False), pattern=FORGET_DATA))
