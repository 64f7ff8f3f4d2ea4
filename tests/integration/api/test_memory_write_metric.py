"""A failed memory write counts as a failure in /metrics, not as a success."""

from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import text
from tests.integration.api.conftest import Gateway

from companion.conversation.types import TurnRequest


def _count(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "companion_memory_operations_total", {"op": "remember", "outcome": outcome}
    )
    return value or 0.0


async def test_a_failed_memory_write_is_counted_as_an_error(gateway: Gateway) -> None:
    await gateway.service.turn(TurnRequest(user_id="mo", text="I like plums."))
    await gateway.service.drain()
    ok, error = _count("ok"), _count("error")
    async with gateway.runtime.db.engine.begin() as conn:
        await conn.execute(
            text(
                "ALTER TABLE memories ADD CONSTRAINT ck_test_fault "
                "CHECK (content NOT LIKE '%unrememberable%') NOT VALID"
            )
        )
    try:
        result = await gateway.service.turn(TurnRequest(user_id="mo", text="I am unrememberable."))
        await gateway.service.drain()
    finally:
        async with gateway.runtime.db.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE memories DROP CONSTRAINT ck_test_fault"))
    assert result.reply  # the reply itself is unaffected
    assert _count("error") == error + 1
    assert _count("ok") == ok
