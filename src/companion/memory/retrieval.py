"""The read path: embed the query, gather candidates, fuse, weight, diversify.

Degraded modes are real code paths: the vector side failing → full-text only; the
embedder failing → keyword search; anything else → the user's most recent memories.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from companion.llm.base import Embedder
from companion.memory import learned, ranking, store
from companion.memory.common_words import CommonWords
from companion.memory.dates import asks_about_now, is_temporal_query, query_window
from companion.memory.models import Memory
from companion.memory.reconcile import cosine
from companion.memory.search import Hit, SearchFilters, fetch_candidates
from companion.memory.user_index import OwnIndexes
from companion.store.database import Database
from companion.store.reader import LazyReader

__all__ = ["Retriever"]

log = logging.getLogger(__name__)


_NAMED = re.compile(r"\bnamed ([A-Z][\w'-]+)")


def bridge_names(top: Sequence[Hit], query: str) -> list[str]:
    """Names introduced by the top facts ("… is named Ana") that the query lacks."""
    lowered = query.lower()
    names = []
    for hit in top:
        if hit.memory_type != "semantic":
            continue
        for name in _NAMED.findall(hit.content):
            if name.lower() not in lowered and name.isalpha() and name not in names:
                names.append(name)
    return names[:3]


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per distinct text (the same line said twice is one memory, two sources)."""
    kept: dict[str, Hit] = {}
    for hit in sorted(hits, key=lambda h: h.score, reverse=True):
        key = " ".join(hit.content.lower().split())
        if key in kept:
            first = kept[key]
            first.source_external_ids = list(
                dict.fromkeys([*first.source_external_ids, *hit.source_external_ids])
            )
            first.source_message_ids = list(
                dict.fromkeys([*first.source_message_ids, *hit.source_message_ids])
            )
        else:
            kept[key] = hit
    return list(kept.values())


#: How the dense and BM25 lists are fused: "rrf" (ranks) or "convex" (normalised scores).
FUSION = "rrf"
#: How candidates are scored: "learned" (``companion.memory.learned``, when its weights
#: file is present) or "rrf" (rank fusion, neighbour spread and the fixed boosts below).
RANKER = "learned"
#: Weight of rank fusion's log-score added to the learned score (0 = learned alone).
#: 0.3: LoCoMo dev held-out recall@10 unchanged (0.802; 0.799 at 1.0), and our own
#: set's updated facts back in the top 5 (see ``serve_learned``).
FUSION_BLEND = 0.3
#: Score factor for a turn whose speaker the question names ("What did Caroline…").
SPEAKER_BOOST = 1.0
#: MMR's λ for the final pick (1.0 = relevance only). Measured on the LoCoMo dev set:
#: recall@10 0.686 at 0.7, 0.708 at 1.0. Neighbouring turns share context (and now
#: part of their vectors), and the evidence of a question is often two adjacent
#: turns, which diversity pushed apart; exact and same-source duplicates are removed
#: before this step anyway.
MMR_LAMBDA = 1.0
#: Stored vectors are fetched only when MMR compares them (λ < 1): 60 vectors of 384
#: floats per side were most of a LoCoMo-scale search's time.
_NEEDS_VECTORS = MMR_LAMBDA < 1.0
#: Candidates taken from each side (dense, BM25) before fusion. 100 rather than 60: on
#: the LoCoMo dev set recall@10 rose 0.741 → 0.747 (with the neighbour share), as
#: fusion sees evidence that one side ranks low; the candidates are fetched in the same
#: statement, so the cost is the extra rows read.
POOL = 100


def _merged(dense: list[Hit], sparse: list[Hit]) -> list[Hit]:
    """One candidate per memory from the two sides' lists (each scores its own side)."""
    merged = {hit.id: hit for hit in dense}
    for hit in sparse:
        found = merged.get(hit.id)
        if found is None:
            merged[hit.id] = hit
        else:
            found.text_rank = hit.text_rank
    return list(merged.values())


