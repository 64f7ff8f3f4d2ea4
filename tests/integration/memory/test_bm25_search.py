"""Full-text side of search: Okapi BM25 in SQL, IDF from the user's own memories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from companion.memory import store
from companion.memory.facts_writer import content_hash
from companion.memory.retrieval import Retriever
from companion.store.repositories import users

AT = datetime(2023, 5, 8, 12, tzinfo=UTC)


async def _remember(runtime: Any, user_id: str, rows: list[tuple[str, str | None]]) -> None:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        await store.insert_memories(
            session,
            [
                {
                    "user_id": user_id, "memory_type": "episodic", "content": content,
                    "content_hash": content_hash(content), "context": context,
                    "importance": 0.5, "created_at": AT,
                }
                for content, context in rows
            ],
        )  # fmt: skip


async def test_rare_words_outrank_common_ones(runtime: Any) -> None:
    rows: list[tuple[str, str | None]] = [
        (f"Caroline: I went out with friends on day {i}", None) for i in range(12)
    ]
    rows.append(("Caroline: my new guitar sounds great", None))
    await _remember(runtime, "bm25:a", rows)
    # Another user's memories never count, not even towards the IDF.
    await _remember(runtime, "bm25:b", [("Caroline plays guitar guitar guitar", None)] * 30)
    hits = await Retriever(runtime.db, None).search(user_id="bm25:a", query="Caroline guitar", k=3)
    assert hits[0].content == "Caroline: my new guitar sounds great"
    assert all(h.content.startswith("Caroline:") for h in hits)


async def test_context_words_find_the_turn_but_count_less(runtime: Any) -> None:
    await _remember(
        runtime,
        "bm25:c",
        [
            ("Maya: Yes, twice!", "8 May 2023 Noor: Have you been to Japan?"),
            ("Maya: Japan is on my list, someday", "8 May 2023"),
            ("Maya: I bake bread", "8 May 2023 Noor: what do you do?"),
        ],
    )
    hits = await Retriever(runtime.db, None).search(user_id="bm25:c", query="Japan", k=3)
    contents = [h.content for h in hits]
    assert contents[:2] == ["Maya: Japan is on my list, someday", "Maya: Yes, twice!"]
    assert "Maya: I bake bread" not in contents


async def test_the_reply_to_a_strong_match_is_lifted_above_a_weaker_lone_match(
    runtime: Any,
) -> None:
    # The reply shares only the name with the question; the turn before it holds the
    # topic. A lone line elsewhere shares more words than the reply but has no such
    # neighbour. Consecutive source message ids make two turns neighbours.
    rows = [
        (10, "Noor: did you ever try the rock climbing gym on Elm street?"),
        (11, "Maya: yes, loved it, my fingers hurt for days"),
        (30, "Maya: the climbing documentary was fine"),
        *((40 + i, f"Noor: nothing new on day {i}") for i in range(6)),
    ]
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="bm25:spread")
        await store.insert_memories(
            session,
            [
                {
                    "user_id": "bm25:spread", "memory_type": "episodic", "content": content,
                    "content_hash": content_hash(content), "importance": 0.5,
                    "created_at": AT, "source_message_ids": [position],
                }
                for position, content in rows
            ],
        )  # fmt: skip
    hits = await Retriever(runtime.db, None).search(
        user_id="bm25:spread", query="Maya rock climbing gym", k=4
    )
    contents = [h.content for h in hits]
    reply, lone = rows[1][1], rows[2][1]
    assert contents.index(reply) < contents.index(lone)
    assert "next to a strong match" in hits[contents.index(reply)].reasons
    assert "next to a strong match" not in hits[contents.index(lone)].reasons


async def test_second_hop_names_still_come_from_the_facts_when_turns_crowd_them(
    runtime: Any,
) -> None:
    # The fact names the sister and is the best keyword match; six consecutive turns
    # that share only the name lift each other above it. The second hop must still read
    # the name from the fact and find where Ana lives.
    turns = [(20 + i, f"Maya: she called me again, day {i}") for i in range(6)]
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="bm25:hop")
        await store.insert_memories(
            session,
            [
                *(
                    {
                        "user_id": "bm25:hop", "memory_type": "episodic", "content": content,
                        "content_hash": content_hash(content), "importance": 0.5,
                        "created_at": AT, "source_message_ids": [position],
                    }
                    for position, content in turns
                ),
                {
                    "user_id": "bm25:hop", "memory_type": "semantic",
                    "content": "Maya's sister is named Ana", "importance": 0.5,
                    "content_hash": content_hash("Maya's sister is named Ana"),
                    "created_at": AT, "source_message_ids": [5],
                },
                {
                    "user_id": "bm25:hop", "memory_type": "episodic",
                    "content": "Ana: Porto is home now", "importance": 0.5,
                    "content_hash": content_hash("Ana: Porto is home now"),
                    "created_at": AT, "source_message_ids": [90],
                },
            ],
        )  # fmt: skip
    hits = await Retriever(runtime.db, None).search(
        user_id="bm25:hop", query="Where does Maya's sister live?", k=10
    )
    assert "Ana: Porto is home now" in [h.content for h in hits]
