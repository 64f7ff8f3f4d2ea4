"""Model providers for the `chat` and `fast` roles, and the embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from companion.settings._base import Section

__all__ = ["LLMSettings"]


class LLMSettings(Section):
    """CHAT_PROVIDERS / FAST_PROVIDERS chains, provider keys, the local models.

    An empty chain means "choose from the keys present" (seed defaults: Chutes for
    chat, Groq for fast), falling back to the embedded local model.
    """

    chat_providers: str = ""
    fast_providers: str = ""
    chutes_api_key: str | None = None
    groq_api_key: str | None = None
    openai_api_key: str | None = None
    openrouter_api_key: str | None = None
    gemini_api_key: str | None = None
    openai_base_url: str | None = None
    primary_llm_model: str = "Qwen/Qwen3-80B-A3B-Instruct"
    fallback_llm_model: str = "qwen2-72b-instruct"
    scoring_llm_model: str = "meta-llama/llama-4-maverick-17b-128e-instruct"
    companion_local_model: Path | None = None
    local_model_threads: int = Field(default=2, ge=1, le=64)
    local_model_context: int = Field(default=2048, ge=512, le=32768)
    #: llama.cpp threads for reading the next turn's prefix ahead, in the background
    #: beside the turn's after-work (at most ``local_model_threads``; one costs less CPU
    #: on a crowded machine, but reads ahead more slowly).
    local_model_ahead_threads: int = Field(default=2, ge=1, le=64)
    #: Prompt layout: ``compact`` suits small models (short persona, own name stated,
    #: shorter replies); ``auto`` uses it when the chat model is the embedded one.
    prompt_profile: Literal["auto", "compact", "full"] = "auto"
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    #: One backoff unit of the retry policy (429 waits 1 and 2 units, 5xx one unit).
    llm_backoff_seconds: float = Field(default=1.0, ge=0)
    max_concurrent_ai_calls: int = Field(default=5, ge=1, le=256)
    embedding_provider: str = "local"
    embedding_dimensions: int | None = Field(default=None, ge=8, le=4096)

    @field_validator(
        "chutes_api_key",
        "groq_api_key",
        "openai_api_key",
        "openrouter_api_key",
        "gemini_api_key",
        "openai_base_url",
        "companion_local_model",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def vector_dimensions(self) -> int:
        """The dimension of stored vectors: explicit, or the embedder's own."""
        if self.embedding_dimensions is not None:
            return self.embedding_dimensions
        return 1536 if self.embedding_provider == "gemini" else 384
