"""Prompt hygiene: no configured secret in a prompt or a log line.

``secret_values(settings)`` lists every configured secret (provider API keys, the JWT
secret, the database password, bot tokens). Where it is enforced:

- every model call: ``ProviderChain`` runs ``assert_prompt_safe`` on the request
  before any provider sees it (``llm/models.py`` passes the configured secrets), so a
  prompt carrying a secret raises ``PromptLeak`` and is never sent;
- every log line: ``configure_logging`` (``cli/_common.py``) masks the configured
  secret values with ``redact``.

Untrusted text is fenced as data where it enters a prompt, not here: retrieved
memories (imported history included) in the ``<memories>`` block of
``conversation/prompt.py``, uploaded documents by ``memory/chunking.as_data``; both
neutralise fence markers inside the content.
"""

from __future__ import annotations

from collections.abc import Iterable

from companion.errors import CompanionError
from companion.settings import Settings

__all__ = ["PromptLeak", "assert_prompt_safe", "redact", "secret_values"]

#: Shorter values are too likely to occur by chance (and are not real secrets anyway).
_MIN_SECRET_LENGTH = 6


class PromptLeak(CompanionError):
    """A built prompt contains a configured secret; the call must not happen."""


def secret_values(settings: Settings) -> list[str]:
    """Every secret value configured in ``settings`` (longest first, for redaction)."""
    llm, security, channels = settings.llm, settings.security, settings.channels
    candidates: list[str | None] = [
        llm.chutes_api_key,
        llm.groq_api_key,
        llm.openai_api_key,
        llm.openrouter_api_key,
        llm.gemini_api_key,
        security.jwt_secret_key,
        settings.db.database_password,
        channels.discord_token,
        channels.telegram_bot_token,
    ]
    found = {value for value in candidates if value and len(value) >= _MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def assert_prompt_safe(prompt: str, secrets: Iterable[str]) -> None:
    """Raise ``PromptLeak`` if ``prompt`` contains any of ``secrets`` (never names it)."""
    for secret in secrets:
        if secret and secret in prompt:
            raise PromptLeak("a configured secret was found in a prompt; the call was stopped")
