"""Key management: list without secrets, revoke (401 at once here, within the key cache's
lifetime in other processes), rotate."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import jwt as pyjwt
from httpx import AsyncClient

from companion.api.key_cache import ApiKeyCache
from companion.store.repositories import api_keys, users


def _cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url.replace("+asyncpg", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _key(runtime, user_id: str, *, admin: bool = False) -> tuple[int, str]:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        row, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
    return row.id, secret


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_cli_list_revoke_takes_effect_in_a_running_gateway(
    runtime, client: AsyncClient, database_url: str
) -> None:
    saved = runtime.extras.get("api_key_cache")
    runtime.extras["api_key_cache"] = ApiKeyCache(ttl=1.0)  # the gateway remembers keys 1 s
    try:
        await _revoke_from_another_process(runtime, client, database_url)
    finally:
        runtime.extras["api_key_cache"] = saved


async def _revoke_from_another_process(runtime, client: AsyncClient, database_url: str) -> None:
    key_id, secret = await _key(runtime, "api:kim")
    assert (await client.get("/api/proactive/settings", headers=_bearer(secret))).status_code == 200

    listed = _cli(database_url, "keys", "list", "--user", "api:kim", "--json")
    assert listed.returncode == 0, listed.stderr
    views = json.loads(listed.stdout)
    assert [v["id"] for v in views] == [key_id]
    assert views[0]["last_used_at"] is not None and views[0]["admin"] is False
    assert secret not in listed.stdout and secret[:12] not in listed.stdout

    revoked = _cli(database_url, "keys", "revoke", str(key_id))
    assert revoked.returncode == 0, revoked.stderr
    # The gateway (this process) remembered the key for its cache's lifetime (1 s here,
    # API_KEY_CACHE_SECONDS): once that has passed, the revocation holds here too.
    await asyncio.sleep(1.1)
    answer = await client.get("/api/proactive/settings", headers=_bearer(secret))
    assert answer.status_code == 401
    again = _cli(database_url, "keys", "revoke", str(key_id))
    assert again.returncode == 1 and "not found" in again.stderr
    status = json.loads(_cli(database_url, "keys", "list", "--user", "api:kim", "--json").stdout)
    assert status[0]["status"] == "revoked"


async def test_admin_api_rotates_with_a_grace_period(runtime, client: AsyncClient) -> None:
    _, admin = await _key(runtime, "api:root", admin=True)
    made = await client.post("/api/admin/keys", json={"user_id": "api:lee"}, headers=_bearer(admin))
    assert made.status_code == 201, made.text
    old_id, old = made.json()["id"], made.json()["secret"]

    rotated = await client.post(
        f"/api/admin/keys/{old_id}/rotate", json={"grace_seconds": 3600}, headers=_bearer(admin)
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["secret"]
    for secret in (old, new):  # both work during the grace period
        assert (
            await client.get("/api/proactive/settings", headers=_bearer(secret))
        ).status_code == 200

    listing = await client.get(
        "/api/admin/keys", params={"user_id": "api:lee"}, headers=_bearer(admin)
    )
    by_id = {k["id"]: k for k in listing.json()}
    assert (
        by_id[old_id]["status"] == "expiring" and by_id[rotated.json()["id"]]["status"] == "active"
    )
    assert old not in listing.text and new not in listing.text

    # Rotating again with no grace ends the old key's life now.
    ended = await client.post(
        f"/api/admin/keys/{rotated.json()['id']}/rotate",
        json={"grace_seconds": 0},
        headers=_bearer(admin),
    )
    assert ended.status_code == 201
    assert (await client.get("/api/proactive/settings", headers=_bearer(new))).status_code == 401

    revoke = await client.post(f"/api/admin/keys/{old_id}/revoke", headers=_bearer(admin))
    assert revoke.status_code == 200 and revoke.json()["status"] == "revoked"
    assert (await client.get("/api/proactive/settings", headers=_bearer(old))).status_code == 401


async def test_key_routes_need_an_admin(runtime, client: AsyncClient) -> None:
    key_id, user = await _key(runtime, "api:eve")
    denied = await client.post(f"/api/admin/keys/{key_id}/revoke", headers=_bearer(user))
    assert denied.status_code == 403
    missing = await client.get("/api/admin/keys", headers=_bearer(user))
    assert missing.status_code in (403, 422)
    _, admin = await _key(runtime, "api:root", admin=True)
    unknown = await client.post("/api/admin/keys/999999/revoke", headers=_bearer(admin))
    assert unknown.status_code == 404 and "999999" in unknown.text


def test_token_issue_mints_a_jwt_with_the_ttl(database_url: str) -> None:
    secret = "s" * 40
    made = _cli(database_url, "token", "issue", "--user", "api:zoe", "--ttl", "2h",
                JWT_SECRET_KEY=secret)  # fmt: skip
    assert made.returncode == 0, made.stderr
    claims = pyjwt.decode(made.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "api:zoe" and claims["exp"] - claims["iat"] == 7200
    bad = _cli(database_url, "token", "issue", "--user", "api:zoe", "--ttl", "soon",
               JWT_SECRET_KEY=secret)  # fmt: skip
    assert bad.returncode == 2 and "duration" in bad.stderr
    unset = _cli(database_url, "token", "issue", "--user", "api:zoe")
    assert unset.returncode == 2 and "JWT_SECRET_KEY" in unset.stderr
