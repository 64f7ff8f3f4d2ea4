"""Proactive messaging: the Discord design's score under hard limits, inner thoughts, delivery.

``build_proactive(...)`` returns the ``ProactiveService``; channels plug in with
``service.register_delivery(deliverer)`` (the ``ProactiveDeliverer`` protocol).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.proactive.broker import (
    Broker,
    InProcessBroker,
    RedisBroker,
    Subscription,
    create_broker,
)
from companion.proactive.delivery import (
    SIGNATURE_HEADER,
    DeliveryOutcome,
    DeliveryRegistry,
    ProactiveDeliverer,
    ProactiveMessage,
    SSEDeliverer,
    WebhookDeliverer,
    sign,
)
from companion.proactive.service import ProactiveService, ProactiveSettingsView

if TYPE_CHECKING:
    from companion.conversation.ports import MemoryPort
    from companion.settings import Settings
    from companion.store.database import Database

__all__ = [
    "SIGNATURE_HEADER",
    "Broker",
    "DeliveryOutcome",
    "DeliveryRegistry",
    "InProcessBroker",
    "ProactiveDeliverer",
    "ProactiveMessage",
    "ProactiveService",
    "ProactiveSettingsView",
    "RedisBroker",
    "SSEDeliverer",
    "Subscription",
    "WebhookDeliverer",
    "build_proactive",
    "create_broker",
    "sign",
]


async def build_proactive(
    *, settings: Settings, db: Database, models: Any = None, memory: MemoryPort | None = None
) -> ProactiveService:
    """The service on ``db``: SSE always, the webhook when PROACTIVE_WEBHOOK_URL is set."""
    behaviour = settings.behaviour
    broker = create_broker(settings.db.redis_url, prefix=settings.db.redis_key_prefix)
    registry = DeliveryRegistry()
    registry.sse = SSEDeliverer(broker)
    if behaviour.proactive_webhook_url:
        registry.webhook = WebhookDeliverer(
            behaviour.proactive_webhook_url, secret=behaviour.proactive_webhook_secret
        )
    # Chat channels without a bot in this process go through the outbox (a bot
    # started here replaces its channel's entry with direct delivery).
    from datetime import timedelta

    from companion.proactive.outbox import OutboxDeliverer

    ttl = timedelta(minutes=behaviour.outbound_ttl_minutes)
    for channel in ("discord", "telegram"):
        registry.register(OutboxDeliverer(db, channel, ttl=ttl))
    chat = getattr(models, "chat", None)
    return ProactiveService(
        db=db,
        settings=behaviour,
        registry=registry,
        broker=broker,
        chat=chat,
        memory=memory,
    )
