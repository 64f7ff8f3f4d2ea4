"""The proactive service: one pass decides for every active user, then reaches out.

A pass (every PROACTIVE_CHECK_MINUTES, or ``POST /api/proactive/{user_id}`` for one
user) matches replies to earlier messages, loads every user's features with one SQL
statement, scores them and applies the hard limits in numpy, stores every
evaluation, and for the few users to contact: thinks (inner thought), writes the
message, delivers it, records the outcome, and stores the message as an assistant
turn (``is_proactive``) so the user's reply can be matched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import select, update

from companion.conversation.ports import MemoryPort
from companion.errors import InvalidInput
from companion.llm.base import RoleModel
from companion.proactive import decisions as store
from companion.proactive.broker import Broker, Subscription
from companion.proactive.core import (
    Evaluation,
    Features,
    GuardrailLimits,
    ThoughtContext,
    evaluate,
    parse_quiet_hours,
    unblocked,
)
from companion.proactive.delivery import (
    DeliveryOutcome,
    DeliveryRegistry,
    ProactiveDeliverer,
    ProactiveMessage,
)
from companion.proactive.features import NEED_ORDER, UserContext, load_features
from companion.proactive.patterns import is_stale, refresh_patterns
from companion.proactive.thinking import think_and_write
from companion.settings import BehaviourSettings
from companion.store.database import Database
from companion.store.models import CompanionProfile, Conversation, User
from companion.store.repositories import conversations, interactions, users

__all__ = ["ProactiveService", "ProactiveSettingsView"]

log = logging.getLogger(__name__)

_MEMORY_QUERY = "upcoming plans worries interesting conversation hobby project plan goal"
_CONCURRENCY = 5


@dataclass(frozen=True)
class ProactiveSettingsView:
    """A user's proactive settings."""

    enabled: bool
    quiet_hours: str
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"enabled": self.enabled, "quiet_hours": self.quiet_hours, "timezone": self.timezone}


@dataclass
class _Pass:
    now: datetime
    features: Features
    ev: Evaluation
    ctx: UserContext
    index: dict[str, int]
    acting: dict[str, int]


