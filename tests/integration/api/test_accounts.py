"""Deleting an account removes everything of the user, and nothing of anyone else's:
``DELETE /api/users/{user_id}`` (self or admin) and ``companion users delete``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select, text
from tests.integration.api.conftest import Gateway

from companion.conversation.types import TurnRequest
from companion.runtime import Runtime
from companion.store.models import User
from companion.store.repositories import users
from companion.store.schema import metadata, user_tables
from companion.tools.build import make_workspace


async def _rows_of(runtime: Runtime, user_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with runtime.db.session() as session:
        for name in user_tables():
            table = metadata.tables[name]
            query = select(func.count()).select_from(table).where(table.c.user_id == user_id)
            found = int(await session.scalar(query) or 0)
            if found:
                counts[name] = found
        if await session.get(User, user_id) is not None:
            counts["users"] = 1
    return counts


async def _lived(gateway: Gateway, user_id: str) -> None:
    """A user with turns, memories, a job mark and a model-call record."""
    for said in ("My sister Ines lives in Porto.", "I play the cello on Sundays."):
        await gateway.service.turn(TurnRequest(user_id=user_id, text=said))
    await gateway.service.drain()
    async with gateway.runtime.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO job_user_marks (job_name, period_key, user_id) "
                "VALUES ('reflection', '2026-11-30', :u)"
            ),
            {"u": user_id},
        )
        await session.execute(
            text(
                "INSERT INTO llm_calls (id, user_id, role, provider, model, latency_ms, success) "
                "VALUES (:id, :u, 'chat', 'fake', 'fake', 1.0, true)"
            ),
            {"id": f"call-{user_id}"[:26], "u": user_id},
        )
    await gateway.runtime.kv.set(f"user:{user_id}:st:extra", "buffered")


async def test_a_user_deletes_their_own_account(gateway: Gateway) -> None:
    await _lived(gateway, "ines")
    await _lived(gateway, "ivo")
    headers = await gateway.key("ines")
    before = await _rows_of(gateway.runtime, "ines")
    assert {"messages", "interactions", "memories", "llm_calls", "job_user_marks"} <= set(before)
    other = await _rows_of(gateway.runtime, "ivo")
    workspace = make_workspace(gateway.runtime.settings)
    workspace.prepare("ines")
    workspace.create("ines", "notes.txt", "cello on Sundays")
    workspace.prepare("ivo")
    workspace.create("ivo", "maps.txt", "old maps")

    response = await gateway.client.delete("/api/users/ines", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deleted"] is True and body["user_id"] == "ines"
    assert body["removed"]["messages"] == before["messages"] and body["removed"]["kv_keys"] >= 1
    assert await _rows_of(gateway.runtime, "ines") == {}
    assert await gateway.runtime.kv.get("user:ines:st:extra") is None
    assert await _rows_of(gateway.runtime, "ivo") == other  # nothing of anyone else's
    assert await gateway.runtime.kv.get("user:ivo:st:extra") == b"buffered"
    # The tool workspace on disk goes too; the other user's stays.
    assert body["removed"]["folders"] == 1 and not workspace.folder("ines").exists()
    assert [f.path for f in workspace.list_files("ivo")] == ["maps.txt"]
    # The deleted key no longer authenticates.
    again = await gateway.client.delete("/api/users/ines", headers=headers)
    assert again.status_code == 401


async def test_only_self_or_an_admin_may_delete(gateway: Gateway) -> None:
    await _lived(gateway, "bob")
    alice = await gateway.key("alice")
    refused = await gateway.client.delete("/api/users/bob", headers=alice)
    assert refused.status_code == 404  # another user's id reads as unknown
    assert (await _rows_of(gateway.runtime, "bob")).get("messages", 0) > 0

    admin = await gateway.key("root", admin=True)
    done = await gateway.client.delete("/api/users/bob", headers=admin)
    assert done.status_code == 200 and done.json()["user_id"] == "bob"
    assert await _rows_of(gateway.runtime, "bob") == {}
    missing = await gateway.client.delete("/api/users/bob", headers=admin)
    assert missing.status_code == 404


async def test_a_glob_in_a_user_id_never_reaches_other_users_keys(gateway: Gateway) -> None:
    kv = gateway.runtime.kv
    async with gateway.runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="a*")
    await kv.set("user:ann:st:c1", "ann's buffer")
    await kv.set("user:a*:st:c1", "a*'s buffer")
    admin = await gateway.key("root", admin=True)
    response = await gateway.client.delete("/api/users/a*", headers=admin)
    assert response.status_code == 200 and response.json()["removed"]["kv_keys"] == 1
    assert await kv.get("user:ann:st:c1") == b"ann's buffer"


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url.replace("+asyncpg", "")},
        capture_output=True,
        text=True,
        timeout=180,
    )


async def test_cli_deletes_only_with_confirmation(gateway: Gateway, database_url: str) -> None:
    await _lived(gateway, "carla")
    refused = _cli("users", "delete", "carla", database_url=database_url)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert (await _rows_of(gateway.runtime, "carla")).get("messages", 0) > 0

    done = _cli("users", "delete", "carla", "--yes", database_url=database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["deleted"] is True and report["removed"]["users"] == 1
    assert await _rows_of(gateway.runtime, "carla") == {}
    unknown = _cli("users", "delete", "carla", "--yes", database_url=database_url)
    assert unknown.returncode == 1 and "not found" in unknown.stderr


async def test_deleting_keeps_nothing_even_from_a_late_write(gateway: Gateway) -> None:
    """A turn after the deletion starts a new, empty account; the old data stays gone."""
    await _lived(gateway, "dora")
    admin = await gateway.key("root", admin=True)
    assert (await gateway.client.delete("/api/users/dora", headers=admin)).status_code == 200
    await gateway.service.turn(TurnRequest(user_id="dora", text="Hello again"))
    await gateway.service.drain()
    async with gateway.runtime.db.session() as session:
        said = (
            await session.scalars(
                text("SELECT content FROM messages WHERE user_id = 'dora' AND role = 'user'")
            )
        ).all()
    assert said == ["Hello again"]
