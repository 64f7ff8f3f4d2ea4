"""A never-seen query's full-text side runs while the query is embedded.

The search's statement needs the query vector only for its dense side; when the
process does not hold the vector, the full-text statement goes out first on a
second connection, the embedder runs meanwhile, and the dense statement follows.
A query the process has embedded (a turn's message, embedded for the screen) is
searched with the one statement as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from companion.llm.base import EmbedTask
from companion.memory import ImportMessage, ranking
from companion.memory.retrieval import Retriever
from companion.memory.search import SearchFilters

_TURNS = (
    "I adopted a puppy called Biscuit last spring.",
    "My sister Ana lives in Porto and works at a bakery.",
    "We hiked up the mountain near the lake on Sunday.",
    "The bakery on my street sells the best sourdough.",
    "Biscuit chewed my hiking boots again.",
    "I started pottery classes on Thursdays.",
)
_QUERY = "what did the puppy do to my hiking boots"


async def _import(runtime: Any, user: str) -> None:
    day = datetime(2024, 3, 1, 9, tzinfo=UTC)
    messages = [
        ImportMessage(f"m{i}", "user", "Maya", text, day.replace(minute=i))
        for i, text in enumerate(_TURNS)
    ]
    await runtime.memory.import_history(user_id=user, conversation="c", messages=messages)


@contextmanager
def _statements(runtime: Any, full_text_done: asyncio.Event | None = None) -> Iterator[list[str]]:
    """The search statements (either side) run on the engine while the block runs."""
    seen: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "to_tsquery" in statement or "<=>" in statement:
            seen.append(statement)
            if full_text_done is not None and "<=>" not in statement:
                full_text_done.set()

    event.listen(runtime.db.engine.sync_engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine.sync_engine, "after_cursor_execute", after)


class _EmbedsAfterTheFullText:
    """The real embedder, which answers only once a full-text statement has finished."""

    def __init__(self, inner: Any, seen: list[str], full_text_done: asyncio.Event) -> None:
        self.inner, self.seen, self.full_text_done = inner, seen, full_text_done
        self.model_id, self.dimensions = inner.model_id, inner.dimensions
        self.statements_before: list[int] = []

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        # Guards a broken path from hanging the run; the full text comes in milliseconds.
        await asyncio.wait_for(self.full_text_done.wait(), timeout=30)
        self.statements_before.append(len(self.seen))
        result: list[list[float]] = await self.inner.embed(texts, task=task)
        return result


async def test_the_full_text_side_runs_while_the_query_is_embedded(runtime: Any) -> None:
    await _import(runtime, "beside")
    done = asyncio.Event()
    with _statements(runtime, done) as seen:
        embedder = _EmbedsAfterTheFullText(runtime.models.embedder, seen, done)
        retriever = Retriever(runtime.db, embedder)
        filters, now = SearchFilters(), datetime.now(UTC)
        hits = await retriever.gather(user_id="beside", query=_QUERY, filters=filters, now=now)
        # The full-text statement was done before the embedder answered, then the
        # dense one ran alone.
        assert embedder.statements_before == [1]
        assert len(seen) == 2 and "<=>" not in seen[0] and "<=>" in seen[1]
        # The same candidates and scores as the one statement with both sides.
        (vector,) = await runtime.models.embedder.embed([_QUERY], task="query")
        single = await retriever._candidates("beside", vector, ranking.or_tsquery(_QUERY), filters)

    def scores(found: list[Any]) -> dict[Any, tuple[float | None, float | None]]:
        return {h.id: (h.similarity, h.text_rank) for h in found}

    both = scores(hits)
    assert both.keys() == scores(single).keys()
    for key, (similarity, text_rank) in scores(single).items():
        assert both[key][0] is not None and similarity is not None
        assert abs(both[key][0] - similarity) < 1e-6
        assert both[key][1] == text_rank
    # Both sides found something: the merge kept each side's score.
    assert any(rank is not None for _, rank in both.values())
    assert any(rank is None for _, rank in both.values())


async def test_a_query_the_process_holds_is_one_statement(runtime: Any) -> None:
    await _import(runtime, "held")
    memory = runtime.memory
    await runtime.models.embedder.embed([_QUERY], task="query")  # as the screen does
    with _statements(runtime) as seen:
        hits = await memory.search(user_id="held", query=_QUERY, k=3)
    assert len(seen) == 1 and "<=>" in seen[0] and "to_tsquery" in seen[0]
    assert "Maya: Biscuit chewed my hiking boots again." in [h.content for h in hits]
    # A query never embedded takes two statements, and finds the same.
    with _statements(runtime) as seen:
        again = await memory.search(user_id="held", query=f"{_QUERY}?", k=3)
    assert len(seen) == 2
    assert [h.content for h in again] == [h.content for h in hits]


class _WrongSize:
    """An embedder whose vectors the table cannot take (the dense statement fails)."""

    model_id, dimensions = "wrong-size", 3

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        return [[1.0, 0.0, 0.0] for _ in texts]


async def test_the_dense_side_failing_leaves_the_full_text_candidates(runtime: Any) -> None:
    await _import(runtime, "broken")
    retriever = Retriever(runtime.db, _WrongSize())
    hits = await retriever.search(user_id="broken", query=_QUERY, k=10)
    assert hits and all(h.similarity is None and h.text_rank is not None for h in hits)
    assert "Maya: Biscuit chewed my hiking boots again." in [h.content for h in hits]
