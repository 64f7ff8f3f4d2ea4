"""Helpers: a user with a habit, urgent needs, and a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from companion.store.repositories import interactions, users

#: Wednesday 19:00 UTC = 20:00 in Berlin.
NOW = datetime.fromisoformat("2026-11-18T19:00:00+00:00")


async def habitual_user(
    runtime: object,
    user_id: str,
    *,
    timezone: str = "Europe/Berlin",
    need: float = 0.95,
    enabled: bool = True,
    status: str = "active",
) -> None:
    """A user who talks every evening around NOW's hour, with an urgent social need."""
    db = runtime.db  # type: ignore[attr-defined]
    async with db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        await users.update_user(
            session,
            user_id=user_id,
            changes={"timezone": timezone, "proactive_messaging_enabled": enabled},
        )
        await users.set_user_status(session, user_id=user_id, status=status)
        for day in range(1, 15):
            await interactions.record_interaction(
                session,
                user_id=user_id,
                timestamp=NOW - timedelta(days=day, minutes=-20),
                user_message="hi",
                agent_response="hello",
            )
        await session.execute(
            text(
                "WITH c AS (INSERT INTO companions (user_id, is_active, openness, "
                "conscientiousness, extraversion, agreeableness, neuroticism) "
                "VALUES (:u, true, 0.5, 0.5, 0.5, 0.5, 0.5) RETURNING id) "
                "INSERT INTO needs (user_id, companion_id, need_type, current_level, "
                "last_updated) SELECT :u, c.id, 'social', :lv, :now FROM c"
            ),
            {"u": user_id, "lv": need, "now": NOW},
        )


async def key_headers(runtime: object, user_id: str, *, admin: bool = False) -> dict[str, str]:
    """Headers with a fresh API key for ``user_id`` (created if new)."""
    from companion.store.repositories import api_keys

    async with runtime.db.transaction() as session:  # type: ignore[attr-defined]
        await users.ensure_user(session, user_id=user_id)
        _, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
    return {"Authorization": f"Bearer {secret}"}
