"""Process-wide settings: environment, logging, where data lives, where to listen."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from companion.settings._base import Section

__all__ = ["CoreSettings", "Environment"]

Environment = Literal["development", "test", "production"]


class CoreSettings(Section):
    """ENVIRONMENT, LOG_LEVEL, COMPANION_HOME, GATEWAY_HOST, GATEWAY_PORT."""

    environment: Environment = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    companion_home: Path = Field(default=Path("~/.local/share/companion"))
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = ""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("companion_home", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()
