"""What the embedded model reads ahead after a reply: the prompts' texts. Pure.

After a conversation's reply, the next turn's prompt is known up to its own context:
the prefix it carries (``ChatRequest.cache_prefix`` messages, or ``next_prefix`` when
the history window drops its oldest block), this turn's user message and the reply,
then how its context message begins (``next_context_start``). When the history's
first line will move at a later turn (the window drops a block, or the token budget
cuts one), the prefix the turn after that move starts with is known as far as the
turns so far go (``shifted_prefix``, then this exchange). These are the
texts the chat template renders for them (without a generation prompt), so that their
tokens are a token prefix of the prompts to come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from companion.llm.base import ChatMessage, ChatRequest

__all__ = ["ahead_texts", "as_dicts"]

#: Renders messages with the chat template, no generation prompt (``Jinja2ChatFormatter``).
Render = Callable[..., Any]

#: Marks where a message read ahead is cut (an invisible separator no template adds).
_CUT = "\u2063"


def as_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """``messages`` as the chat template takes them."""
    return [{"role": m.role, "content": m.content} for m in messages]


def ahead_texts(render: Render, request: ChatRequest, reply: str) -> list[str]:
    """The prompt prefixes to read after ``reply`` to ``request``, most needed first: the
    next turn's, then (with ``shifted_prefix``) the one after the history's next move.

    Args:
        render: The chat template without a generation prompt.
        request: The call that was answered.
        reply: Its reply.

    Returns:
        One or two texts.
    """
    messages = as_dicts(request.messages)
    exchange = [messages[-1], {"role": "assistant", "content": reply}]
    carried = (
        messages[: request.cache_prefix]
        if request.next_prefix is None
        else as_dicts(request.next_prefix)
    )
    following = [*carried, *exchange]
    text: str = render(messages=following).prompt
    if request.next_context_start:
        text = _with_context_start(render, following, text, request.next_context_start)
    texts = [text]
    if request.shifted_prefix is not None:
        shifted = [*as_dicts(request.shifted_prefix), *exchange]
        texts.append(render(messages=shifted).prompt)
    return texts


def _with_context_start(
    render: Render, following: list[dict[str, str]], text: str, start: str
) -> str:
    """``text`` (the next prefix) continued with how the next turn's context begins:
    the template's rendering of a system message whose content starts with ``start``,
    cut after it. ``text`` alone when the template renders it otherwise."""
    unfinished = {"role": "system", "content": start + _CUT}
    rendered: str = render(messages=[*following, unfinished]).prompt
    cut = rendered.find(_CUT)
    if cut <= len(text) or not rendered.startswith(text):
        return text
    return rendered[:cut]
