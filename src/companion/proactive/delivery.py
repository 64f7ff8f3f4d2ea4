"""The delivery port: how a proactive message reaches the user.

Channels (Discord, Telegram) implement ``ProactiveDeliverer`` and register with
``ProactiveService.register_delivery``; their own fallbacks (Discord DM → last channel
with a mention) live inside their ``deliver``. Two deliverers ship here: the per-user
SSE stream for API clients and a signed webhook (PROACTIVE_WEBHOOK_URL/SECRET).
``DeliveryRegistry.deliver`` tries, in order: the channel the user last spoke on, the
other channels that handle the user, the SSE stream, the webhook — first success wins.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from companion.proactive.broker import Broker

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryOutcome",
    "DeliveryRegistry",
    "ProactiveDeliverer",
    "ProactiveMessage",
    "SSEDeliverer",
    "WebhookDeliverer",
    "sign",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Companion-Signature"
TIMESTAMP_HEADER = "X-Companion-Timestamp"


@dataclass(frozen=True)
class ProactiveMessage:
    """One message to deliver, with what the receiver may want to know."""

    user_id: str
    text: str
    decision_id: int
    trigger: str
    score: float


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened: delivered or not, through which channel and how (``via``).

    ``queued``: accepted by the outbound deliveries table for a bot in another
    process, which records the final outcome later.
    """

    delivered: bool
    channel: str = ""
    via: str | None = None
    detail: str = ""
    queued: bool = False


@runtime_checkable
class ProactiveDeliverer(Protocol):
    """A way to reach users (the Discord and Telegram channels implement this)."""

    channel: str

    def handles(self, user_id: str) -> bool:
        """Whether this deliverer can reach ``user_id`` at all."""
        ...

    async def deliver(self, user_id: str, text: str) -> Any:
        """Send ``text``; return an object with ``delivered``, ``via`` and ``detail``."""
        ...


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (verify with the same call)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookDeliverer:
    """POSTs JSON to PROACTIVE_WEBHOOK_URL, signed, retried with backoff on 5xx/429/errors."""

    channel = "webhook"

    def __init__(
        self, url: str, *, secret: str | None, attempts: int = 3, backoff: float = 0.5
    ) -> None:
        self.url, self.secret = url, secret
        self.attempts, self.backoff = attempts, backoff
        self._client = httpx.AsyncClient(timeout=10.0)

    def handles(self, user_id: str) -> bool:
        """The webhook receives messages for every user."""
        return True

    async def send(self, message: ProactiveMessage) -> DeliveryOutcome:
        """POST ``message``; the last failure's reason is the outcome's detail."""
        body = json.dumps(
            {
                "type": "proactive_message",
                "user_id": message.user_id,
                "text": message.text,
                "decision_id": message.decision_id,
                "trigger": message.trigger,
                "score": round(message.score, 4),
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        detail = ""
        for attempt in range(self.attempts):
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            if self.secret:
                headers[SIGNATURE_HEADER] = sign(self.secret, body, stamp)
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                detail = f"webhook unreachable: {type(exc).__name__}"
            else:
                if response.is_success:
                    return DeliveryOutcome(True, self.channel, via=f"http {response.status_code}")
                detail = f"webhook answered {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # the receiver refused it; retrying will not help
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.backoff * 2**attempt)
        return DeliveryOutcome(False, self.channel, detail=detail)

    async def deliver(self, user_id: str, text: str) -> DeliveryOutcome:
        """Protocol form without the decision details."""
        return await self.send(ProactiveMessage(user_id, text, 0, "general", 0.0))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class SSEDeliverer:
    """Publishes to the user's open ``GET /api/proactive/stream`` connections."""

    channel = "sse"

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def handles(self, user_id: str) -> bool:
        """Any user may hold a stream open."""
        return True

    async def send(self, message: ProactiveMessage) -> DeliveryOutcome:
        """Delivered when at least one stream received it."""
        payload = {
            "type": "proactive_message",
            "user_id": message.user_id,
            "text": message.text,
            "decision_id": message.decision_id,
            "trigger": message.trigger,
        }
        receivers = await self.broker.publish(message.user_id, payload)
        if receivers:
            return DeliveryOutcome(True, self.channel, via=f"{receivers} stream(s)")
        return DeliveryOutcome(False, self.channel, detail="no stream connected")

    async def deliver(self, user_id: str, text: str) -> DeliveryOutcome:
        """Protocol form without the decision details."""
        return await self.send(ProactiveMessage(user_id, text, 0, "general", 0.0))


class DeliveryRegistry:
    """Deliverers by channel name; tries them in the user's preferred order."""

    def __init__(self) -> None:
        self._channels: dict[str, ProactiveDeliverer] = {}
        self.sse: SSEDeliverer | None = None
        self.webhook: WebhookDeliverer | None = None

    def register(self, deliverer: ProactiveDeliverer) -> None:
        """Add (or replace) the deliverer for ``deliverer.channel``."""
        self._channels[deliverer.channel] = deliverer

    def channels(self) -> list[str]:
        """Registered channel names, then ``sse`` and ``webhook`` when present."""
        extra = [d.channel for d in (self.sse, self.webhook) if d is not None]
        return [*self._channels, *extra]

    def _order(self, user_id: str, preferred: Sequence[str]) -> list[ProactiveDeliverer]:
        chans = [self._channels[c] for c in preferred if c in self._channels]
        chans += [d for c, d in self._channels.items() if c not in preferred]
        return [d for d in chans if d.handles(user_id)]

    async def deliver(
        self, message: ProactiveMessage, *, preferred: Sequence[str] = ()
    ) -> list[DeliveryOutcome]:
        """Every attempt in order, stopping at the first success."""
        attempts: list[DeliveryOutcome] = []
        for deliverer in self._order(message.user_id, preferred):
            try:
                # Deliverers that want the whole message (decision id, trigger) say so.
                send = getattr(deliverer, "send_proactive", None)
                if callable(send):
                    raw = await send(message)
                else:
                    raw = await deliverer.deliver(message.user_id, message.text)
                outcome = DeliveryOutcome(
                    bool(raw.delivered), deliverer.channel, getattr(raw, "via", None),
                    str(getattr(raw, "detail", "")), bool(getattr(raw, "queued", False)),
                )  # fmt: skip
            except Exception as exc:  # a broken channel must not stop the others
                log.warning("proactive delivery failed", extra={"channel": deliverer.channel})
                outcome = DeliveryOutcome(False, deliverer.channel, detail=type(exc).__name__)
            attempts.append(outcome)
            if outcome.delivered:
                return attempts
        for builtin in (self.sse, self.webhook):
            if builtin is None:
                continue
            outcome = await builtin.send(message)
            attempts.append(outcome)
            if outcome.delivered:
                return attempts
        return attempts
