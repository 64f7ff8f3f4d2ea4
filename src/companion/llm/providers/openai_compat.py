"""One OpenAI-compatible client: chat completions (SSE streaming) and embeddings.

Serves every hosted preset (Chutes, Groq, OpenAI, OpenRouter, LM Studio, Ollama,
vLLM). Retries and fallback are not here but in the chain; this
module only speaks the protocol (over ``providers.http``) and maps failures at its
boundary.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np

from companion.errors import ProviderError
from companion.llm.base import ChatMessage, ChatRequest, Chunk, EmbedTask, ModelToolCall, Usage
from companion.llm.providers.errors import MALFORMED, error_for_status, map_http_errors
from companion.llm.providers.http import HttpClient, lines

__all__ = ["OpenAICompatEmbedder", "OpenAICompatProvider"]


def _client(base_url: str, api_key: str | None, timeout: float) -> HttpClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return HttpClient(base_url, headers, timeout)


def _message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


#: The most stop sequences OpenAI-compatible hosted APIs accept.
MAX_STOP_SEQUENCES = 4


def _body(request: ChatRequest, model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [_message(m) for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.stop:
        # OpenAI and Groq refuse more than four stop sequences (HTTP 400); the first
        # four are the ones that matter, the loop guard trims what slips through.
        body["stop"] = list(request.stop)[:MAX_STOP_SEQUENCES]
    if request.tools:
        body["tools"] = list(request.tools)
    if request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": request.json_schema},
        }
    return body


class OpenAICompatProvider:
    """A ``ChatProvider`` for one OpenAI-compatible endpoint and model.

    ``capable`` is True for hosted models; pass False for a small self-hosted one so
    judgement tasks take their rule paths. ``supports_tools``: the endpoint accepts
    OpenAI ``tools`` and answers with ``tool_calls`` (False: the JSON fallback is used).
    """

    def __init__(
        self,
        id: str,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout: float = 30.0,
        capable: bool = True,
        supports_tools: bool = True,
    ) -> None:
        self.id = id
        self.capable = capable
        self.supports_tools = supports_tools
        self.model_id = model
        self.base_url = base_url
        self._http = _client(base_url, api_key, timeout)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Stream the reply over SSE; raise ``ProviderError`` subclasses on failure."""
        with map_http_errors(self.id):
            async with self._http.stream(
                "/chat/completions", _body(request, self.model_id)
            ) as response:
                if response.status >= 400:
                    detail = (await response.read()).decode(errors="replace")
                    raise error_for_status(self.id, response.status, detail)
                async for chunk in _parse_sse(self.id, lines(response)):
                    yield chunk

    async def list_models(self) -> list[str]:
        """The model ids the endpoint offers (``GET /models``)."""
        with map_http_errors(self.id):
            status, body = await self._http.get("/models")
        if status >= 400:
            raise error_for_status(self.id, status, body.decode(errors="replace"))
        data = _json(self.id, body)
        return [str(item["id"]) for item in data.get("data", [])]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def _tool_calls(pending: dict[int, dict[str, str]]) -> tuple[ModelToolCall, ...]:
    return tuple(
        ModelToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
        for i, c in sorted(pending.items())
        if c["name"]
    )


def _add_tool_deltas(pending: dict[int, dict[str, str]], deltas: list[dict[str, Any]]) -> None:
    """Tool calls stream in pieces keyed by index: id and name once, arguments in parts."""
    for delta in deltas:
        slot = pending.setdefault(
            int(delta.get("index") or 0), {"id": "", "name": "", "arguments": ""}
        )
        slot["id"] = delta.get("id") or slot["id"]
        function = delta.get("function") or {}
        slot["name"] += function.get("name") or ""
        slot["arguments"] += function.get("arguments") or ""


async def _parse_sse(provider: str, lines: AsyncIterator[str]) -> AsyncIterator[Chunk]:
    usage: Usage | None = None
    finish: str | None = None
    pending: dict[int, dict[str, str]] = {}
    async for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments, "event:" lines
        data = line[5:].strip()
        if data == "[DONE]":
            # Read to the end of the response before the last chunk (a caller may stop
            # iterating there): a response read to its end leaves its keep-alive
            # connection to the pool; one abandoned mid-body is closed, and the next
            # call pays a new TCP (and TLS) handshake.
            await _drain(lines)
            yield Chunk(
                text="",
                usage=usage or Usage(),
                finish_reason=finish or "stop",
                tool_calls=_tool_calls(pending),
            )
            return
        event = _json(provider, data)
        if event.get("usage"):
            usage = Usage(
                prompt_tokens=int(event["usage"].get("prompt_tokens") or 0),
                completion_tokens=int(event["usage"].get("completion_tokens") or 0),
            )
        for choice in event.get("choices") or []:
            finish = choice.get("finish_reason") or finish
            delta = choice.get("delta") or {}
            if delta.get("tool_calls"):
                _add_tool_deltas(pending, delta["tool_calls"])
            text = delta.get("content")
            if text:
                yield Chunk(text=text)
    raise ProviderError(f"{provider}: stream ended before [DONE]", provider=provider)


async def _drain(lines: AsyncIterator[str], *, timeout: float = 1.0) -> None:
    """Consume what follows ``[DONE]`` (normally just the end of the body)."""
    try:
        async with asyncio.timeout(timeout):
            async for _ in lines:
                pass
    except TimeoutError:  # a server that keeps the stream open: give the connection up
        return


def _json(provider: str, text: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ProviderError(
            f"{provider}: malformed JSON from provider", provider=provider, status=MALFORMED
        ) from exc
    if not isinstance(value, dict):
        raise ProviderError(
            f"{provider}: unexpected JSON from provider", provider=provider, status=MALFORMED
        )
    return value


def unit_rows(vectors: Sequence[Sequence[float]]) -> list[list[float]]:
    """Scale each vector to unit length (truncated hosted vectors are not)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)
    return (matrix / norms).tolist()  # type: ignore[no-any-return]


class OpenAICompatEmbedder:
    """``POST /embeddings`` on an OpenAI-compatible endpoint (EMBEDDING_PROVIDER=openai)."""

    _BATCH = 256

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        dimensions: int,
        model: str = "text-embedding-3-small",
        timeout: float = 30.0,
    ) -> None:
        self.model_id = model
        self.dimensions = dimensions
        self._http = _client(base_url, api_key, timeout)

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """Unit vectors, in order (the API has no query/document distinction)."""
        out: list[list[float]] = []
        for start in range(0, len(texts), self._BATCH):
            out.extend(await self._batch(list(texts[start : start + self._BATCH])))
        return out

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        body = {"model": self.model_id, "input": texts, "dimensions": self.dimensions}
        with map_http_errors("openai-embeddings"):
            status, raw = await self._http.post("/embeddings", body)
        if status >= 400:
            raise error_for_status("openai-embeddings", status, raw.decode(errors="replace"))
        data = sorted(_json("openai-embeddings", raw)["data"], key=lambda d: d["index"])
        return unit_rows([item["embedding"] for item in data])

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
