"""``/api/memory/*``: import, search, list, get, correct, forget, export, documents.

Thin handlers over ``MemoryService``; every route acts for ``principal.act_as(user_id)``
(an admin for anyone, a user only for itself; a foreign id reads as 404).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from companion.api.deps import PrincipalDep, RuntimeDep
from companion.errors import InvalidInput, StoreError
from companion.memory import Hit, ImportMessage, MemoryService, SearchFilters, source_ids
from companion.memory.models import Memory

__all__ = ["router"]

router = APIRouter(prefix="/api/memory", tags=["memory"])


async def get_memory(runtime: RuntimeDep) -> MemoryService:
    """The runtime's memory service (503 if it was not built)."""
    if not isinstance(runtime.memory, MemoryService):
        raise StoreError("the memory service is not available")
    return runtime.memory


MemoryDep = Annotated[MemoryService, Depends(get_memory)]
UserQuery = Annotated[str | None, Query(max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportItem(_Strict):
    """One message of an imported history."""

    external_id: str = Field(min_length=1, max_length=200)
    role: Literal["user", "assistant"]
    speaker: str = Field(default="", max_length=100)
    text: str = Field(min_length=1, max_length=100_000)
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class ImportRequest(_Strict):
    """``POST /api/memory/import``."""

    user_id: str | None = Field(default=None, max_length=100)
    conversation_id: str = Field(min_length=1, max_length=200)
    messages: list[ImportItem] = Field(min_length=1, max_length=50_000)


class ImportResponse(BaseModel):
    """How many messages were imported and memories created."""

    imported: int
    memories_created: int


class SearchRequest(_Strict):
    """``POST /api/memory/search`` (filters are optional extras)."""

    user_id: str | None = Field(default=None, max_length=100)
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=50)
    memory_types: list[Literal["episodic", "semantic", "document"]] = []
    since: datetime | None = None
    until: datetime | None = None
    min_importance: float = Field(default=0.0, ge=0.0, le=1.0)
    include_superseded: bool = False

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class SearchResult(BaseModel):
    """One search hit (the contract's fields)."""

    id: str
    content: str
    memory_type: str
    score: float
    source_message_ids: list[str]
    valid_from: datetime | None
    invalid_at: datetime | None


class SearchResponse(BaseModel):
    """``{"results": [...]}``."""

    results: list[SearchResult]


class MemoryOut(BaseModel):
    """A stored memory as the user sees it."""

    id: str
    content: str
    memory_type: str
    importance: float
    created_at: datetime
    valid_from: datetime | None
    invalid_at: datetime | None
    superseded_by: str | None
    fact_key: str | None
    conversation_id: str | None
    source_message_ids: list[str]
    document_id: str | None


class MemoryPage(BaseModel):
    """A page of memories."""

    items: list[MemoryOut]
    total: int
    limit: int
    offset: int


class CorrectRequest(_Strict):
    """``POST /api/memory/{id}/correct``."""

    user_id: str | None = Field(default=None, max_length=100)
    content: str = Field(min_length=1, max_length=10_000)


class DocumentRequest(_Strict):
    """``POST /api/memory/documents`` as JSON."""

    user_id: str | None = Field(default=None, max_length=100)
    name: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1)
    content_type: Literal["text", "markdown"] = "text"


class DocumentOut(BaseModel):
    """An uploaded document."""

    id: str
    name: str
    content_type: str
    chunk_count: int
    uploaded_at: datetime


def _out(row: Memory) -> MemoryOut:
    return MemoryOut(
        id=str(row.id), content=row.content, memory_type=row.memory_type,
        importance=row.importance, created_at=row.created_at, valid_from=row.valid_from,
        invalid_at=row.invalid_at,
        superseded_by=str(row.superseded_by) if row.superseded_by else None,
        fact_key=row.fact_key,
        conversation_id=str(row.conversation_id) if row.conversation_id else None,
        source_message_ids=source_ids(row.source_external_ids, row.source_message_ids),
        document_id=str(row.document_id) if row.document_id else None,
    )  # fmt: skip


def _result(hit: Hit) -> SearchResult:
    return SearchResult(
        id=str(hit.id), content=hit.content, memory_type=hit.memory_type,
        score=round(hit.score, 4),
        source_message_ids=source_ids(hit.source_external_ids, hit.source_message_ids),
        valid_from=hit.valid_from, invalid_at=hit.invalid_at,
    )  # fmt: skip


@router.post("/import", response_model=ImportResponse)
async def import_history(
    body: ImportRequest, principal: PrincipalDep, memory: MemoryDep
) -> ImportResponse:
    """Import a conversation history in one transaction (422 names a bad item's index)."""
    messages = [
        ImportMessage(m.external_id, m.role, m.speaker, m.text, m.timestamp) for m in body.messages
    ]
    result = await memory.import_history(
        user_id=principal.act_as(body.user_id), conversation=body.conversation_id, messages=messages
    )
    return ImportResponse(imported=result.imported, memories_created=result.memories_created)


