"""Fixtures for pipeline tests: a pipeline over the real database with fake models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.fakes.conversation_ports import FakeChat, FakeMemory, FakePersonality, FakeSecurity
from tests.fakes.gateway import clone_runtime

from companion.conversation.pipeline import ConversationService
from companion.runtime import Runtime


@pytest.fixture
def chat() -> FakeChat:
    """The chat model of the pipeline under test."""
    return FakeChat()


@pytest.fixture
def memory() -> FakeMemory:
    """A memory service with two facts."""
    return FakeMemory(["The user's name is Alice.", "Alice loves programming."])


@pytest.fixture
async def pipeline(
    runtime: Runtime, chat: FakeChat, memory: FakeMemory
) -> AsyncIterator[ConversationService]:
    """A pipeline with fake ports over the real database."""
    clone = clone_runtime(
        runtime, chat=chat, memory=memory, personality=FakePersonality(), security=FakeSecurity()
    )
    service = clone.conversation
    assert isinstance(service, ConversationService)
    yield service
    await service.drain()
