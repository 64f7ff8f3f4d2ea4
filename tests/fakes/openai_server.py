"""A real OpenAI-compatible HTTP server on loopback, scriptable from tests.

Use it wherever a test needs "the LLM" without the internet: it speaks
``POST /v1/chat/completions`` (JSON or SSE streaming with ``usage``),
``POST /v1/embeddings`` and ``GET /v1/models`` over real sockets.

Fixture (registered for every test by ``tests/conftest.py``)::

    async def test_reply(openai_server):
        openai_server.enqueue(Reply(text="Hello!"))            # next chat reply
        openai_server.enqueue(Reply(status=429), Reply(status=500))
        openai_server.enqueue(Reply(hang=True))                 # client must time out
        openai_server.enqueue(Reply(malformed=True))            # body is not JSON
        openai_server.enqueue(Reply(text="slow", delay=0.2))
        openai_server.enqueue(Reply(text="a b c", drop_after=2))  # stream breaks midway
        openai_server.enqueue(Reply(tool_calls=[("web_search", {"query": "x"})]))
        ...
        assert openai_server.chat_requests[-1]["messages"][-1]["content"] == "hi"

Point the app at it with settings ``CHAT_PROVIDERS=openai``,
``OPENAI_BASE_URL=openai_server.base_url`` and ``OPENAI_API_KEY=test-key`` (or
construct ``OpenAICompatProvider(base_url=openai_server.base_url, ...)`` directly).

With the queue empty, chat answers ``openai_server.default_text`` if set, else echoes
``"echo: <last user message>"``. Embeddings are deterministic pseudo-random unit
vectors of ``dimensions`` (request field) or ``embedding_dimensions`` (default 384).
``openai_server.requests`` records every request; ``hits`` counts chat calls.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.fakes._http import LoopbackServer, RecordedRequest, Response

__all__ = ["FakeOpenAIServer", "Reply", "fake_vector"]


@dataclass
class Reply:
    """One scripted answer to a chat (or embeddings) request.

    Args:
        text: the assistant's content (None: echo/default behaviour).
        status: HTTP status; non-2xx sends an OpenAI-style error body.
        delay: seconds to wait before answering.
        hang: never answer (until the server closes); the client should time out.
        malformed: send ``200`` with a body that is not valid JSON.
        drop_after: when streaming, close the socket after this many chunks.
        chunk_delay: when streaming, seconds between chunks (a model generating).
        usage: override ``(prompt_tokens, completion_tokens)``.
        tool_calls: answer with these ``(name, arguments)`` tool calls (OpenAI
            ``tool_calls``, streamed in pieces as real servers do; ``finish_reason``
            ``tool_calls``). Arguments may be a dict or raw JSON text.
    """

    text: str | None = None
    status: int = 200
    delay: float = 0.0
    hang: bool = False
    malformed: bool = False
    drop_after: int | None = None
    usage: tuple[int, int] | None = None
    tool_calls: list[tuple[str, Any]] | None = None
    chunk_delay: float = 0.0


def fake_vector(text: str, dimensions: int, *, salt: str = "") -> list[float]:
    """A deterministic unit vector for ``text`` (same text, same vector)."""
    seed = int.from_bytes(hashlib.sha256(f"{salt}|{text}".encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(dimensions)
    return (vector / np.linalg.norm(vector)).tolist()  # type: ignore[no-any-return]


class FakeOpenAIServer(LoopbackServer):
    """See the module docstring."""

    def __init__(self, *, model: str = "fake-model") -> None:
        super().__init__()
        self.model = model
        self.default_text: str | None = None
        self.embedding_dimensions = 384
        self._queues: dict[str, deque[Reply]] = {"chat": deque(), "embeddings": deque()}
        self._lock = threading.Lock()
        self.hits = 0

    @property
    def base_url(self) -> str:
        """The ``/v1`` base URL to give an OpenAI-compatible client."""
        return f"{self.url}/v1"

    @property
    def chat_requests(self) -> list[Any]:
        """JSON bodies of the chat completion requests received so far."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def enqueue(self, *replies: Reply, endpoint: str = "chat") -> None:
        """Script the next answers of ``endpoint`` (``chat`` or ``embeddings``), in order."""
        with self._lock:
            self._queues[endpoint].extend(replies)

    def _next(self, endpoint: str) -> Reply:
        with self._lock:
            queue = self._queues[endpoint]
            return queue.popleft() if queue else Reply()

    def handle(self, request: RecordedRequest) -> Response:
        """Route one request."""
        path = request.path.split("?")[0]
        if request.method == "GET" and path.endswith("/models"):
            return Response(
                body={"object": "list", "data": [{"id": self.model, "object": "model"}]}
            )
        if path.endswith("/chat/completions"):
            self.hits += 1
            body = request.body or {}
            if isinstance(body.get("stop"), list) and len(body["stop"]) > 4:
                # What OpenAI answers: "stop" holds at most four sequences.
                error = {"error": {"message": "'stop' must have at most 4 items",
                                   "type": "invalid_request_error", "param": "stop"}}  # fmt: skip
                return Response(status=400, body=error)
            return self._chat(body, self._next("chat"))
        if path.endswith("/embeddings"):
            return self._embeddings(request.body or {}, self._next("embeddings"))
        return super().handle(request)

    def _failure(self, reply: Reply, *, stream: bool = False) -> Response | None:
        if reply.hang:
            return Response(hang=True)
        if reply.malformed and stream:
            chunks = [b'data: {"choices": [ {"delta": \n\n']
            return Response(chunks=chunks, headers={"Content-Type": "text/event-stream"})
        if reply.malformed:
            return Response(body=b'{"choices": [ {"message": ', delay=reply.delay)
        if reply.status >= 300:
            error = {"error": {"message": f"scripted {reply.status}", "type": "fake"}}
            return Response(status=reply.status, body=error, delay=reply.delay)
        return None

    def _chat(self, body: dict[str, Any], reply: Reply) -> Response:
        failure = self._failure(reply, stream=bool(body.get("stream")))
        if failure is not None:
            return failure
        text = reply.text if reply.text is not None else self._default(body)
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        usage = reply.usage or (prompt, len(text.split()))
        model = body.get("model", self.model)
        calls = _calls(reply.tool_calls) if reply.tool_calls else []
        if calls and reply.text is None:
            text = ""
        if body.get("stream"):
            chunks = _sse(text, model, usage, calls)
            return Response(
                chunks=chunks,
                headers={"Content-Type": "text/event-stream"},
                delay=reply.delay,
                drop_after=reply.drop_after,
                chunk_delay=reply.chunk_delay,
            )
        return Response(body=_completion(text, model, usage, calls), delay=reply.delay)

    def _default(self, body: dict[str, Any]) -> str:
        if self.default_text is not None:
            return self.default_text
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        return f"echo: {users[-1]['content'] if users else ''}"

    def _embeddings(self, body: dict[str, Any], reply: Reply) -> Response:
        failure = self._failure(reply)
        if failure is not None:
            return failure
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        dims = int(body.get("dimensions") or self.embedding_dimensions)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, dims)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(t.split()) for t in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return Response(
            body={"object": "list", "data": data, "model": body.get("model"), "usage": usage},
            delay=reply.delay,
        )


