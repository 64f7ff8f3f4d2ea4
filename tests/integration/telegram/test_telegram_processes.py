"""The bot as processes: inside ``companion serve``, and ``companion telegram --gateway``.

The external contract: with TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL set, ``companion
serve`` polls ``getUpdates`` there, answers a private message from user N in chat N
with ``sendMessage``, and an admin reads the user's memories at
``GET /api/memory?user_id=telegram:N``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.fakes.telegram_server import FakeTelegramServer
from tests.integration.telegram.telegram_world import ADMIN, ScriptedLLM
from tests.serve_process import CLI, create_key, gateway_env, serving

from companion.runtime import Runtime

USER = 4242


def _env(database_url: str, llm: ScriptedLLM, **extra: str) -> dict[str, str]:
    return gateway_env(database_url, llm.base_url, **extra)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"), text=True
    )


def _interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a person would stop it; killed if it does not stop in time."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def gateway(
    runtime: Runtime,
    database_url: str,
    llm: ScriptedLLM,
    telegram_server: FakeTelegramServer,
    tmp_path: Path,
) -> Iterator[tuple[str, str]]:
    """(base URL, admin key) of ``companion serve`` with the Telegram bot configured."""
    env = _env(
        database_url,
        llm,
        TELEGRAM_BOT_TOKEN=telegram_server.token,
        TELEGRAM_API_URL=telegram_server.url,
    )
    key = create_key(env, "telegram-admin", admin=True)
    with serving(env, tmp_path / "serve.log") as server:
        yield server.base, key


async def test_serve_answers_telegram_and_an_admin_reads_the_memories(
    gateway: tuple[str, str], telegram_server: FakeTelegramServer
) -> None:
    base, key = gateway
    telegram_server.private_message(USER, "Remember that my cat is called Biscuit.")
    (reply,) = await telegram_server.wait_for("sendMessage", chat_id=USER, timeout=120)
    assert reply.text == "echo: Remember that my cat is called Biscuit."
    assert telegram_server.sent("getUpdates")

    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        while True:
            response = await http.get("/api/memory", params={"user_id": f"telegram:{USER}"})
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            if any("Biscuit" in item["content"] for item in items):
                break
            assert time.monotonic() < deadline, items  # memories are written after the reply
            await asyncio.sleep(0.3)


async def test_companion_telegram_runs_against_a_remote_gateway(
    gateway: tuple[str, str], database_url: str, llm: ScriptedLLM, tmp_path: Path
) -> None:
    base, key = gateway
    log = tmp_path / "telegram.log"
    with FakeTelegramServer(token="999:REMOTE-token") as other:
        env = _env(
            database_url,
            llm,
            TELEGRAM_BOT_TOKEN=other.token,
            TELEGRAM_API_URL=other.url,
            TELEGRAM_ADMIN_IDS=str(ADMIN),
        )
        bot = _spawn([*CLI, "telegram", "--gateway", base, "--api-key", key], env, log)
        try:
            other.private_message(5151, "Hello from afar")
            (reply,) = await other.wait_for("sendMessage", chat_id=5151, timeout=120)
            assert reply.text == "echo: Hello from afar"
            other.private_message(ADMIN, "/status")
            (status,) = await other.wait_for("sendMessage", chat_id=ADMIN, timeout=60)
            assert "Users: " in status.text and "Chat model: openai:" in status.text
        finally:
            _interrupt(bot)
            print(log.read_text()[-4000:])

    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.get(
            "/api/memory",
            params={"user_id": "telegram:5151"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200


async def test_companion_telegram_runs_in_process(
    runtime: Runtime, database_url: str, llm: ScriptedLLM, tmp_path: Path
) -> None:
    log = tmp_path / "telegram.log"
    with FakeTelegramServer() as tg:
        env = _env(database_url, llm, TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.url)
        bot = _spawn([*CLI, "telegram"], env, log)
        try:
            tg.private_message(6161, "Hello from the same machine")
            (reply,) = await tg.wait_for("sendMessage", chat_id=6161, timeout=120)
            assert reply.text == "echo: Hello from the same machine"
        finally:
            _interrupt(bot)
            print(log.read_text()[-4000:])
        assert bot.returncode == 0  # Ctrl-C is a clean stop


def test_companion_telegram_needs_a_token() -> None:
    result = subprocess.run(
        [*CLI, "telegram"],
        env={k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr


def test_doctor_reports_the_telegram_bot_without_its_token(database_url: str) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")},
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_ADMIN_IDS": "1,2",
    }
    result = subprocess.run([*CLI, "doctor"], env=env, capture_output=True, text=True, timeout=120)
    assert "polling via https://api.telegram.org, public, 2 admin(s)" in result.stdout
    assert "AAHdqTcv" not in result.stdout + result.stderr
