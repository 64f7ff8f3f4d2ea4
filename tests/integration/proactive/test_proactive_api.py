"""The HTTP surface: settings, the manual trigger, decisions, and the SSE stream."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import uvicorn
from proactive_world import NOW, habitual_user, key_headers

from companion.api.app import create_app


async def test_settings_are_validated_and_saved(runtime: Any, client: httpx.AsyncClient) -> None:
    me = await key_headers(runtime, "api:alice")
    got = (await client.get("/api/proactive/settings", headers=me)).json()
    assert got == {"enabled": True, "quiet_hours": "23-08", "timezone": "UTC"}
    changed = await client.patch(
        "/api/proactive/settings",
        headers=me,
        json={"enabled": False, "quiet_hours": "22:30-07:00", "timezone": "Asia/Tokyo"},
    )
    assert changed.json() == {
        "enabled": False,
        "quiet_hours": "22:30-07:00",
        "timezone": "Asia/Tokyo",
    }
    bad_tz = await client.patch(
        "/api/proactive/settings", headers=me, json={"timezone": "Mars/Base"}
    )
    assert bad_tz.status_code == 422 and "timezone" in bad_tz.json()["detail"]
    bad_quiet = await client.patch(
        "/api/proactive/settings", headers=me, json={"quiet_hours": "late"}
    )
    assert bad_quiet.status_code == 422 and "quiet_hours" in bad_quiet.json()["detail"]
    after = (await client.get("/api/proactive/settings", headers=me)).json()
    assert after["timezone"] == "Asia/Tokyo"


async def test_trigger_respects_ownership_and_limits(
    runtime: Any, client: httpx.AsyncClient
) -> None:
    await habitual_user(runtime, "api:bob", enabled=False)
    me = await key_headers(runtime, "api:bob")
    own = await client.post("/api/proactive/api:bob", headers=me)
    assert own.status_code == 200 and own.json()["blocked_by"] == "opted_out"
    assert own.json()["source"] == "manual"
    assert (await client.post("/api/proactive/api:carol", headers=me)).status_code == 404
    assert (await client.post("/api/proactive/api:bob?force=true", headers=me)).status_code == 403
    admin = await key_headers(runtime, "api:root", admin=True)
    forced = await client.post("/api/proactive/api:bob?force=true", headers=admin)
    assert forced.json()["blocked_by"] == "opted_out"  # force never beats a hard limit
    listed = (await client.get("/api/proactive/decisions", headers=me)).json()
    assert len(listed) == 2 and all(d["user_id"] == "api:bob" for d in listed)


async def _take(lines: Any, n: int) -> Any:
    """The next ``n`` non-blank lines."""
    while n:
        line = await anext(lines)
        if line:
            n -= 1
            yield line


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sse_stream_delivers_a_proactive_message(runtime: Any) -> None:
    await habitual_user(runtime, "api:lonely")
    headers = await key_headers(runtime, "api:lonely")
    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime=runtime), host="127.0.0.1", port=port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            async with http.stream("GET", "/api/proactive/stream", headers=headers) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                lines = response.aiter_lines()
                assert (await anext(lines)) == ": connected"
                counts = await runtime.proactive.run_check(now=NOW)
                assert counts["delivered"] == 1
                event = [line async for line in _take(lines, 2)]
        assert event[0] == "event: proactive"
        payload = json.loads(event[1].removeprefix("data: "))
        assert payload["user_id"] == "api:lonely" and payload["text"]
    finally:
        server.should_exit = True
        await serving
