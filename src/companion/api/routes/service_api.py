"""The service API's routes, unchanged on the wire: ``POST /chat`` (SSE), reset, memory clear.

The caller is the authenticated user; conversation ids must be theirs (else 404).
``/memory/clear`` deletes what was learnt *in that conversation* (memories
whose provenance is one of its messages) plus its short-term buffer; the user's other
memories stay. ``conversation_id: null`` clears all of the caller's memories.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from companion.api.deps import ConversationDep, PrincipalDep
from companion.api.ratelimit import IpLimitDep
from companion.api.streaming import chunk_stream, open_turn
from companion.conversation.types import TurnRequest, TurnResult

__all__ = ["router"]

router = APIRouter(tags=["companion service"])


class ChatRequest(BaseModel):
    """``{"message", "conversation_id"}``; a null id starts a new conversation."""

    message: str = Field(min_length=1, max_length=100_000)
    conversation_id: uuid.UUID | None = None


class ConversationRef(BaseModel):
    """A conversation of the caller."""

    conversation_id: uuid.UUID


class ClearRequest(BaseModel):
    """The conversation whose memories to delete (null: all of the caller's)."""

    conversation_id: uuid.UUID | None


class ResetResponse(BaseModel):
    """The service API's reset reply."""

    success: bool
    message: str
    conversation_id: uuid.UUID


class ClearResponse(ResetResponse):
    """The service API's clear reply."""

    conversation_id: uuid.UUID | None  # type: ignore[assignment]
    memories_cleared: int


def _final(result: TurnResult) -> dict[str, Any]:
    return {"conversation_id": str(result.conversation_id)}


@router.post(
    "/chat",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat(
    body: ChatRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> StreamingResponse:
    """Stream the reply: ``data: {"chunk": …}`` lines, then done with the conversation id."""
    request = TurnRequest(
        user_id=principal.user_id,
        text=body.message,
        channel="api",
        conversation_id=body.conversation_id,
        new_conversation=body.conversation_id is None,  # null starts a new one
        is_admin=principal.is_admin,
    )
    turn = await open_turn(service, request)
    return StreamingResponse(
        chunk_stream(turn, final=_final),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/conversation/reset", response_model=ResetResponse)
async def reset(
    body: ConversationRef, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> ResetResponse:
    """Clear the conversation's short-term memory; long-term memories stay."""
    await service.reset(principal.user_id, body.conversation_id)
    return ResetResponse(
        success=True,
        message="Conversation reset successfully",
        conversation_id=body.conversation_id,
    )


@router.post("/memory/clear", response_model=ClearResponse)
async def clear(
    body: ClearRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> ClearResponse:
    """Delete the memories learnt in the conversation and its short-term buffer."""
    count = await service.clear_memories(principal.user_id, body.conversation_id)
    return ClearResponse(
        success=True,
        message="Memories cleared successfully",
        conversation_id=body.conversation_id,
        memories_cleared=count,
    )
