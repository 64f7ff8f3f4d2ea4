"""A gateway for tests: the session runtime's database with fakes where asked.

``clone_runtime`` copies the session ``Runtime`` (same database, its own in-process
key-value store) and wires a fresh ``ConversationService``; any collaborator not
given uses the runtime's real service. A domain that is neither given nor wired is an
error: a silent stand-in would hide a wiring bug (pass a fake from
``tests.fakes.conversation_ports`` to test without a domain).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from companion.conversation.build import pipeline_config
from companion.conversation.pipeline import ConversationService, PipelineConfig
from companion.runtime import Runtime
from companion.store.kv import KeyValueStore, MemoryStore

__all__ = ["clone_runtime"]


def clone_runtime(
    runtime: Runtime,
    *,
    chat: Any,
    memory: Any = None,
    personality: Any = None,
    security: Any = None,
    kv: KeyValueStore | None = None,
    settings: Any = None,
    config: PipelineConfig | None = None,
) -> Runtime:
    """A runtime sharing ``runtime``'s database, with its own pipeline."""
    settings = settings or runtime.settings
    clone = dataclasses.replace(runtime, settings=settings, kv=kv or MemoryStore(), extras={})
    clone.memory = memory or _wired(runtime.memory, "memory")
    clone.personality = personality or _wired(runtime.personality, "personality")
    clone.security = security or _wired(runtime.security, "security")
    clone.conversation = ConversationService(
        db=clone.db,
        kv=clone.kv,
        chat=chat,
        memory=clone.memory,
        personality=clone.personality,
        security=clone.security,
        config=config or pipeline_config(settings),
    )
    return clone


def _wired(service: Any, domain: str) -> Any:
    """``service``, or an error naming the unwired ``domain``."""
    if service is None:
        raise RuntimeError(
            f"the runtime has no {domain} service wired and the test passed none; "
            f"wire it or pass {domain}=<a fake from tests.fakes.conversation_ports>"
        )
    return service
