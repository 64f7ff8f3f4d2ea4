"""Delivery over real sockets: the signed webhook with retries, and Redis pub/sub."""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from companion.proactive import (
    SIGNATURE_HEADER,
    DeliveryRegistry,
    ProactiveMessage,
    RedisBroker,
    SSEDeliverer,
    WebhookDeliverer,
    sign,
)

SECRET = "s3cret-for-tests"


class _Receiver(BaseHTTPRequestHandler):
    script: list[int] = []
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers["X-Companion-Timestamp"]
        valid = hmac.compare_digest(self.headers[SIGNATURE_HEADER], sign(SECRET, body, stamp))
        type(self).seen.append({"valid": valid, "body": json.loads(body)})
        status = type(self).script.pop(0) if type(self).script else 200
        self.send_response(status if valid else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


MESSAGE = ProactiveMessage("api:alice", "Hey! How did the interview go?", 7, "need_urgency", 0.71)


async def test_webhook_is_signed_and_retried_until_accepted(receiver: Any) -> None:
    url, handler = receiver
    handler.script = [503, 500, 200]
    hook = WebhookDeliverer(url, secret=SECRET, attempts=3, backoff=0.01)
    try:
        outcome = await hook.send(MESSAGE)
    finally:
        await hook.aclose()
    assert outcome.delivered and outcome.channel == "webhook"
    assert len(handler.seen) == 3 and all(s["valid"] for s in handler.seen)
    assert handler.seen[-1]["body"]["text"] == MESSAGE.text
    assert handler.seen[-1]["body"]["decision_id"] == 7


async def test_webhook_gives_up_on_refusal_and_wrong_secret(receiver: Any) -> None:
    url, handler = receiver
    handler.script = [400]
    hook = WebhookDeliverer(url, secret=SECRET, attempts=3, backoff=0.01)
    wrong = WebhookDeliverer(url, secret="not-the-secret", attempts=2, backoff=0.01)
    try:
        refused = await hook.send(MESSAGE)
        forged = await wrong.send(MESSAGE)
    finally:
        await hook.aclose()
        await wrong.aclose()
    assert not refused.delivered and "400" in refused.detail
    assert not forged.delivered and "401" in forged.detail
    assert len(handler.seen) == 2  # 4xx is not retried
    assert [s["valid"] for s in handler.seen] == [True, False]


async def test_redis_carries_a_message_from_worker_to_serve(redis_url: str) -> None:
    serve_side = RedisBroker(redis_url, prefix="t:")
    worker_side = RedisBroker(redis_url, prefix="t:")
    registry = DeliveryRegistry()
    registry.sse = SSEDeliverer(worker_side)
    try:
        missed = await registry.deliver(MESSAGE)
        assert not missed[-1].delivered and missed[-1].detail == "no stream connected"
        subscription = await serve_side.subscribe("api:alice")
        attempts = await registry.deliver(MESSAGE)
        received = await asyncio.wait_for(subscription.get(), 5)
        await subscription.close()
    finally:
        await serve_side.close()
        await worker_side.close()
    assert attempts[-1].delivered and attempts[-1].channel == "sse"
    assert received["text"] == MESSAGE.text


class _Channel:
    """A channel deliverer (what Discord/Telegram implement), failing or not."""

    def __init__(self, name: str, ok: bool) -> None:
        self.channel, self.ok, self.calls = name, ok, 0

    def handles(self, user_id: str) -> bool:
        return user_id.startswith("api:")

    async def deliver(self, user_id: str, text: str) -> Any:
        self.calls += 1
        return type("Outcome", (), {"delivered": self.ok, "via": "dm", "detail": "closed"})()


async def test_registry_prefers_the_last_channel_then_falls_back() -> None:
    registry = DeliveryRegistry()
    broken, working = _Channel("telegram", ok=False), _Channel("discord", ok=True)
    registry.register(working)
    registry.register(broken)
    attempts = await registry.deliver(MESSAGE, preferred=["telegram"])
    assert [a.channel for a in attempts] == ["telegram", "discord"]
    assert attempts[-1].delivered and broken.calls == 1
