"""``SecurityService``: the ``SecurityPort`` of the turn pipeline, plus the admin actions.

``check`` classifies, records an incident above SECURITY_INCIDENT_THRESHOLD, and above
SECURITY_CONFIDENCE_THRESHOLD counts an offence, escalates and answers in character.
The database is the truth for offence counts and levels; ``security:{user_id}:count``
in the key-value store mirrors the count with the window as TTL.
The mirror is context for the LLM judge and for other processes; never the truth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from companion.conversation.ports import SecurityVerdict
from companion.errors import NotFound
from companion.security import repository as repo
from companion.security.detector import Detection, Detector
from companion.security.escalation import (
    LEVEL_NONE,
    LEVEL_RESTRICTED,
    LEVEL_SUSPENDED,
    LEVEL_WARNED,
    action_for,
    level_for,
)
from companion.security.models import SecurityIncident
from companion.security.responses import (
    deflection,
    restricted_reply,
    suspended_reply,
    warning_suffix,
)
from companion.settings import SecuritySettings
from companion.store.repositories import users

if TYPE_CHECKING:
    from companion.store.database import Database
    from companion.store.kv import MemoryStore, RedisStore

__all__ = ["SecurityService", "UserSecurity"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserSecurity:
    """A user's escalation state, as the admin sees it."""

    user_id: str
    level: int
    status: str
    offences_in_window: int


def _severity(confidence: float, level: int) -> str:
    if level >= LEVEL_SUSPENDED:
        return "critical"
    return "high" if confidence >= 0.9 else "medium" if confidence >= 0.75 else "low"


def _reply(detection: Detection, text: str, *, level: int, newly_warned: bool) -> str:
    if level >= LEVEL_SUSPENDED:
        return suspended_reply()
    if level == LEVEL_RESTRICTED:
        return restricted_reply()
    reply = deflection(detection.category, text)
    return reply + warning_suffix() if newly_warned else reply


