"""The write path of a live turn: short-term buffer, episodic memory, facts (queued).

The pipeline adds a stored turn to the buffer at once; the episodic memory and facts
come from the durable work queue (``remember`` runs once per turn, however often it is
called). A flagged turn (security) is never stored as memory, and its text does not
enter the short-term buffer either (it would be replayed into the next prompt).
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    insert,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from companion.conversation.ports import ShortTermTurn, TurnRecord
from companion.llm.base import Embedder, RoleModel
from companion.memory import store
from companion.memory.context import Turn, context_text, embedding_text, mix_neighbours
from companion.memory.facts import ExtractedFact, extract_facts, last_entity
from companion.memory.facts_writer import Provenance, apply_fact, apply_facts, content_hash
from companion.memory.importance import heuristic_importance
from companion.memory.llm_paths import llm_facts, llm_importance
from companion.memory.models import Memory
from companion.store import driver
from companion.store.database import Database
from companion.store.kv import KeyValueStore, LockHold, glob_escape, overflow
from companion.store.repositories.recent import MESSAGE_BEFORE

__all__ = ["MemoryWriter", "ShortTermBuffer", "TurnContext", "turn_contexts"]

log = logging.getLogger(__name__)

#: Importance scores are cached for a week .
_IMPORTANCE_TTL = 7 * 86400


class ShortTermBuffer:
    """The last turns per conversation in the key-value store, dropped in blocks.

    It keeps at most ``keep`` lines (user and assistant). When full it drops its oldest
    ``drop`` lines at once (default: half of it, whole exchanges), not one exchange per
    turn: the history at the start of the prompt then stays the same for several turns,
    so the model's prompt cache (the embedded model's KV cells, a hosted provider's
    prompt caching) covers it instead of reading it all again each turn.
    """

    def __init__(self, kv: KeyValueStore, *, keep: int, ttl: int, drop: int | None = None) -> None:
        self._kv, self._keep, self._ttl = kv, keep, ttl
        half = max(2, (keep // 2) // 2 * 2)  # whole exchanges: an even number of lines
        self._drop = max(1, min(keep, half if drop is None else drop))

    @property
    def keep(self) -> int:
        """How many lines (user and assistant) the buffer keeps at most."""
        return self._keep

    @property
    def drop(self) -> int:
        """How many of the oldest lines go at once when the buffer is full."""
        return self._drop

    def carried(self, lines: int, added: int = 2) -> int:
        """Of ``lines`` lines read now, how many are still there after ``added`` more
        are pushed one by one (what the next turn reads of this turn's history)."""
        length = lines
        for _ in range(added):
            length += 1
            length -= overflow(length, self._keep, self._drop)
        return max(0, min(lines, length - added))

    @staticmethod
    def key(user_id: str, conversation_id: object) -> str:
        """Per-user key (under the ``user:{user_id}:`` prefix)."""
        return f"user:{user_id}:st:{conversation_id}"

    async def push(
        self, user_id: str, conversation_id: object, role: str, content: str, at: datetime
    ) -> None:
        """Append one line (newest last); a full buffer drops its oldest ``drop`` lines."""
        await self.push_lines(user_id, conversation_id, [(role, content)], at)

    async def push_lines(
        self,
        user_id: str,
        conversation_id: object,
        lines: Sequence[tuple[str, str]],
        at: datetime,
        *,
        release: LockHold | None = None,
    ) -> None:
        """Append ``(role, content)`` lines in order, in one round trip (which also gives
        back ``release``, a held lock, where the store can: ``KeyValueStore.push_recent``)."""
        stamp = at.isoformat()
        values = [json.dumps({"role": r, "content": c, "at": stamp}) for r, c in lines]
        await self._kv.push_recent(
            self.key(user_id, conversation_id),
            *values,
            keep=self._keep,
            ttl=self._ttl,
            drop=self._drop,
            release=release,
        )

    async def read(
        self, user_id: str, conversation_id: object, *, since: datetime | None
    ) -> list[ShortTermTurn]:
        """Lines written after ``since`` (the conversation's last reset), oldest first."""
        turns = []
        for raw in await self._kv.recent(self.key(user_id, conversation_id)):
            item = json.loads(raw)
            if since is not None and datetime.fromisoformat(item["at"]) <= since:
                continue
            turns.append(ShortTermTurn(role=item["role"], content=item["content"]))
        return turns

    async def clear(self, user_id: str, conversation_id: object | None = None) -> int:
        """Forget one conversation's buffer, or all of the user's."""
        if conversation_id is not None:
            return await self._kv.delete(self.key(user_id, conversation_id))
        return await self._kv.delete_pattern(f"user:{glob_escape(user_id)}:st:*")


@dataclass(frozen=True)
class _Plan:
    """One turn's memory work before its vectors: what it stores and what to embed."""

    record: TurnRecord
    speaker: str
    importance: float
    facts: list[ExtractedFact]
    content: str
    context: str
    before: list[str]
    after: list[str]
    #: The turn (with its context if embedded so), its facts, the line before, the reply.
    texts: list[str]


class MemoryWriter:
    """Scores, extracts and stores memories for one turn or one message."""

    def __init__(
        self, db: Database, embedder: Embedder | None, kv: KeyValueStore, fast: RoleModel | None
    ) -> None:
        self._db, self._embedder, self._kv, self._fast = db, embedder, kv, fast

    @property
    def _capable(self) -> bool:
        return self._fast is not None and bool(getattr(self._fast, "capable", False))

    async def importance(self, text: str, *, user_id: str) -> float:
        """LLM score when capable (cached by text), else the heuristic.

        The heuristic is a few regular expressions, cheaper than the two Redis round
        trips a cache would cost, so only the model's scores are cached.
        """
        if not self._capable or self._fast is None:
            return heuristic_importance(text)
        key = f"imp:{content_hash(text)}"
        cached = await self._kv.get(key)
        if cached is not None:
            return float(cached)
        score = await llm_importance(self._fast, text, user_id=user_id)
        if score is None:
            score = heuristic_importance(text)
        await self._kv.set(key, str(score), ttl=_IMPORTANCE_TTL)
        return score

    async def facts(
        self, text: str, *, speaker: str, at: datetime, user_id: str, previous: str | None
    ) -> list[ExtractedFact]:
        """Facts via the LLM when capable (falling back), else the rule path."""
        if self._capable and self._fast is not None:
            found = await llm_facts(self._fast, text, speaker=speaker, at=at, user_id=user_id)
            if found is not None:
                return found
        return extract_facts(text, speaker=speaker, at=at, previous_entity=previous)

    async def embed(self, texts: Sequence[str]) -> list[list[float] | None]:
        """Document vectors, or Nones when the embedder is missing or failing.

        Each distinct text is embedded once: in a batch of one conversation's turns,
        a turn's reply is also the next turn's line before, and both are in the
        same call (the embedding cache only knows texts of earlier calls).
        """
        if not texts:
            return []
        if self._embedder is not None:
            try:
                distinct = list(dict.fromkeys(texts))
                vectors = await self._embedder.embed(distinct, task="document")
                found = dict(zip(distinct, vectors, strict=True))
                return [found[t] for t in texts]
            except Exception as exc:
                log.warning("embedding failed, storing without vectors: %s", exc)
        return [None] * len(texts)

    async def remember(
        self,
        record: TurnRecord,
        *,
        recent_user_text: str = "",
        previous: str | None = None,
        checked: bool = False,
    ) -> int:
        """Store the turn's episodic memory and its facts; return rows created.

        The episodic memory is searched with its context: the day, the line before it
        (``previous``: the conversation's message before this turn) and the companion's
        reply. Idempotent per turn: when the episodic memory of ``record.user_message_id``
        exists, nothing is written (0). Two workers on the same turn serialise on a
        transaction-level advisory lock and the second finds the first's rows.
        ``checked``: the caller has just looked (``stored``) and found nothing, so the
        early look that spares a retry the model and embedding work is skipped.
        """
        if not checked and await self._remembered(record):
            return 0
        plan = await self._plan(record, recent_user_text, previous)
        return await self._store(plan, await self.embed(plan.texts))

    async def remember_many(
        self, turns: Sequence[tuple[TurnRecord, str, str | None]]
    ) -> list[Exception | None]:
        """``remember`` for several turns (each ``(record, recent_user_text, previous)``,
        looked at by the caller and not stored): the texts of all of them in one
        embedding batch, then all of them in one transaction (one advisory-lock
        statement for their turns). If that transaction fails, each turn is written in
        its own, so one bad turn does not hold back the others. Each turn's outcome:
        ``None`` (stored, or stored by another worker) or the error that stopped it."""
        outcomes: list[Exception | None] = [None] * len(turns)
        plans: list[tuple[int, _Plan]] = []
        for n, (record, recent, previous) in enumerate(turns):
            try:
                plans.append((n, await self._plan(record, recent, previous)))
            except Exception as exc:
                outcomes[n] = exc
        vectors = await self.embed([t for _, plan in plans for t in plan.texts])
        ready: list[tuple[int, _Plan, list[list[float] | None]]] = []
        start = 0
        for n, plan in plans:
            ready.append((n, plan, vectors[start : start + len(plan.texts)]))
            start += len(plan.texts)
        if len(ready) > 1:
            try:
                async with self._db.transaction() as session:
                    await _lock_turns(session, [plan.record for _, plan, _ in ready])
                    await self._write_many(session, [(plan, own) for _, plan, own in ready])
                return outcomes
            except Exception:
                log.warning(
                    "writing a batch of turns failed; writing them one by one", exc_info=True
                )
        for n, plan, own in ready:
            try:
                await self._store(plan, own)
            except Exception as exc:
                outcomes[n] = exc
        return outcomes

    async def _plan(self, record: TurnRecord, recent_user_text: str, previous: str | None) -> _Plan:
        """What the turn stores, before any vector: importance, facts, texts to embed."""
        speaker = record.speaker or "User"
        importance = await self.importance(record.user_text, user_id=record.user_id)
        facts = await self.facts(
            record.user_text, speaker=speaker, at=record.created_at,
            user_id=record.user_id, previous=last_entity(recent_user_text),
        )  # fmt: skip
        content = f"{speaker}: {record.user_text}"
        context = context_text(record.created_at, previous, record.reply_text or None)
        before = [previous] if previous else []
        after = [record.reply_text] if record.reply_text else []
        texts = [embedding_text(content, context), *(f.content for f in facts), *before, *after]
        return _Plan(record, speaker, importance, facts, content, context, before, after, texts)

    async def _store(self, plan: _Plan, vectors: list[list[float] | None]) -> int:
        """Write the planned turn in its own transaction; rows created."""
        async with self._db.transaction() as session:
            await _lock_turns(session, [plan.record])
            return await self._write(session, plan, vectors)

    @staticmethod
    async def _write(session: AsyncSession, plan: _Plan, vectors: list[list[float] | None]) -> int:
        """Write the planned turn with its vectors (in ``plan.texts`` order) in
        ``session``, whose transaction holds the turn's advisory lock; rows created."""
        episodic, fact_vectors = await _episodic_row(session, plan, vectors)
        episodic_id = await _insert_unless_stored(session, plan.record, episodic)
        if episodic_id is None:  # another worker stored the turn first
            return 0
        return 1 + await _apply_facts(session, plan, episodic, episodic_id, fact_vectors)

    @staticmethod
    async def _write_many(
        session: AsyncSession, planned: Sequence[tuple[_Plan, list[list[float] | None]]]
    ) -> int:
        """``_write`` for several turns in ``session`` (holding all their users' locks):
        their episodic memories in one statement, then each turn's facts in the turns'
        order (a user's contradictions are decided in the order they were said, each
        fact seeing the ones before it); rows created."""
        rows = [await _episodic_row(session, plan, vectors) for plan, vectors in planned]
        stored = await _insert_episodics(session, [row for row, _ in rows])
        entries = []
        for (plan, _), (episodic, fact_vectors) in zip(planned, rows, strict=True):
            if episodic["id"] not in stored:  # another worker stored the turn first
                continue
            source = _provenance(plan, episodic, episodic["id"])
            entries += [
                (plan.record.user_id, fact, vector, source)
                for fact, vector in zip(plan.facts, fact_vectors, strict=True)
            ]
        outcomes = await apply_facts(session, entries)
        return len(stored) + sum(o.action != "merge" for o in outcomes)

    @staticmethod
    async def stored(session: AsyncSession, record: TurnRecord) -> bool:
        """Whether the turn's episodic memory is stored (in the caller's session)."""
        return await _has_episodic(session, record)

    async def _remembered(self, record: TurnRecord) -> bool:
        async with self._db.session() as session:
            return await _has_episodic(session, record)


#: Transaction-level advisory locks on the turns' users (``remember:<user>``), taken in
#: one statement in a fixed order (two writers of overlapping batches cannot deadlock on
#: them).
_LOCK_TURNS = driver.DriverStatement(
    "the turns' advisory locks",
    text(
        "SELECT count(pg_advisory_xact_lock(k)) FROM ("
        "SELECT hashtextextended(key, 0) AS k FROM unnest(CAST(:keys AS text[])) key ORDER BY 1) s"
    ),
)


async def _lock_turns(session: AsyncSession, records: Sequence[TurnRecord]) -> None:
    """Hold the turns' users' locks until the transaction ends: a second writer of a turn
    waits, then its insert (a later statement, a later snapshot) finds the first's rows;
    and two batches holding turns of one user are written one after the other, so the
    second sees the facts the first stored (its contradictions among them)."""
    keys = sorted({f"remember:{r.user_id}" for r in records})
    await driver.execute(session, _LOCK_TURNS, {"keys": keys})


_TURN_COMPANION = text(
    "SELECT c.id, c.is_private FROM interactions i "
    "JOIN personality_state ps ON ps.id = i.personality_snapshot_id "
    "JOIN companions c ON c.id = ps.companion_id WHERE i.id = :iid"
)


async def _private_companion(session: AsyncSession, record: TurnRecord) -> int | None:
    """The private companion that answered the turn, if it was one (its memories are its
    own): the companion of the state the turn started from, else the active one."""
    if record.companion_known:  # read with the turn
        return record.private_companion
    row = (await session.execute(_TURN_COMPANION, {"iid": record.interaction_id})).first()
    if row is not None:
        return int(row.id) if row.is_private else None
    return await store.active_private_companion(session, user_id=record.user_id)


def _episodic_of(record: TurnRecord) -> ColumnElement[bool]:
    """The turn's episodic memory (by its user message id)."""
    return and_(
        Memory.user_id == record.user_id,
        Memory.memory_type == "episodic",
        Memory.source_message_ids.contains([record.user_message_id]),
    )


async def _insert_unless_stored(
    session: AsyncSession, record: TurnRecord, episodic: dict[str, Any]
) -> uuid.UUID | None:
    """Insert the turn's episodic memory unless it exists, in one statement; its id, or
    ``None`` when it was there. Run under the turn's advisory lock: the statement's
    snapshot is taken after the lock, so it sees a row another worker committed."""
    row = {"id": uuid.uuid4(), **episodic}
    params = {f"v_{k}": v for k, v in row.items()}
    params.update(owner=record.user_id, sources=[record.user_message_id])
    found = await driver.fetchrow(session, _insert_episodic(tuple(row)), params)
    return None if found is None else uuid.UUID(bytes=found[0].bytes)


@functools.lru_cache(maxsize=8)
def _insert_episodic(keys: tuple[str, ...]) -> driver.DriverStatement:
    """``INSERT … SELECT <the row> WHERE NOT EXISTS <the turn's episodic memory>`` with
    the row's values as bound parameters ``v_<key>`` (a parameter named like a column
    would be taken as the INSERT's own value for it), plus ``owner`` (the user)
    and ``sources`` (the user message id as an array). Built once per set of columns:
    building it with literal values cost ~1 ms of CPU per turn."""
    columns = sa_inspect(Memory).columns  # by attribute name
    targets = [columns[k] for k in keys]
    values = select(
        *(
            cast(bindparam(f"v_{k}", type_=c.type), c.type)
            for k, c in zip(keys, targets, strict=True)
        )
    )
    stored = exists().where(
        Memory.user_id == bindparam("owner"),
        Memory.memory_type == "episodic",
        Memory.source_message_ids.contains(
            bindparam("sources", type_=columns["source_message_ids"].type)
        ),
    )
    # On the table, not the mapped class: an ORM insert given parameters is a bulk insert.
    table: Table = Memory.__table__  # type: ignore[assignment]
    return driver.DriverStatement(
        "the turn's episodic memory unless stored",
        insert(table).from_select(targets, values.where(~stored)).returning(table.c.id),
    )


async def _episodic_row(
    session: AsyncSession, plan: _Plan, vectors: list[list[float] | None]
) -> tuple[dict[str, Any], list[list[float] | None]]:
    """The turn's episodic memory row (its vector mixed with a share of the line before
    it and of the reply) and the vectors of its facts, from ``vectors`` in
    ``plan.texts`` order."""
    record, before, after = plan.record, plan.before, plan.after
    neighbours = len(before) + len(after)
    tail = vectors[len(vectors) - neighbours :]
    lines = [Turn(t, record.created_at) for t in (*before, plan.content, *after)]
    mixed = mix_neighbours(lines, [*tail[: len(before)], vectors[0], *tail[len(before) :]])
    private = await _private_companion(session, record)
    episodic = {
        "id": uuid.uuid4(), "user_id": record.user_id, "memory_type": "episodic",
        "content": plan.content, "content_hash": content_hash(plan.content),
        "embedding": mixed[len(before)], "context": plan.context,
        "importance": plan.importance, "speaker": plan.speaker,
        "conversation_id": record.conversation_id,
        "source_message_ids": [record.user_message_id], "emotion_context": record.emotion,
        "pad": record.pad_after.to_dict(), "valid_from": record.created_at,
        "created_at": record.created_at,
        "extra": {"reply_message_id": record.reply_message_id, "channel": record.channel},
        "companion_id": private,
    }  # fmt: skip
    return episodic, vectors[1 : len(vectors) - neighbours]


def _provenance(plan: _Plan, episodic: dict[str, Any], episodic_id: uuid.UUID) -> Provenance:
    """Where the turn's facts come from: its message, time, conversation, episodic memory."""
    record = plan.record
    return Provenance(
        at=record.created_at, message_ids=[record.user_message_id],
        conversation_id=record.conversation_id, episodic_id=episodic_id,
        speaker=plan.speaker, importance=plan.importance,
        companion_id=episodic["companion_id"],
    )  # fmt: skip


async def _apply_facts(
    session: AsyncSession,
    plan: _Plan,
    episodic: dict[str, Any],
    episodic_id: uuid.UUID,
    vectors: list[list[float] | None],
) -> int:
    """Reconcile and write the turn's facts in order (``apply_fact``); rows created."""
    record = plan.record
    source = _provenance(plan, episodic, episodic_id)
    created = 0
    for fact, vector in zip(plan.facts, vectors, strict=True):
        outcome = await apply_fact(
            session, user_id=record.user_id, fact=fact, vector=vector, source=source
        )
        created += outcome.action != "merge"
    return created


#: Several turns' episodic memories, each unless its turn's is stored, in one statement
#: (one row per turn from arrays of its values; each array one parameter, so one
#: prepared statement whatever the batch's size). The same columns and the same
#: "unless stored" test as ``_insert_episodic``; a turn's single source message id
#: travels as a scalar (an array of arrays would be flattened by ``unnest``).
_INSERT_EPISODICS = driver.DriverStatement(
    "a batch's episodic memories unless stored",
    text(
        "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding, "
        "context, importance, speaker, conversation_id, source_message_ids, emotion_context, "
        "pad, valid_from, created_at, metadata, companion_id) "
        "SELECT t.id, t.user_id, 'episodic', t.content, t.content_hash, t.embedding, "
        "t.context, t.importance, t.speaker, t.conversation_id, ARRAY[t.source], t.emotion, "
        "CAST(t.pad AS jsonb), t.at, t.at, CAST(t.extra AS jsonb), t.companion_id "
        "FROM unnest(CAST(:ids AS uuid[]), CAST(:users AS varchar[]), "
        "CAST(:contents AS text[]), CAST(:hashes AS varchar[]), CAST(:embeddings AS vector[]), "
        "CAST(:contexts AS text[]), CAST(:importances AS float8[]), "
        "CAST(:speakers AS varchar[]), CAST(:conversations AS uuid[]), "
        "CAST(:sources AS bigint[]), CAST(:emotions AS varchar[]), CAST(:pads AS text[]), "
        "CAST(:ats AS timestamptz[]), CAST(:extras AS text[]), CAST(:companions AS bigint[])"
        ") AS t(id, user_id, content, content_hash, embedding, context, importance, speaker, "
        "conversation_id, source, emotion, pad, at, extra, companion_id) "
        "WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.user_id = t.user_id "
        "AND m.memory_type = 'episodic' AND m.source_message_ids @> ARRAY[t.source]) "
        "RETURNING id"
    ),
)


async def _insert_episodics(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Insert the turns' episodic memory rows (``_episodic_row``'s, one turn each)
    whose turn has none stored, in one statement (run under the turns' advisory locks,
    like ``_insert_unless_stored``); the ids of those inserted."""
    if not rows:
        return set()
    found = await driver.fetch(
        session,
        _INSERT_EPISODICS,
        {
            "ids": [r["id"] for r in rows],
            "users": [r["user_id"] for r in rows],
            "contents": [r["content"] for r in rows],
            "hashes": [r["content_hash"] for r in rows],
            # Tuples: asyncpg reads a list in an array as a sub-array, a tuple as one value.
            "embeddings": [None if r["embedding"] is None else tuple(r["embedding"]) for r in rows],
            "contexts": [r["context"] for r in rows],
            "importances": [r["importance"] for r in rows],
            "speakers": [r["speaker"] for r in rows],
            "conversations": [r["conversation_id"] for r in rows],
            "sources": [r["source_message_ids"][0] for r in rows],
            "emotions": [r["emotion_context"] for r in rows],
            "pads": [json.dumps(r["pad"]) for r in rows],
            "ats": [r["created_at"] for r in rows],
            "extras": [json.dumps(r["extra"]) for r in rows],
            "companions": [r["companion_id"] for r in rows],
        },
    )
    return {uuid.UUID(bytes=row[0].bytes) for row in found}


async def _has_episodic(session: AsyncSession, record: TurnRecord) -> bool:
    """Whether the turn's episodic memory is stored (by its user message id)."""
    found = await session.scalar(select(Memory.id).where(_episodic_of(record)).limit(1))
    return found is not None


@dataclass(frozen=True)
class TurnContext:
    """What the queued memory work reads before it stores a turn."""

    #: The turn's episodic memory exists already (a retry of a stored turn).
    stored: bool
    #: The user's last messages before the turn, oldest first, joined by spaces.
    recent_user_text: str
    #: The conversation's last line before the turn (lines of flagged turns skipped).
    previous: str | None


# One round trip for the three reads of every turn of a batch: the same predicates as
# ``_has_episodic`` and ``recent.earlier_user_text``, and ``recent.MESSAGE_BEFORE`` itself
# with its parameters taken from the batch's row.
_PER_TURN = {
    ":user_id": "t.user_id",
    ":conversation_id": "t.conversation_id",
    ":before": "t.before",
}


def _per_turn(sql: str) -> str:
    for name, column in _PER_TURN.items():
        sql = sql.replace(name, column)
    return sql


_TURN_CONTEXTS = text(
    """
    SELECT
      EXISTS (
        SELECT 1 FROM memories WHERE user_id = t.user_id AND memory_type = 'episodic'
          AND source_message_ids @> ARRAY[t.before]
      ) AS stored,
      (
        SELECT string_agg(r.content, ' ' ORDER BY r.id) FROM (
          SELECT id, content FROM messages WHERE user_id = t.user_id
            AND conversation_id = t.conversation_id AND role = 'user' AND id < t.before
          ORDER BY id DESC LIMIT :limit
        ) r
      ) AS recent,
      ("""
    + _per_turn(MESSAGE_BEFORE)
    + """) AS previous
    FROM unnest(
      CAST(:user_ids AS text[]), CAST(:conversation_ids AS uuid[]), CAST(:befores AS bigint[])
    ) WITH ORDINALITY AS t(user_id, conversation_id, before, n)
    ORDER BY t.n
    """
)


async def turn_contexts(
    session: AsyncSession, records: Sequence[TurnRecord], *, limit: int
) -> list[TurnContext]:
    """For each turn: whether it is stored, the user's recent text and the line before
    (one statement for all of them), in ``records`` order."""
    if not records:
        return []
    rows = (
        await session.execute(
            _TURN_CONTEXTS,
            {
                "user_ids": [r.user_id for r in records],
                "conversation_ids": [r.conversation_id for r in records],
                "befores": [r.user_message_id for r in records],
                "limit": max(1, limit),
            },
        )
    ).all()
    return [
        TurnContext(
            stored=bool(row.stored),
            recent_user_text=str(row.recent or ""),
            previous=None if row.previous is None else str(row.previous),
        )
        for row in rows
    ]
