"""Fixtures of the Telegram integration tests (defined in ``telegram_world``)."""

from __future__ import annotations

from tests.integration.telegram.telegram_world import live, llm

__all__ = ["live", "llm"]
