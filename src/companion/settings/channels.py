"""Discord and Telegram bot settings (each bot runs only when its token is set)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from companion.settings._base import Section

__all__ = ["ChannelSettings"]


def _id_list(value: object) -> object:
    if isinstance(value, str):
        return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class ChannelSettings(Section):
    """DISCORD_TOKEN (or DISCORD_BOT_TOKEN), DISCORD_*, TELEGRAM_*."""

    discord_token: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "DISCORD_BOT_TOKEN")
    )
    discord_guild_id: int | None = None
    discord_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_bot_token: str | None = None
    #: The Bot API server (a self-hosted ``telegram-bot-api`` works too).
    telegram_api_url: str = "https://api.telegram.org"
    #: ``false``: only TELEGRAM_ADMIN_IDS may talk; everyone else is told politely.
    telegram_public: bool = True
    telegram_admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    #: Set: Telegram pushes updates to ``{TELEGRAM_WEBHOOK_URL}`` (served by the gateway
    #: at ``/telegram/webhook``) instead of the bot polling ``getUpdates``.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None

    @property
    def telegram_open_to_public(self) -> bool:
        """Whether people outside TELEGRAM_ADMIN_IDS may talk to the Telegram bot."""
        return self.telegram_public

    @field_validator(
        "discord_token",
        "telegram_bot_token",
        "discord_guild_id",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "discord_channel_ids", "discord_admin_ids", "telegram_admin_ids", mode="before"
    )
    @classmethod
    def _ids(cls, value: object) -> object:
        return _id_list(value)

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("TELEGRAM_API_URL must start with http:// or https://")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram only pushes to HTTPS)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a secret token.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may use only A-Z, a-z, 0-9, _ and -")
        return value
