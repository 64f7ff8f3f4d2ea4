"""Security endpoints (admin only): classify a text; list, review and lift incidents.

``POST /api/security/classify`` is the contract for external checks and only
classifies (no incident, no escalation). ``/api/security/incidents`` and
``/api/security/users/{id}`` are the review workflow (the admin router's
``GET /api/admin/security/incidents`` calls the same service).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from companion.api.deps import AdminDep, RuntimeDep
from companion.errors import ConfigError
from companion.security import IncidentFilter, SecurityService, UserSecurity
from companion.security.models import SecurityIncident

__all__ = ["router"]

router = APIRouter(tags=["security"])


async def get_security(runtime: RuntimeDep) -> SecurityService:
    """The runtime's security service (built in ``Runtime._wire``)."""
    service = runtime.security
    if not isinstance(service, SecurityService):
        raise ConfigError("security", "the security service is not configured in this process")
    return service


SecurityDep = Annotated[SecurityService, Depends(get_security)]


class ClassifyIn(BaseModel):
    """The text to classify."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class ClassifyOut(BaseModel):
    """The classification (the exact shape of the external contract)."""

    flagged: bool
    category: str | None
    confidence: float
    layer: str


class ReviewIn(BaseModel):
    """An admin's review of one incident."""

    model_config = ConfigDict(extra="forbid")

    false_positive: bool
    notes: str | None = Field(default=None, max_length=4000)


class LiftIn(BaseModel):
    """The level to lower a user to (0 clears warnings, restriction and suspension)."""

    model_config = ConfigDict(extra="forbid")

    level: int = Field(default=0, ge=0, le=2)


class IncidentOut(BaseModel):
    """One incident as the admin sees it."""

    id: int
    user_id: str
    category: str
    severity: str
    confidence: float
    content: str
    layer: str | None
    action: str | None
    escalation_level: int
    indicators: dict[str, Any] | None
    response: str | None
    detected_at: datetime
    resolved_at: datetime | None
    admin_reviewed: bool
    admin_notes: str | None
    false_positive: bool | None

    @classmethod
    def of(cls, row: SecurityIncident) -> IncidentOut:
        """Build from the ORM row."""
        return cls(
            id=row.id,
            user_id=row.user_id,
            category=row.incident_type,
            severity=row.severity,
            confidence=row.confidence,
            content=row.detected_content,
            layer=row.detection_method,
            action=row.action,
            escalation_level=row.escalation_level,
            indicators=row.threat_indicators,
            response=row.response_content,
            detected_at=row.detected_at,
            resolved_at=row.resolved_at,
            admin_reviewed=row.admin_reviewed,
            admin_notes=row.admin_notes,
            false_positive=row.false_positive,
        )


class UserSecurityOut(BaseModel):
    """A user's escalation state."""

    user_id: str
    level: int
    status: str
    offences_in_window: int

    @classmethod
    def of(cls, state: UserSecurity) -> UserSecurityOut:
        """Build from the service's value."""
        return cls(**state.__dict__)


class ReviewOut(BaseModel):
    """The reviewed incident and the user's state afterwards."""

    incident: IncidentOut
    user: UserSecurityOut


@router.post("/api/security/classify", response_model=ClassifyOut)
async def classify(body: ClassifyIn, _: AdminDep, security: SecurityDep) -> ClassifyOut:
    """Classify ``text`` (no incident is recorded, nobody is escalated)."""
    detection = await security.classify(body.text)
    threshold = security.settings.security_confidence_threshold
    flagged = detection.flagged(threshold)
    return ClassifyOut(
        flagged=flagged,
        category=detection.category if flagged else None,
        confidence=detection.confidence,
        layer=detection.layer,
    )


@router.get("/api/security/incidents", response_model=list[IncidentOut])
async def list_incidents(
    _: AdminDep,
    security: SecurityDep,
    user_id: str | None = None,
    category: str | None = None,
    reviewed: bool | None = None,
    false_positive: bool | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[IncidentOut]:
    """Incidents newest first, filtered by user, category, review state and time."""
    filters = IncidentFilter(user_id, category, reviewed, false_positive, since, limit, offset)
    return [IncidentOut.of(row) for row in await security.list_incidents(filters)]


@router.post("/api/security/incidents/{incident_id}/review", response_model=ReviewOut)
async def review_incident(
    incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: ReviewIn,
    _: AdminDep,
    security: SecurityDep,
) -> ReviewOut:
    """Mark reviewed; ``false_positive`` removes it from the count and may lower the level."""
    incident, state = await security.review(
        incident_id, false_positive=body.false_positive, notes=body.notes
    )
    return ReviewOut(incident=IncidentOut.of(incident), user=UserSecurityOut.of(state))


@router.get("/api/security/users/{user_id}", response_model=UserSecurityOut)
async def user_security(user_id: str, _: AdminDep, security: SecurityDep) -> UserSecurityOut:
    """A user's level, status and offences in the window."""
    return UserSecurityOut.of(await security.user_status(user_id))


@router.post("/api/security/users/{user_id}/lift", response_model=UserSecurityOut)
async def lift(user_id: str, body: LiftIn, _: AdminDep, security: SecurityDep) -> UserSecurityOut:
    """Lift a warning, restriction or suspension (open incidents stop counting)."""
    return UserSecurityOut.of(await security.lift(user_id, level=body.level))
