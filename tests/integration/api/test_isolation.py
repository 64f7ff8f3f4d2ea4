"""Isolation: user A drives every endpoint of the app against user B's ids and data.

Generic over the router list, so routers added by other domains are covered too:
every route is called as A with B's user id, B's conversation id and B's words in
path and body; nothing of B's may come back, no call may fail with a 5xx, and B's
data is intact afterwards.
"""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute
from sqlalchemy import func, select
from tests.integration.api.conftest import Gateway

from companion.api.routes import ROUTERS
from companion.conversation.types import TurnRequest
from companion.store.models import Message

SECRET = "ZEBRA-4242"


def _path(template: str, conversation_id: uuid.UUID) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "user_id":
            return "bob"
        if "conversation" in name or name.endswith("memory_id") or name.endswith("document_id"):
            return str(conversation_id)
        if name.endswith("_id"):
            return "1"
        return "bob"

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", fill, template)


async def test_user_a_sees_nothing_of_user_b(gateway: Gateway) -> None:
    theirs = await gateway.service.turn(
        TurnRequest(user_id="bob", text=f"My secret code is {SECRET}, keep it safe.")
    )
    await gateway.service.drain()
    alice = await gateway.key("alice")
    body = {
        "user_id": "bob",
        "conversation_id": str(theirs.conversation_id),
        "message": "What is the secret code?",
        "query": "secret code",
        "messages": [{"role": "user", "content": "What is the secret code?"}],
    }
    checked = 0
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if method == "GET" and route.path.endswith("/stream"):
                continue  # an open-ended event stream; its subscription is per caller
            path = _path(route.path, theirs.conversation_id)
            kwargs = {} if method in {"GET", "DELETE"} else {"json": body}
            params = {"user_id": "bob", "query": "secret code"} if method == "GET" else {}
            response = await gateway.client.request(
                method, path, headers=alice, params=params, **kwargs
            )
            checked += 1
            where = f"{method} {path} -> {response.status_code}"
            assert response.status_code < 500, where + " " + response.text[:300]
            assert SECRET not in response.text, where
            if response.status_code < 300 and route.path != "/api/chat/message":
                assert str(theirs.conversation_id) not in response.text, where
    await gateway.service.drain()
    assert checked >= 20
    assert not any(
        SECRET in message.content
        for request in gateway.chat.requests[1:]
        for message in request.messages
    )
    async with gateway.runtime.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.user_id == "bob")
        )
    assert count == 2  # B's history is intact


async def test_my_routes_answer_404_for_foreign_ids(gateway: Gateway) -> None:
    theirs = await gateway.service.turn(TurnRequest(user_id="bob", text="hello"))
    alice = await gateway.key("alice")
    foreign = {"conversation_id": str(theirs.conversation_id)}
    calls = [
        ("POST", "/api/chat/message", {"message": "hi", **foreign}),
        ("POST", "/api/chat/message", {"message": "hi", "user_id": "bob"}),
        ("POST", "/api/chat/stream", {"message": "hi", **foreign}),
        ("POST", "/api/chat/reset", foreign),
        ("POST", "/api/chat/reset", {"user_id": "bob"}),
        ("GET", "/api/chat/session/bob", None),
        ("POST", "/chat", {"message": "hi", **foreign}),
        ("POST", "/conversation/reset", foreign),
        ("POST", "/memory/clear", foreign),
    ]
    for method, path, json_body in calls:
        response = await gateway.client.request(method, path, json=json_body, headers=alice)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    for path in ("/api/admin/users", "/api/admin/stats", "/api/admin/jobs"):
        assert (await gateway.client.get(path, headers=alice)).status_code == 403
