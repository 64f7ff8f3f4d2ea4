"""The chat page is served, signs in with a form, and streams from the chat API."""

from __future__ import annotations

from httpx import AsyncClient


async def test_root_redirects_to_chat(client: AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/chat"


async def test_chat_page_signs_in_with_a_form_and_streams(client: AsyncClient) -> None:
    response = await client.get("/chat")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/chat/login">' in response.text
    script = (await client.get("/static/chat.js")).text
    assert 'fetch("/api/chat/stream"' in script and "X-CSRF-Token" in script
    assert "localStorage" not in script
    assert "escapeHtml" in script  # Markdown is rendered from escaped text


async def test_pages_not_in_openapi(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    # POST /chat is the service API's streaming route; the page is GET and stays out of the spec.
    assert "get" not in spec["paths"].get("/chat", {})
    assert not any(path.startswith(("/admin", "/me/")) for path in spec["paths"])


async def test_chat_page_says_the_builtin_model_is_small(client: AsyncClient, runtime) -> None:
    from companion.store.repositories import api_keys, users

    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="small-model-reader")
        _, secret = await api_keys.create_api_key(session, user_id="small-model-reader")
    assert (await client.post("/chat/login", data={"api_key": secret})).status_code == 303
    page = (await client.get("/chat")).text
    # The test runtime has no provider configured: the embedded model answers.
    assert 'id="model-note"' in page and "is small" in page
    assert "CHAT_PROVIDERS=ollama" in page and "CHAT_PROVIDERS=lmstudio" in page
