"""The memory work in the serving process gives way to turns in flight (store.queue).

A turn held open in generation keeps the process busy; the queue's workers then work
one batch and rest instead of claiming after every other turn, and catch up once the
turn ends. Items that waited past ``behind_after`` are worked at once, so the queue
cannot grow without bound behind a steady stream of turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from tests.fakes.conversation_ports import FakeChat, FakeMemory, FakeSecurity
from tests.fakes.gateway import clone_runtime

from companion.conversation.pipeline import ConversationService
from companion.conversation.types import TurnRequest
from companion.llm.base import ChatRequest, Chunk, Completion
from companion.runtime import Runtime


class _HeldChat(FakeChat):
    """Holds the replies to one user until ``release`` is set; answers others at once."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        if user_id == self.held:
            self.holding.set()
            await self.release.wait()
        async for item in super().stream(request, user_id=user_id):
            yield item


async def _remembered_soon(memory: FakeMemory, text: str, *, seconds: float = 60.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if any(r.user_text == text for r in memory.remembered):
            return True
        await asyncio.sleep(0.02)
    return False


async def _with_a_held_turn(
    runtime: Runtime, *, behind_after: float
) -> tuple[ConversationService, _HeldChat, FakeMemory, asyncio.Task[object]]:
    """A service whose workers run, one first item worked, and bob's turn held open."""
    chat, memory = _HeldChat("bob"), FakeMemory()
    service = clone_runtime(runtime, chat=chat, memory=memory, security=FakeSecurity()).conversation
    # Batches of 8, as serve claims them; rests last as long as a turn is in flight (no
    # timer ends them in this test).
    service.queue.batch = 8
    service.queue.give_way(lambda: service.in_flight > 0, settle=3600.0, behind_after=behind_after)
    await service.turn(TurnRequest(user_id="ana", text="I love hiking."))
    held = asyncio.create_task(service.turn(TurnRequest(user_id="bob", text="Hello.")))
    await chat.holding.wait()
    service.start_workers()
    assert await _remembered_soon(memory, "I love hiking.")  # one worker works while busy
    return service, chat, memory, held


async def test_memory_work_waits_for_the_turns_in_flight_then_catches_up(
    runtime: Runtime,
) -> None:
    service, chat, memory, held = await _with_a_held_turn(runtime, behind_after=3600.0)
    try:
        await service.turn(TurnRequest(user_id="ana", text="My sister lives in Porto."))
        # Past the workers' one-second poll: without giving way the item would be done.
        assert not await _remembered_soon(memory, "My sister lives in Porto.", seconds=1.5)
        assert service.in_flight == 1
        chat.release.set()  # the held turn ends: nothing is in flight any more
        await held
        assert await _remembered_soon(memory, "My sister lives in Porto.")
    finally:
        chat.release.set()
        await service.queue.stop()


@pytest.mark.parametrize("behind_after", [0.0])
async def test_memory_work_that_waited_too_long_runs_beside_the_turns(
    runtime: Runtime, behind_after: float
) -> None:
    service, chat, memory, held = await _with_a_held_turn(runtime, behind_after=behind_after)
    try:
        await service.turn(TurnRequest(user_id="ana", text="My sister lives in Porto."))
        assert await _remembered_soon(memory, "My sister lives in Porto.")
        assert service.in_flight == 1  # worked while bob's turn was still held
    finally:
        chat.release.set()
        await held
        await service.queue.stop()
