"""``companion bench conversation``: scripted multi-turn chats against a chat model.

Each scripted chat (``bench.chats``) is played turn by turn through the turn
pipeline's own prompt builder (``conversation.prompt.build_prompt``: persona, the
user's time, recent turns within the token budget) and generation step
(``conversation.generation.generate``: stop sequences and the loop guard), against
the embedded GGUF model or any OpenAI-compatible URL. Memory retrieval, appraisal
and storage are left out: everything the questions ask was said in the same chat, so
recall comes from the recent turns the pipeline puts into the prompt.

Two decoding profiles can be compared on the same model:

- ``before``: the persona block without its closing "your name is…, one to four
  sentences" line, the full layout, no stop sequences, no repeat penalty, no loop
  guard, the full reply budget (what the embedded model got before the small-model
  work);
- ``after``: what the pipeline does today (``PROMPT_PROFILE``: the compact layout for
  a model that is not capable, stop sequences, repeat penalty, loop guard).

Scores per reply and the summary are in ``bench.conversation_scores``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.bench.chats import CHATS, Chat
from companion.bench.conversation_scores import ReplyScore, score_reply, summarize
from companion.conversation.budget import TokenBudget
from companion.conversation.generation import Generation, generate
from companion.conversation.ports import CompanionState, ShortTermTurn
from companion.conversation.profile import COMPACT_REPLY_TOKENS, PromptProfile, use_compact
from companion.conversation.prompt import build_prompt
from companion.llm.base import ChatMessage, ChatRequest, Completion, RoleModel
from companion.personality.core import DEFAULT_STYLE, PRESETS, emotion_label, render_prompt
from companion.personality.core.pad import baseline_from_big_five

__all__ = ["PROFILES", "Profile", "companion_state", "markdown", "play_chat", "run_bench"]

#: The companion's name in every scripted chat (never one of the users' names).
COMPANION_NAME = "Sol"
_NAME_LINE = "\nYour name is"


@dataclass(frozen=True)
class Profile:
    """How one run builds prompts and decodes."""

    name: str
    #: The prompt layout setting (``auto``: compact when the model is not capable).
    layout: PromptProfile
    #: Stop sequences, the repeat penalty and the loop guard (the pipeline's generate).
    guards: bool
    #: Keep the persona's closing line (own name, one to four sentences).
    name_line: bool


PROFILES: dict[str, Profile] = {
    "before": Profile("before", layout="full", guards=False, name_line=False),
    "after": Profile("after", layout="auto", guards=True, name_line=True),
}


def companion_state(*, name_line: bool, now: datetime) -> CompanionState:
    """The default companion (curious preset, neutral style) as the pipeline sees it."""
    traits = PRESETS["curious_companion"]
    pad = baseline_from_big_five(traits)
    emotion = emotion_label(pad)
    block = render_prompt(
        name=COMPANION_NAME,
        big_five=traits.to_dict(),
        pad=pad,
        emotion=emotion,
        quirks=[],
        urgent_needs=[],
        style=dict(DEFAULT_STYLE),
    )
    if not name_line:
        block = block.split(_NAME_LINE)[0]
    return CompanionState(
        user_id="bench",
        name=COMPANION_NAME,
        preset="curious_companion",
        big_five=traits.to_dict(),
        pad=pad,
        baseline=pad,
        emotion=emotion,
        style=dict(DEFAULT_STYLE),
        prompt_block=block,
        timezone="UTC",  # a zone naming a city would hand the model a wrong "home"
        last_talk=now - timedelta(days=3),
    )


async def _stream_plain(
    chat: RoleModel, messages: list[ChatMessage], *, max_tokens: int, temperature: float
) -> tuple[str, float | None]:
    """The reply without stop sequences, repeat penalty or loop guard."""
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    request = ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=temperature, repeat_penalty=1.0
    )
    async for item in chat.stream(request, user_id="bench"):
        if isinstance(item, Completion):
            continue
        if item.text:
            first = first if first is not None else (time.perf_counter() - started) * 1000
            pieces.append(item.text)
    return "".join(pieces).strip(), first


async def _stream_guarded(
    chat: RoleModel,
    messages: list[ChatMessage],
    *,
    state: CompanionState,
    max_tokens: int,
    temperature: float,
) -> tuple[str, float | None]:
    """The reply through the pipeline's generation step."""
    started = time.perf_counter()
    first: float | None = None
    out = Generation()
    async for _ in generate(
        chat,
        messages,
        state=state,
        user_id="bench",
        max_tokens=max_tokens,
        temperature=temperature,
        out=out,
    ):
        first = first if first is not None else (time.perf_counter() - started) * 1000
    return out.reply, first


