"""Reusing evaluated prompt prefixes across calls of a llama.cpp context.

A turn's prompt starts with the persona block, and consecutive turns of a
conversation share persona *and* history. ``PrefixCache`` keeps the KV cells of a
few recent contexts; before a call the one sharing the longest token prefix with the
new prompt is restored, and llama.cpp's own prefix matching then evaluates only the
tokens after it.

``Llama.save_state``/``load_state`` also copy the logits matrix (n_batch × vocabulary,
~100 MB for SmolLM2's 49k vocabulary), which made a restore cost seconds, so only
sequence 0's KV cells are saved here; the suffix decode that follows recomputes the
logits. This touches attributes of ``Llama`` that its own prefix matching relies on
(``_ctx``, ``input_ids``, ``n_tokens``, ``_requires_eval``); pinned to
llama-cpp-python 0.3.36.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PrefixCache", "PrefixState", "common_prefix", "restore_prefix", "save_prefix"]


@dataclass(frozen=True)
class PrefixState:
    """The KV cells of ``tokens``, as llama.cpp serialises them."""

    tokens: tuple[int, ...]
    data: bytes


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if diff.size else n


class PrefixCache:
    """An LRU of saved contexts, searched by longest shared token prefix."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._states: OrderedDict[tuple[int, ...], PrefixState] = OrderedDict()

    def best(self, tokens: Sequence[int]) -> tuple[PrefixState | None, int]:
        """The saved state sharing the most leading tokens with ``tokens``, and how many."""
        best: PrefixState | None = None
        shared = 0
        for state in self._states.values():
            length = common_prefix(state.tokens, tokens)
            if length > shared:
                best, shared = state, length
        if best is not None:
            self._states.move_to_end(best.tokens)
        return best, shared

    def add(self, state: PrefixState) -> None:
        """Remember ``state``, evicting the least recently used beyond capacity."""
        if not state.tokens:
            return
        self._states[state.tokens] = state
        self._states.move_to_end(state.tokens)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def clear(self) -> None:
        """Forget every state."""
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)


def live_tokens(llama: Any) -> list[int]:
    """The tokens whose KV cells the context currently holds."""
    return [int(t) for t in llama.input_ids[: llama.n_tokens]]


def save_prefix(llama: Any) -> PrefixState:
    """Snapshot sequence 0 of ``llama`` with the tokens it holds."""
    import llama_cpp

    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
    return PrefixState(tokens=tuple(live_tokens(llama)), data=bytes(buffer)[:written])


def restore_prefix(llama: Any, state: PrefixState) -> None:
    """Replace the context of ``llama`` with ``state``; the next decode continues it."""
    import llama_cpp

    llama._ctx.kv_cache_clear()
    buffer = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
    if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, buffer, len(state.data), 0) == 0:
        raise RuntimeError("llama.cpp refused the saved prefix state")
    count = len(state.tokens)
    llama.input_ids[:count] = state.tokens
    llama.n_tokens = count
    # Logits were not restored: generate() must decode at least one token first.
    llama._requires_eval = True


def extend_to(llama: Any, prefix: Sequence[int]) -> None:
    """Make the context hold exactly ``prefix``, evaluating only what it lacks."""
    keep = common_prefix(live_tokens(llama), prefix)
    llama.n_tokens = keep  # eval() drops the KV cells after n_tokens first
    llama.eval(list(prefix[keep:]))