def _one_per_source(hits: list[Hit]) -> list[Hit]:
    """One result per source message: a turn and the facts read from it say one thing.

    Without this, "I got a new job at Spotify" and "Maya works at Spotify" take two of
    the k places with the same provenance (on the LoCoMo dev set, rule facts crowded
    out other evidence turns: recall@10 0.675 with them, 0.715 with turns only). The
    best-scored of each group stays; memories without a source are kept as they are.
    """
    kept: dict[tuple[str, ...], Hit] = {}
    out = []
    for hit in sorted(hits, key=lambda h: h.score, reverse=True):
        sources = tuple(hit.source_external_ids) or tuple(map(str, hit.source_message_ids))
        if not sources:
            out.append(hit)
        elif sources not in kept:
            kept[sources] = hit
            out.append(hit)
    return out


@dataclass
class _Board:
    """A search's candidates as arrays: their scores, and what each step did to them.

    Every step scores all candidates at once; the reasons (text) are written only for
    the k served, from the flags the steps leave here.
    """

    hits: Sequence[Hit]
    importance: np.ndarray
    recency: np.ndarray
    score: np.ndarray
    windowed: np.ndarray
    fusion: bool = True  # rank fusion scored them (its reasons come first)
    dated: np.ndarray | None = None
    spoken: np.ndarray | None = None
    lifted: np.ndarray | None = None
    learned: np.ndarray | None = None
    as_turn: list[bool] | None = None

    def reasons(self, i: int) -> list[str]:
        hit = self.hits[i]
        out = [f"similarity {hit.similarity:.2f}"] if hit.similarity is not None else []
        if hit.text_rank is not None:
            out.append("keyword match")
        out.append(f"importance {hit.importance:.2f}")
        if self.fusion:
            for flags, reason in (
                (self.dated, "dated"),
                (self.spoken, "said by the person asked about"),
                (self.windowed, "in the asked time window"),
                (self.lifted, "next to a strong match"),
            ):
                if flags is not None and flags[i]:
                    out.append(reason)
        if self.learned is not None:
            out.append(f"learned score {self.learned[i]:.2f}")
            if not self.fusion and self.windowed[i]:
                out.append("in the asked time window")
        if self.as_turn is not None and self.as_turn[i]:
            out.append("as strong as the turn it was read from")
        return out


def _board(hits: Sequence[Hit], *, query: str, now: datetime) -> _Board:
    """The per-candidate numbers every scoring starts from."""
    n = len(hits)
    window = query_window(query, now)
    if window is None:
        windowed = np.zeros(n, dtype=bool)
    else:
        windowed = np.fromiter(
            (window[0] <= (h.event_at or h.created_at) < window[1] for h in hits), bool, count=n
        )
    return _Board(
        hits=hits,
        importance=np.fromiter((h.importance for h in hits), np.float64, count=n),
        recency=np.array(
            [ranking.recency((now - h.created_at).total_seconds() / 86400) for h in hits]
        ),
        score=np.zeros(n),
        windowed=windowed,
    )


def _fused(hits: Sequence[Hit]) -> np.ndarray:
    """Each candidate's fusion of the dense and BM25 lists (``FUSION``), 0 if in neither."""
    n = len(hits)
    has_d = np.fromiter((h.similarity is not None for h in hits), bool, count=n)
    has_s = np.fromiter((h.text_rank is not None for h in hits), bool, count=n)
    if FUSION == "convex":
        dense = {i: h.similarity for i, h in enumerate(hits) if h.similarity is not None}
        sparse = {i: h.text_rank for i, h in enumerate(hits) if h.text_rank is not None}
        fused = ranking.fuse(dense, sparse)  # type: ignore[arg-type]
        return np.array([fused.get(i, 0.0) for i in range(n)])  # type: ignore[call-overload]
    sims = np.fromiter((h.similarity or 0.0 for h in hits), np.float64, count=n)
    ranks = np.fromiter((h.text_rank or 0.0 for h in hits), np.float64, count=n)
    sides = [(values, present) for values, present in ((sims, has_d), (ranks, has_s))]
    lists = sum(1 for _, present in sides if present.any())
    total = np.zeros(n)
    for values, present in sides:
        if present.any():
            position = learned.ranks(values, present)
            total = total + np.where(present, 1.0 / (ranking.RRF_K + position), 0.0)
    # ``ranking.rrf`` over the two lists, as numbers: Σ 1 / (k + rank), over its best.
    return total / (lists / (ranking.RRF_K + 1)) if lists else total


