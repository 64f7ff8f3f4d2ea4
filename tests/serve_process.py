"""``companion serve`` (and its sibling commands) as subprocesses, for the tests that need
a real gateway process: the environment, keys, a free port and the wait for health.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = [
    "CLI",
    "ServeProcess",
    "create_key",
    "free_port",
    "gateway_env",
    "serving",
    "wait_healthy",
]

#: The command line of this interpreter's ``companion``.
CLI = [sys.executable, "-m", "companion.cli"]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(database_url: str, llm_url: str, **extra: str) -> dict[str, str]:
    """The test database, the loopback OpenAI-compatible model for both roles, a small pool."""
    return {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "CHAT_PROVIDERS": "openai",
        "FAST_PROVIDERS": "openai",
        "OPENAI_BASE_URL": llm_url,
        "OPENAI_API_KEY": "test-key",
        "DB_POOL_MIN_SIZE": "1",
        "DB_POOL_MAX_SIZE": "4",
        **extra,
    }


def create_key(env: dict[str, str], user: str, *, admin: bool = False) -> str:
    """``companion keys create`` for ``user``; the printed key."""
    made = subprocess.run(
        [*CLI, "keys", "create", "--user", user, *(["--admin"] if admin else [])],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


def wait_healthy(
    proc: subprocess.Popen[str], base: str, log: Path, *, timeout: float = 120.0, name: str = ""
) -> None:
    """Until ``GET /health`` answers 200; fails with the log's tail if the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{name or 'companion serve'} did not become healthy"
        time.sleep(0.3)


class ServeProcess:
    """``companion serve`` on a free loopback port that can be killed and started again."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, key: str | None = None) -> None:
        self.env, self.log, self.args, self.key = env, log, args, key
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start and wait until healthy (the log is appended to across restarts)."""
        self.proc = subprocess.Popen(
            [*CLI, "serve", *self.args, "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log.open("a"), text=True,
        )  # fmt: skip
        wait_healthy(self.proc, self.base, self.log)

    def kill9(self) -> None:
        """``kill -9``: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Terminate if running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client with this gateway's key."""
        return httpx.AsyncClient(
            base_url=self.base, headers={"Authorization": f"Bearer {self.key}"}, timeout=60
        )


@contextmanager
def serving(env: dict[str, str], log: Path, *, key: str | None = None) -> Iterator[ServeProcess]:
    """A started gateway; stopped afterwards, its log's tail printed (shown on failure)."""
    server = ServeProcess(env, log, key=key)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        # On failure, the gateway's own account of a 5xx is the useful part.
        print(log.read_text()[-4000:] if log.exists() else "")
