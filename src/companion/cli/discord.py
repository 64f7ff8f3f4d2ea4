"""``companion discord``: the Discord bot on its own, in-process or against a gateway."""

from __future__ import annotations

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
    if gateway and not api_key:
        fail("--gateway needs --api-key (or COMPANION_API_KEY): an admin key", code=2)
        return

    async def _go() -> None:
        from companion.channels import InProcessClient, RemoteClient
        from companion.channels.discord import CompanionBot, DiscordDelivery
        from companion.runtime import Runtime

        runtime = None
        if gateway:
            client: InProcessClient | RemoteClient = RemoteClient(gateway, api_key or "")
        else:
            runtime = await Runtime.start(settings)
            runtime.conversation.start_workers()  # memory work of the bot's turns
            client = InProcessClient(runtime)
        bot = CompanionBot(client, settings.channels)
        from companion.channels.outbox import OutboxConsumer, RemoteOutboxConsumer

        # Messages queued for Discord users by other processes (the worker's proactive
        # checks) reach this bot through the database, or through the gateway.
        delivery = DiscordDelivery(bot, client)
        consumer: OutboxConsumer | RemoteOutboxConsumer
        if runtime is not None:
            if runtime.proactive is not None:
                runtime.proactive.register_delivery(delivery)
            consumer = OutboxConsumer(
                runtime.db, channel="discord", send=delivery.deliver_when_ready
            )
        else:
            assert isinstance(client, RemoteClient)
            consumer = RemoteOutboxConsumer(
                client, channel="discord", send=delivery.deliver_when_ready
            )
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