def _fusion_scores(hits: Sequence[Hit], *, query: str, now: datetime, spread: bool) -> _Board:
    """Each hit's score by rank fusion, weighting, the fixed boosts and the spread."""
    board = _board(hits, query=query, now=now)
    n = len(hits)
    score = ranking.weighted(_fused(hits), importance=board.importance, recency_score=board.recency)
    # Time-aware questions favour memories that carry a date of their own.
    if is_temporal_query(query):
        board.dated = np.fromiter((h.event_at is not None for h in hits), bool, count=n)
        score = np.where(board.dated, score * 1.15, score)
    if SPEAKER_BOOST != 1.0:
        named = {w.lower() for w in re.findall(r"[A-Za-z][\w-]+", query)}
        board.spoken = np.fromiter(
            (bool(h.speaker and h.speaker.lower() in named) for h in hits), bool, count=n
        )
        score = np.where(board.spoken, score * SPEAKER_BOOST, score)
    score = np.where(board.windowed, score * 1.3, score)
    if spread:
        score, board.lifted = _spread(hits, score)
    board.score = score
    return board


def _spread(hits: Sequence[Hit], score: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Lift memories said right before or after a strong turn (``NEIGHBOUR_SHARE``).

    A memory's position is its source message id (a conversation's messages get
    increasing ids); turns lend their score, and a fact gets the lift of the turn it
    was read from; memories of several messages keep their score. The numbers are
    ``ranking.spread_to_neighbours``'s, for every candidate at once.
    """
    n = len(hits)
    placed = np.fromiter((len(h.source_message_ids) == 1 for h in hits), bool, count=n)
    if int(placed.sum()) < 2:
        return score, None
    positions = np.fromiter(
        (h.source_message_ids[0] if len(h.source_message_ids) == 1 else 0 for h in hits),
        dtype=np.int64, count=n,
    )  # fmt: skip
    turns = placed & np.fromiter((h.memory_type == "episodic" for h in hits), bool, count=n)
    best = np.maximum(
        learned.neighbour_best(positions, placed, turns, 1, score[:, None])[:, 0], 0.0
    )
    spread = score + ranking.NEIGHBOUR_SHARE * best
    lifted = np.asarray(spread > score)
    return np.where(lifted, spread, score), lifted


def _rank(hits: list[Hit], *, query: str, now: datetime, k: int, spread: bool = True) -> list[Hit]:
    weights = learned.load_weights() if RANKER == "learned" else None
    # The learned ranker was fitted on questions about what was said; a question about
    # how things stand now is answered by rank fusion, under which a fact kept current
    # (an update supersedes the old one, the old turn stays) wins over that old turn.
    if weights is not None and spread and not asks_about_now(query):
        return _rank_learned(hits, query=query, now=now, k=k, weights=weights)
    return _serve(_fusion_scores(hits, query=query, now=now, spread=spread), k=k)


def _rank_learned(
    hits: list[Hit], *, query: str, now: datetime, k: int, weights: learned.Weights
) -> list[Hit]:
    """The learned ranker's relevance, weighted by importance and recency as always."""
    relevance = learned.apply(learned.features(hits, query=query, now=now), weights)
    return serve_learned(hits, relevance, query=query, now=now, k=k)


def serve_learned(
    hits: list[Hit], relevance: Sequence[float] | np.ndarray, *, query: str, now: datetime, k: int
) -> list[Hit]:
    """Scores from the learned relevance (a logit per hit), then the last steps.

    Rank fusion's score (weighting, boosts and neighbour spread included), relative to
    its best, is added in log space times ``FUSION_BLEND``: the weights were fitted on
    the turns of long chats, where rule facts are rare; fusion keeps an updated fact
    ahead of the turn it replaced (our own set's update questions: R@5 0.90 through
    the API with the learned score alone, 1.00 with the blend at 0.3).

    The best candidate scores 1 and the others ``exp(their logit − the best)``; that
    is then weighted by importance and recency as in rank fusion. The asked time window
    ("last week") keeps its fixed 1.3× here: the dev set's questions never name one
    relative to the day they are asked, so its weight could not be fitted.
    """
    values = np.asarray(relevance, dtype=np.float64).reshape(len(hits))
    blended = FUSION_BLEND > 0 and bool(hits)
    if blended:
        board = _fusion_scores(hits, query=query, now=now, spread=True)
        best = float(board.score.max()) or 1.0
        ratio = np.maximum(board.score / best, 1e-6).tolist()
        values = values + FUSION_BLEND * np.array([math.log(r) for r in ratio])
    else:
        board = _board(hits, query=query, now=now)
        board.fusion = False
    top = float(values.max()) if len(values) else 0.0
    relative = np.array([math.exp(v) for v in (values - top).tolist()])
    score = ranking.weighted(relative, importance=board.importance, recency_score=board.recency)
    board.score = np.where(board.windowed, score * 1.3, score)
    board.learned = values
    _facts_take_their_turns_place(board)
    return _serve(board, k=k)


