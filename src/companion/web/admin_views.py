"""Dashboard pages: the overview, users, and a user's conversations and messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from companion.api.deps import RuntimeDep
from companion.store.repositories import conversations, users
from companion.web import stats
from companion.web.charts import Series, line_chart
from companion.web.pages import AdminSessionDep, PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE = 30


@router.get("/admin")
async def overview(request: Request, runtime: RuntimeDep, session: AdminSessionDep) -> Response:
    """Users, activity, latency, models and fallbacks, errors, incidents."""
    now = datetime.now(UTC)
    async with runtime.db.session() as db:
        figures = await stats.overview(db, now=now)
        hours = await stats.hourly(db, now=now)
        models = await stats.model_usage(db, now=now)
    top = now.replace(minute=0, second=0, microsecond=0)
    found = {h.hour: h for h in hours}
    slots = [top - timedelta(hours=i) for i in range(23, -1, -1)]
    day = [found.get(t) or stats.HourPoint(t, 0, None, 0) for t in slots]
    charts = {
        "turns": line_chart(
            [Series("turns per hour", [(h.hour, h.turns) for h in day])],
            title="Turns per hour, last 24 hours", width=380, height=190, y_label="turns",
            y_range=(0, max(1, *(h.turns for h in day))),
        ),
        "latency": line_chart(
            [Series("p95 ms", [(h.hour, h.p95_ms) for h in hours if h.p95_ms is not None])],
            title="Reply latency p95 per hour, last 24 hours", width=380, height=190, y_label="ms",
        ),
        "errors": line_chart(
            [Series("errors", [(h.hour, h.errors) for h in day])],
            title="Failed turns per hour, last 24 hours", width=380, height=190, y_label="errors",
            y_range=(0, max(1, *(h.errors for h in day))),
        ),
    }  # fmt: skip
    return await render(
        request, runtime, "admin/overview.html", session,
        figures=figures, charts=charts, models=models, nav="overview",
    )  # fmt: skip


@router.get("/admin/users")
async def user_list(
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Search users by id, username or display name."""
    async with runtime.db.session() as db:
        rows = await stats.search_users(db, query=q, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return await render(
        request, runtime, "admin/users.html", session,
        rows=rows[:PAGE], more=len(rows) > PAGE, q=q, page=page, nav="users",
    )  # fmt: skip


@router.get("/admin/users/{user_id}")
async def user_detail(
    user_id: str,
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
    conversation: uuid.UUID | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """A user, their conversations, and one conversation's messages (paged, newest last)."""
    async with runtime.db.session() as db:
        user = await users.get_user(db, user_id=user_id)
        chats = await conversations.list_conversations(db, user_id=user_id, limit=100)
        chosen = conversation or (chats[0].id if chats else None)
        messages = []
        if chosen is not None:
            await conversations.get_conversation(db, user_id=user_id, conversation_id=chosen)
            messages = list(
                await conversations.list_messages(
                    db, user_id=user_id, conversation_id=chosen, limit=PAGE, before_id=before
                )
            )
    older = messages[0].id if len(messages) == PAGE else None
    return await render(
        request, runtime, "admin/user.html", session, user=user, chats=chats,
        chosen=chosen, messages=messages, older=older, nav="users",
    )  # fmt: skip
