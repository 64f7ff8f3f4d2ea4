"""SQL for the personality domain. Every function takes ``user_id`` and filters by it.

Writers of versioned rows (``personality_state``, ``style_trait_versions``) must hold
the companion row lock (``lock_companion``): it serialises changes per user, so the
flip of the old current row and the insert of the new one never race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import NotFound
from companion.personality.core.needs import INITIAL_LEVEL, NEED_RATES, SATISFACTION_RATES
from companion.personality.core.presets import BigFive
from companion.personality.models import Need, PersonalityState, Quirk, StyleTraitVersion
from companion.store.models import CompanionProfile, Interaction, JobUserMark, User
from companion.store.repositories import users
from companion.types import PAD

__all__ = [
    "create_companion",
    "current_state",
    "current_style",
    "get_companion",
    "get_needs",
    "get_quirks",
    "insert_state",
    "insert_style",
    "list_companion_users",
    "lock_companion",
    "mark_done",
    "recent_interactions_since",
    "state_history",
    "style_history",
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
    """Create the companion with its first state, needs and style; ``False`` if it existed.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent creator to commit, so exactly one
    caller creates the rows.
    """
    await users.ensure_user(session, user_id=user_id)
    result = await session.execute(
        insert(CompanionProfile)
        .values(
            user_id=user_id, preset=preset, style_speed=speed, created_at=now, **big_five.to_dict()
        )
        .on_conflict_do_nothing(index_elements=[CompanionProfile.user_id])
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    session.add(
        PersonalityState(
            user_id=user_id,
            timestamp=now,
            **big_five.to_dict(),
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
                user_id=user_id,
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
            user_id=user_id,
            version=1,
            **style,
            reason="initial style (HER's defaults)",
            source="initial",
            diff={},
            is_current=True,
            created_at=now,
        )
    )
    await session.flush()
    return True


async def get_companion(session: AsyncSession, *, user_id: str) -> CompanionProfile:
    """The user's companion, or ``NotFound``."""
    row = await session.get(CompanionProfile, user_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no companion for user {user_id!r}")
    return row


async def lock_companion(session: AsyncSession, *, user_id: str) -> CompanionProfile:
    """The companion row, locked until the transaction ends (per-user write mutex)."""
    row = await session.scalar(
        select(CompanionProfile)
        .where(CompanionProfile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"no companion for user {user_id!r}")
    return row


async def current_state(session: AsyncSession, *, user_id: str) -> PersonalityState:
    """The one current ``personality_state`` row."""
    row = await session.scalar(
        select(PersonalityState)
        .where(PersonalityState.user_id == user_id, PersonalityState.is_current)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"no personality state for user {user_id!r}")
    return row


async def insert_state(
    session: AsyncSession,
    *,
    user_id: str,
    big_five: dict[str, float],
    pad: PAD,
    baseline: PAD,
    emotion: str,
    trigger: str,
    now: datetime,
    session_id: Any = None,
) -> PersonalityState:
    """Flip the current row and insert the new current one (DECISIONS.md#one-current-row)."""
    await session.execute(
        update(PersonalityState)
        .where(PersonalityState.user_id == user_id, PersonalityState.is_current)
        .values(is_current=False)
    )
    row = PersonalityState(
        user_id=user_id,
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
    user_id: str,
    limit: int = 100,
    offset: int = 0,
    since: datetime | None = None,
) -> Sequence[PersonalityState]:
    """Personality states, newest first."""
    query = select(PersonalityState).where(PersonalityState.user_id == user_id)
    if since is not None:
        query = query.where(PersonalityState.timestamp >= since)
    query = query.order_by(PersonalityState.timestamp.desc(), PersonalityState.id.desc())
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def get_needs(session: AsyncSession, *, user_id: str) -> Sequence[Need]:
    """The user's needs in a fixed order."""
    query = select(Need).where(Need.user_id == user_id).order_by(Need.need_type)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def get_quirks(
    session: AsyncSession, *, user_id: str, active_only: bool = False
) -> Sequence[Quirk]:
    """Quirks, strongest first."""
    query = select(Quirk).where(Quirk.user_id == user_id)
    if active_only:
        query = query.where(Quirk.is_active)
    query = query.order_by(Quirk.strength.desc(), Quirk.name)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def current_style(session: AsyncSession, *, user_id: str) -> StyleTraitVersion:
    """The current style-trait version."""
    row = await session.scalar(
        select(StyleTraitVersion)
        .where(StyleTraitVersion.user_id == user_id, StyleTraitVersion.is_current)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"no style traits for user {user_id!r}")
    return row


async def insert_style(
    session: AsyncSession,
    *,
    user_id: str,
    traits: dict[str, int],
    reason: str,
    source: str,
    diff: dict[str, Any],
    now: datetime,
) -> StyleTraitVersion:
    """Flip the current style version and insert ``version + 1``."""
    previous = await current_style(session, user_id=user_id)
    previous.is_current = False
    await session.flush()
    row = StyleTraitVersion(
        user_id=user_id,
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
    session: AsyncSession, *, user_id: str, limit: int = 100, offset: int = 0
) -> Sequence[StyleTraitVersion]:
    """Style versions, newest first."""
    query = (
        select(StyleTraitVersion)
        .where(StyleTraitVersion.user_id == user_id)
        .order_by(StyleTraitVersion.version.desc())
    )
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def recent_interactions_since(
    session: AsyncSession, *, user_id: str, since: datetime, until: datetime
) -> Sequence[Interaction]:
    """The user's interactions in ``[since, until)``, oldest first."""
    query = (
        select(Interaction)
        .where(
            Interaction.user_id == user_id,
            Interaction.timestamp >= since,
            Interaction.timestamp < until,
        )
        .order_by(Interaction.timestamp, Interaction.id)
    )
    return (await session.scalars(query)).all()


async def list_companion_users(session: AsyncSession) -> list[str]:
    """Every user that has a companion (for the jobs)."""
    return list(
        (
            await session.scalars(
                select(CompanionProfile.user_id).order_by(CompanionProfile.user_id)
            )
        ).all()
    )


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
