"""Tool specifications, strict argument validation and execution with a record.

A ``ToolSpec`` is a name, a description, a JSON schema for its arguments (objects of
strings, integers and booleans, with ``required``, ``enum``, bounds and no extra
keys) and an async handler. ``ToolRegistry.call`` validates, runs, times, screens
and records one call and returns a ``ToolOutput``: what the model is shown (JSON
text, capped) and a one-line summary of what was done.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from companion.tools.calls import TOOL_CALLS, CallRecorder, ToolCallRecord
from companion.tools.errors import ToolError

__all__ = ["Screen", "ToolContext", "ToolOutput", "ToolRegistry", "ToolSpec", "validate_arguments"]

log = logging.getLogger(__name__)

#: Returns True when a text reads like instructions aimed at the model (injection).
Screen = Callable[[str], Awaitable[bool]]
_WITHHELD = "[withheld: this tool output looked like instructions aimed at you, not data]"


@dataclass(frozen=True)
class ToolContext:
    """Who a call is for."""

    user_id: str
    timezone: str = "UTC"


Handler = Callable[[ToolContext, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    """One tool the model may call."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    #: A short past-tense phrase for the reply ("searched the web for 'x'").
    summary: Callable[[dict[str, Any]], str]

    def openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolOutput:
    """The result of one call, ready for the prompt."""

    tool: str
    arguments: dict[str, Any]
    outcome: str
    content: str
    summary: str
    duration_ms: float


_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "boolean": (bool,)}


def validate_arguments(schema: dict[str, Any], arguments: object) -> dict[str, Any]:
    """``arguments`` checked against ``schema`` (strict); ``ToolError`` names the problem."""
    if not isinstance(arguments, dict):
        raise ToolError("arguments: must be a JSON object")
    properties: dict[str, Any] = schema.get("properties", {})
    extra = sorted(set(arguments) - set(properties))
    if extra:
        raise ToolError(f"arguments: unknown field(s) {', '.join(extra)}")
    for name in schema.get("required", []):
        if name not in arguments:
            raise ToolError(f"arguments: {name} is required")
    for name, value in arguments.items():
        rule = properties[name]
        kinds = _TYPES[rule["type"]]
        if not isinstance(value, kinds) or (rule["type"] == "integer" and isinstance(value, bool)):
            raise ToolError(f"arguments: {name} must be a {rule['type']}")
        if "enum" in rule and value not in rule["enum"]:
            raise ToolError(f"arguments: {name} must be one of {', '.join(rule['enum'])}")
        if isinstance(value, str) and len(value) > rule.get("maxLength", 100_000):
            raise ToolError(f"arguments: {name} is longer than {rule['maxLength']} characters")
        if isinstance(value, int) and not isinstance(value, bool):
            if value < rule.get("minimum", value) or value > rule.get("maximum", value):
                raise ToolError(
                    f"arguments: {name} must be between {rule['minimum']} and {rule['maximum']}"
                )
    return dict(arguments)


class ToolRegistry:
    """The tools on offer, and the one way to call them."""

    def __init__(
        self,
        specs: Sequence[ToolSpec],
        *,
        recorder: CallRecorder | None,
        screen: Screen | None = None,
        timeout: float = 60.0,
        output_chars: int = 6000,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.recorder = recorder
        self.screen = screen
        self.timeout = timeout
        self.output_chars = output_chars

    def openai_tools(self) -> list[dict[str, Any]]:
        """Every tool in the OpenAI ``tools`` format."""
        return [spec.openai() for spec in self.specs.values()]

    async def call(
        self, ctx: ToolContext, name: str, arguments: object, *, mode: str = "native"
    ) -> ToolOutput:
        """Validate, run, screen and record one call; never raises for a tool's failure."""
        started = time.perf_counter()
        args: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
        outcome, error, summary = "ok", None, f"tried to use {name}"
        try:
            spec = self.specs.get(name)
            if spec is None:
                raise ToolError(f"there is no tool named {name!r}")
            args = validate_arguments(spec.parameters, _decoded(arguments))
            summary = spec.summary(args)
            result = await asyncio.wait_for(spec.handler(ctx, args), self.timeout)
            content = json.dumps(result, ensure_ascii=False, default=str)
            if not result.get("ok", True):
                outcome = "timeout" if result.get("timed_out") else "error"
        except ToolError as exc:
            outcome, error = exc.outcome, str(exc)
            content = json.dumps({"ok": False, "error": error})
        except TimeoutError:
            outcome, error = "timeout", f"the tool took longer than {self.timeout:g} s"
            content = json.dumps({"ok": False, "error": error})
        except Exception:
            log.exception("tool %s failed", name)
            outcome, error = "error", "the tool failed unexpectedly"
            content = json.dumps({"ok": False, "error": error})
        if len(content) > self.output_chars:
            content = content[: self.output_chars] + " …[cut]"
        if outcome == "ok" and self.screen is not None and await self._flagged(content):
            outcome, content = "flagged", json.dumps({"ok": False, "error": _WITHHELD})
        elapsed = (time.perf_counter() - started) * 1000
        TOOL_CALLS.labels(name if name in self.specs else "unknown", outcome).inc()
        if self.recorder is not None:
            await self.recorder.record(
                ToolCallRecord(
                    user_id=ctx.user_id,
                    tool=name[:50],
                    arguments=args,
                    outcome=outcome,
                    duration_ms=elapsed,
                    output_chars=len(content),
                    error=error,
                    mode=mode,
                )
            )
        return ToolOutput(name, args, outcome, content, summary, elapsed)

    async def _flagged(self, content: str) -> bool:
        assert self.screen is not None
        text = _readable(content)
        if not text.strip():  # numbers and flags only: nothing that could instruct
            return False
        try:
            return await self.screen(text)
        except Exception:
            log.exception("screening a tool output failed; withholding it")
            return True


def _readable(content: str) -> str:
    """The text a tool output carries: its JSON's string values, one per line.

    The detector judges what could be read as instructions; the envelope's keys,
    numbers and booleans cannot, and they swing its character n-gram score (a run's
    ``duration_ms`` alone moved a plain "5050" between 0.60 and 0.69).
    """
    try:
        value = json.loads(content)
    except ValueError:
        return content
    strings: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            for child in item.values():
                walk(child)
        elif isinstance(item, list):
            for child in item:
                walk(child)

    walk(value)
    return "\n".join(s for s in strings if s.strip())


def _decoded(arguments: object) -> object:
    """OpenAI sends arguments as a JSON string; the fallback as an object."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments or "{}")
        except ValueError:
            raise ToolError("arguments: not valid JSON") from None
    return arguments
