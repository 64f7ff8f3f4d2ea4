"""Discord and Telegram bot settings (each bot runs only when its token is set)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from companion.settings._base import Section

__all__ = ["ChannelSettings"]


def _id_list(value: object) -> object:
    if isinstance(value, str):
        return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class ChannelSettings(Section):
    """DISCORD_TOKEN (or DISCORD_BOT_TOKEN, C-21), DISCORD_*, TELEGRAM_*."""

    discord_token: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "DISCORD_BOT_TOKEN")
    )
    discord_guild_id: int | None = None
    discord_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_bot_token: str | None = None
    telegram_mode: Literal["admin", "public"] = "admin"
    telegram_admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    @field_validator("discord_token", "telegram_bot_token", "discord_guild_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "discord_channel_ids", "discord_admin_ids", "telegram_admin_ids", mode="before"
    )
    @classmethod
    def _ids(cls, value: object) -> object:
        return _id_list(value)
