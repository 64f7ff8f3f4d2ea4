"""The provider chain against real loopback servers: retries, backoff, fallback, breaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from tests.fakes import FakeOpenAIServer, Reply

from companion.errors import ProviderError, ProviderUnavailable
from companion.llm import CallRecorder, ChatMessage, ChatRequest, Chunk, Completion, ProviderChain
from companion.llm.policy import RetryPolicy
from companion.llm.providers.openai_compat import OpenAICompatProvider

REQUEST = ChatRequest(messages=[ChatMessage("user", "hello")], max_tokens=20)


@pytest.fixture
def backup() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(model="backup") as server:
        yield server


class Harness:
    """Builds chains over fake servers; records the backoff sleeps instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.recorder = CallRecorder()
        self.providers: list[OpenAICompatProvider] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def chain(
        self, *servers: FakeOpenAIServer, timeout: float = 5.0, limit: int = 5, threshold: int = 3
    ) -> ProviderChain:
        providers = [
            OpenAICompatProvider(
                f"p{i}", base_url=s.base_url, api_key="k", model=f"m{i}", timeout=timeout
            )
            for i, s in enumerate(servers)
        ]
        self.providers += providers
        return ProviderChain(
            "fast",
            providers,
            semaphore=asyncio.Semaphore(limit),
            recorder=self.recorder,
            policy=RetryPolicy(backoff_base=1.0),
            breaker_threshold=threshold,
            sleep=self.sleep,
        )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for provider in h.providers:
        await provider.aclose()


async def test_answer_with_usage_and_record(harness: Harness, openai_server) -> None:
    openai_server.enqueue(Reply(text="Hi there", usage=(7, 2)))
    result = await harness.chain(openai_server).complete(REQUEST, user_id="u1")
    assert (result.text, result.provider, result.model) == ("Hi there", "p0", "m0")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 2)
    assert result.fallback_used is False
    assert harness.recorder.stats.calls[("fast", "p0", "success")] == 1
    body = openai_server.chat_requests[0]
    assert body["model"] == "m0" and body["messages"] == [{"role": "user", "content": "hello"}]
    assert openai_server.requests[0].headers["Authorization"] == "Bearer k"


async def test_stream_yields_chunks_then_completion(harness: Harness, openai_server) -> None:
    openai_server.enqueue(Reply(text="one two three"))
    items = [item async for item in harness.chain(openai_server).stream(REQUEST)]
    assert isinstance(items[-1], Completion) and items[-1].text == "one two three"
    assert "".join(i.text for i in items if isinstance(i, Chunk)) == "one two three"


async def test_429_retries_twice_with_exponential_backoff(harness: Harness, openai_server) -> None:
    openai_server.enqueue(Reply(status=429), Reply(status=429), Reply(text="finally"))
    result = await harness.chain(openai_server).complete(REQUEST)
    assert result.text == "finally" and openai_server.hits == 3
    assert harness.sleeps == [1.0, 2.0]


async def test_persistent_429_falls_to_next_provider(
    harness: Harness, openai_server, backup
) -> None:
    openai_server.enqueue(*[Reply(status=429)] * 3)
    backup.enqueue(Reply(text="from backup"))
    result = await harness.chain(openai_server, backup).complete(REQUEST)
    assert (result.text, result.provider, result.fallback_used) == ("from backup", "p1", True)
    assert openai_server.hits == 3 and harness.sleeps == [1.0, 2.0]
    assert harness.recorder.stats.fallbacks["fast"] == 1


async def test_5xx_retried_once_then_fallback(harness: Harness, openai_server, backup) -> None:
    openai_server.enqueue(Reply(status=500), Reply(status=503))
    result = await harness.chain(openai_server, backup).complete(REQUEST)
    assert result.provider == "p1" and openai_server.hits == 2 and harness.sleeps == [1.0]


async def test_timeout_retried_once_then_fallback(harness: Harness, openai_server, backup) -> None:
    openai_server.enqueue(Reply(hang=True), Reply(hang=True))
    result = await harness.chain(openai_server, backup, timeout=0.3).complete(REQUEST)
    assert result.provider == "p1" and openai_server.hits == 2
    openai_server.release()


async def test_malformed_json_is_not_retried(harness: Harness, openai_server, backup) -> None:
    openai_server.enqueue(Reply(malformed=True))
    result = await harness.chain(openai_server, backup).complete(REQUEST)
    assert result.provider == "p1" and openai_server.hits == 1 and harness.sleeps == []


async def test_auth_error_is_not_retried(harness: Harness, openai_server) -> None:
    openai_server.enqueue(Reply(status=401))
    with pytest.raises(ProviderUnavailable, match="401"):
        await harness.chain(openai_server).complete(REQUEST)
    assert openai_server.hits == 1


async def test_broken_stream_is_not_replaced(harness: Harness, openai_server, backup) -> None:
    openai_server.enqueue(Reply(text="a b c d e f", drop_after=3))
    seen: list[str] = []
    with pytest.raises(ProviderError, match="ended"):
        async for item in harness.chain(openai_server, backup).stream(REQUEST):
            if isinstance(item, Chunk):
                seen.append(item.text)
    assert "".join(seen) == "a b" and backup.hits == 0