async def play_chat(
    chat_model: RoleModel,
    chat: Chat,
    *,
    profile: Profile,
    budget: TokenBudget,
    temperature: float,
    now: datetime,
) -> list[ReplyScore]:
    """Play ``chat`` turn by turn; each reply joins the recent turns of the next prompt."""
    state = companion_state(name_line=profile.name_line, now=now)
    compact = use_compact(profile.layout, capable=bool(getattr(chat_model, "capable", True)))
    max_tokens = min(budget.reply, COMPACT_REPLY_TOKENS) if compact else budget.reply
    history: list[ShortTermTurn] = []
    scores: list[ReplyScore] = []
    for index, turn in enumerate(chat.turns):
        prompt = build_prompt(
            state, message=turn.user, memories=(), history=history, budget=budget,
            now=now, compact=compact,
        )  # fmt: skip
        if profile.guards:
            reply, ttft = await _stream_guarded(
                chat_model, prompt.messages, state=state, max_tokens=max_tokens,
                temperature=temperature,
            )  # fmt: skip
        else:
            reply, ttft = await _stream_plain(
                chat_model, prompt.messages, max_tokens=max_tokens, temperature=temperature
            )
        scores.append(
            score_reply(
                chat=chat.id,
                turn=index,
                user=turn.user,
                reply=reply,
                user_name=chat.user_name,
                expect=turn.expect,
                earlier=[t.content for t in history if t.role == "assistant"],
                ttft_ms=ttft,
            )
        )
        history += [ShortTermTurn("user", turn.user), ShortTermTurn("assistant", reply)]
    return scores


async def run_bench(
    chat_model: RoleModel,
    *,
    profiles: Sequence[Profile],
    chats: Sequence[Chat] = CHATS,
    budget: TokenBudget | None = None,
    temperature: float = 0.8,
    rounds: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Play every chat ``rounds`` times per profile; the summary and every reply.

    ``progress`` is told each finished chat (a long run on a small CPU takes minutes).
    """
    budget = budget or TokenBudget()
    now = now or datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    report: dict[str, Any] = {"chats": len(chats), "rounds": rounds, "profiles": {}}
    for profile in profiles:
        scores: list[ReplyScore] = []
        for _ in range(rounds):
            for chat in chats:
                scores += await play_chat(
                    chat_model, chat, profile=profile, budget=budget,
                    temperature=temperature, now=now,
                )  # fmt: skip
                if progress is not None:
                    progress(f"{profile.name}: {chat.id} done ({len(scores)} replies)")
        report["profiles"][profile.name] = {
            "summary": summarize(scores),
            "replies": [s.to_dict() for s in scores],
        }
    return report


_COLUMNS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("recall", lambda s: f"{s['recalled']}/{s['questions']}"),
    ("persona confusion", lambda s: str(s["confused"])),
    ("looping replies", lambda s: str(s["looping"])),
    ("repeated trigrams", lambda s: f"{s['repeated_trigram_rate']:.3f}"),
    ("echo of earlier replies", lambda s: f"{s['echo_rate']:.3f}"),
    ("mean / median words", lambda s: f"{s['mean_words']} / {s['median_words']}"),
    ("> 4 sentences", lambda s: str(s["over_four_sentences"])),
    ("TTFT p50 / p95 ms", lambda s: f"{s['ttft_p50_ms']} / {s['ttft_p95_ms']}"),
)


def markdown(report: dict[str, Any], *, model: str) -> str:
    """A Markdown table with one row per profile."""
    head = "| model | profile | " + " | ".join(c for c, _ in _COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(_COLUMNS) + 2)]
    for name, run in report["profiles"].items():
        cells = " | ".join(fmt(run["summary"]) for _, fmt in _COLUMNS)
        lines.append(f"| {model} | {name} | {cells} |")
    return "\n".join(lines)
