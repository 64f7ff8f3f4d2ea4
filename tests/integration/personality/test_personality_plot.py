"""``companion personality plot`` writes a PNG of mood and style from the real database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.personality.personality_helpers import converse

from companion.personality import jobs

T0 = datetime(2026, 7, 1, 18, tzinfo=UTC)


async def test_plot_writes_a_png(runtime: object, database_url: str, tmp_path: Path) -> None:
    texts = ["I got a new puppy!", "haha he is so funny", "my friend came over", "thank you!"]
    for day in range(3):
        for i, text in enumerate(texts):
            when = T0 + timedelta(days=day, minutes=9 * i)
            await converse(runtime, "cli:p", text, "Lovely! What else?", at=when)
        await jobs.drift_baselines(runtime, now=T0 + timedelta(days=day, hours=9))
        await jobs.reflect_style(runtime, now=T0 + timedelta(days=day, hours=9))
    out = tmp_path / "mood.png"
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "companion.cli",
            "personality",
            "plot",
            "--user",
            "cli:p",
            "--out",
            str(out),
        ],
        env={**os.environ, "DATABASE_URL": database_url.replace("+asyncpg", "")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "states" in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
