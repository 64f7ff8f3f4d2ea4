"""``/api/companions`` and card imports: several companions per person, one active.

Each companion keeps its own mood history and style; importing a card adds one and
switches to it; bad input is a 4xx naming the problem with nothing written; export
and account deletion cover every companion.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from tests.integration.api.conftest import Gateway

from companion.conversation.types import TurnRequest
from companion.personality.cards import export_png, parse_card

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Aria",
        "description": "{{char}} keeps a lighthouse.",
        "personality": "shy, kind, curious",
        "first_mes": "Oh! A visitor?",
    },
}


def _png(name: str = "Aria") -> bytes:
    card = json.loads(json.dumps(CARD))
    card["data"]["name"] = name
    return export_png(parse_card(json.dumps(card).encode()), 2)


async def _rows(gateway: Gateway, sql: str, user: str) -> list[tuple[object, ...]]:
    async with gateway.runtime.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), {"u": user})).all()]


async def _import(gateway: Gateway, headers: dict[str, str], name: str, **form: str) -> dict:  # type: ignore[type-arg]
    response = await gateway.client.post(
        "/api/persona/import",
        headers=headers,
        files={"file": (f"{name}.png", _png(name), "image/png")},
        data=form,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def test_import_adds_a_companion_and_switching_keeps_each_ones_state(
    gateway: Gateway,
) -> None:
    user = f"multi-{uuid.uuid4().hex[:8]}"
    headers = await gateway.key(user)
    # The first contact creates the default companion; a turn moves its mood.
    await gateway.service.turn(TurnRequest(user_id=user, text="I got the job, I'm so happy!"))
    first = (await gateway.client.get("/api/companions", headers=headers)).json()
    assert len(first["items"]) == 1 and first["items"][0]["name"] == "Companion"
    default_id = first["active_id"]
    default_history = (
        await gateway.client.get(f"/api/personality/history/{user}", headers=headers)
    ).json()
    assert [h["trigger_event"] for h in default_history] == ["turn", "created"]

    imported = await _import(gateway, headers, "Aria")
    assert imported["name"] == "Aria" and imported["companion"]["id"] != default_id
    current = (await gateway.client.get(f"/api/personality/current/{user}", headers=headers)).json()
    assert current["name"] == "Aria" and current["companion_id"] == imported["companion"]["id"]
    # Aria's history is her own: created at import, not the default companion's turns.
    aria_history = (
        await gateway.client.get(f"/api/personality/history/{user}", headers=headers)
    ).json()
    assert [h["trigger_event"] for h in aria_history] == ["created"]

    listed = (await gateway.client.get("/api/companions", headers=headers)).json()
    assert [(c["name"], c["active"]) for c in listed["items"]] == [
        ("Companion", False),
        ("Aria", True),
    ]

    # Switching back: the default companion's mood history is exactly as it was.
    switched = await gateway.client.post(f"/api/companions/{default_id}/activate", headers=headers)
    assert switched.status_code == 200 and switched.json()["active"] is True
    again = (await gateway.client.get(f"/api/personality/history/{user}", headers=headers)).json()
    assert [h["id"] for h in again] == [h["id"] for h in default_history]
    name = (await gateway.client.get(f"/api/personality/current/{user}", headers=headers)).json()
    assert name["name"] == "Companion"
    # Exactly one active companion, whatever was switched.
    active = await _rows(
        gateway, "SELECT count(*) FROM companions WHERE user_id = :u AND is_active", user
    )
    assert active == [(1,)]


async def test_the_turn_uses_the_active_companion(gateway: Gateway) -> None:
    user = f"turn-{uuid.uuid4().hex[:8]}"
    headers = await gateway.key(user)
    aria = await _import(gateway, headers, "Aria")
    await _import(gateway, headers, "Bram")
    await gateway.service.turn(TurnRequest(user_id=user, text="Hello there"))
    assert "Bram" in gateway.chat.requests[-1].messages[0].content
    await gateway.client.post(
        f"/api/companions/{aria['companion']['id']}/activate", headers=headers
    )
    await gateway.service.turn(TurnRequest(user_id=user, text="Hello again"))
    system = gateway.chat.requests[-1].messages[0].content
    assert "Aria" in system and "Bram" not in system
    # Each turn's mood went to the companion that answered it.
    turns = await _rows(
        gateway,
        "SELECT c.name, count(*) FROM personality_state ps JOIN companions c "
        "ON c.id = ps.companion_id WHERE ps.user_id = :u AND ps.trigger_event = 'turn' "
        "GROUP BY c.name ORDER BY c.name",
        user,
    )
    assert turns == [("Aria", 1), ("Bram", 1)]


async def test_rename_private_export_and_delete(gateway: Gateway) -> None:
    user = f"edit-{uuid.uuid4().hex[:8]}"
    headers = await gateway.key(user)
    aria = (await _import(gateway, headers, "Aria"))["companion"]["id"]
    bram = (await _import(gateway, headers, "Bram"))["companion"]["id"]

    renamed = await gateway.client.patch(
        f"/api/companions/{aria}", headers=headers, json={"name": "  Aria  Light ", "private": True}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Aria Light" and renamed.json()["private"] is True

    # Export a given companion, not only the active one (Bram).
    card = await gateway.client.get(
        f"/api/persona/export?format=v3&companion_id={aria}", headers=headers
    )
    assert card.status_code == 200 and card.json()["data"]["name"] == "Aria"
    active_card = await gateway.client.get("/api/persona/export?format=v2", headers=headers)
    assert active_card.json()["data"]["name"] == "Bram"

    # Deleting the active companion removes its own rows and activates another.
    gone = await gateway.client.delete(f"/api/companions/{bram}", headers=headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["active"]["id"] == aria
    left = await _rows(
        gateway,
        "SELECT (SELECT count(*) FROM personality_state WHERE companion_id = :b), "
        "(SELECT count(*) FROM needs WHERE companion_id = :b), "
        "(SELECT count(*) FROM style_trait_versions WHERE companion_id = :b)".replace(
            ":b", str(bram)
        ),
        user,
    )
    assert left == [(0, 0, 0)]
    # The last companion cannot be deleted.
    last = await gateway.client.delete(f"/api/companions/{aria}", headers=headers)
    assert last.status_code == 422 and "only companion" in last.json()["detail"]
    assert await _rows(gateway, "SELECT count(*) FROM companions WHERE user_id = :u", user) == [
        (1,)
    ]


async def test_bad_input_names_the_problem_and_writes_nothing(gateway: Gateway) -> None:
    user = f"bad-{uuid.uuid4().hex[:8]}"
    other = f"other-{uuid.uuid4().hex[:8]}"
    headers = await gateway.key(user)
    other_headers = await gateway.key(other)
    mine = (await _import(gateway, headers, "Aria"))["companion"]["id"]
    theirs = (await _import(gateway, other_headers, "Bram"))["companion"]["id"]
    before = await _rows(
        gateway, "SELECT id, name, is_active FROM companions WHERE user_id = :u", user
    )

    broken = await gateway.client.post(
        "/api/persona/import",
        headers=headers,
        files={"file": ("x.png", b"\x89PNG\r\n\x1a\nnope", "image/png")},
    )
    assert 400 <= broken.status_code < 500
    # Someone else's companion does not exist for me: not switchable, not renameable.
    foreign = await gateway.client.post(f"/api/companions/{theirs}/activate", headers=headers)
    assert foreign.status_code == 404
    rename = await gateway.client.patch(
        f"/api/companions/{theirs}", headers=headers, json={"name": "x"}
    )
    assert rename.status_code == 404
    blank = await gateway.client.patch(
        f"/api/companions/{mine}", headers=headers, json={"name": "   "}
    )
    assert blank.status_code == 422 and "name" in blank.text
    nothing = await gateway.client.patch(f"/api/companions/{mine}", headers=headers, json={})
    assert nothing.status_code == 422 and "name" in nothing.json()["detail"]
    preset = await gateway.client.post(
        "/api/companions", headers=headers, json={"name": "Cleo", "preset": "grumpy"}
    )
    assert preset.status_code == 422 and "preset" in preset.json()["detail"]
    # A non-admin cannot act for someone else.
    hidden = await gateway.client.get(f"/api/companions?user_id={other}", headers=headers)
    assert hidden.status_code == 404

    after = await _rows(
        gateway, "SELECT id, name, is_active FROM companions WHERE user_id = :u", user
    )
    assert after == before
    bram = await _rows(gateway, "SELECT name, is_active FROM companions WHERE user_id = :u", other)
    assert bram == [("Bram", True)]


async def test_admin_imports_for_a_user_and_export_and_deletion_cover_every_companion(
    gateway: Gateway,
) -> None:
    user = f"acct-{uuid.uuid4().hex[:8]}"
    admin = await gateway.key(f"admin-{uuid.uuid4().hex[:8]}", admin=True)
    headers = await gateway.key(user)
    await _import(gateway, admin, "Aria", user_id=user)
    created = await gateway.client.post(
        "/api/companions", headers=headers, json={"name": "Cleo", "preset": "supportive_friend"}
    )
    assert created.status_code == 201 and created.json()["active"] is True
    listed = (await gateway.client.get(f"/api/companions?user_id={user}", headers=admin)).json()
    assert [c["name"] for c in listed["items"]] == ["Aria", "Cleo"]

    exported = (await gateway.client.get("/api/memory/export", headers=headers)).json()
    assert sorted(c["name"] for c in exported["tables"]["companions"]) == ["Aria", "Cleo"]
    states = exported["tables"]["personality_state"]
    assert len({s["companion_id"] for s in states}) == 2

    deleted = await gateway.client.delete(f"/api/users/{user}", headers=admin)
    assert deleted.status_code == 200, deleted.text
    for table in ("companions", "personality_state", "needs", "style_trait_versions"):
        assert await _rows(gateway, f"SELECT count(*) FROM {table} WHERE user_id = :u", user) == [
            (0,)
        ], table
