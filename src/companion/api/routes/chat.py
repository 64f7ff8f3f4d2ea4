"""``/api/chat``: one turn as JSON or as Server-Sent Events, and the session state."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from companion.api.deps import ConversationDep, PrincipalDep
from companion.api.ratelimit import IpLimitDep
from companion.api.streaming import chunk_stream, failure, open_turn
from companion.conversation.types import SessionInfo, TurnRequest, TurnResult

__all__ = ["MessageRequest", "MessageResponse", "router"]

router = APIRouter(prefix="/api/chat", tags=["chat"])


class MessageRequest(BaseModel):
    """A user message (the Discord design's MessageRequest)."""

    message: str = Field(min_length=1, max_length=100_000, description="What the user says.")
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Admins may act for any user; others may only name themselves.",
    )
    username: str | None = Field(default=None, max_length=100)
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Continue this conversation (must be yours)."
    )
    new_conversation: bool = Field(
        default=False, description="Start a new conversation (ignored with conversation_id)."
    )
    channel: str = Field(default="api", pattern=r"^[a-z][a-z0-9_]{0,29}$")
    external_conversation_id: str | None = Field(
        default=None, max_length=200, description="A channel's own thread id (bots)."
    )
    message_external_id: str | None = Field(default=None, max_length=200)


class ResetRequest(BaseModel):
    """Which conversation to reset (default: the user's latest)."""

    user_id: str | None = Field(default=None, min_length=1, max_length=100)
    conversation_id: uuid.UUID | None = None
    external_conversation_id: str | None = Field(default=None, max_length=200)


class ResetResponse(BaseModel):
    """The conversation whose short-term context was cleared (null: none yet)."""

    success: bool
    conversation_id: uuid.UUID | None


class MessageResponse(BaseModel):
    """The reply and its bookkeeping (the Discord design's MessageResponse, plus more)."""

    response: str
    agent_response: str = Field(description="The same as ``response`` (older clients read it).")
    reply: str = Field(description="The same as ``response`` (TurnResult's name).")
    conversation_id: uuid.UUID
    interaction_id: int
    emotion_label: str
    emotion: str
    pad_state_after: dict[str, float]
    pad_after: dict[str, float]
    memories_used: list[str]
    processing_time_ms: int
    model_latency_ms: float
    was_proactive: bool = False
    model: str
    provider: str
    fallback_used: bool
    flagged: bool
    security_action: str


class SessionResponse(BaseModel):
    """The user's current chat session (the Discord design's ChatSession)."""

    user_id: str
    conversation_id: uuid.UUID | None
    channel: str | None
    message_count: int
    started_at: str | None
    last_activity: str | None
    total_interactions: int
    emotion_label: str
    pad_state: dict[str, float]


def to_response(result: TurnResult) -> MessageResponse:
    """The API shape of a turn's result."""
    return MessageResponse(
        response=result.reply,
        agent_response=result.reply,
        reply=result.reply,
        conversation_id=result.conversation_id,
        interaction_id=result.interaction_id,
        emotion_label=result.emotion,
        emotion=result.emotion,
        pad_state_after=result.pad_after,
        pad_after=result.pad_after,
        memories_used=result.memories_used,
        processing_time_ms=result.processing_time_ms,
        model_latency_ms=round(result.model_latency_ms, 2),
        model=result.model,
        provider=result.provider,
        fallback_used=result.fallback_used,
        flagged=result.flagged,
        security_action=result.security_action,
    )


def _turn(body: MessageRequest, principal: PrincipalDep) -> TurnRequest:
    user_id = principal.act_as(body.user_id)
    return TurnRequest(
        user_id=user_id,
        text=body.message,
        channel=body.channel,
        conversation_id=body.conversation_id,
        external_conversation_id=body.external_conversation_id,
        new_conversation=body.new_conversation and body.conversation_id is None,
        username=body.username,
        message_external_id=body.message_external_id,
        # An admin's own turns may use tools; acting for someone else (a bot's key)
        # does not lend them the admin's tools.
        is_admin=principal.is_admin and user_id == principal.user_id,
    )


def _timing(result: TurnResult, *, stages: bool) -> dict[str, str]:
    """``Server-Timing``: the turn, the model and the rest; with ``stages`` (an admin's
    key) also each step of ``TurnResult.stages`` (``companion bench gateway
    --breakdown`` reads them), which ordinary users are not told."""
    overhead = max(0.0, result.processing_time_ms - result.model_latency_ms)
    timing = (
        f"turn;dur={result.processing_time_ms}, "
        f"model;dur={result.model_latency_ms:.1f}, overhead;dur={overhead:.1f}"
    )
    if stages and result.stages:
        timing += "".join(
            f", {name.removesuffix('_ms')};dur={value}" for name, value in result.stages.items()
        )
    return {"Server-Timing": timing}


@router.post(
    "/message",
    response_model=MessageResponse,
    responses={503: {"description": "no model could answer; body carries the apology"}},
)
async def message(
    body: MessageRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> Response:
    """Answer one message and return the whole reply."""
    result = await service.turn(_turn(body, principal))
    if result.error:
        raise failure(result)
    # Encoded by pydantic straight to JSON text: no intermediate dict for json.dumps.
    return Response(
        to_response(result).model_dump_json(),
        media_type="application/json",
        headers=_timing(result, stages=principal.is_admin),
    )


def _final(result: TurnResult) -> dict[str, Any]:
    return to_response(result).model_dump(mode="json")


@router.post(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    body: MessageRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> StreamingResponse:
    """Answer one message as SSE: ``{"chunk"}`` lines, then ``{"done": true, …result}``."""
    turn = await open_turn(service, _turn(body, principal))
    return StreamingResponse(
        chunk_stream(turn, final=_final),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _session(info: SessionInfo) -> SessionResponse:
    return SessionResponse(
        user_id=info.user_id,
        conversation_id=info.conversation_id,
        channel=info.channel,
        message_count=info.message_count,
        started_at=info.started_at.isoformat() if info.started_at else None,
        last_activity=info.last_activity.isoformat() if info.last_activity else None,
        total_interactions=info.total_interactions,
        emotion_label=info.emotion,
        pad_state=info.pad,
    )


@router.get("/session/{user_id}", response_model=SessionResponse)
async def session(
    user_id: str, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> SessionResponse:
    """The user's latest conversation and the companion's mood."""
    return _session(await service.session(principal.act_as(user_id)))


@router.post("/reset", response_model=ResetResponse)
async def reset(
    body: ResetRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> ResetResponse:
    """Clear a conversation's short-term context; long-term memories stay."""
    conversation_id = await service.reset(
        principal.act_as(body.user_id),
        body.conversation_id,
        external_conversation_id=body.external_conversation_id,
    )
    return ResetResponse(success=True, conversation_id=conversation_id)