@router.post("/search", response_model=SearchResponse)
async def search(body: SearchRequest, principal: PrincipalDep, memory: MemoryDep) -> SearchResponse:
    """Hybrid search over the user's memories."""
    filters = SearchFilters(
        memory_types=body.memory_types, since=body.since, until=body.until,
        min_importance=body.min_importance, include_superseded=body.include_superseded,
    )  # fmt: skip
    hits = await memory.search(
        user_id=principal.act_as(body.user_id), query=body.query, k=body.k, filters=filters
    )
    return SearchResponse(results=[_result(h) for h in hits])


@router.get("/export")
async def export(
    principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> dict[str, Any]:
    """Every row stored about the user, as JSON (no secrets, nothing of anyone else)."""
    return await memory.export(user_id=principal.act_as(user_id))


def _document_json(data: object) -> DocumentRequest:
    try:
        return DocumentRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{field}: {first['msg']}") from None


@router.post("/documents", response_model=DocumentOut, status_code=201)
async def upload_document(
    request: Request, principal: PrincipalDep, memory: MemoryDep
) -> DocumentOut:
    """Upload text or Markdown: JSON (``DocumentRequest``) or multipart (``file``)."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("file: a multipart field named 'file' is required")
        raw = await upload.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("file: must be UTF-8 text or Markdown") from None
        name = str(form.get("name") or upload.filename or "document")
        if "\x00" in text or "\x00" in name:
            raise InvalidInput("file: must not contain NUL (\\u0000) characters")
        kind = "markdown" if name.lower().endswith((".md", ".markdown")) else "text"
        user = form.get("user_id")
        body = DocumentRequest(
            user_id=str(user) if user else None, name=name, text=text, content_type=kind
        )
    else:
        body = _document_json(await request.json())
    document = await memory.documents.upload(
        user_id=principal.act_as(body.user_id), name=body.name, text=body.text,
        content_type=body.content_type,
    )  # fmt: skip
    return DocumentOut(
        id=str(document.id), name=document.name, content_type=document.content_type,
        chunk_count=document.chunk_count, uploaded_at=document.uploaded_at or datetime.now(UTC),
    )  # fmt: skip


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(
    principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> list[DocumentOut]:
    """The user's documents, newest first."""
    rows = await memory.documents.list(user_id=principal.act_as(user_id))
    return [
        DocumentOut(
            id=str(d.id),
            name=d.name,
            content_type=d.content_type,
            chunk_count=d.chunk_count,
            uploaded_at=d.uploaded_at,
        )
        for d in rows
    ]


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(
    document_id: uuid.UUID, principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> None:
    """Delete a document and its chunks."""
    await memory.documents.delete(user_id=principal.act_as(user_id), document_id=document_id)


@router.get("", response_model=MemoryPage)
async def list_memories(
    principal: PrincipalDep,
    memory: MemoryDep,
    user_id: UserQuery = None,
    memory_type: Literal["episodic", "semantic", "document"] | None = None,
    include_superseded: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MemoryPage:
    """A page of the user's memories, newest first."""
    rows, total = await memory.list_memories(
        user_id=principal.act_as(user_id), memory_type=memory_type,
        include_superseded=include_superseded, limit=limit, offset=offset,
    )  # fmt: skip
    return MemoryPage(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.delete("")
async def forget_all(
    principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> dict[str, int]:
    """Forget every memory, document and conflict of the user."""
    return await memory.forget_all(user_id=principal.act_as(user_id))


@router.get("/{memory_id}", response_model=MemoryOut)
async def get_memory_by_id(
    memory_id: uuid.UUID, principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> MemoryOut:
    """One memory."""
    return _out(await memory.get(user_id=principal.act_as(user_id), memory_id=memory_id))


@router.post("/{memory_id}/correct", response_model=MemoryOut)
async def correct(
    memory_id: uuid.UUID, body: CorrectRequest, principal: PrincipalDep, memory: MemoryDep
) -> MemoryOut:
    """Correct a memory: a new version supersedes the old one (both are kept)."""
    row = await memory.correct(
        user_id=principal.act_as(body.user_id), memory_id=memory_id, content=body.content
    )
    return _out(row)


@router.delete("/{memory_id}", status_code=204)
async def forget(
    memory_id: uuid.UUID, principal: PrincipalDep, memory: MemoryDep, user_id: UserQuery = None
) -> None:
    """Forget one memory."""
    await memory.forget(user_id=principal.act_as(user_id), memory_id=memory_id)
