"""A person's companions: create, list, switch, rename, make private, delete.

A person has one or more companions and exactly one of them is *active*: it answers
every conversation of that person on every channel (a Discord account and a Telegram
account are different people here), sends the proactive messages and is the one the
personality reads show. Each companion keeps its own Big Five, mood history, needs,
quirks and style traits; switching never touches the others' state.

Memories are the person's and shared by all their companions, except those written
while a *private* companion was answering: those are visible to it alone.

Every change here first locks the person's row, so two switches, imports or
deletions for one person run one after the other and the one-active rule holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import InvalidInput, NotFound
from companion.personality import repository as repo
from companion.personality.core import (
    DEFAULT_STYLE,
    BigFive,
    baseline_from_big_five,
    emotion_label,
    resolve_big_five,
)
from companion.store.models import CompanionProfile, User

if TYPE_CHECKING:
    from companion.personality.service import PersonalityService

__all__ = [
    "MAX_COMPANIONS",
    "activate_companion",
    "add_companion",
    "companion_view",
    "delete_companion",
    "list_companions",
    "new_companion",
    "update_companion",
]

#: How many companions one person may keep (each carries its own history).
MAX_COMPANIONS = 20


def companion_view(companion: CompanionProfile) -> dict[str, Any]:
    """One companion as the API and the channels show it."""
    return {
        "id": companion.id,
        "name": companion.name,
        "preset": companion.preset,
        "active": companion.is_active,
        "private": companion.is_private,
        "from_card": companion.card is not None,
        "created_at": companion.created_at.isoformat() if companion.created_at else None,
    }


def clean_name(name: str) -> str:
    """``name`` with its whitespace collapsed; 1-100 characters or ``InvalidInput``."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise InvalidInput("name: must be 1 to 100 characters")
    return name


async def lock_person(session: AsyncSession, *, user_id: str) -> None:
    """Lock the person's row (``NotFound`` for an unknown person)."""
    found = await session.scalar(select(User.id).where(User.id == user_id).with_for_update())
    if found is None:
        raise NotFound(f"user {user_id!r} not found")


async def list_companions(service: PersonalityService, *, user_id: str) -> list[dict[str, Any]]:
    """Every companion of the person, oldest first (their first one is created if new)."""
    async with service.db.transaction() as session:
        await service._ensure_for_read(session, user_id=user_id)
        return [companion_view(c) for c in await repo.list_companions(session, user_id=user_id)]


async def add_companion(
    service: PersonalityService,
    session: AsyncSession,
    *,
    user_id: str,
    name: str,
    traits: BigFive,
    preset: str,
    card: dict[str, Any] | None = None,
    private: bool = False,
    now: datetime | None = None,
) -> CompanionProfile:
    """Create a companion for the (locked) person and make it their active one.

    Its mood starts at the baseline of ``traits``, its style at the defaults and its
    needs at their initial levels. The caller's transaction commits everything.
    """
    now = now or datetime.now(UTC)
    count = await session.scalar(
        select(func.count())
        .select_from(CompanionProfile)
        .where(CompanionProfile.user_id == user_id)
    )
    if int(count or 0) >= MAX_COMPANIONS:
        raise InvalidInput(f"companions: at most {MAX_COMPANIONS} per person; delete one first")
    companion = CompanionProfile(
        user_id=user_id,
        name=clean_name(name),
        preset=preset,
        style_speed=service.settings.style_evolution_speed,
        card=card,
        is_active=False,
        is_private=private,
        created_at=now,
        **traits.to_dict(),
    )
    session.add(companion)
    await session.flush()
    baseline = baseline_from_big_five(traits)
    repo.add_companion_rows(
        session,
        companion=companion,
        baseline=baseline,
        emotion=emotion_label(baseline),
        style=dict(DEFAULT_STYLE),
        now=now,
    )
    await _make_active(session, user_id=user_id, companion_id=companion.id)
    return companion


async def new_companion(
    service: PersonalityService,
    *,
    user_id: str,
    name: str,
    preset: str,
    private: bool = False,
) -> dict[str, Any]:
    """Create a companion from a personality preset and make it the active one."""
    traits = resolve_big_five(preset)  # an unknown preset is InvalidInput
    async with service.db.transaction() as session:
        await lock_person(session, user_id=user_id)
        companion = await add_companion(
            service, session, user_id=user_id, name=name, traits=traits, preset=preset,
            private=private,
        )  # fmt: skip
        await session.refresh(companion)
        return companion_view(companion)


async def _make_active(session: AsyncSession, *, user_id: str, companion_id: int) -> None:
    # Two statements: the one-active index is checked row by row, so the old active
    # companion must be switched off before the new one is switched on.
    await session.execute(
        update(CompanionProfile)
        .where(CompanionProfile.user_id == user_id, CompanionProfile.id != companion_id)
        .values(is_active=False)
    )
    await session.execute(
        update(CompanionProfile)
        .where(CompanionProfile.user_id == user_id, CompanionProfile.id == companion_id)
        .values(is_active=True)
    )


async def activate_companion(
    service: PersonalityService, *, user_id: str, companion_id: int
) -> dict[str, Any]:
    """Make the person's companion ``companion_id`` the active one (``NotFound`` if it is
    not theirs); the others keep their state untouched."""
    async with service.db.transaction() as session:
        await lock_person(session, user_id=user_id)
        companion = await repo.get_companion(session, user_id=user_id, companion_id=companion_id)
        await _make_active(session, user_id=user_id, companion_id=companion.id)
        await session.refresh(companion)
        return companion_view(companion)


async def update_companion(
    service: PersonalityService,
    *,
    user_id: str,
    companion_id: int,
    name: str | None = None,
    private: bool | None = None,
) -> dict[str, Any]:
    """Rename the companion and/or mark it private (its new memories are its alone)."""
    if name is None and private is None:
        raise InvalidInput("give 'name' and/or 'private'")
    new_name = None if name is None else clean_name(name)
    async with service.db.transaction() as session:
        companion = await repo.lock_companion(session, user_id=user_id, companion_id=companion_id)
        if new_name is not None:
            companion.name = new_name
        if private is not None:
            companion.is_private = private
        await session.flush()
        return companion_view(companion)


async def delete_companion(
    service: PersonalityService, *, user_id: str, companion_id: int
) -> dict[str, Any]:
    """Delete the companion with its own state, history and private memories.

    A person keeps at least one companion: deleting the last one is refused. Deleting
    the active one makes the most recently created of the others active.
    """
    async with service.db.transaction() as session:
        await lock_person(session, user_id=user_id)
        companion = await repo.get_companion(session, user_id=user_id, companion_id=companion_id)
        others = [
            c for c in await repo.list_companions(session, user_id=user_id) if c.id != companion.id
        ]
        if not others:
            raise InvalidInput(
                "companion: this is the person's only companion; import or create "
                "another before deleting it"
            )
        was_active = companion.is_active
        await session.execute(delete(CompanionProfile).where(CompanionProfile.id == companion.id))
        successor = others[-1]
        if was_active:
            await _make_active(session, user_id=user_id, companion_id=successor.id)
        active = await repo.get_companion(session, user_id=user_id)
        return {"deleted": companion_id, "active": companion_view(active)}
