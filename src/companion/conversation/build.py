"""``build_conversation(runtime)``: the pipeline wired to this process's services."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from companion.conversation import metrics
from companion.conversation.budget import TokenBudget
from companion.conversation.fallbacks import NeutralPersonality, NoMemory, NoSecurity
from companion.conversation.limits import profile_limits
from companion.conversation.pipeline import ConversationService, PipelineConfig
from companion.store.queue import WorkQueue

if TYPE_CHECKING:
    from companion.runtime import Runtime
    from companion.settings import Settings

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


async def build_conversation(runtime: Runtime) -> ConversationService:
    """The turn pipeline over ``runtime``'s models, memory, personality and security.

    A domain service that is not wired yet is replaced by a logged stand-in, so the
    gateway answers while the system is assembled; the chat model is required for
    real replies (without it every turn is an apology and a 503).
    """
    chat = getattr(runtime.models, "chat", None) if runtime.models is not None else None
    recorder = getattr(runtime.models, "recorder", None)
    if recorder is not None:  # model latency and tokens for /metrics, every role
        recorder.add_listener(metrics.observe_model_call)
    if chat is None:
        log.warning("no chat model configured: turns will answer with an apology")
    from companion.tools.build import build_tools  # the optional tool step

    return ConversationService(
        db=runtime.db,
        kv=runtime.kv,
        chat=chat,
        memory=runtime.memory or NoMemory(),
        personality=runtime.personality or NeutralPersonality(),
        security=runtime.security or NoSecurity(),
        config=pipeline_config(runtime.settings),
        tools=await build_tools(runtime),
        queue=WorkQueue(
            runtime.db,
            lease_seconds=runtime.settings.behaviour.queue_lease_seconds,
            concurrency=runtime.settings.behaviour.queue_workers,
        ),
    )
