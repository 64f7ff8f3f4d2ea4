"""The user's pages: ``/chat`` (conversations, streaming, mood, what I remembered)
and ``/me/settings`` (which companion to talk with, its name and preset, proactive
messages, quiet hours, timezone). Replies stream from ``/api/chat/stream`` with the
session cookie."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from companion.api.deps import RuntimeDep
from companion.errors import CompanionError, ConfigError, InvalidInput, NotFound
from companion.llm import SMALL_MODEL_HINT, builtin_answers
from companion.personality.companions import activate_companion, list_companions
from companion.personality.core.presets import PRESETS
from companion.proactive import ProactiveService
from companion.runtime import Runtime
from companion.store.repositories import conversations, interactions
from companion.web import stats
from companion.web.admin_personality import personality_service
from companion.web.memory_views import memory_service
from companion.web.pages import PageRoute, UserSessionDep, checked_form, flash, redirect, render
from companion.web.session import load_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _proactive(runtime: Runtime) -> ProactiveService:
    if not isinstance(runtime.proactive, ProactiveService):
        raise ConfigError("PROACTIVE", "the proactive service is not wired")
    return runtime.proactive


@router.get("/chat")
async def chat_page(
    request: Request, runtime: RuntimeDep, c: uuid.UUID | None = None, new: bool = False
) -> Response:
    """Sign in once, then chat: conversation list, history, mood badge, live replies."""
    session = await load_session(request, runtime, "user")
    if session is None:
        return await render(request, runtime, "chat_login.html", None)
    user_id = session.user_id
    current = await personality_service(runtime).current(user_id=user_id)
    async with runtime.db.session() as db:
        chats = await conversations.list_conversations(db, user_id=user_id, limit=50)
        chosen = None if new else (c or (chats[0].id if chats else None))
        messages: list[Any] = []
        replies: dict[int, Any] = {}
        if chosen is not None:
            try:
                await conversations.get_conversation(db, user_id=user_id, conversation_id=chosen)
            except NotFound:
                return redirect("/chat")
            messages = list(
                await conversations.list_messages(
                    db, user_id=user_id, conversation_id=chosen, limit=100
                )
            )
            replies = await stats.interaction_for_reply(db, user_id=user_id, conversation_id=chosen)
    return await render(
        request, runtime, "chat.html", session, chats=chats, chosen=chosen, messages=messages,
        replies=replies, companion=current, nav="chat",
        small_model_hint=SMALL_MODEL_HINT
        if builtin_answers(getattr(runtime.models, "chat", None))
        else None,
    )  # fmt: skip


@router.get("/me/remembered/{interaction_id}")
async def remembered(
    interaction_id: int, request: Request, runtime: RuntimeDep, session: UserSessionDep
) -> Response:
    """The memories one reply used, each with where it came from (a fragment)."""
    memory = memory_service(runtime)
    async with runtime.db.session() as db:
        turn = await interactions.get_interaction(
            db, user_id=session.user_id, interaction_id=interaction_id
        )
    items = []
    for raw in turn.memory_ids:
        try:
            row = await memory.get(user_id=session.user_id, memory_id=uuid.UUID(raw))
        except (ValueError, NotFound):
            continue  # forgotten since, or not a memory id
        items.append(row)
    wanted = [str(i) for m in items for i in (*m.source_external_ids, *m.source_message_ids)]
    async with runtime.db.session() as db:
        sources = await stats.messages_by_id(db, user_id=session.user_id, ids=wanted)
    rows = []
    for m in items:
        ids = [*m.source_external_ids, *[str(i) for i in m.source_message_ids]]
        found = [sources[i] for i in dict.fromkeys(ids) if i in sources]
        rows.append({"memory": m, "sources": found[:3]})
    return await render(
        request, runtime, "me/remembered.html", session, rows=rows,
        used=len(turn.memory_ids), interaction_id=interaction_id,
    )  # fmt: skip


@router.get("/me/settings")
async def settings_page(request: Request, runtime: RuntimeDep, session: UserSessionDep) -> Response:
    """Companion name and preset, proactive messages, quiet hours, timezone."""
    personality = personality_service(runtime)
    current = await personality.current(user_id=session.user_id)
    companions = await list_companions(personality, user_id=session.user_id)
    proactive = await _proactive(runtime).get_settings(session.user_id)
    return await render(
        request, runtime, "me/settings.html", session, companion=current,
        companions=companions, proactive=proactive, presets=sorted(PRESETS), nav="settings",
    )  # fmt: skip


@router.post("/me/companion")
async def switch_companion(
    request: Request, runtime: RuntimeDep, session: UserSessionDep
) -> Response:
    """Switch to another of the user's companions (the settings page's first form)."""
    form = await checked_form(request, session)
    raw = str(form.get("companion") or "")
    try:
        if not raw.isdigit():
            raise InvalidInput("companion: choose one of your companions")
        chosen = await activate_companion(
            personality_service(runtime), user_id=session.user_id, companion_id=int(raw)
        )
        message = f"You're now talking with {chosen['name']}."
    except CompanionError as exc:
        message = f"Not switched: {exc.message}"
    await flash(runtime, session, message)
    return redirect("/me/settings")


@router.post("/me/settings")
async def save_settings(request: Request, runtime: RuntimeDep, session: UserSessionDep) -> Response:
    """Save the settings form (each part validated; a bad value names the field)."""
    form = await checked_form(request, session)
    personality = personality_service(runtime)
    current = await personality.current(user_id=session.user_id)
    done: list[str] = []
    try:
        name = str(form.get("name") or "").strip()
        if name and name != current["name"]:
            await personality.rename(user_id=session.user_id, name=name)
            done.append("name")
        preset = str(form.get("preset") or "")
        if preset and preset != current["preset"]:
            if preset not in PRESETS:
                raise InvalidInput(f"preset: unknown preset {preset!r}")
            await personality.set_preset(user_id=session.user_id, preset=preset)
            done.append("personality preset")
        await _proactive(runtime).update_settings(
            session.user_id,
            enabled=form.get("proactive") == "on",
            quiet_hours=str(form.get("quiet_hours") or "").strip(),
            timezone=str(form.get("timezone") or "UTC").strip(),
        )
        done.append("proactive messages")
        message = "Saved: " + ", ".join(done) + "."
    except CompanionError as exc:
        message = f"Not saved: {exc.message}" + (
            f" (saved before that: {', '.join(done)})" if done else ""
        )
    await flash(runtime, session, message)
    return redirect("/me/settings")
