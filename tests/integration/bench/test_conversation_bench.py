"""``companion bench conversation`` against a loopback OpenAI-compatible server.

The server answers with scripted replies, so every figure of the report is known in
advance: recall, persona confusion, repetition and loops, and what the two profiles
send (stop sequences and the compact layout only in ``after``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer, Reply

from companion.bench.chats import CHATS, Chat, Turn
from companion.bench.conversation import PROFILES, markdown, run_bench
from companion.llm.chain import ProviderChain
from companion.llm.providers.openai_compat import OpenAICompatProvider
from companion.llm.recorder import CallRecorder

CHAT = Chat(
    "t",
    "Priya",
    (
        Turn("Hi! I'm Priya, I live in Porto with my dog Biscuit."),
        Turn("What's my name?", ("Priya",)),
        Turn("Where do I live?", ("Porto",)),
        Turn("What's my dog called?", ("Biscuit",)),
    ),
)
LOOP = "I love walking by the river. I love walking by the river. I love walking by the river."
REPLIES = (
    "Hi Priya! I'm Sol, lovely to meet you.",
    "I'm Priya, nice to meet you!",  # persona confusion (and says the name)
    LOOP,  # no Porto: not recalled; loops
    "Your dog is Biscuit.",
)


def _chain(server: FakeOpenAIServer, *, capable: bool) -> ProviderChain:
    provider = OpenAICompatProvider(
        "remote", base_url=server.base_url, api_key="k", model="fake-model", capable=capable
    )
    return ProviderChain(
        "chat", [provider], semaphore=asyncio.Semaphore(1), recorder=CallRecorder()
    )


async def test_report_figures_are_exact(openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(*(Reply(text=t) for t in REPLIES * 2))
    chain = _chain(openai_server, capable=False)
    report = await run_bench(chain, profiles=[PROFILES["before"], PROFILES["after"]], chats=[CHAT])
    before = report["profiles"]["before"]["summary"]
    after = report["profiles"]["after"]["summary"]
    assert before["questions"] == 3 and before["recalled"] == 2
    assert before["confused"] == 1 and before["looping"] == 1
    assert before["over_four_sentences"] == 0
    assert before["repeated_trigram_rate"] > 0.1
    # The loop guard cuts the repeated sentence in "after": same recall, no loop left.
    assert after["recalled"] == 2 and after["confused"] == 1 and after["looping"] == 0
    loop_reply = report["profiles"]["after"]["replies"][2]["reply"]
    assert loop_reply == "I love walking by the river."
    assert after["mean_words"] < before["mean_words"]
    assert all(r["ttft_ms"] is not None for r in report["profiles"]["after"]["replies"])
    # The replies joined the recent turns of the next prompt.
    requests = openai_server.chat_requests
    last_before = requests[3]["messages"]
    # The persona, the history, then the turn's context (time, mood, memories) and the message.
    roles = ["system"] + ["user", "assistant"] * 3 + ["system", "user"]
    assert [m["role"] for m in last_before] == roles
    assert last_before[4]["content"] == "I'm Priya, nice to meet you!"
    # "before": old persona, no stop sequences, the full reply budget.
    system_before = last_before[0]["content"]
    assert "CORE PERSONALITY" in system_before and "Your name is Sol" not in system_before
    assert not requests[0].get("stop") and requests[0]["max_tokens"] == 320
    # "after" on a small model: compact persona with the own name, stop sequences.
    system_after = requests[4]["messages"][0]["content"]
    assert "CORE PERSONALITY" not in system_after and "Your name is Sol" in system_after
    assert "\nUser:" in requests[4]["stop"] and requests[4]["max_tokens"] == 160
    table = markdown(report, model="fake-model")
    assert "| fake-model | before | 2/3 | 1 | 1 |" in table
    assert "| fake-model | after | 2/3 | 1 | 0 |" in table


async def test_capable_model_keeps_the_full_layout(openai_server: FakeOpenAIServer) -> None:
    openai_server.default_text = "Hello!"
    report = await run_bench(
        _chain(openai_server, capable=True), profiles=[PROFILES["after"]], chats=[CHAT]
    )
    assert report["profiles"]["after"]["summary"]["replies"] == 4
    system = openai_server.chat_requests[0]["messages"][0]["content"]
    assert "CORE PERSONALITY" in system and "Your name is Sol" in system


def test_cli_prints_the_table_and_writes_json(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.default_text = "You told me, of course!"
    out = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "companion.cli", "bench", "conversation",
            "--base-url", openai_server.base_url, "--model", "fake-model", "--api-key", "k",
            "--profiles", "after", "--json-out", str(out),
        ],
        env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| fake-model | after | 0/" in result.stdout
    assert "after: nurse-porto done (6 replies)" in result.stderr
    report = json.loads(out.read_text())
    summary = report["profiles"]["after"]["summary"]
    assert summary["replies"] == sum(len(chat.turns) for chat in CHATS)
    assert summary["confused"] == 0 and summary["recalled"] == 0
    bad = subprocess.run(
        [sys.executable, "-m", "companion.cli", "bench", "conversation", "--profiles", "nope"],
        env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown profile 'nope'" in bad.stderr
