"""User scoping: no repository function returns or changes another user's rows."""

from __future__ import annotations

import pytest

from companion.errors import NotFound
from companion.store.repositories import api_keys, conversations, interactions, users


@pytest.fixture
async def two_users(runtime):
    """Users A and B, each with a conversation, a message, an interaction and a key."""
    made = {}
    async with runtime.db.transaction() as s:
        for uid in ("user:a", "user:b"):
            await users.ensure_user(s, user_id=uid)
            conv = await conversations.get_or_create_conversation(s, user_id=uid, external_id="x")
            msg = await conversations.add_message(
                s, user_id=uid, conversation_id=conv.id, role="user", content=f"hi from {uid}"
            )
            inter = await interactions.record_interaction(
                s, user_id=uid, session_id=conv.id, user_message="hi", agent_response="hello"
            )
            key, _ = await api_keys.create_api_key(s, user_id=uid)
            made[uid] = {"conv": conv.id, "msg": msg.id, "inter": inter.id, "key": key.id}
    return made


async def test_reads_never_cross_users(runtime, two_users) -> None:
    b = two_users["user:b"]
    async with runtime.db.transaction() as s:
        with pytest.raises(NotFound):
            await conversations.get_conversation(s, user_id="user:a", conversation_id=b["conv"])
        with pytest.raises(NotFound):
            await conversations.get_or_create_conversation(
                s, user_id="user:a", conversation_id=b["conv"]
            )
        assert (
            await conversations.list_messages(s, user_id="user:a", conversation_id=b["conv"]) == []
        )
        with pytest.raises(NotFound):
            await interactions.get_interaction(s, user_id="user:a", interaction_id=b["inter"])
        mine = await conversations.list_conversations(s, user_id="user:a")
        assert [c.user_id for c in mine] == ["user:a"]
        recent = await interactions.recent_interactions(s, user_id="user:a")
        assert {i.user_id for i in recent} == {"user:a"}
        keys = await api_keys.list_api_keys(s, user_id="user:a")
        assert {k.user_id for k in keys} == {"user:a"}


async def test_external_id_is_per_user(runtime, two_users) -> None:
    async with runtime.db.transaction() as s:
        conv = await conversations.get_or_create_conversation(s, user_id="user:a", external_id="x")
    assert conv.id == two_users["user:a"]["conv"]


async def test_writes_never_cross_users(runtime, two_users) -> None:
    b = two_users["user:b"]
    async with runtime.db.transaction() as s:
        with pytest.raises(NotFound):
            await conversations.mark_short_term_reset(
                s, user_id="user:a", conversation_id=b["conv"]
            )
        with pytest.raises(NotFound):
            await api_keys.revoke_api_key(s, user_id="user:a", key_id=b["key"])
        with pytest.raises(NotFound):  # the turn path's append: nothing written either
            await conversations.append_message(
                s, user_id="user:a", conversation_id=b["conv"], role="user", content="intruder"
            )
    async with runtime.db.transaction() as s:
        own = await conversations.list_messages(s, user_id="user:b", conversation_id=b["conv"])
        assert [m.content for m in own] == ["hi from user:b"]
        message_id, count = await conversations.append_message(
            s, user_id="user:b", conversation_id=b["conv"], role="assistant", content="hello b"
        )
        assert count == 2
        assert (await conversations.list_messages(s, user_id="user:b", conversation_id=b["conv"]))[
            -1
        ].id == message_id
    async with runtime.db.transaction() as s:
        keys = await api_keys.list_api_keys(s, user_id="user:b")
        assert keys[0].revoked_at is None


async def test_deleting_a_user_removes_only_their_rows(runtime, two_users) -> None:
    async with runtime.db.transaction() as s:
        await users.delete_user(s, user_id="user:a")
    async with runtime.db.transaction() as s:
        assert await interactions.recent_interactions(s, user_id="user:a") == []
        assert len(await interactions.recent_interactions(s, user_id="user:b")) == 1
        with pytest.raises(NotFound):
            await users.get_user(s, user_id="user:a")
