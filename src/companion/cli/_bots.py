"""What the bot commands share: their client (in-process or a gateway) and their outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from companion.cli._common import fail

if TYPE_CHECKING:
    from companion.channels import InProcessClient, RemoteClient
    from companion.channels.outbox import OutboxConsumer, RemoteOutboxConsumer
    from companion.runtime import Runtime
    from companion.settings import Settings

__all__ = ["bot_client", "outbox_consumer", "require_gateway_key"]


def require_gateway_key(gateway: str | None, api_key: str | None) -> None:
    """Exit 2 when ``--gateway`` comes without the admin key it needs."""
    if gateway and not api_key:
        fail("--gateway needs --api-key (or COMPANION_API_KEY): an admin key", code=2)


async def bot_client(
    settings: Settings, gateway: str | None, api_key: str | None
) -> tuple[InProcessClient | RemoteClient, Runtime | None]:
    """The client a bot talks through: the gateway's, or a runtime of its own.

    A runtime of its own runs the memory work of the bot's turns in this process.
    """
    from companion.channels import InProcessClient, RemoteClient
    from companion.runtime import Runtime

    if gateway:
        return RemoteClient(gateway, api_key or ""), None
    runtime = await Runtime.start(settings)
    runtime.conversation.start_workers()
    return InProcessClient(runtime), runtime


def outbox_consumer(
    client: InProcessClient | RemoteClient,
    runtime: Runtime | None,
    *,
    channel: str,
    delivery: Any,
    send: Callable[..., Awaitable[Any]],
) -> OutboxConsumer | RemoteOutboxConsumer:
    """Messages queued for this channel's users by other processes (the worker's
    proactive checks) reach the bot through the database, or through the gateway.

    In-process, ``delivery`` also takes this process's own proactive messages.
    """
    from companion.channels import RemoteClient
    from companion.channels.outbox import OutboxConsumer, RemoteOutboxConsumer

    if runtime is not None:
        if runtime.proactive is not None:
            runtime.proactive.register_delivery(delivery)
        return OutboxConsumer(runtime.db, channel=channel, send=send)
    assert isinstance(client, RemoteClient)
    return RemoteOutboxConsumer(client, channel=channel, send=send)