async def test_circuit_breaker_skips_a_dead_provider(
    harness: Harness, openai_server, backup
) -> None:
    chain = harness.chain(openai_server, backup, threshold=2)
    openai_server.enqueue(*[Reply(status=400)] * 2)
    for _ in range(2):
        assert (await chain.complete(REQUEST)).provider == "p1"
    assert chain.breakers["p0"].state == "open"
    assert (await chain.complete(REQUEST)).provider == "p1"
    assert openai_server.hits == 2  # the third call never reached the dead provider
    assert chain.describe()["providers"][0]["circuit"] == "open"


async def test_every_provider_failing_raises_unavailable(harness: Harness, openai_server) -> None:
    openai_server.enqueue(Reply(status=500), Reply(status=500))
    with pytest.raises(ProviderUnavailable, match="p0"):
        await harness.chain(openai_server).complete(REQUEST)
    assert harness.recorder.stats.calls[("fast", "p0", "failure")] == 2


async def test_global_cap_limits_concurrent_calls(harness: Harness, openai_server) -> None:
    openai_server.enqueue(*[Reply(text="ok", delay=0.05)] * 6)
    chain = harness.chain(openai_server, limit=2)
    results = await asyncio.gather(*(chain.complete(REQUEST) for _ in range(6)))
    assert [r.text for r in results] == ["ok"] * 6
    assert openai_server.max_in_flight == 2


async def test_calls_are_written_to_llm_calls(runtime, openai_server) -> None:
    recorder = CallRecorder(runtime.db)
    provider = OpenAICompatProvider("groq", base_url=openai_server.base_url, api_key="k", model="m")
    chain = ProviderChain("chat", [provider], semaphore=asyncio.Semaphore(1), recorder=recorder)
    await chain.complete(REQUEST, user_id="user-1")
    await recorder.flush()
    await provider.aclose()
    async with runtime.db.session() as session:
        rows = (
            await session.execute(text("SELECT role, provider, user_id, success FROM llm_calls"))
        ).all()
    assert [tuple(r) for r in rows] == [("chat", "groq", "user-1", True)]


async def test_calls_recorded_together_are_all_written(runtime) -> None:
    from companion.llm.recorder import CallRecord, new_call_id

    recorder = CallRecorder(runtime.db)
    for i in range(25):  # arrive while the first write runs: they go in one batch
        recorder.record(
            CallRecord(new_call_id(), "fast", "p", "m", 1.0, user_id=None, prompt_tokens=i)
        )
    await recorder.flush()
    async with runtime.db.session() as session:
        tokens = (
            await session.scalars(text("SELECT prompt_tokens FROM llm_calls WHERE role = 'fast'"))
        ).all()
    assert sorted(tokens) == list(range(25))


async def test_records_wait_to_go_together_until_a_flush(runtime) -> None:
    from companion.llm.recorder import CallRecord, new_call_id

    async def written() -> int:
        async with runtime.db.session() as session:
            return int(await session.scalar(text("SELECT count(*) FROM llm_calls")) or 0)

    recorder = CallRecorder(runtime.db, gather=3600)  # would wait an hour unflushed
    for i in range(3):
        recorder.record(CallRecord(new_call_id(), "chat", "p", "m", 1.0, prompt_tokens=i))
        await asyncio.sleep(0.01)  # the write task runs meanwhile, and keeps waiting
    assert await written() == 0
    await asyncio.wait_for(recorder.flush(), 60)  # the flush ends the wait
    assert await written() == 3
    recorder.record(CallRecord(new_call_id(), "chat", "p", "m", 1.0))
    await asyncio.wait_for(recorder.aclose(), 60)  # so does closing
    assert await written() == 4


async def test_a_stream_the_caller_stops_reading_is_still_recorded(
    harness: Harness, openai_server
) -> None:
    openai_server.enqueue(Reply(text="one two three four five six"))
    stream = harness.chain(openai_server).stream(REQUEST, user_id="u1")
    first = await anext(stream)  # a loop guard or a departed client stops here
    assert isinstance(first, Chunk) and first.text
    await stream.aclose()
    assert harness.recorder.stats.calls[("fast", "p0", "success")] == 1


async def test_a_loop_cut_reply_still_names_the_call_that_answered(
    harness: Harness, openai_server
) -> None:
    from companion.conversation.generation import Generation, generate
    from companion.conversation.ports import CompanionState
    from companion.types import PAD

    looping = "That sounds lovely! " + "I'm going to spend my days playing games. " * 6
    openai_server.enqueue(Reply(text=looping))
    state = CompanionState(
        user_id="u1", name="Mira", preset="p", big_five={}, pad=PAD(), baseline=PAD(),
        emotion="neutral",
    )  # fmt: skip
    out = Generation()
    chat = harness.chain(openai_server)
    async for _ in generate(
        chat, REQUEST.messages, state=state, user_id="u1", max_tokens=64, temperature=0.7, out=out
    ):
        pass
    assert out.loop_cut and out.error is None
    assert out.completion is not None
    assert (out.completion.provider, out.completion.model) == ("p0", "m0")
    assert out.reply.count("playing games") == 1
    recorded = harness.recorder.stats.calls[("fast", "p0", "success")]
    assert recorded == 1
