"""``companion discord``: the Discord bot on its own, in-process or against a gateway."""

from __future__ import annotations

from companion.cli._bots import bot_client, outbox_consumer, require_gateway_key
from companion.cli._common import GatewayKeyOption, GatewayOption, fail, load, run

__all__ = ["discord"]


def discord(
    gateway: GatewayOption = None,
    api_key: GatewayKeyOption = None,
) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN or DISCORD_BOT_TOKEN)."""
    settings = load()
    token = settings.channels.discord_token
    if not token:
        fail("DISCORD_TOKEN (or DISCORD_BOT_TOKEN) is not set", code=2)
        return
    require_gateway_key(gateway, api_key)

    async def _go() -> None:
        from companion.channels.discord import CompanionBot, DiscordDelivery

        client, runtime = await bot_client(settings, gateway, api_key)
        bot = CompanionBot(client, settings.channels)
        delivery = DiscordDelivery(bot, client)
        consumer = outbox_consumer(
            client, runtime, channel="discord", delivery=delivery,
            send=delivery.deliver_when_ready,
        )  # fmt: skip
        await consumer.start()
        try:
            await bot.start(token)
        finally:
            await consumer.stop()
            await bot.close()
            await client.aclose()
            if runtime is not None:
                await runtime.close()

    mode = f"gateway {gateway}" if gateway else "in-process"
    print(f"Companion Discord bot starting ({mode})", flush=True)
    run(_go)
