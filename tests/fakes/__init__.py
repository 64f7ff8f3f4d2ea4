"""Shared loopback fakes of external services, and their pytest fixtures.

Registered for the whole suite by one line in ``tests/conftest.py``
(``pytest_plugins = ["tests.fakes"]``). Fixtures:

- ``openai_server`` — ``FakeOpenAIServer`` (see ``tests/fakes/openai_server.py``):
  ``.base_url``, ``.enqueue(Reply(...))``, ``.requests``, ``.default_text``.
- ``gemini_server`` — ``FakeGeminiServer`` (``tests/fakes/gemini_server.py``).
- ``searxng_server`` — ``FakeSearXNG`` (``tests/fakes/searxng_server.py``).
- ``telegram_server`` — ``FakeTelegramServer`` (``tests/fakes/telegram_server.py``):
  the Bot API; ``.url`` is the value for ``TELEGRAM_API_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.fakes.searxng_server import FakeSearXNG
from tests.fakes.telegram_server import FakeTelegramServer

__all__ = [
    "FakeGeminiServer",
    "FakeOpenAIServer",
    "FakeSearXNG",
    "FakeTelegramServer",
    "Reply",
    "gemini_server",
    "openai_server",
    "searxng_server",
    "telegram_server",
]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fresh OpenAI-compatible server on a free loopback port."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[FakeGeminiServer]:
    """A fresh fake Gemini embeddings endpoint on a free loopback port."""
    with FakeGeminiServer() as server:
        yield server


@pytest.fixture
def searxng_server() -> Iterator[FakeSearXNG]:
    """A fresh fake SearXNG instance (JSON API and pages) on a free loopback port."""
    with FakeSearXNG() as server:
        yield server


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegramServer]:
    """A fresh fake Telegram Bot API server on a free loopback port."""
    with FakeTelegramServer() as server:
        yield server
