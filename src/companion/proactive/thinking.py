"""The inner-thought step: what to say and why, then the message.

With a capable ``chat`` model the thought is asked for as strict JSON and the message
is written from it; any failure (provider down, bad JSON) falls back to the rule path
in ``core.thought`` and its templates, so a message always exists.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from companion.llm.base import ChatMessage, ChatRequest, RoleModel
from companion.proactive.core import InnerThought, ThoughtContext, render_message, rule_thought

__all__ = ["THOUGHT_SCHEMA", "think_and_write"]

log = logging.getLogger(__name__)

THOUGHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content": {"type": "string", "maxLength": 2000},
        "emotional_assessment": {"type": "string"},
        "user_state_analysis": {"type": "string"},
        "response_strategy": {"type": "string"},
        "proactive_impulse": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": [
        "content",
        "emotional_assessment",
        "user_state_analysis",
        "response_strategy",
        "proactive_impulse",
    ],
}

_SYSTEM = (
    "You are an AI companion deciding whether and how to start a conversation with "
    "your user. Think privately first. Answer only with JSON: content (what you want to "
    "say and why), emotional_assessment (your own feelings), user_state_analysis (how "
    "the user seems to be), response_strategy (how to open), proactive_impulse (0-1)."
)
_WRITE = (
    "Write the opening message you would send the user now, following your plan. One "
    "to three warm, natural sentences; no greeting formulas about being an AI."
)


def _context_text(ctx: ThoughtContext) -> str:
    memories = "\n".join(f"- {m}" for m in ctx.memories[:5]) or "- (none)"
    needs = ", ".join(ctx.urgent_needs) or "none"
    since = "unknown" if ctx.hours_since_activity is None else f"{ctx.hours_since_activity:.0f}"
    return (
        f"You are {ctx.name}, the user's companion (the user is someone else).\n"
        f"What you remember about the user:\n{memories}\n"
        f"Your urgent needs: {needs}. Your mood: {ctx.emotion}.\n"
        f"Hours since the user was last active: {since}. Reason to reach out: {ctx.trigger}."
    )


def _parse(raw: str, *, now: datetime) -> InnerThought:
    data = json.loads(raw.strip().removeprefix("```json").removesuffix("```"))
    impulse = float(data["proactive_impulse"])
    if not 0.0 <= impulse <= 1.0:
        raise ValueError("proactive_impulse out of range")
    return InnerThought(
        content=str(data["content"])[:2000],
        emotional_assessment=str(data["emotional_assessment"]),
        user_state_analysis=str(data["user_state_analysis"]),
        response_strategy=str(data["response_strategy"]),
        proactive_impulse=impulse,
        timestamp=now,
        thread="model",
        source="model",
    )


async def _model_path(
    chat: RoleModel, ctx: ThoughtContext, *, user_id: str, now: datetime
) -> tuple[InnerThought, str]:
    think = ChatRequest(
        messages=[ChatMessage("system", _SYSTEM), ChatMessage("user", _context_text(ctx))],
        max_tokens=300,
        temperature=0.6,
        json_schema=THOUGHT_SCHEMA,
    )
    thought = _parse((await chat.complete(think, user_id=user_id)).text, now=now)
    plan = f"Your plan: {thought.content}\nStrategy: {thought.response_strategy}"
    write = ChatRequest(
        messages=[
            ChatMessage("system", _WRITE),
            ChatMessage("user", f"{_context_text(ctx)}\n{plan}"),
        ],
        max_tokens=160,
        temperature=0.8,
    )
    message = (await chat.complete(write, user_id=user_id)).text.strip()
    if not message:
        raise ValueError("empty message")
    return thought, message[:2000]


async def think_and_write(
    ctx: ThoughtContext, *, chat: RoleModel | None, user_id: str, now: datetime, seed: int = 0
) -> tuple[InnerThought, str]:
    """The inner thought and the message written from it (model when capable, else rules)."""
    if chat is not None and chat.capable:
        try:
            return await _model_path(chat, ctx, user_id=user_id, now=now)
        except Exception as exc:  # any model failure → the rule path (DECISIONS.md#rule-paths)
            log.info("inner thought fell back to rules: %s", type(exc).__name__)
    thought = rule_thought(ctx, now=now)
    return thought, render_message(thought, seed=seed)
