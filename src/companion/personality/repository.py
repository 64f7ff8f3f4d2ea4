"""SQL for the personality domain: a person's companions and each companion's rows.

Companion rows are found by ``user_id`` (the active one, or a given ``companion_id``
owned by that person, so nobody reaches another person's companion); the state,
needs, quirks and style rows are keyed by ``companion_id``. Writers of versioned rows
(``personality_state``, ``style_trait_versions``) must hold the companion row lock
(``lock_companion``): it serialises changes per companion, so the flip of the old
current row and the insert of the new one never race.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from companion.errors import NotFound
from companion.personality.core.needs import INITIAL_LEVEL, NEED_RATES, SATISFACTION_RATES
from companion.personality.core.presets import BIG_FIVE_TRAITS, BigFive
from companion.personality.core.style import STYLE_TRAITS
from companion.personality.models import Need, PersonalityState, Quirk, StyleTraitVersion
from companion.store import driver
from companion.store.models import CompanionProfile, Interaction, JobUserMark, User
from companion.store.repositories import users
from companion.types import PAD

__all__ = [
    "CurrentState",
    "NeedRow",
    "Persona",
    "QuirkRow",
    "TurnMood",
    "add_companion_rows",
    "create_companion",
    "current_state",
    "current_style",
    "get_companion",
    "get_needs",
    "get_quirks",
    "has_companion",
    "insert_state",
    "insert_style",
    "list_companion_users",
    "list_companions",
    "lock_companion",
    "lock_companion_id",
    "mark_done",
    "persona",
    "persona_alongside",
    "recent_interactions_since",
    "state_history",
    "style_history",
    "turn_companion_id",
    "turn_mood",
    "write_mood",
]


async def create_companion(
    session: AsyncSession,
    *,
    user_id: str,
    preset: str,
    big_five: BigFive,
    baseline: PAD,
    emotion: str,
    style: dict[str, int],
    speed: str,
    now: datetime,
) -> bool:
    """Create the person's first, active companion with its rows; ``False`` if they had one.

    ``ON CONFLICT DO NOTHING`` on the one-active-companion index waits for a concurrent
    creator to commit, so exactly one caller creates the rows.
    """
    await users.ensure_user(session, user_id=user_id)
    result = await session.execute(
        insert(CompanionProfile)
        .values(
            user_id=user_id,
            preset=preset,
            style_speed=speed,
            created_at=now,
            is_active=True,
            **big_five.to_dict(),
        )
        .on_conflict_do_nothing(
            index_elements=[CompanionProfile.user_id],
            index_where=text("is_active"),
        )
        .returning(CompanionProfile.id)
    )
    companion_id = result.scalar()
    if companion_id is None:
        return False
    companion = await session.get(CompanionProfile, companion_id)
    assert companion is not None
    add_companion_rows(
        session, companion=companion, baseline=baseline, emotion=emotion, style=style, now=now
    )
    await session.flush()
    return True


def add_companion_rows(
    session: AsyncSession,
    *,
    companion: CompanionProfile,
    baseline: PAD,
    emotion: str,
    style: dict[str, int],
    now: datetime,
) -> None:
    """A new companion's first state (mood at its baseline), needs and style version."""
    owner = {"user_id": companion.user_id, "companion_id": companion.id}
    big_five = {t: getattr(companion, t) for t in BIG_FIVE_TRAITS}
    session.add(
        PersonalityState(
            **owner,
            timestamp=now,
            **big_five,
            **baseline.to_dict(),
            pad_baseline=baseline.to_dict(),
            emotion_label=emotion,
            is_current=True,
            trigger_event="created",
        )
    )
    for need, rate in NEED_RATES.items():
        session.add(
            Need(
                **owner,
                need_type=need,
                current_level=INITIAL_LEVEL,
                baseline_level=INITIAL_LEVEL,
                decay_rate=rate,
                satisfaction_rate=SATISFACTION_RATES[need],
                last_updated=now,
            )
        )
    session.add(
        StyleTraitVersion(
            **owner,
            version=1,
            **style,
            reason="initial style (HER's defaults)",
            source="initial",
            diff={},
            is_current=True,
            created_at=now,
        )
    )


