"""Choosing which saved llama.cpp context to restore (pure part)."""

from __future__ import annotations

from companion.llm.providers.llama_state import PrefixCache, PrefixState, common_prefix


def _state(*tokens: int) -> PrefixState:
    return PrefixState(tokens=tokens, data=b"")


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([9], [1]) == 0


def test_best_is_the_longest_shared_prefix_and_lru_evicts_oldest() -> None:
    cache = PrefixCache(capacity=2)
    persona = _state(1, 2, 3)
    conversation = _state(1, 2, 3, 4, 5, 6)
    cache.add(persona)
    cache.add(conversation)
    assert cache.best([1, 2, 3, 4, 5, 9]) == (conversation, 5)
    assert cache.best([1, 2, 3, 7]) == (persona, 3)  # also marks persona as recently used
    cache.add(_state(8, 8))
    assert len(cache) == 2
    assert cache.best([1, 2, 3, 4, 5]) == (persona, 3)  # the conversation was evicted
    assert cache.best([7]) == (None, 0)
