"""Memory pages for both sides: the user's ``/me/memories`` and the admin's view.

One helper lists, searches and shows a fact's history; the actions (correct, forget,
forget all) call ``MemoryService`` and are mounted under ``/me`` (own memories) and
``/admin`` (any user's, ``user_id`` in the form).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from companion.api.deps import RuntimeDep
from companion.errors import CompanionError, InvalidInput, StoreError
from companion.memory import MemoryService, SearchFilters
from companion.runtime import Runtime
from companion.store.repositories import users
from companion.web import stats
from companion.web.pages import (
    AdminSessionDep,
    PageRoute,
    UserSessionDep,
    checked_form,
    flash,
    redirect,
    render,
)
from companion.web.session import WebSession

__all__ = ["MemoryRow", "memory_service", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE = 25
MemoryType = Literal["", "episodic", "semantic", "document"]


def memory_service(runtime: Runtime) -> MemoryService:
    """The runtime's memory service (503 if not wired)."""
    if not isinstance(runtime.memory, MemoryService):
        raise StoreError("the memory service is not available")
    return runtime.memory


@dataclass(frozen=True)
class MemoryRow:
    """A memory as the pages show it (from a listing or a search hit)."""

    id: uuid.UUID
    content: str
    memory_type: str
    importance: float
    created_at: datetime
    valid_from: datetime | None
    invalid_at: datetime | None
    fact_key: str | None
    score: float | None = None


async def _context(
    runtime: Runtime, user_id: str, q: str, kind: str, superseded: bool, page: int, fact: str
) -> dict[str, Any]:
    memory = memory_service(runtime)
    rows: list[MemoryRow] = []
    total = 0
    if fact:
        found = await memory.history(user_id=user_id, fact_key=fact)
        rows = [_row(m) for m in found]
        total = len(rows)
    elif q.strip():
        filters = SearchFilters(memory_types=[kind] if kind else (), include_superseded=superseded)
        hits = await memory.search(user_id=user_id, query=q, k=50, filters=filters)
        rows = [
            MemoryRow(h.id, h.content, h.memory_type, h.importance, h.created_at, h.valid_from,
                      h.invalid_at, None, round(h.score, 3))
            for h in hits
        ]  # fmt: skip
        total = len(rows)
    else:
        found, total = await memory.list_memories(
            user_id=user_id, memory_type=kind or None, include_superseded=superseded,
            limit=PAGE, offset=(page - 1) * PAGE,
        )  # fmt: skip
        rows = [_row(m) for m in found]
    return {
        "rows": rows, "total": total, "q": q, "kind": kind, "superseded": superseded,
        "page": page, "more": not q and not fact and page * PAGE < total, "fact": fact,
        "subject": user_id,
    }  # fmt: skip


def _row(m: Any) -> MemoryRow:
    return MemoryRow(
        m.id, m.content, m.memory_type, m.importance, m.created_at, m.valid_from,
        m.invalid_at, m.fact_key,
    )  # fmt: skip


