"""Save and restore the KV cache of a token prefix (sequence 0) of a llama.cpp context.

``Llama.save_state``/``load_state`` also copy the logits matrix (n_batch × vocabulary,
~100 MB for SmolLM2's 49k vocabulary), which made a restore cost seconds. Only the
sequence's KV cells are needed: the suffix decode that follows recomputes the logits.
This touches three attributes of ``Llama`` (``_ctx``, ``input_ids``, ``n_tokens``,
``_requires_eval``) that its own prefix-matching code relies on; pinned to
llama-cpp-python 0.3.36.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

__all__ = ["PrefixState", "restore_prefix", "save_prefix"]


@dataclass(frozen=True)
class PrefixState:
    """The KV cells of ``tokens``, as llama.cpp serialises them."""

    tokens: tuple[int, ...]
    data: bytes


def save_prefix(llama: Any) -> PrefixState:
    """Snapshot sequence 0 of ``llama`` (whose context holds exactly the prefix)."""
    import llama_cpp

    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
    tokens = tuple(int(t) for t in llama.input_ids[: llama.n_tokens])
    return PrefixState(tokens=tokens, data=bytes(buffer)[:written])


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
