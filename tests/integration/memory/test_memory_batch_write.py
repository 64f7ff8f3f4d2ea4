"""A batch of turns written together stores what the same turns store one by one.

The queue's batches write their turns' episodic memories in one statement and their
facts in rounds (each user's k-th fact in round k: one read, one pipelined insert, one
pipelined update per round). Here the same turns go to two users, one through the
batch, the other one turn at a time, on the real database and the real embedder; the
memories, their validity and supersession, merges and conflicts must be the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from companion.conversation.ports import TurnRecord
from companion.memory import MemoryService, store
from companion.memory.facts import ExtractedFact
from companion.memory.facts_writer import Provenance, apply_fact
from companion.memory.models import Memory, MemoryConflict
from companion.store.repositories import conversations, users
from companion.types import PAD

#: A fact, small talk, a contradiction of the fact and a restatement of another one,
#: so one batch holds a user's fact and the later fact that supersedes it.
TEXTS = [
    "I work at Google.", "My dog is named Rex.", "How are you doing today?",
    "I work at Spotify now.", "My dog is named Rex.", "I live in Porto.",
]  # fmt: skip


async def _turns(runtime: Any, user_id: str) -> list[TurnRecord]:
    start = datetime(2024, 3, 1, 9, tzinfo=UTC)
    records = []
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        conv = await conversations.get_or_create_conversation(session, user_id=user_id)
        for n, text_ in enumerate(TEXTS):
            mids = [
                (await conversations.add_message(
                    session, user_id=user_id, conversation_id=conv.id, role=role, content=c
                )).id
                for role, c in (("user", text_), ("assistant", f"Noted: {text_}"))
            ]  # fmt: skip
            records.append(
                TurnRecord(
                    user_id=user_id, conversation_id=conv.id, interaction_id=n + 1,
                    user_message_id=mids[0], reply_message_id=mids[1], user_text=text_,
                    reply_text=f"Noted: {text_}", created_at=start + timedelta(minutes=n),
                    pad_before=PAD(), pad_after=PAD(), emotion="relaxed", flagged=False,
                )
            )  # fmt: skip
    return records


async def _stored(runtime: Any, user_id: str) -> list[tuple[Any, ...]]:
    """The user's memories, comparable across users (message ids replaced by counts)."""
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(Memory).where(Memory.user_id == user_id).order_by(
                    Memory.created_at, Memory.memory_type, Memory.content
                )
            )
        ).scalars().all()  # fmt: skip
        by_id = {r.id: r.content for r in rows}
        return [
            (
                r.memory_type, r.content, r.context, r.speaker, r.valid_from, r.invalid_at,
                by_id.get(r.superseded_by), len(r.source_message_ids), len(r.source_memory_ids),
                r.fact_key, r.confidence, round(r.importance, 6), r.pad, r.emotion_context,
                sorted(r.extra) if r.extra else None, r.embedding is not None,
            )
            for r in rows
        ]  # fmt: skip


async def _conflicts(runtime: Any, user_id: str) -> list[tuple[str, str]]:
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(MemoryConflict.resolution_method, MemoryConflict.description)
                .where(MemoryConflict.user_id == user_id)
                .order_by(MemoryConflict.id)
            )
        ).all()
    return [(r[0], r[1]) for r in rows]


async def test_a_batch_stores_what_one_by_one_stores(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    batched, single = await _turns(runtime, "bw-batch"), await _turns(runtime, "bw-single")
    # One turn of the batch is stored already (a retry): the batch skips it.
    assert await memory.writer.remember(batched[1], checked=True) >= 1
    outcomes = await memory.writer.remember_many([(r, "", None) for r in batched])
    assert outcomes == [None] * len(TEXTS)
    for record in single:
        await memory.writer.remember(record, checked=True)
    got, expected = await _stored(runtime, "bw-batch"), await _stored(runtime, "bw-single")
    assert got == expected
    episodic = [row for row in got if row[0] == "episodic"]
    assert len(episodic) == len(TEXTS) and all(row[-1] for row in episodic)
    # Google was superseded by Spotify, in the order said; Rex was merged, not doubled.
    closed = [row for row in got if row[0] == "semantic" and row[5] is not None]
    assert [(row[1], row[6]) for row in closed] == [
        ("User works at Google", "User works at Spotify")
    ]
    rex = [row for row in got if row[0] == "semantic" and "Rex" in row[1]]
    assert len(rex) == 1 and rex[0][7] == 2  # both turns' messages back the one fact
    assert await _conflicts(runtime, "bw-batch") == await _conflicts(runtime, "bw-single")
    assert len(await _conflicts(runtime, "bw-batch")) == 1
    # A second run of the batch (the queue retrying it) stores nothing more.
    assert await memory.writer.remember_many([(r, "", None) for r in batched]) == [None] * 6
    assert await _stored(runtime, "bw-batch") == got


async def test_current_facts_of_many_facts_read_as_one_by_one(runtime: Any) -> None:
    """The batched read gives each fact the rows ``current_facts`` gives it: the same
    key first, then the nearest, with the database's cosine; a private companion's
    facts apart from shared ones; nothing for a fact without key and vector."""
    embedder = runtime.models.embedder
    day = datetime(2023, 5, 1, 9, tzinfo=UTC)
    stated = ("Maya loves hiking in the mountains", "Maya works at Google", "Maya has a cat")
    vectors = await embedder.embed(list(stated), task="document")
    async with runtime.db.transaction() as session:
        for user_id in ("cf1", "cf2"):
            await users.ensure_user(session, user_id=user_id)
        for content, vector in zip(stated, vectors, strict=True):
            key = "maya|works_at" if "works" in content else None
            await apply_fact(
                session, user_id="cf1", fact=ExtractedFact(content, key, "fact"), vector=vector,
                source=Provenance(at=day),
            )  # fmt: skip
        await apply_fact(
            session, user_id="cf2", fact=ExtractedFact("Maya sings", "maya|sings", "fact"),
            vector=vectors[0], source=Provenance(at=day),
        )  # fmt: skip
    (query,) = await embedder.embed(["Maya really loves mountain hikes"], task="document")
    wanted = [
        ("cf1", "maya|works_at", query, None),
        ("cf1", None, query, None),
        ("cf1", "maya|works_at", None, None),
        ("cf2", "maya|sings", query, None),
        ("cf1", None, None, None),
        ("cf1", "maya|works_at", query, 7),  # a private companion's: none stored
    ]
    async with runtime.db.session() as session:
        many = await store.current_facts_many(session, wanted, limit=2)
        one_by_one = [
            await store.current_facts(
                session, user_id=u, fact_key=k, vector=v, limit=2, companion_id=c
            )
            for u, k, v, c in wanted
        ]
    assert [[f.id for f in found] for found in many] == [
        [f.id for f in found] for found in one_by_one
    ]
    for found, expected in zip(many, one_by_one, strict=True):
        for a, b in zip(found, expected, strict=True):
            assert (a.fact_key, a.content, a.valid_from) == (b.fact_key, b.content, b.valid_from)
            assert abs((a.similarity or 0.0) - (b.similarity or 0.0)) < 1e-6
    assert [len(found) for found in many] == [3, 2, 1, 1, 0, 0]
    assert many[0][0].content == "Maya works at Google"
    assert many[1][0].content == "Maya loves hiking in the mountains"
