"""Two-user isolation fuzz: random API calls by two users; counts leaks and server errors.

Each user says things carrying their own canary word. Both then make random calls:
chat (JSON, SSE, the service API's ``/chat``, OpenAI's ``/v1``), memory list/search/get/
correct/forget/clear, documents, export, reset, personality, proactive settings,
sessions; with their own ids, the other user's ids (conversations, memories,
documents, user id) and hostile input (NUL, huge numbers, glob characters, long
text). A leak is a response to one user that contains the other's canary, or an id
of the other's that the caller did not send. A server error is any 5xx.

The engine (``fuzz``) drives any ``httpx.AsyncClient``: the tests run a short version
in-process (``tests/integration/api/test_isolation_fuzz.py``); ``main`` runs a long
one against a real ``companion serve`` with an instant local LLM:

    python -m companion.bench.isolation_fuzz --calls 3000 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Two users; the second id is glob-hostile (``a*`` would match ``ann`` in a pattern).
USERS = ("ann", "a*")
CANARY = {"ann": "KUMQUAT-ANN-3141", "a*": "QUINCE-AST-2718"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HOSTILE = ["\u0000", "*", "?", "[", "\\", "%", "'; DROP TABLE users; --", "é漢🙂", "x" * 5000]


@dataclass
class Report:
    """What the fuzz saw."""

    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the first few problems in full)."""
        return {
            "calls": self.calls,
            "server_errors": len(self.server_errors),
            "leaks": len(self.leaks),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "examples": (self.server_errors + self.leaks)[:5],
        }


@dataclass
class _Seen:
    """Ids each user owns (learned from their own responses)."""

    conversations: dict[str, set[str]] = field(default_factory=lambda: {u: set() for u in USERS})
    memories: dict[str, set[str]] = field(default_factory=lambda: {u: set() for u in USERS})
    documents: dict[str, set[str]] = field(default_factory=lambda: {u: set() for u in USERS})

    def owned(self, user: str) -> set[str]:
        return self.conversations[user] | self.memories[user] | self.documents[user]


def _other(user: str) -> str:
    return USERS[1] if user == USERS[0] else USERS[0]


def _text(rng: random.Random, user: str) -> str:
    base = rng.choice(
        [
            f"My secret word is {CANARY[user]}.",
            f"I keep {CANARY[user]} in my garden.",
            "How are you today?",
            f"Remember that my cousin's name is {CANARY[user]}.",
        ]
    )
    if rng.random() < 0.15:
        base += rng.choice(_HOSTILE)
    return base


def _pick(rng: random.Random, pool: set[str]) -> str:
    return rng.choice(sorted(pool)) if pool else "00000000-0000-0000-0000-000000000000"


def _ids(rng: random.Random, seen: _Seen, user: str, kind: str) -> tuple[str, str]:
    """(id to use, its owner): the caller's own most of the time, else the other's."""
    owner = user if rng.random() < 0.6 else _other(user)
    pool = getattr(seen, kind)[owner]
    return _pick(rng, pool), owner


def _call(rng: random.Random, seen: _Seen, user: str) -> tuple[str, str, dict[str, Any]]:
    """One random request: (method, path, httpx kwargs)."""
    conv, _ = _ids(rng, seen, user, "conversations")
    memory, _ = _ids(rng, seen, user, "memories")
    doc, _ = _ids(rng, seen, user, "documents")
    target = user if rng.random() < 0.7 else _other(user)
    text = _text(rng, user)
    choices: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/chat/message", {"json": {"message": text}}),
        ("POST", "/api/chat/message", {"json": {"message": text, "conversation_id": conv}}),
        ("POST", "/api/chat/message", {"json": {"message": text, "user_id": target}}),
        ("POST", "/api/chat/stream", {"json": {"message": text}}),
        ("POST", "/chat", {"json": {"message": text, "conversation_id": conv}}),
        ("POST", "/v1/chat/completions",
         {"json": {"model": "companion", "messages": [{"role": "user", "content": text}]}}),
        ("GET", "/api/memory", {"params": {"user_id": target, "limit": rng.choice([1, 50])}}),
        ("POST", "/api/memory/search", {"json": {"query": rng.choice(
            ["secret word", "garden", CANARY[_other(user)], "cousin"]), "k": 10}}),
        ("GET", f"/api/memory/{memory}", {}),
        ("POST", f"/api/memory/{memory}/correct", {"json": {"content": text}}),
        ("DELETE", f"/api/memory/{memory}", {}),
        ("POST", "/memory/clear", {"json": {"conversation_id": conv}}),
        ("POST", "/conversation/reset", {"json": {"conversation_id": conv}}),
        ("POST", "/api/chat/reset", {"json": {"conversation_id": conv}}),
        ("GET", f"/api/chat/session/{target}", {}),
        ("GET", "/api/memory/export", {"params": {"user_id": target}}),
        ("POST", "/api/memory/documents", {"json": {"name": "notes.md", "text": text * 3}}),
        ("GET", "/api/memory/documents", {}),
        ("DELETE", f"/api/memory/documents/{doc}", {}),
        ("GET", f"/api/personality/current/{target}", {}),
        ("GET", "/api/proactive/settings", {"params": {"user_id": target}}),
        ("GET", "/api/memory", {"params": {"offset": rng.choice([0, 2**63, -1])}}),
    ]  # fmt: skip
    return rng.choice(choices)


