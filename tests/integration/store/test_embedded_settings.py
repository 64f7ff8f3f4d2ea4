"""The embedded server runs with the settings sized for this machine."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.embedded_tuning import machine_memory, server_settings


async def test_the_running_server_uses_the_machine_sized_settings(database_url: str) -> None:
    wanted = server_settings(machine_memory())
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            jit = (await conn.execute(text("SHOW jit"))).scalar_one()
            buffers = (await conn.execute(text("SHOW shared_buffers"))).scalar_one()
    finally:
        await engine.dispose()
    assert jit == "off"
    # PostgreSQL shows whole gigabytes as "3GB"; compare in megabytes.
    shown_mb = int(buffers[:-2]) * (1024 if buffers.endswith("GB") else 1)
    assert shown_mb == int(wanted["shared_buffers"].removesuffix("MB"))