Q = Annotated[str, Query(max_length=500)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Fact = Annotated[str, Query(max_length=200)]


@router.get("/admin/memories")
async def admin_memories(
    request: Request,
    runtime: RuntimeDep,
    session: AdminSessionDep,
    user_id: Annotated[str, Query(min_length=1, max_length=100)],
    q: Q = "",
    type: MemoryType = "",
    superseded: bool = False,
    page: Page = 1,
    fact: Fact = "",
) -> Response:
    """A user's memories: search, browse by type, versions of a fact, edit, forget."""
    async with runtime.db.session() as db:
        await users.get_user(db, user_id=user_id)
        conflicts = await stats.conflicts(db, user_id=user_id)
    context = await _context(runtime, user_id, q, type, superseded, page, fact)
    return await render(
        request, runtime, "admin/memories.html", session, base="/admin/memories",
        nav="users", conflicts=conflicts, **context,
    )  # fmt: skip


@router.get("/me/memories")
async def my_memories(
    request: Request,
    runtime: RuntimeDep,
    session: UserSessionDep,
    q: Q = "",
    type: MemoryType = "",
    superseded: bool = False,
    page: Page = 1,
    fact: Fact = "",
) -> Response:
    """What the companion remembers about me: search, browse, versions, correct, forget."""
    context = await _context(runtime, session.user_id, q, type, superseded, page, fact)
    documents = await memory_service(runtime).documents.list(user_id=session.user_id)
    return await render(
        request, runtime, "me/memories.html", session, base="/me/memories",
        nav="memories", documents=documents, **context,
    )  # fmt: skip


@router.get("/me/memories/export")
async def my_export(runtime: RuntimeDep, session: UserSessionDep) -> Response:
    """Everything stored about me, as a JSON download."""
    data = await memory_service(runtime).export(user_id=session.user_id)
    return JSONResponse(
        data, headers={"Content-Disposition": 'attachment; filename="companion-export.json"'}
    )


async def _act(
    request: Request, runtime: Runtime, session: WebSession, memory_id: uuid.UUID | None, act: str
) -> Response:
    form = await checked_form(request, session)
    user_id = session.user_id if session.kind == "user" else str(form.get("user_id") or "")
    back = str(form.get("back") or "")
    if not back.startswith(("/me/", "/admin/", "/chat")):
        back = (
            "/me/memories"
            if session.kind == "user"
            else f"/admin/memories?user_id={quote(user_id)}"
        )
    memory = memory_service(runtime)
    try:
        if act == "correct" and memory_id is not None:
            row = await memory.correct(
                user_id=user_id, memory_id=memory_id, content=str(form.get("content") or "")
            )
            message = f"Corrected: “{row.content[:80]}” (the old version is kept as history)."
        elif act == "forget" and memory_id is not None:
            await memory.forget(user_id=user_id, memory_id=memory_id)
            message = "Forgotten."
        elif act == "forget_all":
            if form.get("confirm") != "forget everything":
                raise InvalidInput("type 'forget everything' to confirm")
            counts = await memory.forget_all(user_id=user_id)
            message = f"Forgot {counts.get('memories', 0)} memories and every document."
        else:  # upload
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise InvalidInput("file: choose a text or Markdown file")
            try:
                text = (await upload.read()).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput("file: must be UTF-8 text or Markdown") from None
            name = upload.filename[:255]
            kind = "markdown" if name.lower().endswith((".md", ".markdown")) else "text"
            doc = await memory.documents.upload(
                user_id=user_id, name=name, text=text, content_type=kind
            )
            message = f"Uploaded {doc.name} ({doc.chunk_count} passages)."
    except CompanionError as exc:
        message = f"Not done: {exc.message}"
    if request.headers.get("x-requested-with") == "fetch":
        return JSONResponse({"message": message})
    await flash(runtime, session, message)
    return redirect(back)


@router.post("/me/memories/{memory_id}/correct")
async def my_correct(
    memory_id: uuid.UUID, request: Request, runtime: RuntimeDep, session: UserSessionDep
) -> Response:
    """Correct one of my memories (a new version; the old one stays as history)."""
    return await _act(request, runtime, session, memory_id, "correct")


@router.post("/me/memories/{memory_id}/forget")
async def my_forget(
    memory_id: uuid.UUID, request: Request, runtime: RuntimeDep, session: UserSessionDep
) -> Response:
    """Forget one of my memories for good."""
    return await _act(request, runtime, session, memory_id, "forget")


@router.post("/me/memories/forget-all")
async def my_forget_all(request: Request, runtime: RuntimeDep, session: UserSessionDep) -> Response:
    """Forget everything (the form must confirm)."""
    return await _act(request, runtime, session, None, "forget_all")


@router.post("/me/documents")
async def my_upload(request: Request, runtime: RuntimeDep, session: UserSessionDep) -> Response:
    """Upload a text or Markdown document to remember."""
    return await _act(request, runtime, session, None, "upload")


@router.post("/admin/memories/{memory_id}/correct")
async def admin_correct(
    memory_id: uuid.UUID, request: Request, runtime: RuntimeDep, session: AdminSessionDep
) -> Response:
    """Edit a user's memory (a new version supersedes it)."""
    return await _act(request, runtime, session, memory_id, "correct")


@router.post("/admin/memories/{memory_id}/forget")
async def admin_forget(
    memory_id: uuid.UUID, request: Request, runtime: RuntimeDep, session: AdminSessionDep
) -> Response:
    """Forget a user's memory."""
    return await _act(request, runtime, session, memory_id, "forget")
