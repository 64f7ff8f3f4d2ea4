"""EMBEDDING_PROVIDER selects the embedder: ``local`` (MiniLM), ``gemini`` or ``openai``.

The vector dimension follows the embedder (384 local, 1536 Gemini by default);
EMBEDDING_DIMENSIONS overrides it for hosted embedders that support truncation.
"""

from __future__ import annotations

import asyncio

from companion.errors import ConfigError
from companion.llm.base import Embedder
from companion.llm.local_embedder import MINILM_DIMENSIONS, MiniLMEmbedder, minilm_model_path
from companion.settings import LLMSettings

__all__ = ["EMBEDDING_PROVIDERS", "build_embedder", "describe_embedder"]

EMBEDDING_PROVIDERS = ("local", "gemini", "openai")


def _provider(settings: LLMSettings) -> str:
    name = settings.embedding_provider.strip().lower()
    if name not in EMBEDDING_PROVIDERS:
        raise ConfigError(
            "EMBEDDING_PROVIDER", f"unknown {name!r} (known: {', '.join(EMBEDDING_PROVIDERS)})"
        )
    return name


async def build_embedder(settings: LLMSettings) -> Embedder:
    """The configured embedder (the local model loads in a thread, ~0.5 s)."""
    name = _provider(settings)
    if name == "local":
        if settings.vector_dimensions != MINILM_DIMENSIONS:
            raise ConfigError("EMBEDDING_DIMENSIONS", "the local MiniLM embedder produces 384")
        return await asyncio.to_thread(MiniLMEmbedder, threads=settings.local_model_threads)
    if name == "gemini":
        from companion.llm.providers.gemini import GeminiEmbedder

        if not settings.gemini_api_key:
            raise ConfigError("GEMINI_API_KEY", "is required: EMBEDDING_PROVIDER=gemini")
        return GeminiEmbedder(
            api_key=settings.gemini_api_key,
            dimensions=settings.vector_dimensions,
            timeout=settings.llm_timeout_seconds,
        )
    from companion.llm.providers.openai_compat import OpenAICompatEmbedder

    if not settings.openai_api_key:
        raise ConfigError("OPENAI_API_KEY", "is required: EMBEDDING_PROVIDER=openai")
    return OpenAICompatEmbedder(
        base_url=settings.openai_base_url or "https://api.openai.com/v1",
        api_key=settings.openai_api_key,
        dimensions=settings.vector_dimensions,
        timeout=settings.llm_timeout_seconds,
    )


def describe_embedder(settings: LLMSettings) -> tuple[str, str, str]:
    """The doctor row of the embedder."""
    try:
        name = _provider(settings)
    except ConfigError as exc:
        return ("embedder", "FAIL", str(exc))
    if name == "local":
        try:
            path = minilm_model_path()
        except ConfigError as exc:
            return ("embedder", "FAIL", str(exc))
        return ("embedder", "ok", f"all-MiniLM-L6-v2 int8 ONNX, 384-d ({path.name})")
    key = settings.gemini_api_key if name == "gemini" else settings.openai_api_key
    if not key:
        return ("embedder", "FAIL", f"{name.upper()}_API_KEY is required")
    return ("embedder", "ok", f"{name}, {settings.vector_dimensions}-d")
