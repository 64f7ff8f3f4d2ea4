"""The base every settings section derives from: flat environment variable names."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Section"]


class Section(BaseSettings):
    """A group of settings read from the environment and the `.env` file.

    Field names are the lower-case environment variable names (``DATABASE_URL`` is
    ``database_url``), so every variable documented in `.env.example` maps to
    exactly one field.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )
