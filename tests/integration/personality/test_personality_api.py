"""/api/personality/*: own data, admin access, 404 for foreign ids, validation."""

from __future__ import annotations

from httpx import AsyncClient

from companion.store.repositories import api_keys, users


async def _key(runtime: object, user_id: str, *, admin: bool = False) -> dict[str, str]:
    async with runtime.db.transaction() as session:  # type: ignore[attr-defined]
        await users.ensure_user(session, user_id=user_id)
        _, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
    return {"Authorization": f"Bearer {secret}"}


async def test_user_reads_own_companion(client: AsyncClient, runtime: object) -> None:
    headers = await _key(runtime, "api:alice")
    current = await client.get("/api/personality/current/api:alice", headers=headers)
    assert current.status_code == 200
    body = current.json()
    assert body["preset"] == "curious_companion"
    assert body["emotion_label"] in {"exuberant", "relaxed", "neutral"}
    assert set(body["needs"]) == {"social", "intellectual", "creative", "rest", "validation"}
    for path in ("history", "quirks", "needs", "style"):
        response = await client.get(f"/api/personality/{path}/api:alice", headers=headers)
        assert response.status_code == 200, path
    history = (await client.get("/api/personality/history/api:alice", headers=headers)).json()
    assert len(history) == 1 and history[0]["is_current"]
    style = (await client.get("/api/personality/style/api:alice", headers=headers)).json()
    assert style[0]["version"] == 1 and style[0]["traits"]["warmth"] == 75


async def test_foreign_ids_are_404_and_admin_only_routes(
    client: AsyncClient, runtime: object
) -> None:
    alice = await _key(runtime, "api:alice")
    await _key(runtime, "api:bob")
    for path in ("current", "history", "quirks", "needs", "style"):
        response = await client.get(f"/api/personality/{path}/api:bob", headers=alice)
        assert response.status_code == 404, path
    assert (await client.get("/api/personality/current/api:bob")).status_code == 401
    put = await client.put(
        "/api/personality/preset/api:alice", headers=alice, json={"preset": "supportive_friend"}
    )
    assert put.status_code == 403


async def test_admin_sets_preset_and_tunes_traits(client: AsyncClient, runtime: object) -> None:
    admin = await _key(runtime, "api:root", admin=True)
    await _key(runtime, "api:carol")
    put = await client.put(
        "/api/personality/preset/api:carol", headers=admin, json={"preset": "supportive_friend"}
    )
    assert put.status_code == 200
    assert put.json()["big_five"]["agreeableness"] == 0.9
    history = (await client.get("/api/personality/history/api:carol", headers=admin)).json()
    assert [h["trigger_event"] for h in history] == ["admin_preset", "created"]
    assert [h["is_current"] for h in history] == [True, False]

    patch = await client.patch(
        "/api/personality/style/api:carol",
        headers=admin,
        json={"traits": {"humor": 40}, "reason": "keep it serious"},
    )
    assert patch.status_code == 200
    assert patch.json()["diff"] == {"humor": {"from": 70, "to": 40}}
    assert patch.json()["version"] == 2


async def test_bad_admin_input_is_422_naming_the_problem(
    client: AsyncClient, runtime: object
) -> None:
    admin = await _key(runtime, "api:root", admin=True)
    await _key(runtime, "api:dan")
    cases = [
        ("put", "preset", {"preset": "grumpy"}, "grumpy"),
        ("put", "preset", {"preset": "curious_companion", "big_five": {}}, "exactly one"),
        ("patch", "style", {"traits": {"humor": 99}}, "between 20 and 95"),
        ("patch", "style", {"traits": {"empathy": 50}}, "immutable"),
        ("patch", "style", {"traits": {"charm": 50}}, "charm"),
    ]
    for method, path, body, needle in cases:
        response = await client.request(
            method.upper(), f"/api/personality/{path}/api:dan", headers=admin, json=body
        )
        assert 400 <= response.status_code < 500, body
        assert needle in response.text, response.text
    history = (await client.get("/api/personality/style/api:dan", headers=admin)).json()
    assert len(history) == 1  # nothing half-written


async def test_admin_reading_unknown_user_is_404(client: AsyncClient, runtime: object) -> None:
    admin = await _key(runtime, "api:root", admin=True)
    response = await client.get("/api/personality/current/api:nobody", headers=admin)
    assert response.status_code == 404
