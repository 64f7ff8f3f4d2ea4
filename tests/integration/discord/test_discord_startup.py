"""How the bot is started: not at all without a token, and a clear CLI error."""

from __future__ import annotations

import os
import subprocess
import sys

from companion.channels.bots import start_bots, stop_bots
from companion.channels.discord import start_discord
from companion.runtime import Runtime


async def test_no_token_no_bot(runtime: Runtime) -> None:
    assert runtime.settings.channels.discord_token is None
    assert await start_discord(runtime) is None
    handles = await start_bots(runtime)
    assert handles == []
    await stop_bots(handles)


def test_companion_discord_needs_a_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "companion.cli", "discord"],
        env={k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "DISCORD_TOKEN (or DISCORD_BOT_TOKEN) is not set" in result.stderr
