"""The model contract every provider implements, and the values that cross it.

A ``ChatProvider`` streams chunks for one request; a ``RoleModel`` is what the rest of
the engine calls: an ordered chain of providers for a role (``chat`` or ``fast``) with
retries, fallback, a circuit breaker and a global concurrency cap, returning a recorded
``Completion``. An ``Embedder`` turns texts into unit vectors for a task type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "ChatMessage",
    "ChatProvider",
    "ChatRequest",
    "Chunk",
    "Completion",
    "EmbedTask",
    "Embedder",
    "ModelToolCall",
    "Role",
    "RoleModel",
    "Usage",
]

Role = Literal["chat", "fast"]
EmbedTask = Literal["query", "document"]


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """A tool call the model asked for (OpenAI ``tool_calls``): arguments as JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a prompt: ``system``, ``user``, ``assistant`` or ``tool``.

    An assistant message may carry the ``tool_calls`` it made; a ``tool`` message
    answers one of them (``tool_call_id``).
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ModelToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """A chat completion request, independent of any provider.

    ``json_schema`` asks for JSON matching the schema (providers use their native
    structured-output support where they have it). ``cache_prefix`` marks how many
    leading messages are a fixed prefix worth caching (the persona block and the
    history before the turn's own context); a provider with a local KV cache may also
    prepare the conversation's next prefix (these messages, the last user message and
    the reply) once the reply is done. ``next_prefix`` names the messages the next turn
    starts with before this turn's user message and reply when they are not the
    ``cache_prefix`` ones (the oldest history leaves the window), and
    ``next_context_start`` how the next turn's own context (a system message after
    this turn's user message and reply) starts, so that it is read ahead too.
    ``shifted_prefix`` names, when the history's first line will move at a later turn
    (the history window drops a block of its oldest lines, or the prompt's token budget
    cuts them), the messages the first turn after that move starts with as far as they
    are known now (the persona and the history lines that stay); such a provider reads
    them, this turn's user message and the reply ahead too, a turn at a time, so the
    turn after the move does not read its whole history again. ``tools``
    offers OpenAI-format tool definitions to providers that support them
    (``supports_tools``); the others ignore it. ``repeat_penalty`` overrides the
    embedded model's penalty on recently used tokens (None: its default; hosted
    providers ignore it).
    """

    messages: Sequence[ChatMessage]
    max_tokens: int = 256
    temperature: float = 0.7
    json_schema: dict[str, Any] | None = None
    stop: Sequence[str] = ()
    cache_prefix: int = 0
    next_prefix: Sequence[ChatMessage] | None = None
    next_context_start: str = ""
    shifted_prefix: Sequence[ChatMessage] | None = None
    tools: Sequence[dict[str, Any]] = ()
    repeat_penalty: float | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a streamed reply; the last chunk carries usage, finish reason, tool calls."""

    text: str
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: tuple[ModelToolCall, ...] = ()
    #: Set by the chain on an attempt's first chunk: the call as recorded so far (who
    #: answers, under which id), so a caller that stops reading still knows its source.
    call: Completion | None = None


@dataclass
class Completion:
    """The unit of record for a model call."""

    id: str
    role: Role
    text: str
    provider: str
    model: str
    latency_ms: float
    usage: Usage = field(default_factory=Usage)
    fallback_used: bool = False
    first_token_ms: float | None = None
    tool_calls: list[ModelToolCall] = field(default_factory=list)


@runtime_checkable
class ChatProvider(Protocol):
    """One backend (a hosted endpoint and model, or the local GGUF model)."""

    id: str
    model_id: str
    #: Good enough for judgement tasks (importance, extraction, security); the tiny
    #: embedded model is not, so those tasks take their rule paths (DECISIONS.md#rule-paths).
    capable: bool

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Stream the reply to ``request``; raise ``ProviderError`` subclasses on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections or memory."""
        ...


@runtime_checkable
class RoleModel(Protocol):
    """What the engine calls for a role: the provider chain with its policies."""

    role: Role

    @property
    def capable(self) -> bool:
        """Whether the first live provider of the chain is capable (see ChatProvider)."""
        ...

    async def complete(self, request: ChatRequest, *, user_id: str | None = None) -> Completion:
        """The whole reply; raises ``ProviderUnavailable`` when every provider failed."""
        ...

    def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        """Stream chunks, then yield the ``Completion`` record as the final item."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Text to unit-length vectors; ``task`` selects query or document mode."""

    model_id: str
    dimensions: int

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """One vector per text, in order."""
        ...
