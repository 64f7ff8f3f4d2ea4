"""Gemini embeddings over REST: ``gemini-embedding-001`` with ``outputDimensionality``.

The Discord design keeps a 1536-d space and embeds documents with ``RETRIEVAL_DOCUMENT`` and
queries with ``RETRIEVAL_QUERY``. Truncated Gemini vectors are not unit length, so
they are normalised here (cosine distance in pgvector then equals 1 - dot).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from companion.llm.base import EmbedTask
from companion.llm.providers.errors import error_for_status, map_http_errors
from companion.llm.providers.http import HttpClient
from companion.llm.providers.openai_compat import unit_rows

__all__ = ["GEMINI_BASE_URL", "GeminiEmbedder"]

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
_TASK_TYPES: dict[str, str] = {"query": "RETRIEVAL_QUERY", "document": "RETRIEVAL_DOCUMENT"}
#: The API accepts at most 100 requests per batchEmbedContents call.
_BATCH = 100


class GeminiEmbedder:
    """An ``Embedder`` over the Gemini ``batchEmbedContents`` endpoint."""

    def __init__(
        self,
        *,
        api_key: str,
        dimensions: int = 1536,
        model: str = "gemini-embedding-001",
        base_url: str = GEMINI_BASE_URL,
        timeout: float = 30.0,
    ) -> None:
        self.model_id = model
        self.dimensions = dimensions
        # The key goes in a header, never in the URL (URLs end up in logs).
        self._http = HttpClient(base_url, {"x-goog-api-key": api_key}, timeout)

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """Unit vectors in order, with the task type Gemini optimises for."""
        out: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            out.extend(await self._batch(texts[start : start + _BATCH], task))
        return out

    async def _batch(self, texts: Sequence[str], task: EmbedTask) -> list[list[float]]:
        body = {"requests": [self._item(text, task) for text in texts]}
        with map_http_errors("gemini"):
            status, raw = await self._http.post(f"/models/{self.model_id}:batchEmbedContents", body)
        if status >= 400:
            raise _error(status, raw.decode(errors="replace"))
        embeddings = json.loads(raw)["embeddings"]
        return unit_rows([item["values"] for item in embeddings])

    def _item(self, text: str, task: EmbedTask) -> dict[str, Any]:
        return {
            "model": f"models/{self.model_id}",
            "content": {"parts": [{"text": text}]},
            "taskType": _TASK_TYPES[task],
            "outputDimensionality": self.dimensions,
        }

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def _error(status: int, detail: str) -> Exception:
    # Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID.
    if status == 400 and "API_KEY_INVALID" in detail:
        status = 401
    return error_for_status("gemini", status, detail)
