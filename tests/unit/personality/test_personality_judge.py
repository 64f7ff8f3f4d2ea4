"""The fast model's JSON path for style and quirks, and its fallback on bad output."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from companion.errors import ProviderUnavailable
from companion.llm.base import ChatRequest, Chunk, Completion, RoleModel
from companion.personality.core import DEFAULT_STYLE, Exchange
from companion.personality.judge import llm_patterns, llm_style


class FakeFast:
    """A ``RoleModel`` that answers with queued texts (or raises)."""

    role = "fast"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[ChatRequest] = []

    @property
    def capable(self) -> bool:
        return True

    async def complete(self, request: ChatRequest, *, user_id: str | None = None) -> Completion:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Completion(
            id="x", role="fast", text=answer, provider="fake", model="fake", latency_ms=1.0
        )

    async def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        yield await self.complete(request, user_id=user_id)


EXCHANGES = [Exchange("haha you're fun", "A joke", 20.0)] * 3


async def test_style_json_is_parsed_and_clamped() -> None:
    answer = {
        "warmth": 9,
        "curiosity": -2,
        "assertiveness": 0,
        "humor": 3.5,
        "emotional_depth": -7,
        "reasoning": "they laugh a lot",
        "empathy": 5,
    }
    fast = FakeFast(json.dumps(answer))
    assert isinstance(fast, RoleModel)
    result = await llm_style(fast, user_id="u", traits=dict(DEFAULT_STYLE), exchanges=EXCHANGES)
    assert result == (
        {
            "warmth": 5.0,
            "curiosity": -2.0,
            "assertiveness": 0.0,
            "humor": 3.5,
            "emotional_depth": -5.0,
        },
        "they laugh a lot",
    )
    assert fast.requests[0].json_schema is not None


async def test_style_falls_back_on_bad_output() -> None:
    for bad in (
        "not json",
        json.dumps({"warmth": "lots"}),
        json.dumps([1, 2]),
        ProviderUnavailable("down", provider="x"),
    ):
        assert (
            await llm_style(
                FakeFast(bad), user_id="u", traits=dict(DEFAULT_STYLE), exchanges=EXCHANGES
            )
            is None
        )


async def test_quirk_patterns_from_json() -> None:
    answer = {
        "quirks": [
            {
                "name": "calls user 'friend'",
                "category": "speech_pattern",
                "description": "d",
                "occurrences": 4,
                "confidence": 0.9,
            },
            {
                "name": "bogus",
                "category": "dance",
                "description": "d",
                "occurrences": 9,
                "confidence": 2,
            },
        ]
    }
    patterns = await llm_patterns(FakeFast(json.dumps(answer)), user_id="u", replies=["hi"])
    assert patterns is not None and [p.name for p in patterns] == ["calls user 'friend'"]
    assert await llm_patterns(FakeFast("{}"), user_id="u", replies=["hi"]) is None