def _source_key(hit: Hit) -> tuple[str, ...]:
    return tuple(hit.source_external_ids) or tuple(map(str, hit.source_message_ids))


def _facts_take_their_turns_place(board: _Board) -> None:
    """A fact read from a turn scores at least as high as that turn (and just above it).

    The two say one thing and only one is served per source; the fact says it briefly
    and is the one kept up to date (an updated fact supersedes the old one, the old
    turn stays), so it is the one served.
    """
    hits, scores = board.hits, board.score.tolist()
    keys = [_source_key(h) for h in hits]
    turns: dict[tuple[str, ...], float] = {}
    for hit, key, score in zip(hits, keys, scores, strict=True):
        if hit.memory_type == "episodic" and key:
            turns[key] = max(turns.get(key, 0.0), score)
    lifted = []
    for i, hit in enumerate(hits):
        best = turns.get(keys[i], 0.0) if hit.memory_type == "semantic" else 0.0
        lifted.append(best >= scores[i])
        if lifted[-1]:
            scores[i] = best * 1.001
    board.score = np.array(scores)
    board.as_turn = lifted


def _serve(board: _Board, *, k: int) -> list[Hit]:
    """The scores onto the hits, the last steps, and the reasons of the hits served."""
    for hit, score in zip(board.hits, board.score.tolist(), strict=True):
        hit.score = score
    served = finish(list(board.hits), k=k)
    index = {id(h): i for i, h in enumerate(board.hits)}
    for hit in served:
        hit.reasons = board.reasons(index[id(hit)])
    return served


def finish(hits: list[Hit], *, k: int) -> list[Hit]:
    """The last steps of every ranking: one hit per text and per source, then MMR."""
    hits = _one_per_source(_dedupe(hits))
    if k <= 0:
        return []
    if MMR_LAMBDA >= 1.0:  # relevance only: ``ranking.mmr``'s picks without its vectors
        return sorted(hits, key=lambda h: h.score, reverse=True)[:k]
    by_id = {str(h.id): h for h in hits}
    chosen = ranking.mmr(
        [ranking.Candidate(str(h.id), h.score, h.vector) for h in hits], k=k, lam=MMR_LAMBDA
    )
    return [by_id[i] for i in chosen]


