"""Round trips of the turn path: statements and transactions from message to reply.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` events while the
real pipeline (real personality, memory and security services over the real
database, a scripted chat model) answers turns of users it already knows, in a
conversation that continues; the queued memory work is not run meanwhile, so only
the turn path is counted. A ``begin`` on an autocommit connection sends nothing to
the server and is not counted. The counts do not depend on load, so a change that
adds a round trip to every turn fails here. Before this work the same turns took
30.1 statements in 6 transactions; now 12 in 3 (docs/SCALING.md, "What one turn
costs").
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime

from companion.conversation.types import TurnRequest
from companion.personality.models import PersonalityState
from companion.runtime import Runtime
from companion.store.models import Interaction, Message

TEXTS = [
    "Hi! How was your day?", "I went for a long walk by the river this morning.",
    "My sister is visiting next weekend, I'm a bit nervous.",
    "What do you think I should cook for her?", "I love that idea, thank you!",
]  # fmt: skip
USERS = 2
ROUNDS = 2


@pytest.fixture
def real(runtime: Runtime) -> Runtime:
    """The test runtime's real services with a scripted chat model."""
    return clone_runtime(runtime, chat=FakeChat())


async def test_a_turn_takes_few_round_trips(real: Runtime) -> None:
    service = real.conversation
    conversations = {}
    for user in range(USERS):  # first contact: the user, the companion, the conversation
        first = await service.turn(
            TurnRequest(user_id=f"tt{user}", text="Hello! I love walking by the river.")
        )
        conversations[user] = first.conversation_id
    await service.drain()  # their memory work: the turns below retrieve a memory each
    statements: list[str] = []
    transactions = [0]

    def on_execute(*args: Any) -> None:
        statements.append(str(args[2]))

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            transactions[0] += 1

    engine = real.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    try:
        for _ in range(ROUNDS):
            for text_ in TEXTS:
                for user in range(USERS):
                    result = await service.turn(
                        TurnRequest(
                            user_id=f"tt{user}",
                            text=text_,
                            conversation_id=conversations[user],
                        )
                    )
                    assert result.error is None and result.reply
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
    turns = USERS * ROUNDS * len(TEXTS)
    per_turn = len(statements) / turns
    transactions_per_turn = transactions[0] / turns
    print(f"\nper turn: {per_turn:.2f} statements, {transactions_per_turn:.2f} transactions")
    # Per turn: one read transaction (user, conversation, persona), the search and
    # the access statistics (autocommit), the user's message and its work item (one
    # write transaction), the reply with the mood (one write transaction).
    assert per_turn <= 12, statements
    assert transactions_per_turn <= 3
    accessed = sum(s.startswith("INSERT INTO memory_access") for s in statements)
    assert accessed == turns  # memories were found and counted, so that path is in
    # What the turns stored: both lines of each, a mood row per turn.
    await service.drain()
    async with real.db.session() as session:
        stored = await session.scalar(select(func.count()).select_from(Interaction))
        lines = await session.scalar(select(func.count()).select_from(Message))
        moods = await session.scalar(
            select(func.count())
            .select_from(PersonalityState)
            .where(PersonalityState.trigger_event == "turn")
        )
    assert stored == turns + USERS
    assert lines == 2 * (turns + USERS)
    assert moods == turns + USERS
