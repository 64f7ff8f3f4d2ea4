"""The tool agent: who may use tools, the Python sandbox's limits, web search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from companion.settings._base import Section

__all__ = ["ToolSettings"]


class ToolSettings(Section):
    """TOOLS_*, TOOL_TIMEOUT_SECONDS, SEARXNG_URL, BRAVE_API_KEY, SERPER_API_KEY."""

    #: Turn the tool agent off for everyone (admins included).
    tools_enabled: bool = True
    #: Users (ids) who may use tools besides admins; TOOLS_PUBLIC=true allows everyone.
    tools_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    tools_public: bool = False
    tools_max_rounds: int = Field(default=3, ge=1, le=3)
    #: Also run the tool phase when the chat model is the small embedded one (it
    #: rarely picks a tool and each round costs a full generation; docs/TOOLS.md).
    tools_small_model: bool = False
    tool_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    #: The interpreter run inside the sandbox (its install tree is mounted read-only).
    tools_sandbox_python: Path = Path("/usr/bin/python3")
    #: The dedicated system user the sandbox runs as when the server runs as root.
    tools_sandbox_user: str = "companion-sandbox"
    tools_memory_mb: int = Field(default=512, ge=64, le=65_536)
    tools_max_processes: int = Field(default=64, ge=4, le=4096)
    tools_file_max_mb: int = Field(default=20, ge=1, le=10_240)
    tools_workspace_max_mb: int = Field(default=100, ge=1, le=102_400)
    #: Where the per-user workspaces live (default: $COMPANION_HOME/workspaces).
    tools_workspace_dir: Path | None = None
    tools_output_max_chars: int = Field(default=10_000, ge=100, le=1_000_000)
    searxng_url: str | None = None
    brave_api_key: str | None = None
    serper_api_key: str | None = None
    tools_search_timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    tools_fetch_max_chars: int = Field(default=8000, ge=500, le=200_000)

    @field_validator("tools_users", mode="before")
    @classmethod
    def _users(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator(
        "searxng_url", "brave_api_key", "serper_api_key", "tools_workspace_dir", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
