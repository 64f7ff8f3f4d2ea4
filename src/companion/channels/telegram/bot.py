"""The Telegram bot: receives its client, registers one handler module per feature.

Follows the Discord bot's shape: dependencies come in through ``__init__``; each
module in ``HANDLERS`` adds its python-telegram-bot handlers in ``register``; one
guard (``TelegramBot.handler``) admits or refuses every update (modes, public rate
limits, private-only commands) and one place (``friendly``) turns errors into
in-character replies. Replies go out in HTML parse mode, every value escaped.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from companion.channels.client import CompanionClient
from companion.channels.gate import UserGate
from companion.channels.telegram import texts
from companion.channels.telegram.access import PublicLimiter, Role, role_of
from companion.channels.telegram.formatting import ADMIN_COMMANDS, USER_COMMANDS
from companion.channels.telegram.markup import TELEGRAM_LIMIT, escape
from companion.errors import Busy, InvalidInput, NotFound, RateLimited, UserSuspended
from companion.settings.channels import ChannelSettings
from companion.store.kv import KeyValueStore, MemoryStore

__all__ = ["HANDLERS", "Handler", "Incoming", "TelegramBot"]

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]+>")

HANDLERS = (
    "companion.channels.telegram.handlers.account",
    "companion.channels.telegram.handlers.companions",
    "companion.channels.telegram.handlers.memories",
    "companion.channels.telegram.handlers.personality",
    "companion.channels.telegram.handlers.proactive",
    "companion.channels.telegram.handlers.admin",
    # Last: it catches what the others did not (plain text, media, unknown commands).
    "companion.channels.telegram.handlers.chat",
)


@dataclass(frozen=True)
class Incoming:
    """An admitted update: who sent it, where, in which role, with which arguments."""

    update: Update
    account_id: int
    user_id: str
    chat_id: int
    private: bool
    role: Role
    args: list[str] = field(default_factory=list)

    @property
    def message(self) -> Message | None:
        """The message (None for a button press)."""
        return self.update.effective_message if self.update.callback_query is None else None


#: What the handler modules implement: one admitted update, already guarded.
Handler = Callable[[Incoming], Awaitable[None]]
PTBCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class TelegramBot:
    """A thin adapter: every question goes to ``self.companion``."""

    def __init__(
        self,
        companion: CompanionClient,
        settings: ChannelSettings,
        *,
        kv: KeyValueStore | None = None,
        turn_timeout: float = 180.0,
    ) -> None:
        self.companion = companion
        self.settings = settings
        self.gate = UserGate()
        self.limiter = PublicLimiter(kv or MemoryStore())
        self.turn_timeout = turn_timeout
        self.started = time.monotonic()
        #: The chat we last recorded per user, so we write only when it changes.
        self.recorded: dict[str, str] = {}
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None

    # -- building ---------------------------------------------------------------------

    def build_application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """The python-telegram-bot ``Application`` on TELEGRAM_API_URL, handlers added."""
        token = self.settings.telegram_bot_token
        if not token:
            raise ValueError("build_application() needs TELEGRAM_BOT_TOKEN")
        api = self.settings.telegram_api_url
        application = (
            Application.builder()
            .token(token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            # Updates of different users run concurrently; one user's are serialised by
            # the gate, which answers "still thinking" instead of queueing.
            .concurrent_updates(True)
            .build()
        )
        for name in HANDLERS:
            import_module(name).register(self, application)
        application.add_error_handler(self._on_error)
        self.application = application
        return application

    async def register_commands(self) -> None:
        """``setMyCommands``: everyone's menu, and admins' menu in their private chats."""
        bot = self._app().bot
        users = [BotCommand(name, text) for name, text in USER_COMMANDS]
        await bot.set_my_commands(users, scope=BotCommandScopeDefault())
        admins = users + [BotCommand(name, text) for name, text in ADMIN_COMMANDS]
        for admin in self.settings.telegram_admin_ids:
            try:
                await bot.set_my_commands(admins, scope=BotCommandScopeChat(chat_id=admin))
            except TelegramError as exc:  # an admin who never opened a chat with the bot
                log.warning("telegram admin commands not set", extra={"error": str(exc)})

    def _app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self.application is None:
            raise RuntimeError("build_application() first")
        return self.application

    # -- the guard ----------------------------------------------------------------------

    def role(self, account_id: int) -> Role:
        """Admin, public or refused."""
        return role_of(account_id, self.settings)

    def handler(
        self,
        handle: Handler,
        *,
        private_only: bool = False,
        admin_only: bool = False,
        count: bool = True,
    ) -> PTBCallback:
        """Wrap ``handle`` in the guard every update goes through.

        Refused users get the private-service notice; non-admins asking for an admin
        command get a refusal; personal commands in groups are sent to the private
        chat; public users are counted against the limits (``count``). Errors become
        one friendly reply. Nothing reaches the engine before the guard lets it.
        """

        async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            incoming = self._incoming(update, context)
            if incoming is None:
                return
            try:
                if incoming.role is Role.REFUSED:
                    await self.answer(incoming, texts.PRIVATE_SERVICE)
                elif admin_only and incoming.role is not Role.ADMIN:
                    await self.answer(incoming, texts.NOT_ADMIN)
                elif private_only and not incoming.private:
                    await self.answer(incoming, texts.PRIVATE_ONLY)
                else:
                    if count:
                        await self.count(incoming)
                    await handle(incoming)
            except Exception as exc:  # the one place a failed update becomes a reply
                await self.answer(incoming, self.friendly(exc, where=handle.__qualname__))

        return callback

    def _incoming(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Incoming | None:
        user: User | None = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        return Incoming(
            update=update,
            account_id=user.id,
            user_id=texts.user_id_for(user.id),
            chat_id=chat.id,
            private=chat.type == ChatType.PRIVATE,
            role=self.role(user.id),
            args=list(context.args or []),
        )

    async def count(self, incoming: Incoming) -> None:
        """Count a public user's message (admins are never limited); may raise ``RateLimited``."""
        if incoming.role is Role.PUBLIC:
            await self.limiter.hit(incoming.user_id)

    def friendly(self, error: BaseException, *, where: str) -> str:
        """The in-character text for ``error``; unexpected errors are logged in full."""
        if isinstance(error, Busy):
            return texts.BUSY
        if isinstance(error, RateLimited):
            return texts.slow_down(error.retry_after)
        if isinstance(error, InvalidInput):
            return f"Hmm, I can't do that: {error}"
        if isinstance(error, NotFound):
            return "I couldn't find that."
        if isinstance(error, UserSuspended):
            return "I need to step back from our conversations for now."
        if isinstance(error, TimeoutError):
            return "That took me far too long — could you ask again?"
        log.error("telegram handler failed", exc_info=error, extra={"where": where})
        return texts.ERROR

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Errors outside the guard (network trouble while polling): logged, never raised."""
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("telegram error", extra={"error": f"{type(error).__name__}: {error}"})
        elif error is not None:
            log.error("telegram update failed", exc_info=error)

    # -- replying ------------------------------------------------------------------------

    async def answer(self, incoming: Incoming, text: str, *, html: bool = False) -> None:
        """A short reply: an alert for a button press, a message otherwise."""
        query = incoming.update.callback_query
        if query is not None:
            await query.answer(text[:200], show_alert=True)
            return
        await self.send(incoming.chat_id, text if html else _plain(text), reply=incoming)

    async def send(
        self,
        chat_id: int,
        html: str,
        *,
        reply: Incoming | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> Message:
        """Send one HTML message (at most 4096 characters after parsing).

        In groups the message quotes the one it answers. Should Telegram still refuse
        the markup, the same text goes out once more without any (never silence).
        """
        quote = reply is not None and not reply.private and reply.message is not None
        bot = self._app().bot
        kwargs: dict[str, Any] = {"reply_markup": keyboard}
        if quote and reply is not None and reply.message is not None:
            # Quote the message we answer; send anyway should it have been deleted.
            kwargs["reply_parameters"] = ReplyParameters(
                reply.message.message_id, allow_sending_without_reply=True
            )
        try:
            sent: Message = await bot.send_message(
                chat_id, html, parse_mode=ParseMode.HTML, **kwargs
            )
        except BadRequest:
            # Telegram tells a refused markup from other bad requests only by the text
            # of its description; we do not classify by text: any refusal is retried
            # once as plain text, and a request that was bad for another reason fails
            # again and is raised.
            log.warning("telegram refused the message; sending it once more as plain text")
            sent = await bot.send_message(chat_id, _strip_tags(html)[:TELEGRAM_LIMIT], **kwargs)
        return sent

    async def send_all(self, chat_id: int, chunks: Sequence[str], *, reply: Incoming) -> None:
        """Send rendered chunks in order; only the first quotes the message in groups."""
        for index, chunk in enumerate(chunks):
            await self.send(chat_id, chunk, reply=reply if index == 0 else None)


def _plain(text: str) -> str:
    """Our own plain texts, escaped for HTML mode."""
    return escape(text)


def _strip_tags(html: str) -> str:
    return html_lib.unescape(_TAG.sub("", html))
