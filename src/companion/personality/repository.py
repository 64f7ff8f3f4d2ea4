"""SQL for the personality domain: a person's companions and each companion's rows.

Companion rows are found by ``user_id`` (the active one, or a given ``companion_id``
owned by that person, so nobody reaches another person's companion); the state,
needs, quirks and style rows are keyed by ``companion_id``. Writers of versioned rows
(``personality_state``, ``style_trait_versions``) must hold the companion row lock
(``lock_companion``): it serialises changes per companion, so the flip of the old
current row and the insert of the new one never race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from companion.errors import NotFound
from companion.personality.core.needs import INITIAL_LEVEL, NEED_RATES, SATISFACTION_RATES
from companion.personality.core.presets import BIG_FIVE_TRAITS, BigFive
from companion.personality.models import Need, PersonalityState, Quirk, StyleTraitVersion
from companion.store.models import CompanionProfile, Interaction, JobUserMark, User
from companion.store.repositories import users
from companion.types import PAD

__all__ = [
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
    "mark_done",
    "recent_interactions_since",
    "state_history",
    "style_history",
    "turn_companion_id",
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


async def talk_context(session: AsyncSession, *, user_id: str) -> tuple[str, datetime | None]:
    """The user's timezone and the time of their latest stored exchange (if any)."""
    zone = await session.scalar(select(User.timezone).where(User.id == user_id))
    last = await session.scalar(
        select(Interaction.timestamp)
        .where(Interaction.user_id == user_id)
        .order_by(Interaction.timestamp.desc())
        .limit(1)
    )
    return zone or "UTC", last
