"""The Telegram channel: a thin python-telegram-bot adapter over a ``CompanionClient``."""

from __future__ import annotations

from companion.channels.telegram.access import PublicLimiter, Role, role_of
from companion.channels.telegram.bot import Incoming, TelegramBot
from companion.channels.telegram.delivery import TelegramDelivery
from companion.channels.telegram.markup import TELEGRAM_LIMIT, escape, render_reply, to_html
from companion.channels.telegram.runner import (
    WEBHOOK_PATH,
    TelegramService,
    launch,
    start_telegram,
    stop_telegram,
)
from companion.channels.telegram.texts import account_of, user_id_for

__all__ = [
    "TELEGRAM_LIMIT",
    "WEBHOOK_PATH",
    "Incoming",
    "PublicLimiter",
    "Role",
    "TelegramBot",
    "TelegramDelivery",
    "TelegramService",
    "account_of",
    "escape",
    "launch",
    "render_reply",
    "role_of",
    "start_telegram",
    "stop_telegram",
    "to_html",
    "user_id_for",
]
