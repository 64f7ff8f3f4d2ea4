"""A fake Gemini embeddings endpoint on loopback speaking the real REST shape.

``POST /v1beta/models/{model}:embedContent`` with
``{"model", "content": {"parts": [{"text"}]}, "taskType", "outputDimensionality"}``
answers ``{"embedding": {"values": [...]}}``; ``:batchEmbedContents`` takes
``{"requests": [...]}`` (at most 100, as the real API) and answers
``{"embeddings": [{"values": [...]}]}``. The key travels in ``x-goog-api-key``.

Vectors are deterministic per (text, taskType) and deliberately *not* unit length
(truncated Gemini vectors are not normalised; the client must normalise them).
Script failures with ``gemini_server.enqueue(Reply(status=429))``; a wrong key gets
the real 400 ``API_KEY_INVALID`` answer.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from tests.fakes._http import LoopbackServer, RecordedRequest, Response
from tests.fakes.openai_server import Reply, fake_vector

__all__ = ["FakeGeminiServer"]

_BATCH_LIMIT = 100


class FakeGeminiServer(LoopbackServer):
    """See the module docstring."""

    def __init__(self, *, api_key: str = "gemini-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.embedded_texts = 0

    @property
    def base_url(self) -> str:
        """The ``/v1beta`` base URL."""
        return f"{self.url}/v1beta"

    def enqueue(self, *replies: Reply) -> None:
        """Script the next answers, in order."""
        with self._lock:
            self._queue.extend(replies)

    def handle(self, request: RecordedRequest) -> Response:
        """Route one request."""
        with self._lock:
            reply = self._queue.popleft() if self._queue else Reply()
        if reply.hang:
            return Response(hang=True)
        if reply.status >= 300:
            return _error(reply.status, "scripted failure", "UNAVAILABLE")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
        path = request.path.split("?")[0]
        body = request.body or {}
        if path.endswith(":embedContent"):
            return Response(body={"embedding": self._embed(body)}, delay=reply.delay)
        if path.endswith(":batchEmbedContents"):
            items = body.get("requests", [])
            if len(items) > _BATCH_LIMIT:
                return _error(400, "at most 100 requests can be in one batch", "INVALID_ARGUMENT")
            return Response(
                body={"embeddings": [self._embed(item) for item in items]}, delay=reply.delay
            )
        return super().handle(request)

    def _embed(self, item: dict[str, Any]) -> dict[str, list[float]]:
        text = " ".join(p.get("text", "") for p in item["content"]["parts"])
        dims = int(item.get("outputDimensionality") or 3072)
        self.embedded_texts += 1
        vector = fake_vector(text, dims, salt=str(item.get("taskType", "")))
        return {"values": [3.0 * v for v in vector]}


def _error(code: int, message: str, status: str) -> Response:
    return Response(
        status=code, body={"error": {"code": code, "message": message, "status": status}}
    )
