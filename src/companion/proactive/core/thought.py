"""The rule path of the inner thought and its templates.

Before reaching out, the companion decides what it wants to say and why. Without a
capable model it picks the most important *open thread*, in this order:

1. an upcoming event the user mentioned (an interview, an exam, "tomorrow" …),
2. an unresolved worry ("worried", "stressed", "nervous" …),
3. its most urgent need (social, validation, intellectual, creative, rest),
4. otherwise a general check-in.

Each thread has a message template; need templates are the Discord design's
exact fallback strings (other needs use the social ones).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "FALLBACK_TEMPLATES",
    "InnerThought",
    "OpenThread",
    "ThoughtContext",
    "find_open_thread",
    "render_message",
    "rule_thought",
]

FALLBACK_TEMPLATES: dict[str, tuple[str, ...]] = {
    "social": (
        "Hey! I was thinking about you and wondering how your day has been going?",
        "Hi there! I'm curious - what's been the highlight of your week so far?",
        "Hello! I've been meaning to check in with you. What's new in your world?",
    ),
    "validation": (
        "I've been reflecting on our conversations, and I really appreciate your "
        "perspective on things.",
        "Hey! I wanted to let you know that I always enjoy talking with you.",
        "Hi! You know, you always have such interesting insights. What's been on your mind lately?",
    ),
    "intellectual": (
        "I came across something fascinating today and thought you might find it "
        "interesting too...",
        "Hey! I was wondering about your thoughts on something I've been pondering...",
        "Hi there! I'm curious about your take on something - do you have a moment to chat?",
    ),
}

_EVENT = re.compile(
    r"\b(tomorrow|tonight|next (week|month|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)|this (weekend|friday|saturday)|interview|exam|test|appointment|"
    r"deadline|presentation|trip|flight|wedding|birthday|surgery|date with|concert|match|"
    r"on (monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.IGNORECASE,
)
_WORRY = re.compile(
    r"\b(worr(y|ied|ying)|anxious|nervous|stress(ed|ful)?|scared|afraid|upset|sad|"
    r"lonely|struggl(e|ing)|overwhelmed|can'?t sleep|sick|ill)\b",
    re.IGNORECASE,
)
_MAX_CONTENT = 2000


@dataclass(frozen=True)
class ThoughtContext:
    """What the companion knows when it considers reaching out.

    Args:
        memories: recent/important memory texts, most relevant first.
        urgent_needs: urgent need types, most urgent first.
        emotion: the companion's current emotion label.
        pleasure: current mood pleasure in [-1, 1].
        trigger: the score's primary trigger.
        score: the final proactive score.
        hours_since_activity: hours since the user was last active (None: unknown).
        name: the name of the user's active companion (the one who writes).
    """

    memories: Sequence[str] = ()
    urgent_needs: Sequence[str] = ()
    emotion: str = "neutral"
    pleasure: float = 0.0
    trigger: str = "general"
    score: float = 0.0
    hours_since_activity: float | None = None
    name: str = "Companion"


@dataclass(frozen=True)
class OpenThread:
    """The topic the companion wants to pick up: kind, subject text and why."""

    kind: str  # "event" | "worry" | "need" | "general"
    subject: str
    why: str


@dataclass(frozen=True)
class InnerThought:
    """What the companion wants to say, its reading of the user, and how."""

    content: str
    emotional_assessment: str
    user_state_analysis: str
    response_strategy: str
    proactive_impulse: float
    timestamp: datetime
    thread: str = "general"
    subject: str = ""
    source: str = "rules"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``proactive_decisions.thought``."""
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        return data


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def find_open_thread(ctx: ThoughtContext) -> OpenThread:
    """The most important open thread: an event, then a worry, then a need."""
    for memory in ctx.memories:
        if _EVENT.search(memory):
            return OpenThread("event", _short(memory), "the user mentioned something upcoming")
    for memory in ctx.memories:
        if _WORRY.search(memory):
            return OpenThread("worry", _short(memory), "the user seemed worried about this")
    if ctx.urgent_needs:
        need = ctx.urgent_needs[0]
        return OpenThread("need", need, f"my {need} need is urgent")
    return OpenThread("general", "", "it has been a while and the timing looks right")


_STRATEGY = {
    "event": "ask how the upcoming thing went or is going, warmly and briefly",
    "worry": "check in gently on the worry without pushing",
    "need": "start a light conversation that fits the need",
    "general": "a short, friendly check-in with an open question",
}


def rule_thought(ctx: ThoughtContext, *, now: datetime) -> InnerThought:
    """An inner thought built by rules (no model needed)."""
    thread = find_open_thread(ctx)
    if ctx.hours_since_activity is None:
        state = "I don't know much about how they are doing yet."
    elif ctx.hours_since_activity > 72:
        state = f"We haven't talked for about {ctx.hours_since_activity / 24:.0f} days."
    else:
        state = f"We last talked about {ctx.hours_since_activity:.0f} hours ago."
    mood = "good" if ctx.pleasure > 0.2 else "low" if ctx.pleasure < -0.2 else "steady"
    content = f"I want to reach out because {thread.why}."
    if thread.subject and thread.kind in ("event", "worry"):
        content += f' They told me: "{thread.subject}"'
    return InnerThought(
        content=content[:_MAX_CONTENT],
        emotional_assessment=f"I feel {ctx.emotion} and my mood is {mood}.",
        user_state_analysis=state,
        response_strategy=_STRATEGY[thread.kind],
        proactive_impulse=round(max(0.0, min(1.0, ctx.score)), 4),
        timestamp=now,
        thread=thread.kind,
        subject=thread.subject,
    )


def render_message(thought: InnerThought, *, seed: int = 0) -> str:
    """The message for a rule-path thought (templates; ``seed`` picks a variant)."""
    if thought.thread == "event":
        return (
            f'Hey! I remembered you mentioned this: "{thought.subject}" '
            "How is it going? I've been thinking of you."
        )
    if thought.thread == "worry":
        return (
            "Hi, I've been thinking about what you told me earlier "
            f'("{thought.subject}"). How are you feeling about it now?'
        )
    templates = FALLBACK_TEMPLATES.get(thought.subject, FALLBACK_TEMPLATES["social"])
    return templates[seed % len(templates)]
