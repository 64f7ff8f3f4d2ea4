"""A small LoCoMo-format conversation written for this test, imported and searched over HTTP.

The questions are paraphrases: they share no topic word with the turn that answers
them, or the answer only makes sense with the turn before it ("Yes, twice…").
"""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from companion.bench.memory_quality import locomo_contexts, locomo_messages
from companion.store.repositories import api_keys, users

CONVERSATION: dict[str, Any] = {
    "speaker_a": "Maya",
    "speaker_b": "Noor",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [
        {"speaker": "Maya", "dia_id": "D1:1", "text": "Hey Noor! Long week at the bakery."},
        {"speaker": "Noor", "dia_id": "D1:2", "text": "Oh no, what happened?"},
        {
            "speaker": "Maya",
            "dia_id": "D1:3",
            "text": "Two ovens broke and we had a wedding order.",
        },
        {"speaker": "Noor", "dia_id": "D1:4", "text": "Have you ever been to Japan, by the way?"},
        {"speaker": "Maya", "dia_id": "D1:5", "text": "Yes, twice! The last time with my sister."},
        {"speaker": "Noor", "dia_id": "D1:6", "text": "Lucky you. I only know the food."},
        {"speaker": "Maya", "dia_id": "D1:7", "text": "The ramen there ruined every other ramen."},
        {"speaker": "Noor", "dia_id": "D1:8", "text": "Ha! I believe it."},
    ],
    "session_2_date_time": "10:02 am on 2 July, 2023",
    "session_2": [
        {"speaker": "Noor", "dia_id": "D2:1", "text": "How have you been keeping busy?"},
        {"speaker": "Maya", "dia_id": "D2:2", "text": "I started bouldering at the climbing gym."},
        {"speaker": "Noor", "dia_id": "D2:3", "text": "Wow, is it hard on the hands?"},
        {"speaker": "Maya", "dia_id": "D2:4", "text": "Very, my fingers are full of blisters."},
        {"speaker": "Noor", "dia_id": "D2:5", "text": "I have been painting watercolours."},
        {"speaker": "Maya", "dia_id": "D2:6", "text": "Send me one, I want it for my kitchen."},
    ],
}


async def _admin(runtime: Any) -> dict[str, str]:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="locomo:admin")
        _, secret = await api_keys.create_api_key(session, user_id="locomo:admin", is_admin=True)
    return {"Authorization": f"Bearer {secret}"}


async def test_paraphrased_questions_find_their_evidence_turn(
    client: AsyncClient, runtime: Any
) -> None:
    headers = await _admin(runtime)
    messages = [
        {
            "external_id": m.external_id, "role": m.role, "speaker": m.speaker,
            "text": m.text, "timestamp": m.timestamp.isoformat(),
        }
        for m in locomo_messages(CONVERSATION)
    ]  # fmt: skip
    response = await client.post(
        "/api/memory/import",
        json={"user_id": "locomo:maya", "conversation_id": "locomo", "messages": messages},
        headers=headers,
    )
    assert response.status_code == 200, response.text

    async def top(question: str, k: int = 3) -> list[str]:
        found = await client.post(
            "/api/memory/search",
            json={"user_id": "locomo:maya", "query": question, "k": k},
            headers=headers,
        )
        assert found.status_code == 200, found.text
        return [i for r in found.json()["results"] for i in r["source_message_ids"]]

    # The answer needs the question before it: "twice" says nothing about Japan.
    assert "D1:5" in await top("How many times has Maya travelled to Japan?")
    # A paraphrase: no word of the question is in the answer.
    assert "D2:2" in await top("Which sport did Maya take up in the summer?")
    # The turn is returned itself, not its context.
    contents = await client.post(
        "/api/memory/search",
        json={"user_id": "locomo:maya", "query": "visits to Japan", "k": 5},
        headers=headers,
    )
    texts = [r["content"] for r in contents.json()["results"]]
    assert "Maya: Yes, twice! The last time with my sister." in texts


def test_context_baseline_text_has_date_and_previous_turn() -> None:
    contexts = locomo_contexts(CONVERSATION)
    assert contexts[4].startswith("1:56 pm on 8 May, 2023 Noor: Have you ever been to Japan")
    assert contexts[8].startswith("10:02 am on 2 July, 2023  Noor: How have you been")
