"""Slow personality change for one user: baseline drift, needs, quirks, style reflection.

Each function claims ``(job, period, user)`` in ``job_user_marks`` inside the same
transaction as its change, so rerunning a job for the same period changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from companion.personality import repository as repo
from companion.personality.core import (
    STYLE_TRAITS,
    Exchange,
    QuirkView,
    apply_adjustments,
    detect_patterns,
    drift_baseline,
    emotion_label,
    engagement_adjustments,
    evolve,
)
from companion.personality.core.quirks import NEW_STRENGTH, Pattern
from companion.personality.judge import llm_patterns, llm_style
from companion.personality.models import Quirk
from companion.personality.service import PersonalityService, _big_five, _level, _settle_need
from companion.store.models import CompanionProfile, Interaction
from companion.types import PAD

__all__ = ["drift_user", "evolve_quirks_user", "reflect_style_user", "update_needs_user"]

WINDOW = timedelta(days=7)
DAY = timedelta(days=1)


def _capable(service: PersonalityService) -> bool:
    return service.fast is not None and bool(getattr(service.fast, "capable", False))


async def drift_user(
    service: PersonalityService, *, user_id: str, now: datetime, period: str
) -> str:
    """Nightly drift (DECISIONS.md#drift-keeps-mood): ``drifted``, ``skipped`` or ``done``."""
    async with service.db.transaction() as session:
        if not await repo.mark_done(
            session, job="personality.drift", period=period, user_id=user_id
        ):
            return "done"
        companion = await repo.lock_companion(session, user_id=user_id)
        rows = await repo.recent_interactions_since(
            session, companion=companion, since=now - WINDOW, until=now
        )
        points = [PAD.from_dict(r.pad_after) for r in rows if r.pad_after]
        current = await repo.current_state(session, companion_id=companion.id)
        baseline = PAD.from_dict(current.pad_baseline)
        new = drift_baseline(baseline, points, rate=service.settings.pad_drift_rate)
        if new is None:
            return "skipped"
        needs = await repo.get_needs(session, companion_id=companion.id)
        levels = {n.need_type: _level(n, now) for n in needs}
        pad = service.mood_at(current, levels, now=now)  # the current mood is kept
        await repo.insert_state(
            session,
            companion=companion,
            big_five=_big_five(current),
            pad=pad,
            baseline=new,
            emotion=emotion_label(pad),
            trigger="baseline_drift",
            now=now,
        )
        return "drifted"


async def update_needs_user(
    service: PersonalityService, *, user_id: str, now: datetime, period: str
) -> int:
    """Hourly: persist needs grown to ``now``; the number that became urgent."""
    async with service.db.transaction() as session:
        if not await repo.mark_done(
            session, job="personality.needs", period=period, user_id=user_id
        ):
            return 0
        urgent = 0
        companion = await repo.get_companion(session, user_id=user_id)
        for need in await repo.get_needs(session, companion_id=companion.id):
            was_urgent = need.current_level > need.trigger_threshold
            _settle_need(need, now=now, satisfied=False)
            urgent += int(not was_urgent and need.current_level > need.trigger_threshold)
        return urgent


async def evolve_quirks_user(
    service: PersonalityService, *, user_id: str, now: datetime, period: str
) -> dict[str, int]:
    """Nightly lifecycle "B" over the last 7 days of replies; counts of each change."""
    counts = {"created": 0, "strengthened": 0, "weakened": 0, "deactivated": 0}
    async with service.db.transaction() as session:
        if not await repo.mark_done(
            session, job="personality.quirks", period=period, user_id=user_id
        ):
            return counts
        companion = await repo.lock_companion(session, user_id=user_id)
        rows = await repo.recent_interactions_since(
            session, companion=companion, since=now - WINDOW, until=now
        )
        replies = [r.agent_response for r in rows if r.agent_response]
        patterns = None
        if _capable(service) and service.fast is not None:
            patterns = await llm_patterns(service.fast, user_id=user_id, replies=replies)
        if patterns is None:
            patterns = detect_patterns(replies)
        stored = {q.name: q for q in await repo.get_quirks(session, companion_id=companion.id)}
        views = [
            QuirkView(q.name, q.strength, q.is_active, q.last_observed or q.first_observed)
            for q in stored.values()
        ]
        updated, created = evolve(views, patterns, now=now)
        for view in updated:
            row = stored[view.name]
            key = (
                "strengthened"
                if view.strength > row.strength
                else "deactivated"
                if not view.is_active
                else "weakened"
            )
            counts[key] += 1
            row.strength, row.is_active = view.strength, view.is_active
            if key == "strengthened":
                row.last_reinforced = now
                row.reinforcement_count += 1
        for pattern in created:
            _upsert_created(session, stored.get(pattern.name), pattern, owner=companion, now=now)
            counts["created"] += 1
        return counts


def _upsert_created(
    session: AsyncSession,
    row: Quirk | None,
    pattern: Pattern,
    *,
    owner: CompanionProfile,
    now: datetime,
) -> None:
    # An inactive row (a faded quirk) comes back at the initial strength.
    if row is None:
        row = Quirk(
            user_id=owner.user_id, companion_id=owner.id, name=pattern.name, first_observed=now
        )
        session.add(row)
    row.category, row.description = pattern.category, pattern.description
    row.strength, row.confidence, row.is_active = NEW_STRENGTH, pattern.confidence, True
    row.observation_count = pattern.occurrences
    row.last_observed = row.last_reinforced = now
    row.examples = list(pattern.examples[:5])


async def reflect_style_user(
    service: PersonalityService, *, user_id: str, now: datetime, period: str
) -> str:
    """Daily style reflection: ``changed``, ``unchanged``, ``skipped`` or ``done``."""
    async with service.db.transaction() as session:
        if not await repo.mark_done(
            session, job="personality.style", period=period, user_id=user_id
        ):
            return "done"
        companion = await repo.lock_companion(session, user_id=user_id)
        rows = await repo.recent_interactions_since(
            session, companion=companion, since=now - DAY, until=now
        )
        exchanges = _exchanges(rows)
        current = await repo.current_style(session, companion_id=companion.id)
        traits = {t: int(getattr(current, t)) for t in STYLE_TRAITS}
        proposal, source = None, "rules"
        if _capable(service) and service.fast is not None and len(exchanges) >= 3:
            proposal, source = (
                await llm_style(service.fast, user_id=user_id, traits=traits, exchanges=exchanges),
                "llm",
            )
        if proposal is None:
            proposal, source = engagement_adjustments(exchanges), "rules"
        adjustments, reasoning = proposal
        if not adjustments:
            return "skipped"
        new, diff = apply_adjustments(traits, adjustments, speed=companion.style_speed)
        if not diff:
            return "unchanged"
        await repo.insert_style(
            session,
            companion=companion,
            traits=new,
            reason=f"Evolved through interactions: {reasoning}",
            source=source,
            diff=diff,
            now=now,
        )
        return "changed"


def _exchanges(rows: Sequence[Interaction]) -> list[Exchange]:
    # The reply a user message answers is the previous turn's; latency is the gap.
    out: list[Exchange] = []
    previous: Interaction | None = None
    for row in rows:
        if row.user_message:
            latency = None
            if previous is not None:
                latency = (row.timestamp - previous.timestamp).total_seconds()
            out.append(
                Exchange(
                    row.user_message,
                    previous.agent_response if previous is not None else "",
                    latency,
                )
            )
        previous = row
    return out
