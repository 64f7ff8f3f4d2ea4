"""Structured output: ask for JSON, parse strictly with pydantic, one repair, else fail.

Every judgement task has a rule path (DECISIONS.md#rule-paths); this helper is the LLM path's
single entry point. Callers catch ``ProviderError`` (``StructuredOutputError`` is one)
and take their rule path::

    try:
        verdict = await complete_structured(models.fast, request, Verdict)
    except ProviderError:
        verdict = rules.judge(text)
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from companion.errors import StructuredOutputError
from companion.llm.base import ChatMessage, ChatRequest, RoleModel

__all__ = ["complete_structured", "parse_json_reply"]

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_reply(text: str, schema: type[T]) -> T:
    """Validate the JSON object in ``text`` against ``schema`` (pure; raises ValueError).

    Tolerates a Markdown code fence or prose around one object, nothing else: the
    object itself must be valid JSON and satisfy the schema (extra keys per the model).
    """
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    try:
        return schema.model_validate_json(body[start : end + 1])
    except ValidationError as exc:
        raise ValueError(_short(exc)) from exc


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "object"
    return f"{where}: {first['msg']}"


async def complete_structured(
    model: RoleModel,
    request: ChatRequest,
    schema: type[T],
    *,
    user_id: str | None = None,
    require_capable: bool = True,
) -> T:
    """Ask ``model`` for JSON matching ``schema``; one repair round on a bad reply.

    Args:
        model: the role model (usually ``models.fast``).
        request: the prompt; its ``json_schema`` is set from ``schema``.
        schema: the pydantic model the reply must validate against.
        user_id: recorded with the call.
        require_capable: refuse without calling when the chain's model is the weak
            embedded one, whose judgements are meaningless.

    Returns:
        The validated object.

    Raises:
        StructuredOutputError: not capable, or the reply (and its repair) did not parse.
        ProviderError: every provider failed.
    """
    if require_capable and not model.capable:
        raise StructuredOutputError("no capable model for structured output", provider="chain")
    json_schema = schema.model_json_schema()
    request = dataclasses.replace(request, json_schema=json_schema)
    first = await model.complete(request, user_id=user_id)
    try:
        return parse_json_reply(first.text, schema)
    except ValueError as problem:
        repair = dataclasses.replace(
            request,
            messages=[
                *request.messages,
                ChatMessage("assistant", first.text),
                ChatMessage("user", _repair_prompt(str(problem), json_schema)),
            ],
        )
    second = await model.complete(repair, user_id=user_id)
    try:
        return parse_json_reply(second.text, schema)
    except ValueError as exc:
        raise StructuredOutputError(
            f"reply is not valid {schema.__name__} JSON after one repair: {exc}",
            provider=second.provider,
        ) from exc


def _repair_prompt(problem: str, json_schema: dict[str, object]) -> str:
    return (
        f"That reply was not valid JSON for the schema ({problem}). Reply with only the "
        f"corrected JSON object, no prose. Schema: {json.dumps(json_schema)}"
    )