class Retriever:
    """Hybrid search for one user at a time."""

    def __init__(self, db: Database, embedder: Embedder | None) -> None:
        self._db = db
        self._embedder = embedder
        self.own_indexes = OwnIndexes(db.engine)
        self.common_words = CommonWords(db.engine)

    def reader(self) -> LazyReader:
        """A search's connection: in autocommit (a search is one statement, and without
        a transaction it costs one round trip instead of three: no BEGIN, no COMMIT),
        opened at its first statement and shared by the statements after it (the
        second hop, the caller's access statistics) until it is closed."""
        return LazyReader(self._db.engine)

    async def _query_vector(self, query: str) -> Sequence[float] | None:
        if self._embedder is None:
            return None
        try:
            (vector,) = await self._embedder.embed([query], task="query")
            return vector
        except Exception as exc:  # any embedder failure → keyword search
            log.warning("query embedding failed, keyword search only: %s", exc)
            return None

    async def search(
        self,
        *,
        user_id: str,
        query: str,
        k: int,
        filters: SearchFilters | None = None,
        now: datetime | None = None,
        reader: LazyReader | None = None,
        beside_embedding: bool = True,
    ) -> list[Hit]:
        """The k best memories of ``user_id`` for ``query``, each with score and reasons.

        ``reader``: the connection to run the statements on (``Retriever.reader``),
        left open for the caller's next statement; by default one of the search's own.
        ``beside_embedding``: a query the process has not embedded has its full-text
        side searched while it is embedded (``gather``); off, one statement follows the
        embedding. A turn turns it off: its search already runs beside the security
        screen, which embeds the same message, so the second statement would cost CPU
        per turn for little time saved.
        """
        if reader is None:
            async with self.reader() as own:
                return await self.search(
                    user_id=user_id, query=query, k=k, filters=filters, now=now, reader=own,
                    beside_embedding=beside_embedding,
                )  # fmt: skip
        filters = filters or SearchFilters()
        now = now or datetime.now(UTC)
        started = time.perf_counter()
        try:
            hits = await self.gather(
                user_id=user_id, query=query, filters=filters, now=now, reader=reader,
                beside_embedding=beside_embedding,
            )  # fmt: skip
        except Exception as exc:
            log.warning("memory search failed, serving recent memories: %s", exc)
            return await self.recent(user_id=user_id, k=k, filters=filters)
        ranked = _rank(hits, query=query, now=now, k=k)
        log.debug("memory search", extra={"ms": (time.perf_counter() - started) * 1000})
        return ranked

    async def gather(
        self,
        *,
        user_id: str,
        query: str,
        filters: SearchFilters,
        now: datetime,
        reader: LazyReader | None = None,
        beside_embedding: bool = True,
    ) -> list[Hit]:
        """Every candidate of a search before ranking: both sides, then the second hop.

        With ``beside_embedding``, a query whose vector the process does not hold has
        its full-text side searched while it is embedded (``_while_embedding``).
        Raises when the store cannot be searched (the caller falls back to recent ones).
        """
        async with contextlib.AsyncExitStack() as stack:
            if reader is None:
                reader = await stack.enter_async_context(self.reader())
            tsq = ranking.or_tsquery(query)
            vector = self._known_vector(query) if beside_embedding else None
            if (
                beside_embedding
                and vector is None
                and tsq is not None
                and self._embedder is not None
            ):
                vector, hits = await self._while_embedding(user_id, query, tsq, filters, reader)
            else:
                if vector is None:
                    vector = await self._query_vector(query)
                hits = await self._candidates(user_id, vector, tsq, filters, reader=reader)
            # In the order of their ids, whichever way they were fetched: ranking keeps the
            # candidates' order among equal scores (rows saying the same words), so one
            # statement and two must hand them over alike to serve the same k.
            hits.sort(key=lambda hit: hit.id)
            return hits + await self._bridge(
                user_id, query, vector, hits, filters, now, reader=reader
            )

    def _known_vector(self, query: str) -> Sequence[float] | None:
        """The query's vector if the process holds it (searched or screened a moment
        ago): then there is no embedding time to fill."""
        recent = getattr(self._embedder, "recent", None)
        return None if recent is None else recent(query, task="query")

    async def _while_embedding(
        self, user_id: str, query: str, tsq: str, filters: SearchFilters, reader: LazyReader
    ) -> tuple[Sequence[float] | None, list[Hit]]:
        """The query's vector and the candidates, the full-text side run while it is embedded.

        A query the process has not embedded waits for the embedder (a few ms of one
        core) before the dense side can start; the full-text side needs no vector, so
        its statement runs on a second connection meanwhile and the dense side follows
        alone on ``reader``. Two statements instead of one, each side's as in the single statement,
        so the candidates and their scores are the same. The vector side failing leaves
        the full-text candidates (as in ``_candidates``); the full-text side failing
        fails the search.
        """
        own_index = await self.own_indexes.has(user_id)
        common = self.common_words.get(user_id) if own_index else ()
        text_side = asyncio.create_task(
            self._fetch(user_id, None, tsq, filters, own_index=own_index, common=common)
        )
        try:
            vector = await self._query_vector(query)
            dense: list[Hit] = []
            if vector is not None:
                try:
                    dense = await self._fetch(
                        user_id, vector, None, filters, own_index=own_index, reader=reader
                    )
                except Exception as exc:
                    log.warning("vector search failed, full-text only: %s", exc)
            sparse = await text_side
        finally:
            if not text_side.done():
                text_side.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await text_side
        return vector, _merged(dense, sparse)

    async def _fetch(
        self,
        user_id: str,
        vector: Sequence[float] | None,
        tsq: str | None,
        filters: SearchFilters,
        *,
        own_index: bool,
        common: Sequence[str] = (),
        reader: LazyReader | None = None,
    ) -> list[Hit]:
        async with self._using(reader) as conn:
            return await fetch_candidates(
                conn, user_id=user_id, vector=vector, tsquery=tsq, filters=filters,
                with_vectors=_NEEDS_VECTORS, pool=POOL, own_index=own_index,
                common_words=common,
            )  # fmt: skip

    async def _bridge(
        self,
        user_id: str,
        query: str,
        vector: Sequence[float] | None,
        hits: list[Hit],
        filters: SearchFilters,
        now: datetime,
        *,
        reader: LazyReader | None = None,
    ) -> list[Hit]:
        """Second hop: memories about the names the best facts introduce.

        "Where does Maya's sister live?" finds "Maya's sister is named Ana"; the answer
        is in "Ana lives in Porto", which shares no word with the question. Such linked
        memories join the candidates as a strong keyword match.
        """
        # Only a fact naming someone ("… is named Ana") can start a second hop; with none
        # among the candidates, the ranking that picks the top five facts is skipped.
        if not any(h.memory_type == "semantic" and _NAMED.search(h.content) for h in hits):
            return []
        # The names come from the facts that match the question themselves: the spread
        # would let the turns around a fact push it out of these five places.
        names = bridge_names(_rank(list(hits), query=query, now=now, k=5, spread=False), query)
        if not names:
            return []
        try:
            async with self._using(reader) as conn:
                linked = await fetch_candidates(
                    conn, user_id=user_id, vector=None, tsquery=" | ".join(names),
                    filters=filters, pool=20, own_index=await self.own_indexes.has(user_id),
                )  # fmt: skip
        except Exception as exc:
            log.info("second hop failed: %s", exc)
            return []
        known = {h.id: h for h in hits}
        top_rank = max((h.text_rank or 0.0 for h in hits), default=0.0) or 1.0
        extra = []
        for hit in linked:
            if hit.id in known:  # already a candidate: the link lifts its keyword score
                first = known[hit.id]
                first.text_rank = max(first.text_rank or 0.0, 0.8 * top_rank)
                continue
            hit.similarity = cosine(vector, hit.vector) if vector is not None else None
            hit.text_rank = 0.8 * top_rank
            extra.append(hit)
        return extra

    @asynccontextmanager
    async def _using(self, reader: LazyReader | None) -> AsyncIterator[AsyncConnection]:
        """``reader``'s connection, or one of its own for a single statement."""
        async with contextlib.AsyncExitStack() as stack:
            if reader is None:
                reader = await stack.enter_async_context(self.reader())
            async with reader.use() as conn:
                yield conn

    async def _candidates(
        self,
        user_id: str,
        vector: Sequence[float] | None,
        tsq: str | None,
        filters: SearchFilters,
        *,
        reader: LazyReader | None = None,
    ) -> list[Hit]:
        own_index = await self.own_indexes.has(user_id)
        common = self.common_words.get(user_id) if own_index and tsq is not None else ()
        try:
            return await self._fetch(
                user_id, vector, tsq, filters, own_index=own_index, common=common, reader=reader
            )
        except Exception as exc:
            if vector is None:
                raise
            # Vector search down (index, extension, dimension) → full-text only.
            log.warning("vector search failed, full-text only: %s", exc)
            return await self._fetch(
                user_id, None, tsq, filters, own_index=own_index, common=common, reader=reader
            )

    async def recent(self, *, user_id: str, k: int, filters: SearchFilters) -> list[Hit]:
        """The user's newest memories (the last fallback), scored by position."""
        query = select(Memory).where(Memory.user_id == user_id, store.visible_to_active(user_id))
        if not filters.include_superseded:
            query = query.where(Memory.invalid_at.is_(None))
        if filters.memory_types:
            query = query.where(Memory.memory_type.in_(filters.memory_types))
        async with self._db.session() as session:
            rows = (await session.scalars(query.order_by(Memory.created_at.desc()).limit(k))).all()
        return [
            Hit(
                id=row.id, content=row.content, memory_type=row.memory_type,
                importance=row.importance, created_at=row.created_at,
                valid_from=row.valid_from, invalid_at=row.invalid_at, event_at=row.event_at,
                source_message_ids=list(row.source_message_ids),
                source_external_ids=list(row.source_external_ids), speaker=row.speaker,
                document_id=row.document_id, vector=None,
                similarity=None, text_rank=None, score=1.0 / (i + 1), reasons=["recent"],
            )
            for i, row in enumerate(rows)
        ]  # fmt: skip
