"""Batching texts by token count: every index once, short with short."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from companion.llm.local_embedder import length_batches


def test_batches_group_similar_lengths() -> None:
    lengths = [40, 3, 39, 5, 41, 4]
    assert length_batches(lengths, 3) == [[1, 5, 3], [2, 0, 4]]
    assert length_batches([], 8) == []


@given(st.lists(st.integers(min_value=1, max_value=300), max_size=200), st.integers(1, 64))
def test_every_index_once_and_padding_bounded(lengths: list[int], size: int) -> None:
    batches = length_batches(lengths, size)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) <= size for b in batches)
    # Sorted batches never overlap: each starts at or after the previous one's longest.
    for before, after in pairwise(batches):
        assert max(lengths[i] for i in before) <= min(lengths[i] for i in after)
