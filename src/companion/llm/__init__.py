"""Models: the ``chat`` and ``fast`` provider chains, the embedder, call recording.

Build once with ``build_models(runtime)``; use ``runtime.models.chat`` /
``.fast`` (``RoleModel``) and ``.embedder`` (``Embedder``).
"""

from __future__ import annotations

from companion.llm.base import (
    ChatMessage,
    ChatProvider,
    ChatRequest,
    Chunk,
    Completion,
    Embedder,
    EmbedTask,
    Role,
    RoleModel,
    Usage,
)
from companion.llm.chain import ProviderChain
from companion.llm.embed_cache import CachedEmbedder
from companion.llm.models import Models, build_models, describe_configuration
from companion.llm.recorder import CallRecord, CallRecorder, CallStats
from companion.llm.registry import SMALL_MODEL_HINT, builtin_answers
from companion.llm.structured import complete_structured, parse_json_reply

__all__ = [
    "SMALL_MODEL_HINT",
    "CachedEmbedder",
    "CallRecord",
    "CallRecorder",
    "CallStats",
    "ChatMessage",
    "ChatProvider",
    "ChatRequest",
    "Chunk",
    "Completion",
    "EmbedTask",
    "Embedder",
    "Models",
    "ProviderChain",
    "Role",
    "RoleModel",
    "Usage",
    "build_models",
    "builtin_answers",
    "complete_structured",
    "describe_configuration",
    "parse_json_reply",
]
