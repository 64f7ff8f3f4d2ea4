"""What ``companion serve`` says once it is ready: where to chat, and a first key.

On the first start in development (no API key exists yet) it creates an admin key
for the local user ``local`` and prints it once, so ``make run`` gives a usable chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.llm import SMALL_MODEL_HINT, builtin_answers

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["LOCAL_USER", "instructions", "welcome"]

LOCAL_USER = "local"


async def _first_key(runtime: Runtime) -> str | None:
    from companion.store.repositories import api_keys, users

    if runtime.settings.core.environment != "development":
        return None
    async with runtime.db.transaction() as session:
        if await api_keys.count_live_keys(session) > 0:
            return None
        await users.ensure_user(session, user_id=LOCAL_USER)
        _, secret = await api_keys.create_api_key(
            session, user_id=LOCAL_USER, is_admin=True, name="first-run"
        )
    return secret


def instructions(base: str, secret: str | None, *, small_model: bool = False) -> str:
    """The text printed at startup (``small_model``: the built-in model answers)."""
    lines = [
        f"Companion is ready on {base}",
        f"  chat in your browser:    {base}/chat   (paste an API key once)",
        "  talk in this terminal:   companion chat --user <you>   (in another shell)",
        f"  HTTP API:                POST {base}/api/chat/message   (docs: {base}/docs)",
        f"  OpenAI-compatible:       base URL {base}/v1, your API key as the key",
    ]
    if secret is not None:
        lines += [
            f"  first run: an admin API key for user '{LOCAL_USER}' was created (shown once):",
            f"    {secret}",
        ]
    else:
        lines.append("  API keys:                companion keys create --user <you> [--admin]")
    if small_model:
        lines.append(f"  note: {SMALL_MODEL_HINT}")
    return "\n".join(lines)


async def welcome(runtime: Runtime, *, base: str) -> None:
    """Print where to chat (and the first key, on a fresh development install)."""
    secret = await _first_key(runtime)
    chat = getattr(runtime.models, "chat", None) if runtime.models is not None else None
    print(instructions(base, secret, small_model=builtin_answers(chat)), flush=True)
