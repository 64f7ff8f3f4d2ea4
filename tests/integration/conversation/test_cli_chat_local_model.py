"""``companion chat`` as a person uses it, and one turn by the real embedded model."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys

from sqlalchemy import select
from tests.fakes import FakeOpenAIServer
from tests.fakes.gateway import clone_runtime

from companion.conversation.budget import TokenBudget
from companion.conversation.build import pipeline_config
from companion.conversation.pipeline import ConversationService
from companion.conversation.types import TurnRequest
from companion.runtime import Runtime
from companion.store.models import Interaction


async def test_terminal_chat_streams_and_resets(
    runtime: Runtime, database_url: str, openai_server: FakeOpenAIServer
) -> None:
    openai_server.default_text = "Autumn, because the light goes golden and soft."
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "CHAT_PROVIDERS": "openai",
        "FAST_PROVIDERS": "openai",
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": "test-key",
        "COLUMNS": "200",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "companion.cli", "chat", "--user", "cli:tess"],
        input="What's your favourite season?\n/reset\n/quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "companion › Autumn, because the light goes golden and soft." in result.stdout
    assert "recent context forgotten" in result.stdout
    async with runtime.db.transaction() as session:
        row = await session.scalar(select(Interaction).where(Interaction.user_id == "cli:tess"))
    assert row is not None and row.channel == "cli" and row.llm_provider == "openai"


async def test_one_turn_with_the_real_embedded_model(runtime: Runtime) -> None:
    chat = getattr(runtime.models, "chat", None)
    assert chat is not None  # no keys in tests: the chain is the local GGUF model
    config = dataclasses.replace(
        pipeline_config(runtime.settings), budget=TokenBudget(context=2048, reply=40)
    )
    clone = clone_runtime(runtime, chat=chat, config=config)
    service = clone.conversation
    assert isinstance(service, ConversationService)
    result = await service.turn(
        TurnRequest(user_id="local:tess", text="Hi! I'm Tess. What should we talk about?")
    )
    await service.drain()
    assert result.error is None and len(result.reply.strip()) > 0
    assert result.provider == "local" and result.completion_tokens > 0
