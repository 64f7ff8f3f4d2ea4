"""The memory work out of the gateway: ``QUEUE_WORKERS_IN_SERVE=false`` leaves a turn's
queued item to a ``companion worker`` process, which stores the turn's memory.

Real processes on the test database, the loopback OpenAI-compatible model for both
roles.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from tests.fakes import FakeOpenAIServer
from tests.serve_process import CLI, create_key, gateway_env, serving

from companion.memory.models import Memory
from companion.store.models import WorkItem

USER = "split-memory"


async def _items(runtime: Any) -> list[str]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(WorkItem.status).where(WorkItem.user_id == USER))
        return list(rows.all())


def _worker(env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log, text=True
    )


async def test_serve_leaves_the_memory_work_to_a_worker_process(
    runtime: Any, database_url: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    env = gateway_env(
        database_url,
        openai_server.base_url,
        QUEUE_WORKERS_IN_SERVE="false",
        SCHEDULER_ENABLED="false",
    )
    key = create_key(env, "split-admin", admin=True)
    with serving(env, tmp_path / "serve.log", key=key) as server:
        async with server.client() as client:
            body = {"message": "My sister Ines lives in Porto.", "user_id": USER}
            answer = await client.post("/api/chat/message", json=body)
            assert answer.status_code == 200, answer.text
        # No worker anywhere: the item waits (in-process workers would take it at once).
        await asyncio.sleep(2.0)
        assert await _items(runtime) == ["pending"]

        log = (tmp_path / "worker.log").open("w")
        worker = _worker(env, log)
        try:
            for _ in range(600):
                if await _items(runtime) == ["done"]:
                    break
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
                await asyncio.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
    assert await _items(runtime) == ["done"]
    async with runtime.db.session() as session:
        episodic = await session.scalar(
            select(func.count())
            .select_from(Memory)
            .where(Memory.user_id == USER, Memory.memory_type == "episodic")
        )
    assert episodic == 1
