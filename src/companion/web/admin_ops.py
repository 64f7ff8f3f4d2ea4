"""Dashboard pages for operations: the job timetable ("run now") and security review."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from companion.api.deps import RuntimeDep
from companion.errors import CompanionError, ConfigError, NotFound
from companion.jobs.schedule import run_now, schedule
from companion.runtime import Runtime
from companion.security import IncidentFilter, SecurityService
from companion.web.pages import AdminSessionDep, PageRoute, checked_form, flash, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _security(runtime: Runtime) -> SecurityService:
    if not isinstance(runtime.security, SecurityService):
        raise ConfigError("security", "the security service is not wired in this process")
    return runtime.security


@router.get("/admin/jobs")
async def jobs_page(request: Request, runtime: RuntimeDep, session: AdminSessionDep) -> Response:
    """Every scheduled job with its next run, last run, outcome and duration."""
    scheduler = runtime.scheduler
    leader = bool(getattr(scheduler, "is_leader", False))
    enabled = runtime.settings.behaviour.scheduler_enabled
    return await render(
        request, runtime, "admin/jobs.html", session, jobs=await schedule(runtime),
        leader=leader, enabled=enabled, nav="jobs",
    )  # fmt: skip


@router.post("/admin/jobs/{name}/run")
async def run_job(
    name: Annotated[str, Path(max_length=64)],
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
) -> Response:
    """Run a job now (waits briefly; a long job finishes in the background)."""
    await checked_form(request, session)
    try:
        summary = await run_now(runtime, name)
        if summary is None:
            message = f"{name} is still running; reload to see its outcome."
        else:
            message = f"{name}: {summary.get('status')}"
    except CompanionError as exc:
        message = f"Not run: {exc.message}"
    await flash(runtime, session, message)
    return redirect("/admin/jobs")


@router.get("/admin/security")
async def security_page(
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
    user_id: Annotated[str, Query(max_length=100)] = "",
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
) -> Response:
    """Incidents (open ones first by default) and the review and lift actions."""
    security = _security(runtime)
    filters = IncidentFilter(
        user_id=user_id or None, reviewed=False if show == "open" else None, limit=100
    )
    incidents = await security.list_incidents(filters)
    states = {}
    for uid in dict.fromkeys(i.user_id for i in incidents):
        states[uid] = await security.user_status(uid)
    if user_id and user_id not in states:
        try:
            states[user_id] = await security.user_status(user_id)
        except NotFound:
            await flash(runtime, session, f"No user {user_id!r}.")
    return await render(
        request, runtime, "admin/security.html", session, incidents=incidents, states=states,
        user_id=user_id, show=show, nav="security",
    )  # fmt: skip


@router.post("/admin/security/incidents/{incident_id}/review")
async def review(
    incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
) -> Response:
    """Confirm an incident or mark it a false positive (which may lower the level)."""
    form = await checked_form(request, session)
    verdict = str(form.get("verdict") or "")
    notes = str(form.get("notes") or "").strip()[:4000] or None
    try:
        if verdict not in ("confirm", "false_positive"):
            message = "Not reviewed: choose confirm or false positive."
        else:
            incident, state = await _security(runtime).review(
                incident_id, false_positive=verdict == "false_positive", notes=notes
            )
            label = "false positive" if incident.false_positive else "confirmed"
            message = f"Incident {incident_id} {label}; {state.user_id} is at level {state.level}."
    except CompanionError as exc:
        message = f"Not reviewed: {exc.message}"
    await flash(runtime, session, message)
    return redirect("/admin/security")


@router.post("/admin/security/users/{user_id}/lift")
async def lift(
    user_id: Annotated[str, Path(max_length=100)],
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
) -> Response:
    """Lift a warning, restriction or suspension."""
    form = await checked_form(request, session)
    try:
        level = int(str(form.get("level") or "0"))
        if not 0 <= level <= 2:
            raise ValueError
        state = await _security(runtime).lift(user_id, level=level)
        message = f"{user_id} is now at level {state.level} ({state.status})."
    except ValueError:
        message = "Not lifted: the level must be 0, 1 or 2."
    except CompanionError as exc:
        message = f"Not lifted: {exc.message}"
    await flash(runtime, session, message)
    return redirect(f"/admin/security?user_id={quote(user_id)}&show=all")
