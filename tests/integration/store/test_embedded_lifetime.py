"""The embedded PostgreSQL stops when the last process using it exits, however it exits.

Real subprocesses on a private COMPANION_HOME: ``companion serve`` stopped with
SIGTERM; a holder killed with ``kill -9`` while another holds on; the only holder
killed with ``kill -9`` (the watchdog stops the server); the server killed under a
live holder (the watchdog starts it again).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from companion.store.embedded import server_running, stop_server

#: A process that holds the server until its standard input closes, then exits normally.
_HOLDER = """
import sys
from pathlib import Path
from companion.store.embedded import EmbeddedPostgres
EmbeddedPostgres(Path(sys.argv[1])).start()
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A short private COMPANION_HOME (Unix socket paths are limited to ~100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="cpg", dir="/tmp"))
    yield path
    stop_server(path / "pgdata")
    shutil.rmtree(path, ignore_errors=True)


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "COMPANION_HOME": str(home), "COMPANION_EMBEDDED_WATCH_SECONDS": "0.2"}
    for name in ("DATABASE_URL", "REDIS_URL", "DISCORD_TOKEN", "TELEGRAM_BOT_TOKEN"):
        env.pop(name, None)
    return env


def _holder(home: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home)],
        env=_env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the server is up (or the holder died)
    assert line.strip() == "ready", f"holder failed to start (exit {process.poll()})"
    return process


def _wait_stopped(pgdata: Path, *, within: float = 90.0) -> bool:
    """Poll until the server is down; False if it is still up after ``within`` s."""
    deadline = time.monotonic() + within
    while server_running(pgdata):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_stopped_with_sigterm_stops_the_server(home: Path, tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    serve = subprocess.Popen(
        [sys.executable, "-m", "companion.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        env=_env(home),
        stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert serve.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "companion serve did not become healthy"
            time.sleep(0.3)
        assert server_running(home / "pgdata")
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert _wait_stopped(home / "pgdata"), log.read_text()[-3000:]
    # Stopped by serve itself on its way out (the watchdog logs nowhere).
    assert "embedded postgres stopped" in log.read_text()


def test_a_holder_killed_with_kill_9_does_not_keep_the_server_alive(home: Path) -> None:
    pgdata = home / "pgdata"
    first, second = _holder(home), _holder(home)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert server_running(pgdata)  # the second holder still uses it
    assert second.stdin is not None
    second.stdin.close()  # the last live holder exits normally
    second.wait(timeout=60)
    assert _wait_stopped(pgdata)


def test_the_only_holder_killed_with_kill_9_is_noticed_by_the_watchdog(home: Path) -> None:
    pgdata = home / "pgdata"
    holder = _holder(home)
    assert server_running(pgdata)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert _wait_stopped(pgdata)
    assert not list((home / "run" / "holders").iterdir())  # the dead holder was pruned


def _ready(pgdata: Path) -> bool:
    """Whether a server runs on ``pgdata`` and its postmaster.pid says it is ready
    (the file is written line by line while it starts)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return server_running(pgdata) and len(lines) >= 8 and lines[7].strip() == "ready"


def _wait_running(pgdata: Path, *, within: float = 120.0) -> bool:
    """Poll until a server is ready on ``pgdata`` again; False if none is within ``within`` s."""
    deadline = time.monotonic() + within
    while not _ready(pgdata):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _postmaster(pgdata: Path) -> tuple[int, str]:
    """The server's PID and socket directory, from its postmaster.pid."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), lines[4].strip()


def test_a_server_killed_under_a_live_holder_is_started_again(home: Path) -> None:
    pgdata = home / "pgdata"
    holder = _holder(home)
    try:
        postmaster, socket_dir = _postmaster(pgdata)
        os.kill(postmaster, signal.SIGKILL)  # a crash, or the OOM killer
        deadline = time.monotonic() + 30
        while server_running(pgdata) and time.monotonic() < deadline:
            time.sleep(0.05)  # the watchdog may already have started the new one
        assert _wait_running(pgdata), "the watchdog did not start the server again"
        restarted, restarted_socket_dir = _postmaster(pgdata)
        assert restarted != postmaster
        assert restarted_socket_dir == socket_dir  # holders' URLs stay valid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits normally: the server stops with it
        holder.wait(timeout=60)
    assert _wait_stopped(pgdata)
