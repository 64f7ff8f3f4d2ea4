"""The error tree of Companion.

Every error the engine raises on purpose is a ``CompanionError``; adapters (the HTTP
API, the bots, the CLI) translate them once, at their boundary::

    CompanionError
    ├── ConfigError              bad or missing settings (exit code 2 at startup)
    ├── StoreError               the database or Redis failed
    │   ├── DatabaseUnavailable  cannot reach PostgreSQL
    │   └── PgvectorMissing      the server has no `vector` extension
    ├── NotFound                 no such row *for this user* (never "exists for someone else")
    ├── PermissionDenied         authenticated, but not allowed
    ├── AuthenticationError      no or bad credentials
    ├── InvalidInput             the request is well-formed but its content is wrong
    ├── RateLimited              too many requests (carries retry_after)
    ├── UserSuspended            escalation reached suspension
    ├── Busy                     a turn for this user is already running
    └── ProviderError            a model provider failed
        ├── ProviderTimeout
        ├── ProviderRateLimited
        ├── ProviderAuthError
        ├── ProviderUnavailable  every provider of a chain failed or is open-circuited
        │   └── TurnFailed       …during a turn; carries the recorded in-character apology
        └── StructuredOutputError the model's JSON did not parse or validate
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "Busy",
    "CompanionError",
    "ConfigError",
    "DatabaseUnavailable",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "PgvectorMissing",
    "ProviderAuthError",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "StoreError",
    "StructuredOutputError",
    "TurnFailed",
    "UserSuspended",
]


class CompanionError(Exception):
    """Root of every error Companion raises deliberately."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigError(CompanionError):
    """A setting is missing or invalid; ``variable`` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}", variable=variable)
        self.variable = variable
        self.problem = problem


class StoreError(CompanionError):
    """The database or the key-value store failed."""


class DatabaseUnavailable(StoreError):
    """PostgreSQL cannot be reached (the API answers 503 and recovers by itself)."""


class PgvectorMissing(StoreError):
    """The configured PostgreSQL server has no pgvector extension available."""


class NotFound(CompanionError):
    """Nothing with that id exists for this user."""


class PermissionDenied(CompanionError):
    """The caller is known but may not do this."""


class AuthenticationError(CompanionError):
    """Missing, malformed, expired or unknown credentials."""


class InvalidInput(CompanionError):
    """A request whose content cannot be processed; the message names the field."""


class RateLimited(CompanionError):
    """Too many requests; ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class UserSuspended(CompanionError):
    """The user was suspended by security escalation."""


class Busy(CompanionError):
    """A turn for this user is already in progress."""


class ProviderError(CompanionError):
    """A model provider failed; ``provider`` names it."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        super().__init__(message, provider=provider, status=status)
        self.provider = provider
        self.status = status


class ProviderTimeout(ProviderError):
    """The provider did not answer in time."""


class ProviderRateLimited(ProviderError):
    """The provider answered 429 after our retries."""


class ProviderAuthError(ProviderError):
    """The provider refused our key."""


class ProviderUnavailable(ProviderError):
    """No provider of a role's chain could answer."""


class TurnFailed(ProviderUnavailable):
    """No model answered a turn; ``reply`` is the apology that was recorded instead."""

    def __init__(
        self, message: str, *, reply: str, interaction_id: int, conversation_id: str
    ) -> None:
        super().__init__(message)
        self.reply = reply
        self.interaction_id = interaction_id
        self.conversation_id = conversation_id
        self.context.update(
            reply=reply, interaction_id=interaction_id, conversation_id=conversation_id
        )


class StructuredOutputError(ProviderError):
    """The model did not return JSON matching the requested schema."""
