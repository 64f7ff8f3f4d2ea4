"""/api/memory/*: the import and search contracts, all-or-nothing, isolation, export."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from companion.store.repositories import api_keys, users


async def _key(runtime: Any, user_id: str, *, admin: bool = False) -> dict[str, str]:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        _, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
    return {"Authorization": f"Bearer {secret}"}


def _messages(*texts: str, day: int = 8) -> list[dict[str, str]]:
    return [
        {
            "external_id": f"m{i}",
            "role": "user" if i % 2 == 0 else "assistant",
            "speaker": "Maya" if i % 2 == 0 else "Companion",
            "text": text,
            "timestamp": f"2023-05-{day:02d}T10:{i:02d}:00Z",
        }
        for i, text in enumerate(texts)
    ]


async def test_import_then_search_contract(client: AsyncClient, runtime: Any) -> None:
    headers = await _key(runtime, "api:maya")
    body = {
        "user_id": "api:maya",
        "conversation_id": "history-1",
        "messages": _messages(
            "I got a new puppy today!",
            "Congratulations! What is he like?",
            "His name is Sparky and he loves the beach.",
            "That sounds lovely.",
            "I work at Google as a data analyst.",
        ),
    }
    imported = await client.post("/api/memory/import", json=body, headers=headers)
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 5
    assert imported.json()["memories_created"] >= 6  # 5 episodic + facts
    found = await client.post(
        "/api/memory/search",
        json={"user_id": "api:maya", "query": "puppy", "k": 5},
        headers=headers,
    )
    assert found.status_code == 200
    results = found.json()["results"]
    assert set(results[0]) == {
        "id", "content", "memory_type", "score", "source_message_ids", "valid_from", "invalid_at"
    }  # fmt: skip
    # The puppy's name is found from "puppy".
    sparky = [r for r in results if "Sparky" in r["content"]]
    assert sparky and any("m2" in r["source_message_ids"] for r in sparky)
    for bad in ({"query": "", "k": 5}, {"query": "x", "k": 0}, {"query": "x", "k": 51}):
        response = await client.post("/api/memory/search", json=bad, headers=headers)
        assert response.status_code == 422, bad


async def test_import_is_all_or_nothing(client: AsyncClient, runtime: Any) -> None:
    headers = await _key(runtime, "api:maya")
    messages = _messages("I live in Lisbon.", "Nice.", "My cat is named Olive.")
    messages[2]["timestamp"] = "not a date"
    response = await client.post(
        "/api/memory/import",
        json={"conversation_id": "c", "messages": messages},
        headers=headers,
    )
    assert response.status_code == 422
    assert "messages.2.timestamp" in response.json()["detail"]
    page = (await client.get("/api/memory", headers=headers)).json()
    assert page["total"] == 0


async def test_large_import_in_one_request(client: AsyncClient, runtime: Any) -> None:
    headers = await _key(runtime, "api:bulk")
    messages = [
        {
            "external_id": f"b{i}", "role": "user", "speaker": "Bo",
            "text": f"I adopted a dog named Rex{i}." if i % 20 == 0 else f"Note {i}, lake {i}.",
            "timestamp": f"2023-06-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        }
        for i in range(1500)
    ]  # fmt: skip
    response = await client.post(
        "/api/memory/import",
        json={"conversation_id": "bulk", "messages": messages},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1500


async def test_users_are_isolated(client: AsyncClient, runtime: Any) -> None:
    maya, tom = await _key(runtime, "api:maya"), await _key(runtime, "api:tom")
    admin = await _key(runtime, "api:admin", admin=True)
    await client.post(
        "/api/memory/import",
        json={"conversation_id": "c", "messages": _messages("My favorite color is teal.")},
        headers=maya,
    )
    query = {"query": "favorite color", "k": 5}
    own = await client.post("/api/memory/search", json=query, headers=tom)
    assert own.json()["results"] == []
    foreign = await client.post(
        "/api/memory/search", json={"user_id": "api:maya", "query": "color", "k": 5}, headers=tom
    )
    assert foreign.status_code == 404
    as_admin = await client.post(
        "/api/memory/search", json={"user_id": "api:maya", "query": "color", "k": 5}, headers=admin
    )
    assert any("teal" in r["content"] for r in as_admin.json()["results"])
    memory_id = as_admin.json()["results"][0]["id"]
    assert (await client.get(f"/api/memory/{memory_id}", headers=tom)).status_code == 404
    assert (await client.delete(f"/api/memory/{memory_id}", headers=tom)).status_code == 404


async def test_export_has_everything_of_the_user_and_nothing_else(
    client: AsyncClient, runtime: Any
) -> None:
    maya, tom = await _key(runtime, "api:maya"), await _key(runtime, "api:tom")
    for headers, text in ((maya, "I live in Lisbon."), (tom, "I live in Oslo.")):
        await client.post(
            "/api/memory/import",
            json={"conversation_id": "c", "messages": _messages(text)},
            headers=headers,
        )
    exported = (await client.get("/api/memory/export", headers=maya)).json()
    dump = str(exported)
    assert "Lisbon" in dump and "Oslo" not in dump and "api:tom" not in dump
    tables = exported["tables"]
    for name in ("messages", "memories", "conversations", "api_keys"):
        assert tables[name], name
    assert all("hash" not in column for column in tables["api_keys"][0])
    assert all("embedding" not in row for row in tables["memories"])


async def test_documents_are_retrievable(client: AsyncClient, runtime: Any) -> None:
    headers = await _key(runtime, "api:maya")
    text = "# Garden notes\n\nThe tomatoes need watering every second day.\n\n" + (
        "Basil grows best in full sun. " * 60
    )
    uploaded = await client.post(
        "/api/memory/documents",
        files={"file": ("garden.md", text.encode(), "text/markdown")},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["chunk_count"] >= 2
    found = await client.post(
        "/api/memory/search", json={"query": "how often to water tomatoes", "k": 3}, headers=headers
    )
    assert found.json()["results"][0]["memory_type"] == "document"
    assert "tomatoes" in found.json()["results"][0]["content"]
