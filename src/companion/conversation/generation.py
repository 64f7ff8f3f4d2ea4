"""Streaming the reply from the chat model, turning total failure into an apology."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from companion.conversation.length import sentence_cut
from companion.conversation.loopguard import STOP_SEQUENCES, loop_cut, trim_loop
from companion.conversation.ports import CompanionState
from companion.conversation.replies import apology
from companion.errors import ProviderError
from companion.llm.base import ChatMessage, ChatRequest, Completion, RoleModel

__all__ = ["Generation", "generate"]

log = logging.getLogger(__name__)


@dataclass
class Generation:
    """The outcome of generating one reply (filled in while streaming)."""

    reply: str = ""
    completion: Completion | None = None
    error: str | None = None
    memory_ids: list[str] = field(default_factory=list)
    model_ms: float = 0.0
    #: The pieces streamed so far (the partial reply if the turn is cut short).
    pieces: list[str] = field(default_factory=list)
    #: The reply was cut short (client gone with stop-on-disconnect, or shutdown).
    interrupted: bool = False

    def interrupt(self) -> None:
        """Keep what was generated so far as the reply, marked interrupted."""
        self.interrupted = True
        self.reply = "".join(self.pieces).strip()

    #: The model started repeating itself and the reply was cut there.
    loop_cut: bool = False
    #: The reply ran past the sentences allowed (``max_sentences``) and was cut there.
    length_cut: bool = False


async def generate(
    chat: RoleModel | None,
    messages: Sequence[ChatMessage],
    *,
    state: CompanionState,
    user_id: str,
    max_tokens: int,
    temperature: float,
    out: Generation,
    cache_prefix: int = 0,
    next_prefix: Sequence[ChatMessage] | None = None,
    next_context_start: str = "",
    shifted_prefix: Sequence[ChatMessage] | None = None,
    max_sentences: int | None = None,
) -> AsyncIterator[str]:
    """Yield the reply's pieces; on failure set ``out.error`` and an apology as reply.

    Only ``ProviderError`` is caught: the chain already retried and fell back, so one
    here means no provider could answer. Pieces already streamed stay streamed; the
    recorded reply is then the apology. A reply that starts looping stops streaming
    there and is recorded without the repetition (``out.loop_cut``); with
    ``max_sentences``, a reply that runs longer is sent and recorded up to that many
    sentences (``out.length_cut``).
    """
    started = time.perf_counter()
    pieces = out.pieces
    streamed = ""  # the pieces so far, joined as they arrive
    call: Completion | None = None  # who answers, known from the first chunk
    try:
        if chat is None:
            raise ProviderError("no chat model is configured", provider="none")
        request = ChatRequest(
            messages=list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=STOP_SEQUENCES,
            cache_prefix=cache_prefix,
            next_prefix=next_prefix,
            next_context_start=next_context_start,
            shifted_prefix=shifted_prefix,
        )
        stream = chat.stream(request, user_id=user_id)
        try:
            async for item in stream:
                if isinstance(item, Completion):
                    out.completion = item
                    continue
                call = item.call or call
                if item.text and not out.length_cut:
                    sent = len(streamed)
                    pieces.append(item.text)
                    streamed += item.text
                    if len(pieces) % 4 == 0 and loop_cut(streamed) is not None:
                        out.loop_cut = True
                        break
                    end = sentence_cut(streamed, limit=max_sentences) if max_sentences else None
                    if end is not None:
                        # Nothing more reaches the person, but the stream is read to its
                        # end: the completion names the provider and counts the tokens.
                        out.length_cut = True
                        pieces[-1] = pieces[-1][: max(0, end - sent)]
                        if pieces[-1]:
                            yield pieces[-1]
                        continue
                    yield item.text
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:  # stops the model when we stopped reading
                await closer()
    except ProviderError as exc:
        log.warning("no chat provider answered: %s", exc, extra={"provider": exc.provider})
        out.error = str(exc) or type(exc).__name__
    out.model_ms = (time.perf_counter() - started) * 1000
    if out.completion is None and call is not None and out.loop_cut:
        # The loop cut stopped reading before the completion: the turn still names
        # the call that answered (recorded by the chain under the same id).
        out.completion = replace(call, text=streamed, latency_ms=out.model_ms)
    if out.completion is not None:
        out.model_ms = out.completion.latency_ms
    full = out.completion.text if out.completion and out.completion.text else ""
    cut_short = out.loop_cut or out.length_cut
    text, cut = trim_loop("".join(pieces) if cut_short or not full else full)
    out.loop_cut = out.loop_cut or cut
    if out.error is None and not text.strip():
        out.error = "the model returned an empty reply"
    out.reply = apology(state) if out.error else text.strip()
