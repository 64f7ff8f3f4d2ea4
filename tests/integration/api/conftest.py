"""Fixtures for gateway tests: the app over the real database, keys, a chat model.

``gateway`` uses a ``FakeChat`` model (the ``RoleModel`` Protocol) and the runtime's
real memory/personality/security services where they are wired; ``live_gateway`` uses
the real provider chain against the loopback OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime

from companion.api.app import create_app
from companion.conversation.pipeline import ConversationService
from companion.runtime import Runtime
from companion.store.repositories import api_keys, users


@dataclass
class Gateway:
    """An app, its runtime, and helpers to authenticate."""

    runtime: Runtime
    client: AsyncClient
    chat: FakeChat
    app: FastAPI

    @property
    def service(self) -> ConversationService:
        """The pipeline behind the app."""
        assert isinstance(self.runtime.conversation, ConversationService)
        return self.runtime.conversation

    async def key(self, user_id: str, *, admin: bool = False) -> dict[str, str]:
        """Headers with a fresh API key for ``user_id``."""
        async with self.runtime.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            _, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
        return {"Authorization": f"Bearer {secret}"}


async def open_gateway(runtime: Runtime, chat: object) -> AsyncIterator[Gateway]:
    """Serve ``runtime`` over ASGI; drain background work afterwards."""
    app = create_app(runtime=runtime)
    transport = ASGITransport(app=app, client=("10.1.2.3", 5555))
    async with AsyncClient(transport=transport, base_url="http://test", timeout=30) as http:
        gateway = Gateway(runtime, http, chat, app)  # type: ignore[arg-type]
        yield gateway
        await gateway.service.drain()


@pytest.fixture
async def gateway(runtime: Runtime) -> AsyncIterator[Gateway]:
    """The app with a fake chat model and real domain services (where wired)."""
    chat = FakeChat()
    async for gateway in open_gateway(clone_runtime(runtime, chat=chat), chat):
        yield gateway
