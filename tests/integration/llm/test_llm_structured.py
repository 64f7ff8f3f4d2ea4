"""Structured output over the chain and a loopback server: parse, repair once, fail typed."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel, Field
from tests.fakes import FakeOpenAIServer, Reply

from companion.errors import StructuredOutputError
from companion.llm import CallRecorder, ChatMessage, ChatRequest, ProviderChain
from companion.llm.providers.openai_compat import OpenAICompatProvider
from companion.llm.structured import complete_structured, parse_json_reply


class Importance(BaseModel):
    score: int = Field(ge=1, le=10)
    reason: str


REQUEST = ChatRequest(messages=[ChatMessage("user", "Rate: my dog died")], max_tokens=50)


@pytest.fixture
async def chain(openai_server: FakeOpenAIServer):
    provider = OpenAICompatProvider("p", base_url=openai_server.base_url, api_key="k", model="m")
    yield ProviderChain("fast", [provider], semaphore=asyncio.Semaphore(2), recorder=CallRecorder())
    await provider.aclose()


def test_parse_tolerates_fences_but_not_bad_values() -> None:
    fenced = 'Sure!\n```json\n{"score": 9, "reason": "loss"}\n```'
    assert parse_json_reply(fenced, Importance).score == 9
    with pytest.raises(ValueError, match="score"):
        parse_json_reply('{"score": 42, "reason": "x"}', Importance)
    with pytest.raises(ValueError, match="no JSON"):
        parse_json_reply("nine out of ten", Importance)


async def test_valid_reply_sends_the_schema(chain, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(text='{"score": 9, "reason": "grief"}'))
    result = await complete_structured(chain, REQUEST, Importance)
    assert result == Importance(score=9, reason="grief")
    sent = openai_server.chat_requests[0]["response_format"]
    assert sent["type"] == "json_schema" and "score" in sent["json_schema"]["schema"]["properties"]


async def test_one_repair_then_success(chain, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(text='{"score": "high"'), Reply(text='{"score": 8, "reason": "r"}'))
    assert (await complete_structured(chain, REQUEST, Importance)).score == 8
    repair = openai_server.chat_requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"score": "high"'}
    assert "not valid JSON" in repair[-1]["content"]


async def test_second_failure_is_a_typed_error(chain, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(text="ten"), Reply(text='{"score": 11, "reason": "r"}'))
    with pytest.raises(StructuredOutputError, match="after one repair"):
        await complete_structured(chain, REQUEST, Importance)
    assert openai_server.hits == 2


async def test_weak_model_is_refused_without_a_call(openai_server: FakeOpenAIServer) -> None:
    provider = OpenAICompatProvider(
        "p", base_url=openai_server.base_url, api_key="k", model="m", capable=False
    )
    weak = ProviderChain(
        "fast", [provider], semaphore=asyncio.Semaphore(1), recorder=CallRecorder()
    )
    with pytest.raises(StructuredOutputError, match="capable"):
        await complete_structured(weak, REQUEST, Importance)
    await provider.aclose()
    assert openai_server.hits == 0
