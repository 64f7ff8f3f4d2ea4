"""Proactive delivery on Telegram: the user's chat, or nothing if they blocked the bot.

Implements the proactive engine's delivery port. A message goes to the chat the user
last spoke in privately (a private chat's id is the account id, so that is the
fallback too). When Telegram answers 403 — the user blocked the bot or never started
it — the channel is marked undeliverable in ``users.channels`` and later attempts
stop at once, instead of retrying forever; the user's next message clears the mark.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from companion.channels.client import ChannelInfo
from companion.channels.telegram import texts
from companion.channels.telegram.markup import render_reply
from companion.proactive import DeliveryOutcome

if TYPE_CHECKING:
    from companion.channels.telegram.bot import TelegramBot

__all__ = ["TelegramDelivery"]

log = logging.getLogger(__name__)

CHANNEL = "telegram"


class TelegramDelivery:
    """Sends a proactive message to a ``telegram:<id>`` user through a running bot."""

    channel = CHANNEL

    def __init__(self, bot: TelegramBot) -> None:
        self.bot = bot

    def handles(self, user_id: str) -> bool:
        """Only Telegram users."""
        return texts.account_of(user_id) is not None

    async def _target(self, user_id: str, account: int) -> ChannelInfo:
        info = await self.bot.companion.last_channel(user_id, CHANNEL)
        if info is not None and info.kind == "dm" and info.chat_id.lstrip("-").isdigit():
            return info
        # Never spoke privately (or unknown): the private chat, whose id is the account's.
        private = ChannelInfo(CHANNEL, account_id=str(account), chat_id=str(account))
        if info is not None and info.undeliverable:
            return dataclasses.replace(private, undeliverable=True)
        return private

    async def deliver(self, user_id: str, text: str) -> DeliveryOutcome:
        """Send ``text`` to the user's private chat, split and rendered like replies."""
        account = texts.account_of(user_id)
        app = self.bot.application
        if account is None:
            return DeliveryOutcome(False, CHANNEL, detail="not a telegram user")
        if app is None:
            return DeliveryOutcome(False, CHANNEL, detail="the telegram bot is not running")
        target = await self._target(user_id, account)
        if target.undeliverable:
            return DeliveryOutcome(False, CHANNEL, detail="blocked by user")
        try:
            for chunk in render_reply(text):
                await app.bot.send_message(int(target.chat_id), chunk, parse_mode=ParseMode.HTML)
        except Forbidden as exc:
            await self._mark_blocked(user_id, target)
            log.info("telegram user blocked the bot", extra={"user_id": user_id})
            return DeliveryOutcome(False, CHANNEL, detail=f"blocked by user ({exc.message})")
        except TelegramError as exc:
            return DeliveryOutcome(False, CHANNEL, detail=f"telegram error: {exc.message}")
        return DeliveryOutcome(True, CHANNEL, via="chat")

    async def _mark_blocked(self, user_id: str, target: ChannelInfo) -> None:
        """Remember the block; the user's next message records the chat afresh."""
        self.bot.recorded.pop(user_id, None)
        try:
            blocked = dataclasses.replace(target, undeliverable=True)
            await self.bot.companion.remember_channel(user_id, blocked)
        except Exception:
            log.warning("could not mark the telegram chat undeliverable", exc_info=True)
