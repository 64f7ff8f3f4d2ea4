"""Round trips of the queued memory work: statements and transactions per item.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` events while the
queue's worker tasks run the items of 20 turns (two users, a mix of chat and stated
facts, two of them contradicting an earlier one), the real memory service over the
real database. The counts do not depend on load, so a change that adds a round trip
to every item fails here. One item at a time (``QUEUE_BATCH=1``): 6.75 statements and
4.15 transactions per item (12.4 and 5.2 before the first rework); in batches of 8,
where a batch's claim, turns and contexts are one statement each and its turns are
written in one transaction: 3.35 and 0.75; in batches of 32 (the default; here one
batch holds all 20): 2.95 and 0.35 (docs/SCALING.md). Since a batch's episodic
memories are one statement and its facts are written in rounds (one read, one
pipelined insert and one pipelined update per round): 2.40 with 8 and 1.35 with 32.
What is stored is the same either way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime

from companion.conversation.types import TurnRequest
from companion.memory.models import Memory, MemoryConflict
from companion.runtime import Runtime

TEXTS = [
    "I had a long day at work today.", "My sister Ines lives in Porto.",
    "What do you think about rainy weather?", "I work at Google.",
    "I love hiking in the mountains.", "Tell me something nice.",
    "I work at Spotify now.", "My dog is named Rex.", "How are you doing?",
    "I went to the market and bought apples.",
]  # fmt: skip
USERS = 2


@pytest.fixture
def real(runtime: Runtime) -> Runtime:
    """The test runtime's real services with a scripted chat model."""
    return clone_runtime(runtime, chat=FakeChat())


#: Per item at most (statements, transactions), by the queue's batch size.
LIMITS = {1: (7.5, 4.5), 8: (2.7, 1.0), 32: (1.6, 0.4)}


@pytest.mark.parametrize("batch", sorted(LIMITS))
async def test_memory_work_per_item_takes_few_round_trips(real: Runtime, batch: int) -> None:
    for user in range(USERS):
        for text_ in TEXTS:
            await real.conversation.turn(TurnRequest(user_id=f"rt{user}", text=text_))
    items = USERS * len(TEXTS)
    statements: list[str] = []
    transactions = [0]

    def on_execute(*args: Any) -> None:
        statements.append(str(args[2]))

    def on_begin(*args: Any) -> None:
        transactions[0] += 1

    engine = real.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    queue = real.conversation.queue
    queue.batch = batch
    queue.start()
    try:
        # Up to two minutes: on a loaded machine 20 items' embeddings can take a while,
        # and the loop ends as soon as the work is done.
        for _ in range(6000):
            if await queue.counts() == {"done": items}:
                break
            await asyncio.sleep(0.02)
    finally:
        await queue.stop()
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
    assert await queue.counts() == {"done": items}
    polls = sum("GROUP BY status" in s for s in statements)  # the test's own look
    work = [s for s in statements if "GROUP BY status" not in s]
    per_item = len(work) / items
    transactions_per_item = (transactions[0] - polls) / items
    print(f"\nbatch {batch}, per item: {per_item:.2f} statements, {transactions_per_item:.2f} tx")
    most_statements, most_transactions = LIMITS[batch]
    assert per_item <= most_statements, work
    assert transactions_per_item <= most_transactions
    # What the work stored: an episodic memory per turn, facts, two supersessions.
    async with real.db.session() as session:
        kinds = dict(
            (
                await session.execute(
                    select(Memory.memory_type, func.count()).group_by(Memory.memory_type)
                )
            ).all()
        )
        conflicts = await session.scalar(select(func.count()).select_from(MemoryConflict))
    assert kinds["episodic"] == items and kinds["semantic"] >= USERS * 4
    assert conflicts == USERS
