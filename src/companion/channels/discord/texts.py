"""What the bot says outside the model's replies (in character, short)."""

from __future__ import annotations

__all__ = [
    "BUSY",
    "DATA_DELETED",
    "DELETE_CANCELLED",
    "DELETE_QUESTION",
    "ERROR",
    "EXPORT_SENT",
    "FORGET_CANCELLED",
    "NOT_ADMIN",
    "PRESETS",
    "switched",
    "user_id_for",
]

#: The Discord design's per-user lock notice, in the companion's voice.
BUSY = "I'm still thinking about your last message…"
#: Anything unexpected: the user sees this, the log gets the details.
ERROR = "Sorry — my thoughts got tangled for a moment. Could you try that again?"
DELETE_QUESTION = (
    "Should I really delete everything I keep about you — our conversations, memories, "
    "my personality for you and your settings? This cannot be undone."
)
DATA_DELETED = (
    "Done: everything I kept about you is deleted. If you talk to me again, we start anew."
)
DELETE_CANCELLED = "Okay, I'm keeping everything as it is."
EXPORT_SENT = "I've sent you a DM with everything I keep about you."
FORGET_CANCELLED = "Okay, I won't forget anything."
NOT_ADMIN = "That one is only for the people who look after me."

#: The personality presets (DECISIONS.md#presets); the personality engine owns their values.
PRESETS = ("curious_companion", "supportive_friend", "intellectual_mentor", "creative_collaborator")


def switched(name: str) -> str:
    """After ``/companion switch``: who answers from now on."""
    return f"You're now talking with {name}."


def user_id_for(discord_user_id: int) -> str:
    """The Companion user of a Discord account: each account is its own user."""
    return f"discord:{discord_user_id}"
