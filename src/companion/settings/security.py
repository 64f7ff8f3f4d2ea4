"""Authentication, rate limits and injection-defence thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from companion.settings._base import Section

__all__ = ["SecuritySettings"]


class SecuritySettings(Section):
    """REQUIRE_AUTHENTICATION, JWT_*, DASHBOARD_SESSION_MINUTES, RATE_LIMIT_*, SECURITY_*.

    Security thresholds: act > 0.7, log > 0.6.
    """

    require_authentication: bool = True
    jwt_secret_key: str | None = None
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_expire_minutes: int = Field(default=60, ge=1)
    #: How long a browser sign-in (chat page or admin dashboard) lasts.
    dashboard_session_minutes: int = Field(default=60, ge=1, le=10_080)
    #: How long a process trusts an API key it found live before looking it up again
    #: (0: every request); a revocation reaches other processes within this time.
    api_key_cache_seconds: float = Field(default=5.0, ge=0.0, le=60.0)
    rate_limit_profile: Literal["default", "public"] = "default"
    rate_limit_per_minute: int = Field(default=30, ge=1)
    rate_limit_per_ip_per_minute: int = Field(default=120, ge=1)
    security_confidence_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    security_incident_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    security_offense_window_days: int = Field(default=7, ge=1)
    security_llm_judge: bool = True
    #: Browser origins allowed to call the API (comma-separated); empty = none.
    cors_origins: str = ""

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS split on commas, blanks dropped."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @field_validator("jwt_secret_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
