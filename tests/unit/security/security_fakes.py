"""Fakes implementing our own Protocols (RoleModel) for unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

from companion.llm.base import ChatRequest, Chunk, Completion


class ScriptedJudge:
    """A RoleModel that answers every request with the next scripted text."""

    role = "fast"

    def __init__(self, *replies: str, capable: bool = True) -> None:
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []
        self._capable = capable

    @property
    def capable(self) -> bool:
        return self._capable

    async def complete(self, request: ChatRequest, *, user_id: str | None = None) -> Completion:
        self.requests.append(request)
        text = self.replies.pop(0) if self.replies else "not json"
        return Completion(
            id="x", role="fast", text=text, provider="fake", model="fake", latency_ms=1.0
        )

    def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        raise NotImplementedError
