"""The inner-thought step: model path with strict parsing, rule path as fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.fakes.conversation_ports import FakeChat

from companion.errors import ProviderUnavailable
from companion.proactive.core import ThoughtContext
from companion.proactive.thinking import think_and_write

NOW = datetime(2026, 11, 21, 18, tzinfo=UTC)
CTX = ThoughtContext(
    memories=["I have my driving test on Friday"], urgent_needs=["social"], score=0.7,
    trigger="need_urgency", hours_since_activity=30.0,
)  # fmt: skip
THOUGHT = {
    "content": "They have a driving test coming up; I want to wish them luck.",
    "emotional_assessment": "warm, a little excited",
    "user_state_analysis": "probably nervous",
    "response_strategy": "encourage briefly, ask how they feel",
    "proactive_impulse": 0.8,
}


async def test_capable_model_thinks_then_writes_from_the_thought() -> None:
    chat = FakeChat()
    chat.enqueue(json.dumps(THOUGHT), "Good luck on Friday! How are you feeling about it?")
    thought, message = await think_and_write(CTX, chat=chat, user_id="api:a", now=NOW)
    assert thought.source == "model" and thought.proactive_impulse == 0.8
    assert message.startswith("Good luck on Friday")
    assert chat.requests[0].json_schema is not None
    assert "driving test" in chat.requests[0].messages[-1].content
    assert "wish them luck" in chat.requests[1].messages[-1].content


async def test_bad_json_or_provider_failure_falls_back_to_rules() -> None:
    for answer in ("not json at all", ProviderUnavailable("down")):
        chat = FakeChat()
        chat.enqueue(answer)
        thought, message = await think_and_write(CTX, chat=chat, user_id="api:a", now=NOW)
        assert thought.source == "rules" and thought.thread == "event"
        assert "driving test" in message


async def test_incapable_model_is_not_called() -> None:
    chat = FakeChat()
    chat.capable = False  # type: ignore[misc]
    thought, _ = await think_and_write(CTX, chat=chat, user_id="api:a", now=NOW)
    assert thought.source == "rules" and chat.requests == []


async def test_the_active_companion_writes_under_its_own_name() -> None:
    from dataclasses import replace

    chat = FakeChat()
    chat.enqueue(json.dumps(THOUGHT), "Good luck on Friday!")
    await think_and_write(replace(CTX, name="Nova"), chat=chat, user_id="api:a", now=NOW)
    assert "You are Nova" in chat.requests[0].messages[-1].content
    assert "You are Nova" in chat.requests[1].messages[-1].content
