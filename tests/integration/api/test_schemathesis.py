"""Schemathesis over the OpenAPI spec of a real server: no request may cause a 5xx.

The app runs under uvicorn on a loopback port (its own runtime, the test database,
the loopback LLM) and is called with an admin key, so admin routes and acting for
generated user ids are exercised too. Examples per operation stay few so the whole
sweep runs in well under a minute.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from tests.conftest import _free_port, make_settings
from tests.fakes import FakeOpenAIServer

from companion.api.app import create_app
from companion.runtime import Runtime
from companion.store.repositories import api_keys, users

# Raise SCHEMATHESIS_EXAMPLES for a deeper sweep by hand (e.g. before a release).
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))


class Server:
    """uvicorn in a thread; ``key`` is an admin key created once the runtime is up."""

    def __init__(self, settings: object) -> None:
        self.port = _free_port()
        self.key = ""
        app = create_app(settings, on_ready=self._ready)  # type: ignore[arg-type]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _ready(self, runtime: Runtime) -> None:
        async with runtime.db.transaction() as session:
            await users.ensure_user(session, user_id="schema-admin")
            _, self.key = await api_keys.create_api_key(
                session, user_id="schema-admin", is_admin=True
            )

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def server(runtime: Runtime, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A real server on the test database with the loopback LLM."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"no model here")
    with FakeOpenAIServer() as llm:
        config = make_settings(
            database_url,
            CHAT_PROVIDERS="openai",
            FAST_PROVIDERS="local",
            COMPANION_LOCAL_MODEL=str(broken),
            OPENAI_BASE_URL=llm.base_url,
            OPENAI_API_KEY="test-key",
            EMBEDDING_PROVIDER="openai",
            RATE_LIMIT_PER_MINUTE="100000",
            RATE_LIMIT_PER_IP_PER_MINUTE="100000",
            DB_POOL_MIN_SIZE="1",
            DB_POOL_MAX_SIZE="4",
        )
        with Server(config) as running:
            yield running


def test_no_server_errors_anywhere(server: Server) -> None:
    base = f"http://127.0.0.1:{server.port}"
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    headers = {"Authorization": f"Bearer {server.key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "GET" and operation.path.endswith("/stream"):
            continue  # an open-ended event stream
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        check()
    assert operations >= 25
    assert failures == [], "\n".join(failures)
