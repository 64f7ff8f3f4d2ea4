"""``companion telegram``: the Telegram bot on its own, in-process or against a gateway."""

from __future__ import annotations

import asyncio

from companion.cli._bots import bot_client, outbox_consumer, require_gateway_key
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
    require_gateway_key(gateway, api_key)

    async def _go() -> None:
        from companion.channels.telegram import launch, stop_telegram

        client, runtime = await bot_client(settings, gateway, api_key)
        service = None
        try:
            service = await launch(client, channels, kv=runtime.kv if runtime else None)
            service.outbox = outbox_consumer(
                client, runtime, channel="telegram", delivery=service.delivery,
                send=service.delivery.deliver,
            )  # fmt: skip
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
