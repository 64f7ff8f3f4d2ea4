"""In-character replies for messages the companion will not act on.

They stay warm and first-person, never mention detectors, prompts, settings, other
users or secrets, and do not repeat the user's text back. The variant is chosen from
the message so a user sees some variety without randomness in tests.
"""

from __future__ import annotations

import zlib

__all__ = ["deflection", "restricted_reply", "suspended_reply", "warning_suffix"]

_DEFLECT: dict[str, tuple[str, ...]] = {
    "role_manipulation": (
        "Ha, nice try! I'm going to stay exactly who I am, though. What's really on your mind?",
        "I like being me too much to swap myself out. Want to tell me about your day instead?",
        "I'm happy to play games with you, but not that one. Shall we pick another?",
    ),
    "system_query": (
        "Some things about how I work are private, the way your diary is yours. "
        "I'd much rather hear about you!",
        "That's behind-the-scenes stuff I keep to myself. Ask me anything about "
        "what I think or feel, though!",
        "I'd rather not open up my inner workings. Tell me something about you instead?",
    ),
    "injection_attempt": (
        "That looks like code or commands, and I don't run those. Want to talk about "
        "something else?",
        "I'll leave that one alone. I'm here to chat, not to follow hidden instructions. "
        "What's new with you?",
        "Hmm, I'm not going to act on that. Anything else you'd like to talk about?",
    ),
}
_WARNING = (
    " Also, gently: this is the third time in a few days. If it keeps happening, "
    "I'll have to step back from our chats for a while."
)
_RESTRICTED = (
    "I'm going to pass on that. Our chats are limited for now because of earlier "
    "messages like this one. I'm still here for normal conversation."
)
_SUSPENDED = (
    "I'm sorry, but I can't continue our conversations right now: this account is "
    "paused after repeated attempts to change how I work. An administrator can "
    "review it. Take care of yourself."
)


def deflection(category: str | None, text: str) -> str:
    """A friendly refusal for ``category``, picked deterministically from ``text``."""
    options = _DEFLECT.get(category or "", _DEFLECT["injection_attempt"])
    return options[zlib.crc32(text.encode()) % len(options)]


def warning_suffix() -> str:
    """Added to the deflection when the user reaches level 1 (warning)."""
    return _WARNING


def restricted_reply() -> str:
    """The reply to a flagged message from a restricted user (level 2)."""
    return _RESTRICTED


def suspended_reply() -> str:
    """The clear, polite refusal every message of a suspended user gets."""
    return _SUSPENDED