class SecurityService:
    """Implements ``SecurityPort``; see the module docstring."""

    def __init__(
        self,
        *,
        db: Database,
        kv: RedisStore | MemoryStore,
        settings: SecuritySettings,
        detector: Detector,
    ) -> None:
        """Wire the storage, thresholds and detector."""
        self.db = db
        self.kv = kv
        self.settings = settings
        self.detector = detector

    @property
    def window(self) -> timedelta:
        """SECURITY_OFFENSE_WINDOW_DAYS as a timedelta."""
        return timedelta(days=self.settings.security_offense_window_days)

    def _key(self, user_id: str) -> str:
        return f"security:{user_id}:count"

    async def classify(self, text: str) -> Detection:
        """Classification only: no incident, no escalation (the admin endpoint)."""
        return await self.detector.classify(text)

    async def check(
        self, *, user_id: str, text: str, standing: tuple[int, str] | None = None
    ) -> SecurityVerdict:
        """Judge ``text`` from ``user_id``, record and escalate (``SecurityPort``).

        ``standing``: ``(security_level, status)`` as the caller read them this turn.
        """
        state = standing
        if state is None:
            async with self.db.transaction() as session:
                state = await repo.read_level(session, user_id=user_id)
        level = state[0] if state else LEVEL_NONE
        if level >= LEVEL_SUSPENDED or (state and state[1] == "suspended"):
            return SecurityVerdict(
                flagged=False,
                category=None,
                confidence=0.0,
                layer="escalation",
                action="suspended",
                reply=suspended_reply(),
            )
        detection = await self.detector.classify(text, count_offenses=lambda: self._mirror(user_id))
        act_at = self.settings.security_confidence_threshold
        if level >= LEVEL_RESTRICTED:
            # Restriction: borderline messages count too.
            act_at = min(act_at, self.settings.security_incident_threshold)
        if not detection.flagged(self.settings.security_incident_threshold):
            return SecurityVerdict(False, detection.category, detection.confidence, detection.layer)
        if not detection.flagged(act_at):
            incident = await self._record(user_id, text, detection, level=level, acted=False)
            return SecurityVerdict(
                False, detection.category, detection.confidence, detection.layer,
                incident_id=incident.id,
            )  # fmt: skip
        return await self._offence(user_id, text, detection, level=level)

    async def _offence(
        self, user_id: str, text: str, detection: Detection, *, level: int
    ) -> SecurityVerdict:
        async with self.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            since = datetime.now(UTC) - self.window
            prior = await repo.count_offences(session, user_id=user_id, since=since)
            new_level = max(level, level_for(prior + 1))
            newly_warned = new_level == LEVEL_WARNED and level < LEVEL_WARNED
            reply = _reply(detection, text, level=new_level, newly_warned=newly_warned)
            incident = self._incident(user_id, text, detection, level=new_level)
            incident.action = action_for(new_level)
            incident.previous_incident_count = prior
            incident.is_repeat_offense = prior > 0
            incident.response_generated = True
            incident.response_content = reply
            incident.user_warned = new_level >= LEVEL_WARNED
            session.add(incident)
            if new_level != level:
                await repo.set_level(session, user_id=user_id, level=new_level)
            await session.flush()
            incident_id = incident.id
        await self._sync_mirror(user_id, prior + 1)
        log.warning(
            "security incident",
            extra={"user_id": user_id, "category": detection.category, "level": new_level},
        )
        return SecurityVerdict(
            flagged=True,
            category=detection.category,
            confidence=detection.confidence,
            layer=detection.layer,
            action=action_for(new_level),
            reply=reply,
            incident_id=incident_id,
        )

    def _incident(
        self, user_id: str, text: str, detection: Detection, *, level: int
    ) -> SecurityIncident:
        return SecurityIncident(
            user_id=user_id,
            incident_type=detection.category or "unknown",
            severity=_severity(detection.confidence, level),
            confidence=min(1.0, max(0.0, detection.confidence)),
            detected_content=text[:4000],
            detection_method=detection.layer,
            threat_indicators=dict(detection.indicators),
            escalation_level=level,
        )

    async def _record(
        self, user_id: str, text: str, detection: Detection, *, level: int, acted: bool
    ) -> SecurityIncident:
        async with self.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            incident = self._incident(user_id, text, detection, level=level)
            incident.action = "logged" if not acted else action_for(level)
            session.add(incident)
            await session.flush()
        return incident

    async def _mirror(self, user_id: str) -> int:
        raw = await self.kv.get(self._key(user_id))
        return int(raw) if raw else 0

    async def _sync_mirror(self, user_id: str, count: int) -> None:
        # The mirror is *set* to the database's count (re-arming the window TTL, as
        # a bare INCR + EXPIRE would) so it can also go down after a review.
        if count:
            await self.kv.set(self._key(user_id), str(count), ttl=self.window.total_seconds())
        else:
            await self.kv.delete(self._key(user_id))

    # -- admin ------------------------------------------------------------------------

    async def list_incidents(
        self,
        filters: repo.IncidentFilter | None = None,
        *,
        user_id: str | None = None,
        limit: int = 50,
    ) -> list[SecurityIncident]:
        """Incidents for review, newest first (``filters``, or just user and limit)."""
        filters = filters or repo.IncidentFilter(user_id=user_id, limit=limit)
        async with self.db.transaction() as session:
            return list(await repo.list_incidents(session, filters))

    async def review(
        self, incident_id: int, *, false_positive: bool, notes: str | None = None
    ) -> tuple[SecurityIncident, UserSecurity]:
        """Mark an incident reviewed; a false positive stops counting and may lower the level."""
        async with self.db.transaction() as session:
            incident = await repo.get_incident(session, incident_id=incident_id)
            incident.admin_reviewed = True
            incident.false_positive = false_positive
            if notes is not None:
                incident.admin_notes = notes[:4000]
            await session.flush()
            user_id = incident.user_id
            if false_positive:
                await self._relevel(session, user_id)
        status = await self.user_status(user_id)
        await self._sync_mirror(user_id, status.offences_in_window)
        return incident, status

    async def _relevel(self, session: AsyncSession, user_id: str) -> None:
        since = datetime.now(UTC) - self.window
        count = await repo.count_offences(session, user_id=user_id, since=since)
        state = await repo.read_level(session, user_id=user_id)
        if state is not None and level_for(count) < state[0]:
            await repo.set_level(session, user_id=user_id, level=level_for(count))

    async def lift(self, user_id: str, *, level: int = LEVEL_NONE) -> UserSecurity:
        """Lower the user to ``level`` (default: clear); open incidents stop counting."""
        async with self.db.transaction() as session:
            await repo.set_level(session, user_id=user_id, level=level)
            await repo.resolve_incidents(session, user_id=user_id)
        await self._sync_mirror(user_id, 0)
        return await self.user_status(user_id)

    async def user_status(self, user_id: str) -> UserSecurity:
        """The user's level, status and offences in the window."""
        async with self.db.transaction() as session:
            state = await repo.read_level(session, user_id=user_id)
            if state is None:
                raise NotFound(f"user {user_id!r} not found")
            since = datetime.now(UTC) - self.window
            count = await repo.count_offences(session, user_id=user_id, since=since)
        return UserSecurity(user_id, state[0], state[1], count)
