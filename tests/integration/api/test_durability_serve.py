"""Short versions of the reliability suite against a real ``companion serve`` subprocess.

The gateway runs on the test database with the loopback OpenAI-compatible server as
its model (instant replies) and the real memory service. ``kill -9`` under load: every
acknowledged turn is stored and learnt from exactly once after a restart. Clients
leaving a stream (``/api/chat/stream``, the service API's ``/chat``, streaming
``/v1/chat/completions``; after the first chunk, or before the first byte): every
started turn is stored whole and learnt from. The long versions are
``companion.bench.reliability``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.fakes import FakeOpenAIServer, Reply
from tests.serve_process import ServeProcess, create_key, gateway_env, serving

from companion.runtime import Runtime


@pytest.fixture
def gateway(
    runtime: Runtime, database_url: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> Iterator[ServeProcess]:
    env = gateway_env(
        database_url,
        openai_server.base_url,
        FAST_PROVIDERS="local",
        DB_POOL_MAX_SIZE="6",
        QUEUE_WORKERS="1",
        QUEUE_LEASE_SECONDS="2",
        RATE_LIMIT_PER_MINUTE="100000",
        RATE_LIMIT_PER_IP_PER_MINUTE="100000",
        # The admin key's turns would start with the tool phase's own model call,
        # which would take one of the scripted replies.
        TOOLS_ENABLED="false",
    )
    key = create_key(env, "reliability-admin", admin=True)
    with serving(env, tmp_path / "serve.log", key=key) as server:
        yield server


async def _scalar(runtime: Runtime, sql: str, **params: object) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(text(sql), params) or 0)


async def _drained(runtime: Runtime) -> None:
    """Wait until the queue has no item that is due (the gateway's workers ran them)."""
    for _ in range(600):
        due = await _scalar(
            runtime,
            "SELECT count(*) FROM work_items WHERE status IN ('pending', 'running') "
            "AND run_after <= now() + interval '3 seconds'",
        )
        if due == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the queue did not drain")


async def _learnt_once(runtime: Runtime, interaction_id: int) -> tuple[str, bool, int]:
    async with runtime.db.session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT i.status, i.reply_message_id IS NOT NULL AS replied, "
                    "(SELECT count(*) FROM memories m WHERE m.user_id = i.user_id AND "
                    "m.memory_type = 'episodic' AND i.user_message_id = ANY(m.source_message_ids))"
                    " AS episodic FROM interactions i WHERE i.id = :id"
                ),
                {"id": interaction_id},
            )
        ).one()
    return str(row.status), bool(row.replied), int(row.episodic)


async def test_kill_9_under_load_loses_no_acknowledged_turn(
    gateway: ServeProcess, runtime: Runtime
) -> None:
    acked: list[int] = []
    enough = asyncio.Event()

    async def user(index: int) -> None:
        async with gateway.client() as client:
            for turn in range(20):
                message = f"Remember that my friend F{index}x{turn} lives in Porto."
                try:
                    response = await client.post(
                        "/api/chat/message", json={"user_id": f"u{index}", "message": message}
                    )
                except httpx.HTTPError:
                    return  # the server died under us
                if response.status_code == 200:
                    acked.append(int(response.json()["interaction_id"]))
                    if len(acked) >= 8:
                        enough.set()

    load = asyncio.gather(*(user(i) for i in range(4)))
    await asyncio.wait_for(enough.wait(), timeout=120)
    gateway.kill9()
    await load
    await asyncio.to_thread(gateway.start)
    await _drained(runtime)

    assert len(acked) >= 8
    for interaction_id in acked:
        assert await _learnt_once(runtime, interaction_id) == ("complete", True, 1)
    duplicates = await _scalar(
        runtime,
        "SELECT count(*) FROM (SELECT source_message_ids FROM memories "
        "WHERE memory_type = 'episodic' GROUP BY 1 HAVING count(*) > 1) d",
    )
    assert duplicates == 0


async def test_clients_leaving_streams_lose_no_turn(
    gateway: ServeProcess, runtime: Runtime, openai_server: FakeOpenAIServer
) -> None:
    # Replies are generated word by word, 0.2 s apart: clients leave long before the end.
    openai_server.enqueue(
        Reply(text="Porto is lovely, I will remember your sister lives there.", chunk_delay=0.2),
        Reply(text="A pilot! That sounds exciting.", delay=2.0),
        Reply(text="Lisbon in spring is wonderful, tell me more about Marta.", chunk_delay=0.2),
        Reply(text="Braga has such lovely gardens, how is your cousin Rui?", chunk_delay=0.2),
    )
    async with gateway.client() as client:
        # Leaves after the first chunk.
        async with client.stream(
            "POST", "/api/chat/stream",
            json={"user_id": "ana", "message": "Remember that my sister Ines lives in Porto."},
        ) as response:  # fmt: skip
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    break
        # Leaves before the first byte (the model takes 2 s to start).
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                "/api/chat/stream",
                json={"user_id": "rui", "message": "My brother Tiago is a pilot in Madrid."},
                timeout=httpx.Timeout(60, read=0.5),
            )
        # The service API's POST /chat and streaming /v1/chat/completions, left after one chunk
        # (both act for the key's own user).
        for path, body in (
            ("/chat", {"message": "My friend Marta lives in Lisbon."}),
            (
                "/v1/chat/completions",
                {
                    "stream": True,
                    "messages": [{"role": "user", "content": "My cousin Rui lives in Braga."}],
                },
            ),
        ):
            async with client.stream("POST", path, json=body) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        break
            for _ in range(300):  # the key's user's next turn waits for this one
                if (
                    await _scalar(
                        runtime, "SELECT count(*) FROM interactions WHERE status = 'started'"
                    )
                    == 0
                ):
                    break
                await asyncio.sleep(0.1)

    for _ in range(300):
        finished = await _scalar(
            runtime, "SELECT count(*) FROM interactions WHERE status = 'complete'"
        )
        if finished == 4:
            break
        await asyncio.sleep(0.1)
    await _drained(runtime)
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                text("SELECT id, user_message, agent_response FROM interactions ORDER BY id")
            )
        ).all()
    assert sorted(r.user_message for r in rows) == sorted([
        "Remember that my sister Ines lives in Porto.",
        "My brother Tiago is a pilot in Madrid.",
        "My friend Marta lives in Lisbon.",
        "My cousin Rui lives in Braga.",
    ])  # fmt: skip
    replies = {r.user_message: r.agent_response for r in rows}
    assert replies["Remember that my sister Ines lives in Porto."] == (
        "Porto is lovely, I will remember your sister lives there."
    )
    assert replies["My brother Tiago is a pilot in Madrid."] == "A pilot! That sounds exciting."
    assert replies["My cousin Rui lives in Braga."] == (
        "Braga has such lovely gardens, how is your cousin Rui?"
    )
    for row in rows:
        assert await _learnt_once(runtime, row.id) == ("complete", True, 1)
