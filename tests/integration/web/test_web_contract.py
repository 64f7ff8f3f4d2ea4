"""The web app's HTTP contract: admin sign-in, sessions, CSRF, and what pages show.

In-process over ASGI with the real runtime (database, memory, personality); the
browser tests in ``test_browser.py`` drive the same pages in Chromium.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient

from companion.memory import ImportMessage
from companion.store.repositories import api_keys, users


async def _key(runtime: Any, user_id: str, *, admin: bool = False) -> str:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        _, secret = await api_keys.create_api_key(session, user_id=user_id, is_admin=admin)
    return secret


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "page has no CSRF token"
    return found.group(1)


async def _admin(client: AsyncClient, runtime: Any) -> str:
    secret = await _key(runtime, "root", admin=True)
    response = await client.post("/admin/login", data={"api_key": secret})
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    return _csrf((await client.get("/admin")).text)


async def test_admin_needs_a_session(client: AsyncClient) -> None:
    for path in ("/admin", "/admin/users", "/admin/jobs", "/admin/personality/x"):
        response = await client.get(path)
        assert response.status_code in (303, 401), path
        if response.status_code == 303:
            assert response.headers["location"] == "/admin/login"
    page = await client.get("/admin/login")
    assert page.status_code == 200 and 'name="api_key"' in page.text


async def test_admin_login_sets_a_strict_httponly_cookie(client: AsyncClient, runtime: Any) -> None:
    secret = await _key(runtime, "root", admin=True)
    response = await client.post("/admin/login", data={"api_key": secret})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("companion_admin=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Max-Age=3600" in cookie
    assert "Secure" not in cookie  # plain HTTP here; Secure is set behind TLS
    assert secret not in cookie
    overview = await client.get("/admin")
    assert overview.status_code == 200 and "Overview" in overview.text
    assert 'data-stat="users">2<' not in overview.text  # one user: root
    assert 'data-stat="users">1<' in overview.text


async def test_secure_cookie_behind_tls(client: AsyncClient, runtime: Any) -> None:
    secret = await _key(runtime, "root", admin=True)
    response = await client.post(
        "/admin/login", data={"api_key": secret}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in response.headers["set-cookie"]


async def test_user_key_is_refused_and_gets_no_session(client: AsyncClient, runtime: Any) -> None:
    secret = await _key(runtime, "alice")
    response = await client.post("/admin/login", data={"api_key": secret})
    assert response.status_code == 403
    assert "not an admin key" in response.text
    assert "companion_admin" not in response.headers.get("set-cookie", "")
    assert (await client.get("/admin")).status_code in (303, 401)
    unknown = await client.post("/admin/login", data={"api_key": "ck_" + "x" * 40})
    assert unknown.status_code == 401


async def test_login_from_another_site_is_refused(client: AsyncClient, runtime: Any) -> None:
    secret = await _key(runtime, "root", admin=True)
    response = await client.post(
        "/admin/login", data={"api_key": secret}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_forms_need_the_csrf_token_and_logout_ends_the_session(
    client: AsyncClient, runtime: Any
) -> None:
    csrf = await _admin(client, runtime)
    refused = await client.post("/admin/jobs/recency_decay/run", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    ran = await client.post("/admin/jobs/recency_decay/run", data={"csrf_token": csrf})
    assert ran.status_code == 303
    page = (await client.get("/admin/jobs")).text
    assert "recency_decay: succeeded" in page
    out = await client.post("/admin/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert (await client.get("/admin")).status_code in (303, 401)


async def test_revoked_key_ends_the_session(client: AsyncClient, runtime: Any) -> None:
    await _admin(client, runtime)
    async with runtime.db.transaction() as session:
        (key,) = await api_keys.list_api_keys(session, user_id="root")
        await api_keys.revoke_api_key(session, user_id="root", key_id=key.id)
    assert (await client.get("/admin")).status_code in (303, 401)


async def test_personality_page_has_svg_charts_with_points(
    client: AsyncClient, runtime: Any
) -> None:
    await _key(runtime, "alice")
    csrf = await _admin(client, runtime)
    tuned = await client.post(
        "/admin/personality/alice/tune",
        data={"csrf_token": csrf, "warmth": "90", "reason": "warmer for a test"},
    )
    assert tuned.status_code == 303
    page = await client.get("/admin/personality/alice")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") >= 4
    pad = html[html.index('id="pad-chart"') : html.index('id="style-chart"')]
    assert "<svg" in pad and 'class="point"' in pad and "pleasure baseline" in pad
    style = html[html.index('id="style-chart"') :]
    assert style.count('class="point"') >= 10  # five traits x two versions
    assert "warmer for a test" in html and "warmth 75→90" in html.replace(" ", " ")
    bad = await client.post(
        "/admin/personality/alice/tune", data={"csrf_token": csrf, "warmth": "99", "reason": "x"}
    )
    assert bad.status_code == 303
    assert "between 20 and 95" in (await client.get("/admin/personality/alice")).text


async def test_admin_memories_lists_the_users_memories(client: AsyncClient, runtime: Any) -> None:
    await _key(runtime, "alice")
    await runtime.memory.import_history(
        user_id="alice",
        conversation="c1",
        messages=[
            ImportMessage(
                "m1", "user", "Alice", "I work at Google.", datetime(2026, 1, 2, tzinfo=UTC)
            )
        ],
    )
    await _key(runtime, "bob")
    await runtime.memory.import_history(
        user_id="bob",
        conversation="c2",
        messages=[
            ImportMessage(
                "m2", "user", "Bob", "I live in Lisbon.", datetime(2026, 1, 2, tzinfo=UTC)
            )
        ],
    )
    await _admin(client, runtime)
    page = await client.get("/admin/memories", params={"user_id": "alice"})
    assert page.status_code == 200
    assert "Alice works at Google" in page.text and "Lisbon" not in page.text
    assert "No conflicts." in page.text
    await runtime.memory.import_history(
        user_id="alice",
        conversation="c1",
        messages=[
            ImportMessage(
                "m3", "user", "Alice", "I work at Spotify now.", datetime(2026, 2, 2, tzinfo=UTC)
            )
        ],
    )
    page = await client.get("/admin/memories", params={"user_id": "alice", "superseded": "true"})
    conflicts = page.text[page.text.index('id="conflicts"') :]
    assert "temporal_precedence" in conflicts
    found = await client.get("/admin/memories", params={"user_id": "alice", "q": "job employer"})
    assert "Alice works at Spotify" in found.text
    spotify = re.search(
        r'id="m-([0-9a-f-]+)"[^>]*>\s*<div class="content">Alice works at Spotify', page.text
    )
    assert spotify
    csrf = _csrf(page.text)
    edited = await client.post(
        f"/admin/memories/{spotify.group(1)}/correct",
        data={
            "csrf_token": csrf,
            "user_id": "alice",
            "content": "Alice works at Spotify in Stockholm",
        },
    )
    assert (
        edited.status_code == 303 and edited.headers["location"] == "/admin/memories?user_id=alice"
    )
    page = await client.get("/admin/memories", params={"user_id": "alice"})
    assert "Alice works at Spotify in Stockholm" in page.text and "Corrected" in page.text
    missing = await client.get("/admin/memories", params={"user_id": "nobody"})
    assert missing.status_code == 404


async def test_jobs_api_lists_the_schedule_on_a_fresh_install(
    client: AsyncClient, runtime: Any
) -> None:
    secret = await _key(runtime, "root", admin=True)
    jobs = (
        await client.get("/api/admin/jobs", headers={"Authorization": f"Bearer {secret}"})
    ).json()
    names = {j["job_name"] for j in jobs}
    assert {"reflection", "needs", "proactive_check", "retention_cleanup"} <= names
    assert all(j["next_run"] and j["status"] == "never run" for j in jobs)


async def test_chat_session_cookie_works_on_the_api_with_csrf(
    client: AsyncClient, runtime: Any
) -> None:
    secret = await _key(runtime, "alice")
    assert "Sign in" in (await client.get("/chat")).text
    signed = await client.post("/chat/login", data={"api_key": secret})
    assert signed.status_code == 303
    assert "HttpOnly" in signed.headers["set-cookie"]
    page = (await client.get("/chat")).text
    assert "mood:" in page and secret not in page and "localStorage" not in page
    csrf = _csrf(page)
    # The session authenticates API reads; writes need the CSRF header.
    assert (await client.get("/api/proactive/settings")).status_code == 200
    no_header = await client.patch("/api/proactive/settings", json={"enabled": False})
    assert no_header.status_code == 403
    with_header = await client.patch(
        "/api/proactive/settings", json={"enabled": False}, headers={"X-CSRF-Token": csrf}
    )
    assert with_header.status_code == 200 and with_header.json()["enabled"] is False
    # The chat session never carries admin rights, and never opens the dashboard.
    assert (await client.get("/admin")).status_code in (303, 401)
    settings = await client.post(
        "/me/settings",
        data={"csrf_token": csrf, "name": "Robin", "preset": "", "quiet_hours": "23-07",
              "timezone": "Nowhere/City", "proactive": "on"},
    )  # fmt: skip
    assert settings.status_code == 303
    shown = (await client.get("/me/settings")).text
    assert "Not saved" in shown and "timezone" in shown.lower()
    assert 'value="Robin"' in shown


async def test_static_files_and_no_directory_access(client: AsyncClient) -> None:
    css = await client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/..%2Froutes.py")).status_code == 404
    assert (await client.get("/static/routes.py")).status_code == 404


async def test_settings_page_shows_and_switches_the_active_companion(
    client: AsyncClient, runtime: Any
) -> None:
    from companion.personality.companions import list_companions, new_companion

    secret = await _key(runtime, "carol")
    await client.post("/chat/login", data={"api_key": secret})
    csrf = _csrf((await client.get("/chat")).text)
    # One companion: no switch form.
    assert 'action="/me/companion"' not in (await client.get("/me/settings")).text
    nova = await new_companion(
        runtime.personality, user_id="carol", name="Nova", preset="supportive_friend"
    )
    page = (await client.get("/me/settings")).text
    assert 'action="/me/companion"' in page
    assert f'<option value="{nova["id"]}" selected>Nova</option>' in page
    first = next(
        c
        for c in await list_companions(runtime.personality, user_id="carol")
        if c["id"] != nova["id"]
    )

    # Without the CSRF token nothing switches; with it, the first companion is back.
    refused = await client.post("/me/companion", data={"companion": str(first["id"])})
    assert refused.status_code == 403
    switched = await client.post(
        "/me/companion", data={"csrf_token": csrf, "companion": str(first["id"])}
    )
    assert switched.status_code == 303
    shown = (await client.get("/me/settings")).text
    assert f"You're now talking with {first['name']}." in shown.replace("&#39;", "'")
    assert f'value="{first["name"]}"' in shown  # the name field is the active one's
    # Someone else's (or no) companion: a message, and nothing changes.
    await client.post("/me/companion", data={"csrf_token": csrf, "companion": "999999"})
    assert "Not switched" in (await client.get("/me/settings")).text
    active = [
        c["name"]
        for c in await list_companions(runtime.personality, user_id="carol")
        if c["active"]
    ]
    assert active == [first["name"]]