def _owned(user_id: str, companion_id: int | None) -> Select[CompanionProfile]:
    """The person's companion ``companion_id``, or their active one (``None``)."""
    query = select(CompanionProfile).where(CompanionProfile.user_id == user_id)
    if companion_id is None:
        return query.where(CompanionProfile.is_active)
    return query.where(CompanionProfile.id == companion_id)


def _missing(user_id: str, companion_id: int | None) -> NotFound:
    if companion_id is None:
        return NotFound(f"no companion for user {user_id!r}")
    return NotFound(f"user {user_id!r} has no companion {companion_id}")


async def get_companion(
    session: AsyncSession, *, user_id: str, companion_id: int | None = None
) -> CompanionProfile:
    """The person's active companion (or their companion ``companion_id``), or ``NotFound``."""
    row = await session.scalar(
        _owned(user_id, companion_id).execution_options(populate_existing=True)
    )
    if row is None:
        raise _missing(user_id, companion_id)
    return row


async def lock_companion(
    session: AsyncSession, *, user_id: str, companion_id: int | None = None
) -> CompanionProfile:
    """The companion row (active unless ``companion_id``), locked until the transaction
    ends: the per-companion write mutex."""
    row = await session.scalar(
        _owned(user_id, companion_id).with_for_update().execution_options(populate_existing=True)
    )
    if row is None:
        raise _missing(user_id, companion_id)
    return row


#: ``lock_companion_id``'s statements (the active companion, or one by id), built once.
_LOCK_ACTIVE = driver.DriverStatement(
    "the active companion locked",
    select(CompanionProfile.id)
    .where(CompanionProfile.user_id == bindparam("owner"), CompanionProfile.is_active)
    .with_for_update(),
)
_LOCK_ONE = driver.DriverStatement(
    "the companion locked",
    select(CompanionProfile.id)
    .where(
        CompanionProfile.user_id == bindparam("owner"),
        CompanionProfile.id == bindparam("companion"),
    )
    .with_for_update(),
)


async def lock_companion_id(
    session: AsyncSession, *, user_id: str, companion_id: int | None = None
) -> int:
    """``lock_companion`` for the turn path: the same row lock, only the id read back
    (no ORM object: loading one cost more CPU than the lock)."""
    if companion_id is None:
        found = await driver.fetchrow(session, _LOCK_ACTIVE, {"owner": user_id})
    else:
        found = await driver.fetchrow(
            session, _LOCK_ONE, {"owner": user_id, "companion": companion_id}
        )
    if found is None:
        raise _missing(user_id, companion_id)
    return int(found[0])


