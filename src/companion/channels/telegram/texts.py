"""What the Telegram bot says outside the model's replies (in character, short), and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = [
    "BUSY",
    "EDITED",
    "EMPTY",
    "ERROR",
    "FOREIGN_BUTTON",
    "FORGET_CANCELLED",
    "MAX_MESSAGE_CHARS",
    "NOT_ADMIN",
    "NOT_TEXT",
    "PRESETS",
    "PRIVATE_ONLY",
    "PRIVATE_SERVICE",
    "USER_PREFIX",
    "account_of",
    "slow_down",
    "too_long",
    "unknown_command",
    "user_id_for",
]

USER_PREFIX = "telegram:"
#: The longest message the turn pipeline accepts (MAX_MESSAGE_LENGTH's default).
MAX_MESSAGE_CHARS = 4000

#: The per-user lock notice, in the companion's voice.
BUSY = "I'm still thinking about your last message…"
#: Anything unexpected: the user sees this, the log gets the details.
ERROR = "Sorry — my thoughts got tangled for a moment. Could you try that again?"
NOT_TEXT = "I can only read text for now — could you tell me in words?"
EDITED = "I saw you edited a message — I answer new messages only, so send it again if you like."
EMPTY = "You mentioned me, but didn't say anything — what's on your mind?"
NOT_ADMIN = "That one is only for the people who look after me."
PRIVATE_SERVICE = (
    "Hello! I'm a private companion and only talk with the people who look after me. "
    "Sorry I can't chat with you here."
)
PRIVATE_ONLY = "Let's talk about that in a private chat with me — it's about your own data."
FOREIGN_BUTTON = "That button isn't for you (or it's one I don't know)."
FORGET_CANCELLED = "Okay, I won't forget anything."
ERASE_CANCELLED = "Okay, I'm keeping everything as it is."

#: Seed presets; the personality engine owns their values.
PRESETS = ("curious_companion", "supportive_friend", "intellectual_mentor", "creative_collaborator")


def user_id_for(telegram_user_id: int) -> str:
    """The Companion user of a Telegram account: each account is its own user."""
    return f"{USER_PREFIX}{telegram_user_id}"


def account_of(user_id: str) -> int | None:
    """The Telegram account id of ``telegram:<id>`` (``None`` for anyone else)."""
    if not user_id.startswith(USER_PREFIX):
        return None
    rest = user_id[len(USER_PREFIX) :]
    return int(rest) if rest.isdigit() else None


def too_long(length: int) -> str:
    """The reply to a message over the limit (nothing is stored)."""
    return (
        f"That's a lot to take in at once — {length:,} characters. "
        f"Could you send it in parts of at most {MAX_MESSAGE_CHARS:,}?"
    )


def unknown_command(command: str) -> str:
    """The reply to a command the bot does not have."""
    return f"I don't know {command} — /help lists what I can do."


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def slow_down(retry_after: int, *, now: datetime | None = None) -> str:
    """The in-character "slow down" reply, naming when the user can write again.

    Args:
        retry_after: Seconds until the limit that was hit resets.
        now: The current time (for tests); UTC by default.

    Returns:
        One short message with both a relative and a clock time.
    """
    now = now or datetime.now(UTC)
    at = (now + timedelta(seconds=retry_after)).strftime("%H:%M:%S UTC")
    return (
        "Whoa, you're quicker than my thoughts! Let me catch my breath — "
        f"you can write again in {_wait_words(retry_after)} (at {at})."
    )