def _learn(seen: _Seen, user: str, path: str, body: Any) -> None:
    """Record ids from a successful response as the caller's own."""
    text = json.dumps(body) if not isinstance(body, str) else body
    if path.startswith(("/api/chat", "/chat", "/v1/")):
        seen.conversations[user].update(_UUID.findall(text))
    elif path.startswith("/api/memory/documents"):
        seen.documents[user].update(_UUID.findall(text))
    elif path.startswith("/api/memory"):
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            seen.memories[user].update(str(i.get("id")) for i in body["items"])
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            seen.memories[user].update(str(i.get("id")) for i in body["results"])


async def _one(
    client: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
    rng: random.Random,
    seen: _Seen,
    report: Report,
) -> None:
    user = rng.choice(USERS)
    method, path, kwargs = _call(rng, seen, user)
    response = await client.request(method, path, headers=headers[user], **kwargs)
    report.calls += 1
    report.statuses[response.status_code] += 1
    where = f"{user} {method} {path} -> {response.status_code}"
    if response.status_code >= 500:
        report.server_errors.append(f"{where}: {response.text[:200]}")
    body_text = response.text
    sent = json.dumps(kwargs, default=str) + path
    other = _other(user)
    if body_text.count(CANARY[other]) > sent.count(CANARY[other]):  # more than an echo
        report.leaks.append(f"{where}: the other user's canary")
    foreign = {i for i in seen.owned(other) if i in body_text and i not in sent}
    if foreign:
        report.leaks.append(f"{where}: ids of the other user {sorted(foreign)[:2]}")
    if response.status_code < 300 and body_text:
        try:
            body: Any = response.json()
        except ValueError:  # SSE and other text
            body = body_text
        _learn(seen, user, path, body)


async def fuzz(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]], *, calls: int, seed: int
) -> Report:
    """Run ``calls`` random requests as the two users (``headers`` per user id)."""
    rng = random.Random(seed)
    seen, report = _Seen(), Report()
    for user in USERS:  # each user has something to leak from the start
        for _ in range(2):
            response = await client.post(
                "/api/chat/message", json={"message": _text(rng, user)}, headers=headers[user]
            )
            _learn(seen, user, "/api/chat/message", response.json())
    for _ in range(calls):
        await _one(client, headers, rng, seen, report)
    return report


# --- the long run against a real server ---------------------------------------------


def main() -> None:
    """Start an instant LLM and ``companion serve``, make two users, fuzz, print JSON."""
    from companion.bench.gateway import BIN, stop
    from companion.bench.serving import free_port, loopback_env, wait_ready

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="companion-fuzz-"))
    llm_port, port = free_port(), free_port()
    env = {
        **os.environ,
        **loopback_env(home, llm_port),
        "RATE_LIMIT_PER_IP_PER_MINUTE": "10000000",
    }
    env.pop("DATABASE_URL", None)
    llm = [sys.executable, "-m", "companion.bench.gateway_llm", "--port", str(llm_port)]
    procs = [subprocess.Popen(llm, env=env)]
    try:
        headers = {}
        for user in USERS:
            made = subprocess.run(
                [str(BIN / "companion"), "keys", "create", "--user", user],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            key = made.stdout.strip().splitlines()[-1]
            headers[user] = {"Authorization": f"Bearer {key}"}
        serve = [str(BIN / "companion"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        procs.append(subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/health")

        async def go() -> Report:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                return await fuzz(client, headers, calls=args.calls, seed=args.seed)

        print(json.dumps(asyncio.run(go()).to_dict(), indent=2))
    finally:
        stop(procs)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