async def list_companions(session: AsyncSession, *, user_id: str) -> Sequence[CompanionProfile]:
    """Every companion of the person, oldest first."""
    query = (
        select(CompanionProfile)
        .where(CompanionProfile.user_id == user_id)
        .order_by(CompanionProfile.created_at, CompanionProfile.id)
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def has_companion(session: AsyncSession, *, user_id: str) -> bool:
    """Whether the person has an active companion (every person with one has one active)."""
    found = await session.scalar(
        select(CompanionProfile.id).where(
            CompanionProfile.user_id == user_id, CompanionProfile.is_active
        )
    )
    return found is not None


async def turn_companion_id(session: AsyncSession, interaction_id: int) -> int | None:
    """The companion whose state the stored turn started from (``None``: unknown)."""
    return await session.scalar(
        select(PersonalityState.companion_id)
        .join(Interaction, Interaction.personality_snapshot_id == PersonalityState.id)
        .where(Interaction.id == interaction_id)
    )


async def current_state(session: AsyncSession, *, companion_id: int) -> PersonalityState:
    """The companion's one current ``personality_state`` row."""
    row = await session.scalar(
        select(PersonalityState)
        .where(PersonalityState.companion_id == companion_id, PersonalityState.is_current)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"no personality state for companion {companion_id}")
    return row


async def insert_state(
    session: AsyncSession,
    *,
    companion: CompanionProfile,
    big_five: dict[str, float],
    pad: PAD,
    baseline: PAD,
    emotion: str,
    trigger: str,
    now: datetime,
    session_id: Any = None,
) -> PersonalityState:
    """Flip the companion's current row and insert the new current one."""
    await session.execute(
        update(PersonalityState)
        .where(PersonalityState.companion_id == companion.id, PersonalityState.is_current)
        .values(is_current=False)
    )
    row = PersonalityState(
        user_id=companion.user_id,
        companion_id=companion.id,
        timestamp=now,
        **big_five,
        **pad.clamped().to_dict(),
        pad_baseline=baseline.clamped().to_dict(),
        emotion_label=emotion,
        is_current=True,
        trigger_event=trigger[:100],
        session_id=session_id,
    )
    session.add(row)
    await session.flush()
    return row


async def state_history(
    session: AsyncSession,
    *,
    companion_id: int,
    limit: int = 100,
    offset: int = 0,
    since: datetime | None = None,
) -> Sequence[PersonalityState]:
    """The companion's personality states, newest first."""
    query = select(PersonalityState).where(PersonalityState.companion_id == companion_id)
    if since is not None:
        query = query.where(PersonalityState.timestamp >= since)
    query = query.order_by(PersonalityState.timestamp.desc(), PersonalityState.id.desc())
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def get_needs(session: AsyncSession, *, companion_id: int) -> Sequence[Need]:
    """The companion's needs in a fixed order."""
    query = select(Need).where(Need.companion_id == companion_id).order_by(Need.need_type)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def get_quirks(
    session: AsyncSession, *, companion_id: int, active_only: bool = False
) -> Sequence[Quirk]:
    """The companion's quirks, strongest first."""
    query = select(Quirk).where(Quirk.companion_id == companion_id)
    if active_only:
        query = query.where(Quirk.is_active)
    query = query.order_by(Quirk.strength.desc(), Quirk.name)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def current_style(session: AsyncSession, *, companion_id: int) -> StyleTraitVersion:
    """The companion's current style-trait version."""
    row = await session.scalar(
        select(StyleTraitVersion)
        .where(StyleTraitVersion.companion_id == companion_id, StyleTraitVersion.is_current)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"no style traits for companion {companion_id}")
    return row


async def insert_style(
    session: AsyncSession,
    *,
    companion: CompanionProfile,
    traits: dict[str, int],
    reason: str,
    source: str,
    diff: dict[str, Any],
    now: datetime,
) -> StyleTraitVersion:
    """Flip the current style version and insert ``version + 1``."""
    previous = await current_style(session, companion_id=companion.id)
    previous.is_current = False
    await session.flush()
    row = StyleTraitVersion(
        user_id=companion.user_id,
        companion_id=companion.id,
        version=previous.version + 1,
        **traits,
        reason=reason[:2000],
        source=source,
        diff=diff,
        is_current=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def style_history(
    session: AsyncSession, *, companion_id: int, limit: int = 100, offset: int = 0
) -> Sequence[StyleTraitVersion]:
    """The companion's style versions, newest first."""
    query = (
        select(StyleTraitVersion)
        .where(StyleTraitVersion.companion_id == companion_id)
        .order_by(StyleTraitVersion.version.desc())
    )
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def recent_interactions_since(
    session: AsyncSession, *, companion: CompanionProfile, since: datetime, until: datetime
) -> Sequence[Interaction]:
    """The companion's interactions in ``[since, until)``, oldest first.

    A turn belongs to the companion whose state it started from; a turn without that
    link (proactive, or its state pruned) counts for the person's active companion.
    """
    snapshot = aliased(PersonalityState)
    owner = snapshot.companion_id == companion.id
    query = (
        select(Interaction)
        .outerjoin(snapshot, snapshot.id == Interaction.personality_snapshot_id)
        .where(
            Interaction.user_id == companion.user_id,
            Interaction.timestamp >= since,
            Interaction.timestamp < until,
            or_(owner, snapshot.id.is_(None)) if companion.is_active else owner,
        )
        .order_by(Interaction.timestamp, Interaction.id)
    )
    return (await session.scalars(query)).all()


async def list_companion_users(session: AsyncSession) -> list[str]:
    """Every user that has a companion (for the jobs)."""
    query = (
        select(CompanionProfile.user_id)
        .where(CompanionProfile.is_active)
        .order_by(CompanionProfile.user_id)
    )
    return list((await session.scalars(query)).all())


async def mark_done(session: AsyncSession, *, job: str, period: str, user_id: str) -> bool:
    """Claim ``(job, period, user)``; ``False`` if it was already done (idempotency)."""
    result = await session.execute(
        insert(JobUserMark)
        .values(job_name=job, period_key=period, user_id=user_id)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- the turn path: the persona in one read, the mood in a few writes ----------------


@dataclass(frozen=True)
class NeedRow:
    """A need as the turn path reads it (its level grows lazily from ``last_updated``)."""

    id: int
    need_type: str
    current_level: float
    last_updated: datetime
    satisfaction_rate: float
    satisfaction_count: int


@dataclass(frozen=True)
class QuirkRow:
    """An active quirk as the turn path reads it."""

    id: int
    name: str
    strength: float


@dataclass(frozen=True)
class CurrentState:
    """A companion's current state row as the turn path reads it (no ORM object)."""

    id: int
    timestamp: datetime
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    pleasure: float
    arousal: float
    dominance: float
    pad_baseline: dict[str, Any]


@dataclass(frozen=True)
class Persona:
    """What a turn's state is made of, read in one statement (``persona``)."""

    companion_id: int
    name: str
    preset: str
    #: The character card the companion was made from, if any.
    card: dict[str, Any] | None
    state: CurrentState
    style: dict[str, int]
    needs: list[NeedRow]
    #: Active quirks, strongest first.
    quirks: list[QuirkRow]
    timezone: str
    last_talk: datetime | None


@dataclass(frozen=True)
class TurnMood:
    """The locked companion's current state, needs and active quirks (``turn_mood``)."""

    big_five: dict[str, float]
    baseline: dict[str, Any]
    needs: list[NeedRow]
    quirks: list[QuirkRow]


def _needs_json(owner: Any) -> Any:
    """The needs of companion ``owner`` as one JSON array (by type), for one round trip."""
    row = func.json_build_array(
        Need.id, Need.need_type, Need.current_level, Need.last_updated,
        Need.satisfaction_rate, Need.satisfaction_count,
    )  # fmt: skip
    aggregated = func.json_agg(aggregate_order_by(row, Need.need_type))
    return (
        select(func.coalesce(aggregated, literal_column("'[]'::json")))
        .where(Need.companion_id == owner)
        .scalar_subquery()
    )


def _quirks_json(owner: Any) -> Any:
    """The active quirks of companion ``owner`` as one JSON array, strongest first."""
    row = func.json_build_array(Quirk.id, Quirk.name, Quirk.strength)
    aggregated = func.json_agg(aggregate_order_by(row, Quirk.strength.desc(), Quirk.name))
    return (
        select(func.coalesce(aggregated, literal_column("'[]'::json")))
        .where(Quirk.companion_id == owner, Quirk.is_active)
        .scalar_subquery()
    )


def _need_rows(value: Any) -> list[NeedRow]:
    rows = json.loads(value) if isinstance(value, str) else value
    return [
        NeedRow(int(i), str(kind), float(level), datetime.fromisoformat(at), float(rate), int(n))
        for i, kind, level, at, rate, n in rows
    ]


def _quirk_rows(value: Any) -> list[QuirkRow]:
    rows = json.loads(value) if isinstance(value, str) else value
    return [QuirkRow(int(i), str(name), float(strength)) for i, name, strength in rows]


#: The person's active companion with its current state and style, needs, active
#: quirks, the person's timezone and their last exchange: seven reads in one.
_STATE_READ = (
    PersonalityState.id, PersonalityState.timestamp,
    *(getattr(PersonalityState, t) for t in BIG_FIVE_TRAITS),
    PersonalityState.pleasure, PersonalityState.arousal, PersonalityState.dominance,
    PersonalityState.pad_baseline,
)  # fmt: skip
_PERSONA = driver.DriverStatement(
    "the persona",
    select(
        CompanionProfile.id,
        CompanionProfile.name,
        CompanionProfile.preset,
        CompanionProfile.card,
        *_STATE_READ,
        *(getattr(StyleTraitVersion, t) for t in STYLE_TRAITS),
        _needs_json(CompanionProfile.id).label("needs"),
        _quirks_json(CompanionProfile.id).label("quirks"),
        User.timezone,
        select(Interaction.timestamp)
        .where(Interaction.user_id == CompanionProfile.user_id)
        .order_by(Interaction.timestamp.desc())
        .limit(1)
        .scalar_subquery()
        .label("last_talk"),
    )
    .join(
        PersonalityState,
        and_(PersonalityState.companion_id == CompanionProfile.id, PersonalityState.is_current),
    )
    .join(
        StyleTraitVersion,
        and_(StyleTraitVersion.companion_id == CompanionProfile.id, StyleTraitVersion.is_current),
    )
    .join(User, User.id == CompanionProfile.user_id)
    .where(CompanionProfile.user_id == bindparam("owner"), CompanionProfile.is_active),
)


async def persona(session: AsyncSession | AsyncConnection, *, user_id: str) -> Persona | None:
    """The person's active companion and what its state is made of (``None``: none yet)."""
    row = await driver.fetchrow(session, _PERSONA, {"owner": user_id})
    return None if row is None else _persona_of(row, 0)


def _persona_of(row: Sequence[Any], at: int) -> Persona | None:
    """The persona in ``row`` from column ``at`` on (``None``: the companion is absent)."""
    if row[at] is None:
        return None
    state_at = at + 4
    style_at = state_at + len(_STATE_READ)
    needs_at = style_at + len(STYLE_TRAITS)
    return Persona(
        companion_id=int(row[at]),
        name=row[at + 1],
        preset=row[at + 2],
        card=row[at + 3],
        state=CurrentState(*row[state_at:style_at]),
        style={t: int(row[style_at + i]) for i, t in enumerate(STYLE_TRAITS)},
        needs=_need_rows(row[needs_at]),
        quirks=_quirk_rows(row[needs_at + 1]),
        timezone=row[needs_at + 2] or "UTC",
        last_talk=row[needs_at + 3],
    )


def _with_persona(lead: Select[Any]) -> driver.DriverStatement:
    """``lead``'s columns, then ``persona``'s, in one select (made once per ``lead``)."""
    head = lead.subquery("head")
    found = cast(Select[Any], _PERSONA.statement).lateral("persona")
    statement = select(head, found).select_from(head.outerjoin(found, true()))
    return driver.DriverStatement("the persona and", statement)


async def persona_alongside(
    conn: AsyncSession | AsyncConnection,
    *,
    lead: Select[Any],
    params: dict[str, Any],
    columns: int,
) -> tuple[Sequence[Any], Persona | None] | None:
    """The caller's one-row ``lead`` select and the persona of the user named by its
    ``owner`` parameter, in ONE statement: the lead's ``columns`` values and the persona
    (``None``: none yet), or ``None`` when the lead finds no row."""
    statement = driver.made_from(lead, "the persona and", _with_persona)
    row = await driver.fetchrow(conn, statement, params)
    if row is None:
        return None
    return tuple(row[:columns]), _persona_of(row, columns)


_TURN_MOOD = driver.DriverStatement(
    "the locked companion's mood",
    select(
        *(getattr(PersonalityState, t) for t in BIG_FIVE_TRAITS),
        PersonalityState.pad_baseline,
        _needs_json(PersonalityState.companion_id).label("needs"),
        _quirks_json(PersonalityState.companion_id).label("quirks"),
    ).where(PersonalityState.companion_id == bindparam("companion"), PersonalityState.is_current),
)


async def turn_mood(session: AsyncSession, *, companion_id: int) -> TurnMood:
    """The current state, needs and active quirks of a companion the caller has locked.

    A statement of its own after the lock (``lock_companion``): under READ COMMITTED its
    snapshot is taken after the lock is granted, so it sees what the previous holder wrote.
    """
    row = await driver.fetchrow(session, _TURN_MOOD, {"companion": companion_id})
    if row is None:
        raise NotFound(f"no personality state for companion {companion_id}")
    return TurnMood(
        big_five={t: float(row[i]) for i, t in enumerate(BIG_FIVE_TRAITS)},
        baseline=dict(row["pad_baseline"]),
        needs=_need_rows(row["needs"]),
        quirks=_quirk_rows(row["quirks"]),
    )


_STATE_COLUMNS = ("user_id", "companion_id", "timestamp", *BIG_FIVE_TRAITS,
                  "pleasure", "arousal", "dominance", "pad_baseline", "emotion_label",
                  "trigger_event", "session_id")  # fmt: skip
_STATE_CASTS = {
    "user_id": "text", "companion_id": "bigint", "timestamp": "timestamptz",
    "pad_baseline": "jsonb", "emotion_label": "text", "trigger_event": "text",
    "session_id": "uuid",
}  # fmt: skip
#: A turn's mood in one statement: the flip of the current state row and the new
#: current row (what ``insert_state`` does; the insert reads the flip's count, so the
#: flip runs first and the unique current-row index sees the old row flipped), the
#: needs' new levels, and the quirks the reply showed.
_WRITE_MOOD = text(
    "WITH flipped AS (UPDATE personality_state SET is_current = false "
    "WHERE companion_id = CAST(:companion_id AS bigint) AND is_current RETURNING id), "
    "settled AS (UPDATE needs AS n SET current_level = v.level, last_updated = v.updated, "
    "satisfaction_count = n.satisfaction_count + CASE WHEN v.satisfied THEN 1 ELSE 0 END, "
    "last_satisfied = CASE WHEN v.satisfied THEN CAST(:timestamp AS timestamptz) "
    "ELSE n.last_satisfied END "
    "FROM unnest(CAST(:need_ids AS bigint[]), CAST(:need_levels AS float8[]), "
    "CAST(:need_updated AS timestamptz[]), CAST(:need_satisfied AS boolean[])) "
    "AS v(id, level, updated, satisfied) WHERE n.id = v.id), "
    "observed AS (UPDATE quirks SET last_observed = CAST(:timestamp AS timestamptz), "
    "observation_count = observation_count + 1 "
    "WHERE id = ANY(CAST(:quirk_ids AS bigint[]))) "
    f"INSERT INTO personality_state ({', '.join(_STATE_COLUMNS)}, is_current) "
    "SELECT "
    + ", ".join(f"CAST(:{c} AS {_STATE_CASTS.get(c, 'float8')})" for c in _STATE_COLUMNS)
    + ", true FROM (SELECT count(*) FROM flipped) AS done"
).bindparams(bindparam("pad_baseline", type_=JSONB))
_RUN_WRITE_MOOD = driver.DriverStatement("the turn's mood, needs and quirks", _WRITE_MOOD)


async def write_mood(
    session: AsyncSession,
    *,
    user_id: str,
    companion_id: int,
    big_five: dict[str, float],
    pad: PAD,
    baseline: PAD,
    emotion: str,
    now: datetime,
    session_id: Any,
    needs: Sequence[tuple[int, float, datetime, bool]],
    observed: Sequence[int],
) -> None:
    """A turn's mood, needs and quirk observations in one round trip (the companion
    locked by the caller).

    The new state row is what ``insert_state`` writes with trigger ``turn``; ``needs``
    are ``(id, level, last_updated, satisfied)`` (a satisfied need also counts the
    satisfaction and its time); ``observed`` are the quirks seen in the reply.
    """
    await driver.execute(
        session,
        _RUN_WRITE_MOOD,
        {
            "user_id": user_id,
            "companion_id": companion_id,
            "timestamp": now,
            **big_five,
            **pad.clamped().to_dict(),
            "pad_baseline": baseline.clamped().to_dict(),
            "emotion_label": emotion,
            "trigger_event": "turn",
            "session_id": session_id,
            "need_ids": [i for i, _, _, _ in needs],
            "need_levels": [level for _, level, _, _ in needs],
            "need_updated": [at for _, _, at, _ in needs],
            "need_satisfied": [done for _, _, _, done in needs],
            "quirk_ids": list(observed),
        },
    )
