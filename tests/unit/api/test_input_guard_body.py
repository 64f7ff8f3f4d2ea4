"""The input guard's body check: a body is only decoded when it could hold a NUL or an
integer past 64 bits, and every way of writing one is still refused with a 422."""

from __future__ import annotations

import json
from typing import Any

import pytest

from companion.api.input_guard import InputGuard


async def _through_guard(body: bytes) -> tuple[int, bytes, bytes | None]:
    """The status, the answer's body and the body the app behind the guard received."""
    received: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        received.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/chat/message",
        "raw_path": b"/api/chat/message",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await InputGuard(app)(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, answer, received[0] if received else None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (json.dumps({"message": "hi\u0000there"}).encode(), "message"),
        (json.dumps({"a\u0000b": 1}).encode(), "a\u0000b"),
        (json.dumps({"message": "x", "k": 2**63}).encode(), "k"),
        (json.dumps({"message": "x", "k": -(2**64)}).encode(), "k"),
        # json.loads also reads UTF-16 and UTF-32: their escapes are not ASCII bytes.
        (json.dumps({"message": "hi\u0000"}).encode("utf-16"), "message"),
        (json.dumps({"message": "x", "k": 2**63}).encode("utf-32"), "k"),
    ],
)
async def test_a_nul_or_a_too_large_integer_is_refused_however_it_is_written(
    body: bytes, field: str
) -> None:
    status, answer, received = await _through_guard(body)
    assert status == 422 and received is None
    problem = json.loads(answer)["problems"][0]
    assert problem["field"] == field


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"message": "Hi! How was your day?", "user_id": "bench-001"}).encode(),
        json.dumps({"message": "a backslash then u0000: \\u0000"}).encode(),  # not a NUL
        json.dumps({"message": "x", "k": 2**63 - 1, "n": -(2**63) + 1}).encode(),
        json.dumps({"message": "1234567890123456789012 in words"}).encode(),
        b"{not json",  # the route's own validation answers that
    ],
)
async def test_other_bodies_reach_the_app_unchanged(body: bytes) -> None:
    status, _, received = await _through_guard(body)
    assert status == 200 and received == body
