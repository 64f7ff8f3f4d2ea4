"""Degraded modes through the API: Redis gone, database gone (and back), models gone."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime
from tests.integration.api.conftest import Gateway, open_gateway

from companion.errors import DatabaseUnavailable
from companion.runtime import Runtime
from companion.store.database import Database
from companion.store.kv import RedisStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SocketProxy:
    """A Unix-socket proxy to PostgreSQL that can be cut and restored (an "outage")."""

    def __init__(self, target: str, directory: Path) -> None:
        self.target = target
        self.directory = directory
        self.path = str(directory / Path(target).name)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, self.path)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._pipes):
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.target)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._pipes.discard(writer)


async def _rewire(clone: Runtime, chat: FakeChat) -> None:
    """Build memory, personality, security and the pipeline on ``clone``'s db and kv."""
    from companion.conversation.build import pipeline_config
    from companion.conversation.pipeline import ConversationService
    from companion.memory import build_memory
    from companion.personality import build_personality
    from companion.security import build_security

    behaviour = clone.settings.behaviour
    clone.memory = await build_memory(
        settings=behaviour, db=clone.db, kv=clone.kv, models=clone.models
    )
    clone.personality = await build_personality(
        settings=behaviour, db=clone.db, models=clone.models
    )
    clone.security = await build_security(
        settings=clone.settings.security, db=clone.db, kv=clone.kv, models=clone.models
    )
    clone.conversation = ConversationService(
        db=clone.db, kv=clone.kv, chat=chat, memory=clone.memory,
        personality=clone.personality, security=clone.security,
        config=pipeline_config(clone.settings),
    )  # fmt: skip


@pytest.fixture
async def proxied(runtime: Runtime) -> AsyncIterator[tuple[Gateway, SocketProxy]]:
    """The app on a database reached through a proxy the test can cut."""
    url = runtime.db.engine.url
    socket_dir = str(url.query["host"])
    target = str(Path(socket_dir) / f".s.PGSQL.{url.port or 5432}")
    # Unix socket paths are limited to ~100 bytes: use a short directory.
    directory = Path(tempfile.mkdtemp(prefix="pgp", dir="/tmp"))
    proxy = SocketProxy(target, directory)
    await proxy.start()
    # The production pool (no pre-ping: closed connections are replaced at checkout).
    db_settings = runtime.settings.db.model_copy(
        update={"db_pool_min_size": 2, "db_pool_max_size": 2, "db_connect_timeout_seconds": 2}
    )
    engine = Database._engine(
        url.update_query_dict({"host": str(directory)}).render_as_string(hide_password=False),
        runtime.settings.model_copy(update={"db": db_settings}),
        pool=True,
    )
    chat = FakeChat()
    clone = clone_runtime(runtime, chat=chat)
    clone.db = Database(engine)
    await _rewire(clone, chat)  # every service on the proxy: the outage is whole
    async for gateway in open_gateway(clone, chat):
        yield gateway, proxy
    await engine.dispose()
    shutil.rmtree(directory, ignore_errors=True)


async def test_database_outage_is_503_and_recovers_without_restart(
    proxied: tuple[Gateway, SocketProxy],
) -> None:
    gateway, proxy = proxied
    headers = await gateway.key("dora")
    ok = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=headers)
    assert ok.status_code == 200

    await proxy.stop()
    down = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=headers)
    assert down.status_code == 503
    assert "database is unavailable" in down.json()["detail"]
    health = await gateway.client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"
    assert health.json()["database"] is False
    # Every service is cut, not just the pipeline's own connection.
    assert gateway.runtime.memory._db is gateway.runtime.db  # type: ignore[union-attr]
    assert gateway.runtime.personality.db is gateway.runtime.db  # type: ignore[union-attr]
    with pytest.raises(DatabaseUnavailable):
        await gateway.runtime.memory.list_memories(user_id="dora")  # type: ignore[union-attr]

    await proxy.start()
    back = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=headers)
    assert back.status_code == 200 and back.json()["response"]


@pytest.fixture
def redis_process() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A private redis-server the test may kill."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        time.sleep(0.05)
    yield server, port
    if server.poll() is None:
        server.terminate()
        server.wait(10)


async def test_redis_outage_falls_back_in_process(
    runtime: Runtime, redis_process: tuple[subprocess.Popen[bytes], int]
) -> None:
    server, port = redis_process
    kv = RedisStore(f"redis://127.0.0.1:{port}/0", prefix="test-degraded:")
    chat = FakeChat()
    clone = clone_runtime(runtime, chat=chat, kv=kv)
    await _rewire(clone, chat)  # buffers, caches and locks all in the Redis that dies
    async for gateway in open_gateway(clone, chat):
        headers = await gateway.key("rita")
        first = await gateway.client.post(
            "/api/chat/message", json={"message": "hello"}, headers=headers
        )
        assert first.status_code == 200 and not kv.degraded
        server.terminate()
        await asyncio.to_thread(server.wait, 10)
        conversation = first.json()["conversation_id"]
        for _ in range(2):
            response = await gateway.client.post(
                "/api/chat/message",
                json={"message": "still there?", "conversation_id": conversation},
                headers=headers,
            )
            assert response.status_code == 200 and response.json()["response"]
        assert kv.degraded  # served by the in-process fallback (locks, limits, cache)
    await kv.close()
