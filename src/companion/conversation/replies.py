"""What the companion says when it cannot answer normally (always in character)."""

from __future__ import annotations

from companion.conversation.ports import CompanionState

__all__ = ["apology", "blocked_reply"]


def apology(state: CompanionState | None) -> str:
    """The reply when every model provider failed: honest, warm, no internals."""
    name = state.name if state is not None else "I"
    opener = f"Sorry, it's {name}" if state is not None else "Sorry"
    return (
        f"{opener} — my thoughts got tangled just now and I couldn't find the words. "
        "Could you tell me again in a little while? I do want to hear it."
    )


def blocked_reply() -> str:
    """Used when security blocked a message but did not supply its own reply."""
    return (
        "I'd rather not go there. I'm happy to keep talking about something else, though "
        "— what's on your mind?"
    )
