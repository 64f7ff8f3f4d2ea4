"""Who may talk to the Telegram bot, and how much (HER's admin and public modes).

Admins (TELEGRAM_ADMIN_IDS) are never limited by the channel and may use the admin
commands. Everyone else is public: limited per user to 10 messages a minute, 100 an
hour and 5 in any 10 seconds — or, with TELEGRAM_PUBLIC=false, politely turned away.
The counters live in the key-value store (Redis when configured), so several bot
processes share them.
"""

from __future__ import annotations

import enum

from companion.conversation.limits import PUBLIC_LIMITS, Limit, RateLimiter
from companion.settings.channels import ChannelSettings
from companion.store.kv import KeyValueStore

__all__ = ["PublicLimiter", "Role", "role_of"]


class Role(enum.Enum):
    """How the bot treats a Telegram account."""

    ADMIN = "admin"
    PUBLIC = "public"
    REFUSED = "refused"


def role_of(account_id: int, settings: ChannelSettings) -> Role:
    """The role of ``account_id`` under ``settings``."""
    if account_id in settings.telegram_admin_ids:
        return Role.ADMIN
    return Role.PUBLIC if settings.telegram_open_to_public else Role.REFUSED


class PublicLimiter:
    """Counts public users' messages against HER's public limits."""

    def __init__(self, kv: KeyValueStore, limits: tuple[Limit, ...] = PUBLIC_LIMITS) -> None:
        self._limiter = RateLimiter(kv)
        self.limits = limits

    async def hit(self, user_id: str, *, now: float | None = None) -> None:
        """Count one message of ``user_id``; raises ``RateLimited`` with ``retry_after``."""
        await self._limiter.hit(f"telegram-public:{user_id}", self.limits, now=now)
