"""An OpenAI-compatible surface, so any OpenAI client or chat UI can talk to a companion.

The API key identifies the user. The companion keeps its own memory, persona and
conversation history, so **only the newest ``user`` message of the request is the
turn**; earlier messages (and any ``system`` message) are ignored. Each user has one
conversation on this channel (``openai``), continued across requests.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID

from companion import __version__
from companion.api.deps import ConversationDep, PrincipalDep
from companion.api.ratelimit import IpLimitDep
from companion.api.streaming import OpenedTurn, failure, open_turn, sse
from companion.conversation.types import TurnRequest, TurnResult
from companion.errors import InvalidInput

__all__ = ["MODEL_ID", "router"]

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "companion"
_CHANNEL = "openai"


class ContentPart(BaseModel):
    """A part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    """One message of the request."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content or [] if part.type == "text")


class CompletionRequest(BaseModel):
    """The fields we read; the rest of OpenAI's request is accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = None


def newest_user_text(messages: list[OpenAIMessage]) -> str:
    """The turn: the newest user message's text (InvalidInput if there is none)."""
    for message in reversed(messages):
        if message.role == "user":
            text = message.text()
            if not text.strip():
                raise InvalidInput("messages: the newest user message has no text")
            return text
    raise InvalidInput("messages: no message with role 'user'")


def _completion_id() -> str:
    return f"chatcmpl-{ULID()}"


def _usage(result: TurnResult) -> dict[str, int]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
    }


def _chunk(cid: str, created: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "system_fingerprint": f"companion-{__version__}",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


async def _stream(turn: OpenedTurn) -> AsyncIterator[str]:
    cid, created = _completion_id(), int(time.time())
    yield sse(_chunk(cid, created, {"role": "assistant", "content": ""}, None))
    streamed = False
    async for event in turn.events():
        if event.kind == "delta":
            streamed = True
            yield sse(_chunk(cid, created, {"content": event.text}, None))
        elif event.result is not None and not streamed:
            yield sse(_chunk(cid, created, {"content": event.result.reply}, None))
    yield sse(_chunk(cid, created, {}, "stop"))
    yield "data: [DONE]\n\n"


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: CompletionRequest, principal: PrincipalDep, service: ConversationDep, _: IpLimitDep
) -> JSONResponse | StreamingResponse:
    """Chat with your companion through any OpenAI client (newest user message only)."""
    request = TurnRequest(
        user_id=principal.user_id,
        text=newest_user_text(body.messages),
        channel=_CHANNEL,
        external_conversation_id=f"{_CHANNEL}:default",
        is_admin=principal.is_admin,
    )
    if body.stream:
        turn = await open_turn(service, request)
        return StreamingResponse(_stream(turn), media_type="text/event-stream")
    result = await service.turn(request)
    if result.error:
        raise failure(result)
    # Plain JSON values already: answered as they are, not walked by jsonable_encoder.
    completion = {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "system_fingerprint": f"companion-{__version__}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.reply, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(result),
    }
    return JSONResponse(completion)


@router.get("/models")
async def models(principal: PrincipalDep) -> dict[str, Any]:
    """The one model: your companion."""
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "companion"}],
    }
