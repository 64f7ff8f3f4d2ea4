"""A very large user's common words: counted in the background, spared a probe each search."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text

from companion.memory import SearchFilters
from companion.memory.common_words import COMMON_FROM, CommonWords
from companion.memory.search import fetch_candidates

USER = "words:big"
SHARED_GIN = "ix_memories_user_tsv"


async def _rows(runtime: Any) -> None:
    """COMMON_FROM + 50 memories saying "garden", a few saying "zephyr" as well; more
    "harbour" lines that are superseded, private to a companion or someone else's."""
    async with runtime.db.transaction() as session:
        await session.execute(
            text("INSERT INTO users (id) VALUES (:u), ('words:other')"), {"u": USER}
        )
        companion = (
            await session.execute(
                text("INSERT INTO companions (user_id, is_active, openness, conscientiousness, "
                     "extraversion, agreeableness, neuroticism) "
                     "VALUES (:u, false, 0.5, 0.5, 0.5, 0.5, 0.5) RETURNING id"),
                {"u": USER},
            )
        ).scalar_one()  # fmt: skip
        rows = [
            (USER, f"garden note {i}" + (" zephyr" if i % 40 == 0 else ""), None, False)
            for i in range(COMMON_FROM + 50)
        ]
        rows += [(USER, f"harbour old {i}", None, True) for i in range(COMMON_FROM)]
        rows += [(USER, f"harbour private {i}", companion, False) for i in range(COMMON_FROM)]
        rows += [("words:other", f"harbour theirs {i}", None, False) for i in range(COMMON_FROM)]
        vectors = np.random.default_rng(5).normal(size=(len(rows), 384))
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, "
                "embedding, companion_id, invalid_at) VALUES (gen_random_uuid(), :u, "
                "'episodic', :c, 'h', CAST(:v AS vector), :comp, "
                "CASE WHEN :old THEN now() END)"
            ),
            [
                {"u": u, "c": c, "comp": comp, "old": old, "v": str(v.tolist())}
                for (u, c, comp, old), v in zip(rows, vectors, strict=True)
            ],
        )  # fmt: skip


async def _scans(conn: Any) -> int:
    value = await conn.execute(
        text("SELECT pg_stat_get_xact_numscans(to_regclass(:n))"), {"n": SHARED_GIN}
    )
    return int(value.scalar_one() or 0)


async def test_only_the_users_current_shared_words_count(runtime: Any) -> None:
    await _rows(runtime)
    words = CommonWords(runtime.db.engine)
    assert await words.count(USER) == ("garden", "note")
    assert await words.count("words:other") == ("harbour",)  # "theirs": a stop word


async def test_words_are_counted_in_the_background_and_then_served(runtime: Any) -> None:
    await _rows(runtime)
    words = CommonWords(runtime.db.engine)
    assert words.get(USER) == ()  # the search does not wait for the count
    await words.wait()
    assert words.get(USER) == ("garden", "note")


async def test_a_common_word_is_not_probed_and_the_candidates_stay_the_same(
    runtime: Any,
) -> None:
    """The big path with the common words: one GIN probe fewer per common query word,
    the same candidates and scores; with a type filter every word is probed again."""
    await _rows(runtime)
    common = await CommonWords(runtime.db.engine).count(USER)
    query = np.random.default_rng(6).normal(size=384).astype(float).tolist()

    async def search(conn: Any, words: tuple[str, ...], filters: SearchFilters) -> Any:
        before = await _scans(conn)
        hits = await fetch_candidates(
            conn, user_id=USER, vector=query, tsquery="garden | zephyr", filters=filters,
            pool=20, exact_below=100,
            exact_vectors_below=100, with_vectors=False, common_words=words,
        )  # fmt: skip
        found = sorted((str(h.id), h.similarity, h.text_rank) for h in hits)
        return found, await _scans(conn) - before

    async with runtime.db.engine.connect() as conn:  # one transaction: the scan counts
        await conn.execute(text("ANALYZE memories"))
        probed, probed_scans = await search(conn, (), SearchFilters())
        spared, spared_scans = await search(conn, common, SearchFilters())
        typed = SearchFilters(memory_types=("episodic",))
        _, typed_scans = await search(conn, common, typed)
    assert spared == probed and any(rank is not None for _, _, rank in spared)
    assert spared_scans == probed_scans - 1  # "garden" taken as common, "zephyr" probed
    assert typed_scans == probed_scans
