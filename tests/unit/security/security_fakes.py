"""Fakes implementing our own Protocols (Embedder, RoleModel) for unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence

import numpy as np

from companion.llm.base import ChatRequest, Chunk, Completion, EmbedTask


class BagOfWordsEmbedder:
    """A deterministic Embedder: hashed bag of words, unit length (no model needed)."""

    model_id = "fake-bow"
    dimensions = 256

    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        self.calls += len(texts)
        out = []
        for text in texts:
            vec = np.zeros(self.dimensions, dtype=np.float32)
            for word in text.lower().split():
                vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
            norm = float(np.linalg.norm(vec)) or 1.0
            out.append((vec / norm).tolist())
        return out


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
