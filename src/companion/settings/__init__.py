"""One settings object made of sections, loaded once and validated across sections.

``get_settings()`` is the only way the application reads configuration. A bad value
raises ``ConfigError`` naming the environment variable; the CLI turns that into one
line on stderr and exit code 2.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion.errors import ConfigError
from companion.settings.behaviour import BehaviourSettings
from companion.settings.channels import ChannelSettings
from companion.settings.core import CoreSettings, Environment
from companion.settings.db import DEFAULT_DB_PASSWORDS, DatabaseSettings
from companion.settings.llm import LLMSettings
from companion.settings.security import SecuritySettings
from companion.settings.tools import ToolSettings

__all__ = [
    "BehaviourSettings",
    "ChannelSettings",
    "CoreSettings",
    "DatabaseSettings",
    "Environment",
    "LLMSettings",
    "SecuritySettings",
    "Settings",
    "ToolSettings",
    "get_settings",
    "load_settings",
]

_SECTIONS: dict[str, type] = {
    "core": CoreSettings,
    "db": DatabaseSettings,
    "llm": LLMSettings,
    "security": SecuritySettings,
    "behaviour": BehaviourSettings,
    "channels": ChannelSettings,
    "tools": ToolSettings,
}


class Settings(BaseModel):
    """Every setting of Companion, grouped by concern."""

    model_config = ConfigDict(frozen=True)

    core: CoreSettings
    db: DatabaseSettings
    llm: LLMSettings
    security: SecuritySettings
    behaviour: BehaviourSettings
    channels: ChannelSettings
    tools: ToolSettings = Field(default_factory=ToolSettings)

    @property
    def is_production(self) -> bool:
        """Whether ENVIRONMENT=production (stricter checks apply)."""
        return self.core.environment == "production"

    def check(self) -> None:
        """Cross-section validation; raises ``ConfigError`` naming the variable."""
        db, sec = self.db, self.security
        if db.db_pool_min_size > db.db_pool_max_size:
            raise ConfigError("DB_POOL_MIN_SIZE", "must not exceed DB_POOL_MAX_SIZE")
        if sec.security_incident_threshold > sec.security_confidence_threshold:
            raise ConfigError(
                "SECURITY_INCIDENT_THRESHOLD", "must not exceed SECURITY_CONFIDENCE_THRESHOLD"
            )
        if self.channels.telegram_webhook_url and not self.channels.telegram_webhook_secret:
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET", "is required with TELEGRAM_WEBHOOK_URL")
        if self.is_production:
            self._check_production()

    def _check_production(self) -> None:
        if not self.security.require_authentication:
            raise ConfigError("REQUIRE_AUTHENTICATION", "must be true when ENVIRONMENT=production")
        if not self.security.jwt_secret_key:
            raise ConfigError("JWT_SECRET_KEY", "is required when ENVIRONMENT=production")
        if len(self.security.jwt_secret_key) < 32:
            raise ConfigError("JWT_SECRET_KEY", "must be at least 32 characters in production")
        password = self.db.database_password
        if password is not None and password.lower() in DEFAULT_DB_PASSWORDS:
            raise ConfigError(
                "DATABASE_URL", "uses a default password; set a strong one for production"
            )


def _env_file() -> Path | None:
    raw = os.environ.get("COMPANION_ENV_FILE", ".env")
    return Path(raw) if raw else None


def _describe(section: type, error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(field.upper(), message)


def load_settings(env_file: Path | None = None) -> Settings:
    """Read and validate all settings from the environment and ``env_file``."""
    sections: dict[str, object] = {}
    for name, section in _SECTIONS.items():
        try:
            sections[name] = section(_env_file=env_file)
        except ValidationError as exc:
            raise _describe(section, exc) from exc
    settings = Settings.model_validate(sections)
    settings.check()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, loaded once (tests call ``get_settings.cache_clear()``)."""
    return load_settings(_env_file())
