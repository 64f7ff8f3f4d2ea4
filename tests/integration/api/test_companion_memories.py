"""Memories of the person are shared by all their companions, except a private one's.

Turns go through the real pipeline and the real memory writer; retrieval is what the
prompt uses. A private companion's memories reach its own prompts only, and are
deleted with it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from tests.integration.api.conftest import Gateway

from companion.conversation.types import TurnRequest
from companion.personality.companions import (
    activate_companion,
    new_companion,
    update_companion,
)


async def _found(gateway: Gateway, user: str, query: str) -> list[str]:
    memories = await gateway.runtime.memory.retrieve(user_id=user, query=query, k=10)  # type: ignore[union-attr]
    return [m.content for m in memories]


async def _say(gateway: Gateway, user: str, words: str) -> None:
    await gateway.service.turn(TurnRequest(user_id=user, text=words))
    await gateway.service.drain()


async def test_shared_memories_reach_every_companion_private_ones_only_their_own(
    gateway: Gateway,
) -> None:
    service = gateway.runtime.personality
    user = f"priv-{uuid.uuid4().hex[:8]}"
    await gateway.key(user)
    aria = await new_companion(service, user_id=user, name="Aria", preset="supportive_friend")  # type: ignore[arg-type]
    await _say(gateway, user, "My favourite colour is teal.")
    bram = await new_companion(  # type: ignore[arg-type]
        service, user_id=user, name="Bram", preset="curious_companion", private=True
    )
    await _say(gateway, user, "I secretly collect antique spoons.")
    cleo = await new_companion(service, user_id=user, name="Cleo", preset="intellectual_mentor")  # type: ignore[arg-type]

    async with gateway.runtime.db.engine.connect() as conn:
        owners = dict(
            (
                await conn.execute(
                    text(
                        "SELECT content, companion_id FROM memories "
                        "WHERE user_id = :u AND memory_type = 'episodic'"
                    ),
                    {"u": user},
                )
            ).all()
        )
    assert owners == {
        "User: My favourite colour is teal.": None,
        "User: I secretly collect antique spoons.": bram["id"],
    }

    # Cleo (shared) sees what Aria heard, but not Bram's private memory.
    assert any("teal" in m for m in await _found(gateway, user, "What is my favourite colour?"))
    assert not any("spoons" in m for m in await _found(gateway, user, "antique spoons collect"))
    # Bram sees both: the person's shared memories and his own.
    await activate_companion(service, user_id=user, companion_id=bram["id"])  # type: ignore[arg-type]
    assert any("spoons" in m for m in await _found(gateway, user, "antique spoons collect"))
    assert any("teal" in m for m in await _found(gateway, user, "What is my favourite colour?"))
    headers = await gateway.key(user)
    body = {"query": "antique spoons", "k": 10}
    found = await gateway.client.post("/api/memory/search", headers=headers, json=body)
    assert any("spoons" in r["content"] for r in found.json()["results"])
    # Aria does not see it either; the HTTP search answers like the prompt does.
    await activate_companion(service, user_id=user, companion_id=aria["id"])  # type: ignore[arg-type]
    found = await gateway.client.post("/api/memory/search", headers=headers, json=body)
    assert found.status_code == 200, found.text
    assert not any("spoons" in r["content"] for r in found.json()["results"])
    assert cleo["active"] is True  # Cleo was active when created


async def test_a_shared_companion_made_private_keeps_old_memories_shared(gateway: Gateway) -> None:
    service = gateway.runtime.personality
    user = f"priv2-{uuid.uuid4().hex[:8]}"
    await gateway.key(user)
    aria = await new_companion(service, user_id=user, name="Aria", preset="supportive_friend")  # type: ignore[arg-type]
    await _say(gateway, user, "My sister is called Ines.")
    await update_companion(service, user_id=user, companion_id=aria["id"], private=True)  # type: ignore[arg-type]
    await _say(gateway, user, "My brother is called Tomas.")
    await new_companion(service, user_id=user, name="Bram", preset="curious_companion")  # type: ignore[arg-type]
    seen = await _found(gateway, user, "sister brother called")
    assert any("Ines" in m for m in seen) and not any("Tomas" in m for m in seen)

    # Deleting the private companion deletes its private memories, not the shared ones.
    from companion.personality.companions import delete_companion

    await delete_companion(service, user_id=user, companion_id=aria["id"])  # type: ignore[arg-type]
    async with gateway.runtime.db.engine.connect() as conn:
        left = (
            (
                await conn.execute(
                    text(
                        "SELECT content FROM memories WHERE user_id = :u "
                        "AND memory_type = 'episodic' ORDER BY content"
                    ),
                    {"u": user},
                )
            )
            .scalars()
            .all()
        )
    assert left == ["User: My sister is called Ines."]
