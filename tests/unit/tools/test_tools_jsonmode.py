"""The constrained-JSON protocol's parser is strict; arguments are validated strictly."""

from __future__ import annotations

import pytest

from companion.tools.errors import ToolError
from companion.tools.jsonmode import parse_decision
from companion.tools.readable import readable_text
from companion.tools.registry import validate_arguments

NAMES = ["web_search", "run_python"]


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ('{"tool": "web_search", "arguments": {"query": "x"}}', "web_search"),
        ('```json\n{"tool": "none", "arguments": {}}\n```', "none"),
        ('  {"arguments": {"code": "print(1)"}, "tool": "run_python"} ', "run_python"),
    ],
)
def test_well_formed_decisions_parse(text: str, tool: str) -> None:
    decision = parse_decision(text, NAMES)
    assert decision is not None and decision.tool == tool


@pytest.mark.parametrize(
    "text",
    [
        "I think I should search the web.",
        '{"tool": "web_search"}',
        '{"tool": "rm_rf", "arguments": {}}',
        '{"tool": "web_search", "arguments": "query"}',
        '{"tool": "web_search", "arguments": {}, "extra": 1}',
        '[{"tool": "web_search", "arguments": {}}]',
        '{"tool": "web_search", "arguments": {}} and more',
        "",
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert parse_decision(text, NAMES) is None


SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "maxLength": 10},
        "open": {"type": "integer", "minimum": 1, "maximum": 5},
        "action": {"type": "string", "enum": ["a", "b"]},
    },
    "required": ["query"],
}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "JSON object"),
        ({}, "query is required"),
        ({"query": 3}, "must be a string"),
        ({"query": "x" * 11}, "longer than 10"),
        ({"query": "x", "open": 9}, "between 1 and 5"),
        ({"query": "x", "open": True}, "must be a integer"),
        ({"query": "x", "action": "c"}, "one of a, b"),
        ({"query": "x", "shell": "rm"}, "unknown field"),
    ],
)
def test_bad_arguments_name_the_problem(arguments: object, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        validate_arguments(SCHEMA, arguments)


def test_readable_text_drops_scripts_and_caps() -> None:
    html = (
        "<html><head><script>evil()</script></head>"
        "<body><h1>Title</h1><p>Hello &amp; bye</p></body>"
    )
    text, cut = readable_text(html, max_chars=100)
    assert text == "Title\n\nHello & bye" and not cut
    assert readable_text(html, max_chars=5) == ("Title", True)


def test_fit_window_drops_the_oldest_turns_only() -> None:
    from companion.llm.base import ChatMessage
    from companion.tools.agent import fit_window

    messages = [ChatMessage("system", "persona " * 50)]
    messages += [ChatMessage("user", f"old turn {n} " * 40) for n in range(5)]
    messages.append(ChatMessage("user", "the question"))
    fitted = fit_window(messages, 300)
    assert fitted[0] is messages[0] and fitted[-1] is messages[-1]
    assert 2 <= len(fitted) < len(messages)
    assert fitted[1:-1] == messages[len(messages) - len(fitted) + 1 : -1]  # newest kept
    assert fit_window(messages, 1) == [messages[0], messages[-1]]
    assert fit_window(messages, 100_000) == messages
