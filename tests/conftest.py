"""Shared fixtures: the real embedded PostgreSQL, a real Redis, settings, the app.

The embedded server lives in ``.companion-test/`` at the repository root and is shared
by concurrent test runs; each run gets its own freshly migrated database, dropped at
the end. Each test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

pytest_plugins = ["tests.fakes"]  # loopback fakes: openai_server, gemini_server fixtures

ROOT = Path(__file__).resolve().parents[1]
TEST_HOME = ROOT / ".companion-test"

# Tests never read the developer's .env, and start from a clean environment.
os.environ["COMPANION_ENV_FILE"] = ""
_PREFIXES = (
    "DATABASE_",
    "REDIS_",
    "DB_",
    "CHUTES_",
    "GROQ_",
    "OPENAI_",
    "OPENROUTER_",
    "GEMINI_",
    "DISCORD_",
    "TELEGRAM_",
    "JWT_",
    "SECURITY_",
    "RATE_LIMIT",
    "CHAT_PROVIDERS",
    "FAST_PROVIDERS",
    "COMPANION_",
    "ENVIRONMENT",
    "REQUIRE_AUTH",
    "EMBEDDING_",
    "PROACTIVE_",
    "MAX_",
    "PAD_",
    "QUIRK_",
    "LOG_",
    "GATEWAY_",
    "SCHEDULER_",
    "QUEUE_",
    "TURN_",
)
for _name in list(os.environ):
    if _name.startswith(_PREFIXES) and _name != "COMPANION_ENV_FILE":
        del os.environ[_name]
os.environ["ENVIRONMENT"] = "test"
os.environ["COMPANION_HOME"] = str(TEST_HOME)
os.environ["SCHEDULER_ENABLED"] = "false"
os.environ["LOG_FORMAT"] = "text"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[object]:
    """The shared embedded server (started or attached to)."""
    from companion.store.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(TEST_HOME)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(embedded_pg: object) -> Iterator[str]:
    """A fresh database for this run, migrated to head; dropped afterwards."""
    import asyncio

    from companion.store.embedded import EmbeddedPostgres
    from companion.store.migrate import upgrade

    assert isinstance(embedded_pg, EmbeddedPostgres)
    name = f"test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    embedded_pg.create_database(name)
    url = embedded_pg.url(name)
    asyncio.run(upgrade(url, vector_dimensions=384))
    yield url
    embedded_pg.drop_database(name)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port (or DB 15 of the machine's Redis)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield "redis://127.0.0.1:6379/15"
        return
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def make_settings(database_url: str, **env: str) -> object:
    """Settings for tests: the test database plus ``env`` overrides."""
    from companion.settings import load_settings

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    os.environ["DATABASE_URL"] = database_url
    try:
        return load_settings(None)
    finally:
        del os.environ["DATABASE_URL"]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def settings(database_url: str) -> object:
    """Settings pointing at the test database, no Redis (small pools: runs share a server)."""
    return make_settings(database_url, DB_POOL_MIN_SIZE="2", DB_POOL_MAX_SIZE="8")


@pytest.fixture(scope="session")
async def runtime(settings: object) -> AsyncIterator[object]:
    """One runtime for the session (tables are emptied after every test)."""
    from companion.runtime import Runtime

    rt = await Runtime.start(settings, migrate=False)  # type: ignore[arg-type]
    yield rt
    await rt.close()


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table after each test that used the database."""
    yield
    if "runtime" not in request.fixturenames:
        return
    from companion.store.schema import metadata

    rt = request.getfixturevalue("runtime")
    tables = ", ".join(f'"{name}"' for name in metadata.tables)
    async with rt.db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await rt.kv.delete_pattern("*")


@pytest.fixture
async def client(runtime: object) -> AsyncIterator[AsyncClient]:
    """An HTTP client talking to the app in-process over ASGI."""
    from companion.api.app import create_app

    app = create_app(runtime=runtime)  # type: ignore[arg-type]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http
