"""Split processes on one embedded PostgreSQL: two ``serve --no-bots`` gateways, one
``worker`` and one bot-side consumer of the outbound deliveries queue.

The bot side is ``companion deliveries tail --channel discord``, a minimal channel
consumer that claims Discord's queued messages exactly as the Discord bot does (the
same ``OutboxConsumer``) and prints them; a fake of Discord's websocket gateway would
cost more than it shows. The worker's scheduler decides a proactive message on its
own timetable (PROACTIVE_CHECK_MINUTES=1); it reaches the consumer through the
PostgreSQL table and NOTIFY, with no Redis anywhere.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import select
from tests.fakes import FakeOpenAIServer
from tests.serve_process import CLI, free_port, gateway_env, wait_healthy

from companion.proactive.models import ProactiveDecision
from companion.store.models import Interaction
from companion.store.repositories import api_keys, users


class _Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: list[tuple[str, subprocess.Popen[str], IO[str]]] = []

    def start(
        self, name: str, *args: str, stdout: Any = subprocess.DEVNULL
    ) -> subprocess.Popen[str]:
        err = (self.logs / f"{name}.log").open("w")
        proc = subprocess.Popen([*CLI, *args], env=self.env, stdout=stdout, stderr=err, text=True)
        self.running.append((name, proc, err))
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-3000:]

    def stop_all(self) -> None:
        for _, proc, _ in self.running:
            proc.terminate()
        for name, proc, err in self.running:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            err.close()
            print(f"--- {name} ---\n{self.log(name)}")


@pytest.fixture
def processes(
    database_url: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> Iterator[_Processes]:
    quiet = (datetime.now(UTC).hour + 12) % 24  # a quiet window far from now
    env = gateway_env(
        database_url,
        openai_server.base_url,
        PROACTIVE_CHECK_MINUTES="1",
        PROACTIVE_THRESHOLD="0",
        DEFAULT_QUIET_HOURS=f"{quiet:02d}-{(quiet + 1) % 24:02d}",
    )
    env.pop("REDIS_URL", None)
    group = _Processes(env, tmp_path)
    yield group
    group.stop_all()


def _wait_healthy(group: _Processes, name: str, proc: subprocess.Popen[str], base: str) -> None:
    wait_healthy(proc, base, group.logs / f"{name}.log", timeout=180, name=name)


async def test_worker_decides_bot_process_receives_turns_use_both_gateways(
    runtime: Any, processes: _Processes
) -> None:
    user = "discord:5550001"
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="discord-bot")
        _, admin = await api_keys.create_api_key(session, user_id="discord-bot", is_admin=True)
    headers = {"Authorization": f"Bearer {admin}"}

    bases = []
    for name in ("gateway-a", "gateway-b"):
        port = free_port()
        proc = processes.start(
            name, "serve", "--no-bots", "--host", "127.0.0.1", "--port", str(port)
        )
        bases.append((name, proc, f"http://127.0.0.1:{port}"))
    for name, proc, base in bases:
        _wait_healthy(processes, name, proc, base)

    served: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=120) as http:
        for turn in range(4):
            name, _, base = bases[turn % 2]
            body = {"message": f"hello number {turn}", "user_id": user, "channel": "discord"}
            answer = await http.post(f"{base}/api/chat/message", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            served[name] = served.get(name, 0) + 1
        # Each gateway sees the turns the other one took (state lives in PostgreSQL).
        session_view = await http.get(f"{bases[1][2]}/api/chat/session/{user}", headers=headers)
        assert session_view.status_code == 200, session_view.text
    assert served == {"gateway-a": 2, "gateway-b": 2}
    async with runtime.db.session() as session:
        turns = (
            await session.scalars(select(Interaction).where(Interaction.user_id == user))
        ).all()
    assert len(turns) == 4

    bot = processes.start(
        "bot", "deliveries", "tail", "--channel", "discord", stdout=subprocess.PIPE
    )
    worker = processes.start("worker", "worker")
    assert bot.stdout is not None
    line = ""
    deadline = time.monotonic() + 240  # the worker's first check runs a minute after it leads
    while not line:
        assert worker.poll() is None, processes.log("worker")
        assert bot.poll() is None, processes.log("bot")
        assert time.monotonic() < deadline, processes.log("worker")
        line = bot.stdout.readline()  # blocks until the bot prints a delivery
    received = json.loads(line)
    assert received["user_id"] == user and received["channel"] == "discord" and received["text"]

    decision = None
    for _ in range(80):  # the worker and the consumer record right after the send
        async with runtime.db.session() as session:
            decision = await session.scalar(
                select(ProactiveDecision).where(
                    ProactiveDecision.user_id == user, ProactiveDecision.should_initiate
                )
            )
        if decision is not None and decision.message and decision.delivery_status == "delivered":
            break
        await asyncio.sleep(0.25)
    assert decision is not None and decision.source == "scheduled"
    assert decision.message == received["text"] and decision.channel == "discord"
    assert decision.delivery_status == "delivered", decision.delivery_detail
