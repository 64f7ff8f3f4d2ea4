"""The personality service: implements ``PersonalityPort`` and the reads/admin calls.

Reads are lazy: PAD decays toward the (needs-nudged) baseline and needs grow from the
elapsed time since their rows were written, so nothing ticks in the background.
Writes insert a new versioned row under the companion row lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.conversation.ports import CompanionState, TurnRecord
from companion.errors import InvalidInput, NotFound
from companion.llm.base import RoleModel
from companion.personality import repository as repo
from companion.personality.core import (
    DEFAULT_STYLE,
    STYLE_TRAITS,
    BigFive,
    apply_delta,
    appraise_delta,
    baseline_from_big_five,
    decay_toward,
    emotion_label,
    grow,
    mood_nudge,
    render_mood,
    render_prompt,
    resolve_big_five,
    urgent,
)
from companion.personality.core.needs import PROMPT_THRESHOLD, satisfied_by
from companion.personality.core.presets import BIG_FIVE_TRAITS
from companion.personality.core.quirks import reply_traits
from companion.personality.core.style import HIGH, IMMUTABLE, LOW
from companion.personality.models import Need, PersonalityState
from companion.personality.persona_cards import persona_extras
from companion.personality.views import need_view, quirk_view, state_view, style_view
from companion.settings.behaviour import BehaviourSettings
from companion.store.database import Database
from companion.store.models import CompanionProfile
from companion.store.repositories import users
from companion.types import PAD

__all__ = ["PersonalityService"]


def _utc(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _hours(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds() / 3600)


class PersonalityService:
    """Big Five, PAD mood, needs, quirks and style traits for every user's companion."""

    def __init__(
        self, *, db: Database, settings: BehaviourSettings, fast: RoleModel | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.fast = fast

    # --- PersonalityPort -------------------------------------------------------------

    async def load_state(
        self,
        *,
        user_id: str,
        now: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> CompanionState:
        """The companion's state at ``now``, creating it from the default preset first.

        One statement in the common case; in the caller's ``session`` if given (the
        turn's read transaction), else in a transaction of its own.
        """
        now = _utc(now)
        if session is not None:
            return await self._load(session, user_id=user_id, now=now)
        async with self.db.transaction() as own:
            return await self._load(own, user_id=user_id, now=now)

    async def stored_state(
        self, *, user_id: str, conn: AsyncSession | AsyncConnection, now: datetime | None = None
    ) -> CompanionState | None:
        """The companion's state at ``now`` if it is stored, else ``None`` (first
        contact: ``load_state`` creates it). Creates nothing: one statement, which an
        autocommit connection runs without a transaction."""
        found = await repo.persona(conn, user_id=user_id)
        return None if found is None else self._snapshot(found, user_id=user_id, now=_utc(now))

    async def stored_state_alongside(
        self,
        *,
        user_id: str,
        conn: AsyncSession | AsyncConnection,
        lead: Select[Any],
        params: dict[str, Any],
        columns: int,
        now: datetime | None = None,
    ) -> tuple[Sequence[Any], CompanionState | None] | None:
        """``stored_state`` read in the same statement as the caller's one-row ``lead``
        (whose ``owner`` parameter is ``user_id``): the lead's first ``columns`` values
        and the state, or ``None`` when the lead finds no row."""
        found = await repo.persona_alongside(conn, lead=lead, params=params, columns=columns)
        if found is None:
            return None
        values, persona = found
        if persona is None:
            return values, None
        return values, self._snapshot(persona, user_id=user_id, now=_utc(now))

    async def _load(self, session: AsyncSession, *, user_id: str, now: datetime) -> CompanionState:
        found = await repo.persona(session, user_id=user_id)
        if found is None:  # first contact (or a companion without its rows: NotFound)
            await self._ensure(session, user_id=user_id, now=now)
            found = await repo.persona(session, user_id=user_id)
            if found is None:
                raise NotFound(f"no personality state for user {user_id!r}")
        return self._snapshot(found, user_id=user_id, now=now)

    def appraise(self, state: CompanionState, *, text: str, threat: bool = False) -> PAD:
        """The mood after hearing ``text``: rules and lexicon only (microseconds)."""
        _, delta = appraise_delta(
            text, BigFive.from_dict(state.big_five), threat=threat, current=state.pad
        )
        return apply_delta(state.pad, delta)

    async def after_turn(self, record: TurnRecord, *, session: AsyncSession | None = None) -> None:
        """Persist the new mood as the current row, satisfy needs, observe the reply.

        In the caller's ``session`` if given (the turn's write transaction), else in a
        transaction of its own. Three statements in the common case: the companion's
        lock, one read of its state, needs and quirks, and one write of the new state
        row (with the flip of the old), the needs and the quirks the reply showed.
        """
        if session is not None:
            await self._after_turn(session, record)
            return
        async with self.db.transaction() as own:
            await self._after_turn(own, record)

    async def _after_turn(self, session: AsyncSession, record: TurnRecord) -> None:
        now = record.created_at
        companion_id = record.companion_id
        if companion_id is None:  # a record from outside the turn path: ask the turn
            companion_id = await repo.turn_companion_id(session, record.interaction_id)
        try:  # the common case: the companion exists (no separate check first)
            locked = await repo.lock_companion_id(
                session, user_id=record.user_id, companion_id=companion_id
            )
        except NotFound:
            await self._ensure(session, user_id=record.user_id, now=now)
            locked = await repo.lock_companion_id(
                session, user_id=record.user_id, companion_id=companion_id
            )
        current = await repo.turn_mood(session, companion_id=locked)
        satisfied = (
            set()
            if record.flagged
            else satisfied_by(record.user_text, arousal_after=record.pad_after.arousal)
        )
        seen = reply_traits(record.reply_text)
        await repo.write_mood(
            session,
            user_id=record.user_id,
            companion_id=locked,
            big_five=current.big_five,
            pad=record.pad_after,
            baseline=PAD.from_dict(current.baseline),
            emotion=emotion_label(record.pad_after),
            now=now,
            session_id=record.conversation_id,
            needs=[_settled(need, now=now, satisfied=need.need_type in satisfied)
                   for need in current.needs],
            observed=[q.id for q in current.quirks if q.name in seen],
        )  # fmt: skip

    # --- reads -----------------------------------------------------------------------

    async def current(self, *, user_id: str, now: datetime | None = None) -> dict[str, Any]:
        """The current state as a plain dict (PAD with homeostasis applied).

        Unlike ``load_state`` this never creates a user: an unknown id is ``NotFound``.
        """
        async with self.db.transaction() as session:
            await self._ensure_for_read(session, user_id=user_id)
        state = await self.load_state(user_id=user_id, now=now)
        return {
            "user_id": state.user_id,
            "companion_id": state.companion_id,
            "name": state.name,
            "preset": state.preset,
            "big_five": state.big_five,
            "pad": state.pad.to_dict(),
            "baseline": state.baseline.to_dict(),
            "emotion_label": state.emotion,
            "needs": state.needs,
            "urgent_needs": list(state.urgent_needs),
            "quirks": list(state.quirks),
            "style": state.style,
            "snapshot_id": state.snapshot_id,
            "prompt_block": state.prompt_block,
        }

    async def history(
        self, *, user_id: str, limit: int = 100, offset: int = 0, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Stored personality states, newest first."""
        _check_page(limit, offset)
        async with self.db.transaction() as session:
            companion = await self._ensure_for_read(session, user_id=user_id)
            rows = await repo.state_history(
                session, companion_id=companion.id, limit=limit, offset=offset, since=since
            )
            return [state_view(r) for r in rows]

    async def quirks(self, *, user_id: str, active_only: bool = False) -> list[dict[str, Any]]:
        """Quirks (active and candidate), strongest first."""
        async with self.db.transaction() as session:
            companion = await self._ensure_for_read(session, user_id=user_id)
            rows = await repo.get_quirks(
                session, companion_id=companion.id, active_only=active_only
            )
            return [quirk_view(r) for r in rows]

    async def needs(self, *, user_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """Needs with their levels grown to ``now``."""
        now = _utc(now)
        async with self.db.transaction() as session:
            companion = await self._ensure_for_read(session, user_id=user_id)
            rows = await repo.get_needs(session, companion_id=companion.id)
            return [need_view(n, _level(n, now)) for n in rows]

    async def style_history(
        self, *, user_id: str, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Style-trait versions, newest first."""
        _check_page(limit, offset)
        async with self.db.transaction() as session:
            companion = await self._ensure_for_read(session, user_id=user_id)
            rows = await repo.style_history(
                session, companion_id=companion.id, limit=limit, offset=offset
            )
            return [style_view(r) for r in rows]

    # --- admin -----------------------------------------------------------------------

    async def set_preset(
        self,
        *,
        user_id: str,
        preset: str | None = None,
        big_five: dict[str, float] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Admin: re-create the temperament from a preset or explicit values.

        The Big Five never change by themselves; this is the deliberate
        exception, recorded as a new state row with trigger ``admin_preset``.
        """
        traits, name = _choose_big_five(preset, big_five)
        now = _utc(now)
        async with self.db.transaction() as session:
            await self._ensure(session, user_id=user_id, now=now)
            await self._set_temperament(
                session,
                user_id=user_id,
                traits=traits,
                preset=name,
                trigger="admin_preset",
                now=now,
            )
        return await self.current(user_id=user_id, now=now)

    async def _set_temperament(
        self,
        session: AsyncSession,
        *,
        user_id: str,
        traits: BigFive,
        preset: str,
        trigger: str,
        now: datetime,
    ) -> CompanionProfile:
        """Give the (locked) companion new Big Five and start its mood at their baseline,
        recorded as a new state row with ``trigger``; returns the companion row."""
        companion = await repo.lock_companion(session, user_id=user_id)
        for trait, value in traits.to_dict().items():
            setattr(companion, trait, value)
        companion.preset = preset
        baseline = baseline_from_big_five(traits)
        await repo.insert_state(
            session,
            companion=companion,
            big_five=traits.to_dict(),
            pad=baseline,
            baseline=baseline,
            emotion=emotion_label(baseline),
            trigger=trigger,
            now=now,
        )
        return companion

    async def rename(self, *, user_id: str, name: str, now: datetime | None = None) -> str:
        """Give the user's active companion a new name (1-100 characters, trimmed)."""
        name = " ".join(name.split())
        if not 1 <= len(name) <= 100:
            raise InvalidInput("name: must be 1 to 100 characters")
        async with self.db.transaction() as session:
            await users.get_user(session, user_id=user_id)
            await self._ensure(session, user_id=user_id, now=_utc(now))
            companion = await repo.lock_companion(session, user_id=user_id)
            companion.name = name
        return name

    async def tune_traits(
        self, *, user_id: str, traits: dict[str, int], reason: str, now: datetime | None = None
    ) -> dict[str, Any]:
        """Admin: set style traits directly (within [20, 95]); a new version with its diff."""
        _validate_traits(traits)
        now = _utc(now)
        async with self.db.transaction() as session:
            await self._ensure(session, user_id=user_id, now=now)
            companion = await repo.lock_companion(session, user_id=user_id)
            current = await repo.current_style(session, companion_id=companion.id)
            old = {t: getattr(current, t) for t in STYLE_TRAITS}
            diff = {t: {"from": old[t], "to": v} for t, v in traits.items() if v != old[t]}
            if not diff:
                return style_view(current)
            row = await repo.insert_style(
                session,
                companion=companion,
                traits={**old, **traits},
                reason=reason or "tuned by an admin",
                source="admin",
                diff=diff,
                now=now,
            )
            return style_view(row)

    # --- internals -------------------------------------------------------------------

    async def _ensure_for_read(self, session: AsyncSession, *, user_id: str) -> CompanionProfile:
        """The user's active companion; reads never create users, but an existing user
        gets their first companion."""
        await users.get_user(session, user_id=user_id)
        await self._ensure(session, user_id=user_id, now=datetime.now(UTC))
        return await repo.get_companion(session, user_id=user_id)

    async def _ensure(self, session: AsyncSession, *, user_id: str, now: datetime) -> None:
        if await repo.has_companion(session, user_id=user_id):
            return
        preset = self.settings.default_personality_preset
        traits = resolve_big_five(preset)
        baseline = baseline_from_big_five(traits)
        await repo.create_companion(
            session,
            user_id=user_id,
            preset=preset,
            big_five=traits,
            baseline=baseline,
            emotion=emotion_label(baseline),
            style=dict(DEFAULT_STYLE),
            speed=self.settings.style_evolution_speed,
            now=now,
        )

    def _snapshot(self, found: repo.Persona, *, user_id: str, now: datetime) -> CompanionState:
        row, style = found.state, found.style
        levels = {n.need_type: _level(n, now) for n in found.needs}
        pad = self.mood_at(row, levels, now=now)
        quirks = found.quirks
        pressing = urgent(levels, threshold=PROMPT_THRESHOLD)
        emotion = emotion_label(pad)
        card_text, card = persona_extras(found.card)
        prompt = render_prompt(
            name=found.name,
            big_five=_big_five(row),
            pad=pad,
            emotion=emotion,
            quirks=[(q.name, q.strength) for q in quirks[:5]],
            urgent_needs=[(n, levels[n]) for n in pressing],
            style=style,
            with_mood=False,  # the mood changes every turn: it goes beside the message
        )
        mood = render_mood(
            pad=pad, emotion=emotion, urgent_needs=[(n, levels[n]) for n in pressing]
        )
        return CompanionState(
            user_id=user_id,
            companion_id=found.companion_id,
            name=found.name,
            preset=found.preset,
            big_five=_big_five(row),
            pad=pad,
            baseline=PAD.from_dict(row.pad_baseline),
            emotion=emotion,
            needs={k: round(v, 4) for k, v in levels.items()},
            urgent_needs=tuple(pressing),
            quirks=tuple(q.name for q in quirks),
            style=style,
            prompt_block=f"{prompt}\n\n{card_text}" if card_text else prompt,
            mood_block=mood,
            snapshot_id=row.id,
            timezone=found.timezone,
            last_talk=found.last_talk,
            lore=card.lorebook if card else (),
            lore_depth=card.lorebook_scan_depth if card else 3,
        )

    def mood_at(
        self, row: PersonalityState | repo.CurrentState, levels: dict[str, float], *, now: datetime
    ) -> PAD:
        """Homeostasis from the stored row toward the baseline nudged by unmet needs."""
        baseline = PAD.from_dict(row.pad_baseline)
        target = apply_delta(baseline, mood_nudge(levels))
        stored = PAD(row.pleasure, row.arousal, row.dominance)
        minutes = max(0.0, (now - row.timestamp).total_seconds() / 60)
        return decay_toward(
            stored, target, minutes=minutes, half_life_minutes=self.settings.pad_half_life_minutes
        )


def _big_five(row: PersonalityState | repo.CurrentState) -> dict[str, float]:
    return {t: float(getattr(row, t)) for t in BIG_FIVE_TRAITS}


def _level(need: Need | repo.NeedRow, now: datetime) -> float:
    return grow(need.current_level, need=need.need_type, hours=_hours(need.last_updated, now))


def _settled(
    need: Need | repo.NeedRow, *, now: datetime, satisfied: bool
) -> tuple[int, float, datetime, bool]:
    """The need's ``(id, level, last_updated, satisfied)`` at ``now`` (after a turn
    that satisfied it, or not); a satisfied need also counts one satisfaction at ``now``."""
    level = _level(need, now)
    if satisfied:
        level = max(0.0, level - need.satisfaction_rate)
    return need.id, round(level, 6), max(now, need.last_updated), satisfied


def _settle_need(need: Need, *, now: datetime, satisfied: bool) -> None:
    """``_settled`` applied to a loaded need row."""
    _, need.current_level, need.last_updated, _ = _settled(need, now=now, satisfied=satisfied)
    if satisfied:
        need.satisfaction_count += 1
        need.last_satisfied = now


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    if offset < 0:
        raise InvalidInput("offset must be 0 or more")


def _choose_big_five(preset: str | None, big_five: dict[str, float] | None) -> tuple[BigFive, str]:
    if (preset is None) == (big_five is None):
        raise InvalidInput("give exactly one of 'preset' or 'big_five'")
    if preset is not None:
        return resolve_big_five(preset), preset
    assert big_five is not None
    return BigFive.from_dict(big_five), "custom"


def _validate_traits(traits: dict[str, int]) -> None:
    frozen = sorted(set(traits) & set(IMMUTABLE))
    if frozen:
        raise InvalidInput(f"{', '.join(frozen)} cannot be changed (immutable)")
    unknown = sorted(set(traits) - set(STYLE_TRAITS))
    if unknown:
        raise InvalidInput(f"unknown style trait(s): {', '.join(unknown)}")
    if not traits:
        raise InvalidInput("give at least one style trait")
    for trait, value in traits.items():
        if not isinstance(value, int) or not LOW <= value <= HIGH:
            raise InvalidInput(f"{trait} must be a whole number between {LOW} and {HIGH}")
