"""``companion telegram``: the Telegram bot on its own, in-process or against a gateway."""

from __future__ import annotations

import asyncio

from companion.cli._common import GatewayKeyOption, GatewayOption, fail, load, run

__all__ = ["telegram"]


def telegram(
    gateway: GatewayOption = None,
    api_key: GatewayKeyOption = None,
) -> None:
    """Run the Telegram bot by long polling (needs TELEGRAM_BOT_TOKEN)."""
    settings = load()
    channels = settings.channels
    if not channels.telegram_bot_token:
        fail("TELEGRAM_BOT_TOKEN is not set", code=2)
        return
    if channels.telegram_webhook_url:
        fail(
            "TELEGRAM_WEBHOOK_URL is set: webhook mode runs inside `companion serve`; "
            "unset it to run this bot by polling",
            code=2,
        )
        return
    if gateway and not api_key:
        fail("--gateway needs --api-key (or COMPANION_API_KEY): an admin key", code=2)
        return

    async def _go() -> None:
        from companion.channels import InProcessClient, RemoteClient
        from companion.channels.telegram import launch, stop_telegram
        from companion.runtime import Runtime

        runtime = None
        if gateway:
            client: InProcessClient | RemoteClient = RemoteClient(gateway, api_key or "")
        else:
            runtime = await Runtime.start(settings)
            runtime.conversation.start_workers()  # memory work of the bot's turns
            client = InProcessClient(runtime)
        service = None
        try:
            service = await launch(client, channels, kv=runtime.kv if runtime else None)
            # Messages queued for Telegram users by other processes (the worker's
            # proactive checks) reach this bot through the database, or the gateway.
            from companion.channels.outbox import OutboxConsumer, RemoteOutboxConsumer

            if runtime is not None:
                if runtime.proactive is not None:
                    runtime.proactive.register_delivery(service.delivery)
                service.outbox = OutboxConsumer(
                    runtime.db, channel="telegram", send=service.delivery.deliver
                )
            else:
                assert isinstance(client, RemoteClient)
                service.outbox = RemoteOutboxConsumer(
                    client, channel="telegram", send=service.delivery.deliver
                )
            await service.outbox.start()
            print("Companion Telegram bot is running; Ctrl-C stops it.", flush=True)
            await asyncio.Event().wait()
        finally:
            if service is not None:
                await stop_telegram(service)
            else:
                await client.aclose()
            if runtime is not None:
                await runtime.close()

    mode = f"gateway {gateway}" if gateway else "in-process"
    print(f"Companion Telegram bot starting ({mode})", flush=True)
    try:
        run(_go)
    except KeyboardInterrupt:
        pass
