"""``build_conversation``: the turn pipeline wired to this process's services."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from companion.conversation import metrics
from companion.conversation.budget import TokenBudget
from companion.conversation.fallbacks import NeutralPersonality, NoMemory, NoSecurity
from companion.conversation.limits import profile_limits
from companion.conversation.pipeline import ConversationService, PipelineConfig
from companion.store.queue import WorkQueue

if TYPE_CHECKING:
    from companion.conversation.ports import MemoryPort, PersonalityPort, SecurityPort, ToolPort
    from companion.settings import Settings
    from companion.store.database import Database
    from companion.store.kv import KeyValueStore

__all__ = ["build_conversation", "pipeline_config"]

log = logging.getLogger(__name__)


def pipeline_config(settings: Settings) -> PipelineConfig:
    """The pipeline's knobs from settings (budget sized to the local model's window)."""
    timeout = settings.llm.llm_timeout_seconds
    return PipelineConfig(
        max_message_chars=settings.behaviour.max_message_chars,
        budget=TokenBudget.for_context(settings.llm.local_model_context),
        lock_timeout=timeout * 3 + 30 + settings.tools.tool_timeout_seconds * 3,
        limits=profile_limits(settings),
        on_disconnect=settings.behaviour.turn_on_disconnect,
        prompt_profile=settings.llm.prompt_profile,
    )


async def build_conversation(
    *,
    settings: Settings,
    db: Database,
    kv: KeyValueStore,
    models: Any,
    memory: MemoryPort | None,
    personality: PersonalityPort | None,
    security: SecurityPort | None,
    tools: ToolPort | None = None,
) -> ConversationService:
    """The turn pipeline over the models, memory, personality, security and tools given.

    A domain service passed as ``None`` is replaced by a logged stand-in, so the
    gateway answers while the system is assembled; the chat model is required for
    real replies (without it every turn is an apology and a 503).
    """
    chat = getattr(models, "chat", None)
    recorder = getattr(models, "recorder", None)
    if recorder is not None:  # model latency and tokens for /metrics, every role
        recorder.add_listener(metrics.observe_model_call)
    if chat is None:
        log.warning("no chat model configured: turns will answer with an apology")
    return ConversationService(
        db=db,
        kv=kv,
        chat=chat,
        memory=memory or NoMemory(),
        personality=personality or NeutralPersonality(),
        security=security or NoSecurity(),
        config=pipeline_config(settings),
        tools=tools,
        queue=WorkQueue(
            db,
            lease_seconds=settings.behaviour.queue_lease_seconds,
            concurrency=settings.behaviour.queue_workers,
            batch=settings.behaviour.queue_batch,
        ),
    )