def _calls(calls: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {
                "name": name,
                "arguments": args if isinstance(args, str) else json.dumps(args),
            },
        }
        for i, (name, args) in enumerate(calls)
    ]


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}


def _completion(
    text: str, model: str, usage: tuple[int, int], calls: list[dict[str, Any]]
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if calls else "stop",
            }
        ],
        "usage": _usage(usage),
    }


def _sse(
    text: str, model: str, usage: tuple[int, int], calls: list[dict[str, Any]]
) -> Iterator[bytes]:
    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
    words = text.split(" ") if text else []
    for i, word in enumerate(words):
        piece = word if i == 0 else f" {word}"
        yield event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    for index, call in enumerate(calls):
        # As real servers do: id and name first, then the arguments in two pieces.
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        head = {"index": index, "id": call["id"], "type": "function"}
        head["function"] = {"name": call["function"]["name"], "arguments": arguments[:half]}
        yield event([{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}])
        tail = {"index": index, "function": {"arguments": arguments[half:]}}
        yield event([{"index": 0, "delta": {"tool_calls": [tail]}, "finish_reason": None}])
    finish = "tool_calls" if calls else "stop"
    yield event([{"index": 0, "delta": {}, "finish_reason": finish}])
    yield event([], usage=_usage(usage))
    yield b"data: [DONE]\n\n"