class ProactiveService:
    """Decides, thinks, writes, delivers and records proactive messages."""

    def __init__(
        self,
        *,
        db: Database,
        settings: BehaviourSettings,
        registry: DeliveryRegistry,
        broker: Broker,
        chat: RoleModel | None = None,
        memory: MemoryPort | None = None,
    ) -> None:
        self.db, self.settings = db, settings
        self.registry, self.broker = registry, broker
        self.chat, self.memory = chat, memory
        self.limits = GuardrailLimits(
            max_per_day=settings.max_proactive_per_day,
            min_gap_hours=settings.proactive_min_gap_hours,
        )

    def register_delivery(self, deliverer: ProactiveDeliverer) -> None:
        """Let a channel (Discord, Telegram) deliver proactive messages."""
        self.registry.register(deliverer)

    # --- the pass -------------------------------------------------------------------

    async def run_check(
        self,
        *,
        now: datetime | None = None,
        user_ids: Sequence[str] | None = None,
        source: str = "scheduled",
        force: bool = False,
    ) -> dict[str, int]:
        """Evaluate every active user (or ``user_ids``) and reach out where allowed.

        ``force`` (manual admin trigger) skips the score threshold, never a hard limit.
        Returns counts: evaluated, initiated, delivered, undelivered, failed (a user whose
        send raised: logged with the user id; the others go on), blocked_<limit>.
        """
        ps = await self._decide(now or datetime.now(UTC), user_ids, source=source, force=force)
        acting = ps.acting
        counts: Counter[str] = Counter(evaluated=len(ps.ev.user_ids), initiated=len(acting))
        counts.update(f"blocked_{b}" for b in ps.ev.blocked_by if b is not None)
        semaphore = asyncio.Semaphore(_CONCURRENCY)

        async def act(user_id: str, decision_id: int) -> str:
            async with semaphore:
                return await self._act_isolated(ps, user_id, decision_id)

        # Every user's send is awaited here: one failure is that user's outcome
        # ("failed"), never a reason to abandon the others mid-send.
        results = await asyncio.gather(*(act(u, d) for u, d in acting.items()))
        counts.update(results)
        return dict(counts)

    async def _decide(
        self, now: datetime, user_ids: Sequence[str] | None, *, source: str, force: bool
    ) -> _Pass:
        threshold = self.settings.proactive_threshold
        await self._expire_outbox()
        async with self.db.engine.begin() as conn:
            await store.match_replies(conn, now=now)
            if user_ids is not None:
                await refresh_patterns(conn, now=now, user_ids=list(user_ids))
            elif await is_stale(conn, now=now):
                await refresh_patterns(conn, now=now)
            features, ctx = await load_features(
                conn,
                now=now,
                default_quiet_hours=self.settings.default_quiet_hours,
                user_ids=user_ids,
            )
            ev = evaluate(features, limits=self.limits, threshold=threshold)
            if force:
                ev.initiate = unblocked(ev.blocked_by)
            acting = await store.insert_decisions(
                conn, ev, now=now, threshold=threshold, source=source
            )
        index = {str(u): i for i, u in enumerate(features.user_ids)}
        return _Pass(now, features, ev, ctx, index, acting)

    async def _act_isolated(self, ps: _Pass, user_id: str, decision_id: int) -> str:
        """``_act`` for one user; a failure is logged with the user id and recorded."""
        try:
            return await self._act(ps, user_id, decision_id)
        except Exception as exc:
            log.exception(
                "proactive message failed for one user",
                extra={"user_id": user_id, "decision_id": decision_id},
            )
            await self._record_failure(decision_id, user_id, exc)
            return "failed"

    async def _record_failure(self, decision_id: int, user_id: str, exc: Exception) -> None:
        try:
            async with self.db.transaction() as session:
                await store.record_outcome(
                    session, decision_id=decision_id, thought=None, message=None,
                    channel=None, status="failed", detail=f"failed: {type(exc).__name__}",
                    sent_at=None,
                )  # fmt: skip
        except Exception:  # the database itself may be what failed
            log.warning("could not record the failed decision", extra={"user_id": user_id})

    async def _act(self, ps: _Pass, user_id: str, decision_id: int) -> str:
        i = ps.index[user_id]
        ctx = await self._thought_context(ps, i, user_id)
        thought, text = await think_and_write(
            ctx, chat=self.chat, user_id=user_id, now=ps.now, seed=decision_id
        )
        preferred = await self._last_channel(user_id)
        message = ProactiveMessage(
            user_id, text, decision_id, str(ps.ev.trigger[i]), float(ps.ev.score[i])
        )
        attempts = await self.registry.deliver(message, preferred=preferred)
        done = next((a for a in attempts if a.delivered), None)
        await self._record(ps, message, thought.to_dict(), attempts, done)
        return "delivered" if done else "undelivered"

    async def _expire_outbox(self) -> None:
        """Queued messages no bot sent in time become ``expired``, with the reason."""
        from companion.proactive.outbox import record_final
        from companion.store.repositories import outbox

        async with self.db.transaction() as session:
            finished = await outbox.expire_due(session)
        await record_final(self.db, finished)

    async def _thought_context(self, ps: _Pass, i: int, user_id: str) -> ThoughtContext:
        f = ps.features
        levels = np.nan_to_num(f.need_levels[i], nan=-1.0)
        urgent = [
            NEED_ORDER[k] for k in np.argsort(-levels) if levels[k] >= f.need_thresholds[i][k]
        ]
        memories: list[str] = []
        if self.memory is not None:
            try:
                found = await self.memory.retrieve(user_id=user_id, query=_MEMORY_QUERY, k=5)
                memories = [m.content for m in found]
            except Exception as exc:  # memory is optional for a check-in
                log.info("proactive memory lookup failed: %s", type(exc).__name__)
        hours = float(f.hours_since_activity[i])
        pleasure = float(f.pad[0][i])
        async with self.db.session() as session:  # the active companion is the writer
            name = await session.scalar(
                select(CompanionProfile.name).where(
                    CompanionProfile.user_id == user_id, CompanionProfile.is_active
                )
            )
        return ThoughtContext(
            name=name or "Companion",
            memories=memories,
            urgent_needs=urgent,
            emotion=str(ps.ctx.get("emotion_label", i) or "neutral"),
            pleasure=0.0 if np.isnan(pleasure) else pleasure,
            trigger=str(ps.ev.trigger[i]),
            score=float(ps.ev.score[i]),
            hours_since_activity=None if np.isnan(hours) else hours,
        )

    async def _last_channel(self, user_id: str) -> list[str]:
        async with self.db.session() as session:
            channel = await session.scalar(
                select(Conversation.channel)
                .where(Conversation.user_id == user_id)
                .order_by(Conversation.last_activity.desc())
                .limit(1)
            )
        return [channel] if channel else []

    async def _record(
        self,
        ps: _Pass,
        message: ProactiveMessage,
        thought: dict[str, Any],
        attempts: list[DeliveryOutcome],
        done: DeliveryOutcome | None,
    ) -> None:
        detail = "; ".join(f"{a.channel}: {a.via or a.detail or '-'}" for a in attempts)
        async with self.db.transaction() as session:
            await store.record_outcome(
                session,
                decision_id=message.decision_id,
                thought=thought,
                message=message.text,
                channel=done.channel if done else None,
                status=("queued" if done.queued else "delivered") if done else "undelivered",
                detail=detail or "no delivery channel available",
                sent_at=ps.now if done else None,
            )
            if done is not None:
                await self._store_turn(session, message, channel=done.channel, now=ps.now)

    async def _store_turn(
        self, session: Any, message: ProactiveMessage, *, channel: str, now: datetime
    ) -> None:
        kind = channel if channel not in ("sse", "webhook") else "api"
        conv = await session.scalar(
            select(Conversation)
            .where(Conversation.user_id == message.user_id, Conversation.channel == kind)
            .order_by(Conversation.last_activity.desc())
            .limit(1)
        )
        if conv is None:
            conv = await conversations.get_or_create_conversation(
                session, user_id=message.user_id, channel=kind
            )
        reply = await conversations.add_message(
            session,
            user_id=message.user_id,
            conversation_id=conv.id,
            role="assistant",
            content=message.text,
            created_at=now,
        )
        await interactions.record_interaction(
            session,
            user_id=message.user_id,
            timestamp=now,
            session_id=conv.id,
            reply_message_id=reply.id,
            channel=kind,
            agent_response=message.text,
            is_proactive=True,
            user_initiated=False,
            proactive_trigger=message.trigger,
            proactive_score=message.score,
        )
        await session.execute(
            update(User)
            .where(User.id == message.user_id)
            .values(total_proactive_conversations=User.total_proactive_conversations + 1)
        )

    # --- one user -------------------------------------------------------------------

    async def evaluate_user(
        self, user_id: str, *, now: datetime | None = None, force: bool = False
    ) -> dict[str, Any]:
        """Run the check for one user now; returns the stored decision."""
        async with self.db.session() as session:
            await users.get_user(session, user_id=user_id)
        await self.run_check(now=now, user_ids=[user_id], source="manual", force=force)
        async with self.db.session() as session:
            rows = await store.list_decisions(session, user_id=user_id, limit=1)
        if not rows:
            raise InvalidInput(
                f"user {user_id!r} is not eligible for proactive messages "
                "(inactive for 30 days or deleted)"
            )
        return store.decision_view(rows[0])

    async def decisions(self, user_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The user's latest decisions, newest first."""
        if not 1 <= limit <= 200:
            raise InvalidInput("limit must be between 1 and 200")
        async with self.db.session() as session:
            rows = await store.list_decisions(session, user_id=user_id, limit=limit)
        return [store.decision_view(r) for r in rows]

    async def decline(self, user_id: str, *, now: datetime | None = None) -> int:
        """The user declined the latest proactive message: nothing more for 24 h."""
        async with self.db.transaction() as session:
            return await store.mark_declined(session, user_id=user_id, now=now or datetime.now(UTC))

    async def get_settings(self, user_id: str) -> ProactiveSettingsView:
        """Opt-out, quiet hours (the default when unset) and timezone."""
        async with self.db.session() as session:
            user = await users.get_user(session, user_id=user_id)
        return self._view(user)

    async def update_settings(
        self,
        user_id: str,
        *,
        enabled: bool | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> ProactiveSettingsView:
        """Change the given settings; bad quiet hours or an unknown timezone → InvalidInput."""
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["proactive_messaging_enabled"] = enabled
        if quiet_hours is not None:
            changes["quiet_hours"] = _check_quiet(quiet_hours)
        if timezone is not None:
            changes["timezone"] = _check_timezone(timezone)
        async with self.db.transaction() as session:
            user = await users.update_user(session, user_id=user_id, changes=changes)
        return self._view(user)

    def _view(self, user: User) -> ProactiveSettingsView:
        quiet = user.quiet_hours or self.settings.default_quiet_hours
        return ProactiveSettingsView(user.proactive_messaging_enabled, quiet, user.timezone)

    async def subscribe(self, user_id: str) -> Subscription:
        """An open stream of ``user_id``'s proactive messages (for SSE)."""
        return await self.broker.subscribe(user_id)

    async def close(self) -> None:
        """Release the broker and the webhook client."""
        if self.registry.webhook is not None:
            await self.registry.webhook.aclose()
        await self.broker.close()


def _check_quiet(text: str) -> str | None:
    if text.strip() == "":
        return None  # back to DEFAULT_QUIET_HOURS
    try:
        parse_quiet_hours(text)
    except ValueError as exc:
        raise InvalidInput(f"quiet_hours: {exc}") from exc
    return text.strip()


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"timezone: unknown IANA timezone {name!r}") from exc
    return name
