"""Conversation: private chats always; in groups when mentioned or replied to.

Also the catch-alls: media ("I can only read text"), edited messages, unknown
commands and buttons that are not ours. Bad input is answered here and never
reaches the engine, so nothing is stored for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from companion.channels.client import ChannelInfo
from companion.channels.telegram import texts
from companion.channels.telegram.access import Role
from companion.channels.telegram.markup import render_reply
from companion.conversation.types import TurnRequest, TurnResult

if TYPE_CHECKING:
    from companion.channels.telegram.bot import Incoming, TelegramBot

__all__ = ["register"]

log = logging.getLogger(__name__)

#: Telegram shows "typing…" for about five seconds; renew it a little before.
_TYPING_EVERY = 4.0


def _bot_identity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[int, str]:
    me = context.bot
    return me.id, (me.username or "").lower()


def addressed(message: Message, *, bot_id: int, bot_username: str) -> bool:
    """Private chats always; in groups a mention of the bot or a reply to it."""
    if message.chat.type == "private":
        return True
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    entities = message.parse_entities() or message.parse_caption_entities()
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{bot_username}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def _without_mention(text: str, bot_username: str) -> str:
    mention = f"@{bot_username}"
    lowered = text.lower()
    while mention and mention in lowered:
        index = lowered.index(mention)
        text = text[:index] + text[index + len(mention) :]
        lowered = text.lower()
    return text.strip()


async def _keep_typing(bot: TelegramBot, chat_id: int) -> None:
    """Send the typing action until cancelled (a failure here never costs the reply)."""
    app = bot.application
    assert app is not None
    while True:
        with contextlib.suppress(Exception):
            await app.bot.send_chat_action(chat_id, ChatAction.TYPING)
        await asyncio.sleep(_TYPING_EVERY)


async def _turn(bot: TelegramBot, incoming: Incoming, text: str) -> TurnResult:
    message = incoming.message
    assert message is not None and message.from_user is not None
    user = message.from_user
    request = TurnRequest(
        user_id=incoming.user_id,
        text=text,
        channel="telegram",
        external_conversation_id=f"telegram:{incoming.chat_id}",
        username=user.username or user.full_name or None,
        message_external_id=f"{incoming.chat_id}:{message.message_id}",
        is_admin=incoming.role is Role.ADMIN,  # admin mode: no limits, tools allowed
    )
    # The user's gate is held for the whole call, so the call must end.
    async with asyncio.timeout(bot.turn_timeout):
        return await bot.companion.turn(request)


async def _remember_chat(bot: TelegramBot, incoming: Incoming) -> None:
    """Record where the user spoke (for proactive delivery); never costs the reply."""
    key = str(incoming.chat_id)
    if bot.recorded.get(incoming.user_id) == key:
        return
    info = ChannelInfo(
        channel="telegram",
        account_id=str(incoming.account_id),
        chat_id=key,
        kind="dm" if incoming.private else "group",
    )
    try:
        await bot.companion.remember_channel(incoming.user_id, info)
    except Exception:
        log.warning("could not record the telegram chat", exc_info=True)
        return
    bot.recorded[incoming.user_id] = key


async def converse(bot: TelegramBot, incoming: Incoming, text: str) -> None:
    """Validate, count, claim the user, then one turn with the typing action showing."""
    if not text:
        await bot.answer(incoming, texts.EMPTY)
        return
    if len(text) > texts.MAX_MESSAGE_CHARS:
        await bot.answer(incoming, texts.too_long(len(text)))
        return
    await bot.count(incoming)
    with bot.gate.claim(incoming.user_id) as mine:
        if not mine:
            await bot.answer(incoming, texts.BUSY)
            return
        await _remember_chat(bot, incoming)
        typing = asyncio.create_task(_keep_typing(bot, incoming.chat_id))
        try:
            result = await _turn(bot, incoming, text)
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing
    await bot.send_all(incoming.chat_id, render_reply(result.reply) or ["…"], reply=incoming)


def register(bot: TelegramBot, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the message handlers (after every command handler)."""

    async def on_text(incoming: Incoming) -> None:
        await converse(bot, incoming, _text_of(incoming))

    async def on_media(incoming: Incoming) -> None:
        await bot.answer(incoming, texts.NOT_TEXT)

    async def on_edit(incoming: Incoming) -> None:
        await bot.answer(incoming, texts.EDITED)

    async def on_unknown_command(incoming: Incoming) -> None:
        message = incoming.message
        command = (message.text or "").split()[0] if message and message.text else "/?"
        await bot.answer(incoming, texts.unknown_command(command.split("@")[0]))

    async def on_foreign_button(incoming: Incoming) -> None:
        await bot.answer(incoming, texts.FOREIGN_BUTTON)

    def _text_of(incoming: Incoming) -> str:
        message = incoming.message
        assert message is not None
        username = (message.get_bot().username or "").lower()
        return _without_mention(message.text or "", username)

    def only_addressed(callback: Any) -> Any:
        async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            bot_id, username = _bot_identity(update, context)
            if message is None or not addressed(message, bot_id=bot_id, bot_username=username):
                return
            await callback(update, context)

        return wrapped

    def only_ours(callback: Any) -> Any:
        """In groups, a command for another bot (``/x@other_bot``) is not ours to answer."""

        async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            _, username = _bot_identity(update, context)
            if message is None or message.text is None:
                return
            target = message.text.split()[0].partition("@")[2].lower()
            if message.chat.type != "private" and target != username:
                return
            await callback(update, context)

        return wrapped

    message = filters.UpdateType.MESSAGE
    app.add_handler(
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE,
            only_addressed(bot.handler(on_edit)),
        )
    )
    app.add_handler(
        MessageHandler(message & filters.COMMAND, only_ours(bot.handler(on_unknown_command)))
    )
    app.add_handler(
        MessageHandler(
            message & filters.TEXT & ~filters.COMMAND,
            only_addressed(bot.handler(on_text, count=False)),
        )
    )
    app.add_handler(
        MessageHandler(message & filters.ATTACHMENT, only_addressed(bot.handler(on_media)))
    )
    # Added after every other module's button handlers: data nobody else claimed.
    app.add_handler(CallbackQueryHandler(bot.handler(on_foreign_button, count=False)))
