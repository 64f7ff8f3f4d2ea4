"""Turning the pipeline's events into HTTP streams, failing early with a real status.

The first event is awaited *before* the response starts: validation, rate limits,
``Busy``, a foreign conversation id, or "no model could answer" still become a proper
4xx/5xx instead of a 200 stream that breaks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable

from companion.conversation.pipeline import ConversationService
from companion.conversation.types import TurnEvent, TurnRequest, TurnResult
from companion.errors import CompanionError, TurnFailed

__all__ = ["OpenedTurn", "chunk_stream", "failure", "open_turn", "sse"]

log = logging.getLogger(__name__)


def failure(result: TurnResult) -> TurnFailed:
    """The error for a turn no model answered (the apology was recorded)."""
    return TurnFailed(
        "the companion could not answer right now (every model provider failed); try again shortly",
        reply=result.reply,
        interaction_id=result.interaction_id,
        conversation_id=str(result.conversation_id),
    )


class OpenedTurn:
    """A turn whose first event has arrived; iterate for every event in order."""

    def __init__(self, first: TurnEvent, rest: AsyncIterator[TurnEvent]) -> None:
        self._first: TurnEvent | None = first
        self._rest = rest

    async def events(self) -> AsyncIterator[TurnEvent]:
        """All events; the pipeline is closed (lock released) however this ends."""
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield first
            async for event in self._rest:
                yield event
        finally:
            await self._rest.aclose()  # type: ignore[attr-defined]


async def open_turn(service: ConversationService, request: TurnRequest) -> OpenedTurn:
    """Start the turn and wait for its first event (raising domain errors here)."""
    events = service.stream(request)
    try:
        first = await anext(events)
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    if first.kind == "done" and first.result is not None and first.result.error:
        await events.aclose()  # type: ignore[attr-defined]
        raise failure(first.result)
    return OpenedTurn(first, events)


def sse(payload: object) -> str:
    """One Server-Sent Events ``data:`` line (JSON, unicode kept readable)."""
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def chunk_stream(
    turn: OpenedTurn, *, final: Callable[[TurnResult], dict[str, object]]
) -> AsyncIterator[str]:
    """The service API's format: ``{"chunk": …}`` lines, then ``final(result)`` with done."""
    streamed = False
    try:
        async for event in turn.events():
            if event.kind == "delta":
                streamed = True
                yield sse({"chunk": event.text})
            elif event.result is not None:
                result = event.result
                if not streamed:  # answered without the model (e.g. security)
                    yield sse({"chunk": result.reply})
                yield sse({"chunk": "", "done": True, **final(result)})
    except CompanionError as exc:  # the status line is gone; say it in the stream
        log.warning("stream ended early: %s", exc)
        yield sse({"error": type(exc).__name__, "detail": exc.message, "done": True})
