"""Starting servers for a harness: a free local port, and waiting until one answers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

__all__ = ["free_port", "wait_ready"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 180) -> float:
    """Poll ``url`` until it answers 200; the seconds that took (exits if it never does)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"not ready: {url}")


def loopback_env(home: Path, llm_port: int) -> dict[str, str]:
    """Settings for a bench's own Companion: its own home, the chat model on a loopback
    server at ``llm_port``, no scheduler, rate limits out of the way, quiet logs."""
    return {
        "COMPANION_HOME": str(home),
        "COMPANION_ENV_FILE": "",
        "ENVIRONMENT": "test",
        "CHAT_PROVIDERS": "openai",
        "FAST_PROVIDERS": "local",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "OPENAI_API_KEY": "bench",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
