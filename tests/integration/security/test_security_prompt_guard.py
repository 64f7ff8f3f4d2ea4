"""Every model call is checked: a prompt carrying a configured secret is never sent."""

from __future__ import annotations

import asyncio

import pytest
from tests.fakes import FakeOpenAIServer, Reply

from companion.llm import CallRecorder, ChatMessage, ChatRequest, ProviderChain
from companion.llm.providers.openai_compat import OpenAICompatProvider
from companion.security import PromptLeak, assert_prompt_safe

SECRET = "gsk_live_0123456789abcdef"


def _guard(prompt: str) -> None:
    assert_prompt_safe(prompt, [SECRET])


async def test_chain_refuses_a_prompt_with_a_secret_before_any_provider(
    openai_server: FakeOpenAIServer,
) -> None:
    provider = OpenAICompatProvider("p0", base_url=openai_server.base_url, api_key="k", model="m")
    chain = ProviderChain(
        "fast", [provider], semaphore=asyncio.Semaphore(2), recorder=CallRecorder(), guard=_guard
    )
    try:
        with pytest.raises(PromptLeak):
            await chain.complete(
                ChatRequest(messages=[ChatMessage("system", f"key {SECRET}")], max_tokens=5)
            )
        assert openai_server.chat_requests == []
        openai_server.enqueue(Reply(text="fine"))
        ok = await chain.complete(ChatRequest(messages=[ChatMessage("user", "hi")], max_tokens=5))
        assert ok.text == "fine" and len(openai_server.chat_requests) == 1
    finally:
        await provider.aclose()


async def test_the_runtime_chains_carry_the_secret_guard(runtime: object) -> None:
    models = runtime.models  # type: ignore[attr-defined]
    assert models.chat.guard is not None and models.fast.guard is not None
