"""Greedy clustering of episodic memories for consolidation (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CLUSTER_COSINE", "MIN_CLUSTER", "greedy_clusters", "summary_of"]

#: Related memories.
CLUSTER_COSINE = 0.7
#: A theme needs at least three memories.
MIN_CLUSTER = 3


def greedy_clusters(
    vectors: Sequence[Sequence[float]], *, threshold: float = CLUSTER_COSINE
) -> list[list[int]]:
    """The Discord design's greedy clustering: take the first, add all with cosine ≥ threshold.

    Returns:
        Clusters as lists of indexes; singletons included, in input order.
    """
    if not vectors:
        return []
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.clip(norms, 1e-12, None)
    left = list(range(len(matrix)))
    clusters = []
    while left:
        head, rest = left[0], left[1:]
        sims = matrix[rest] @ matrix[head] if rest else np.zeros(0)
        members = [head] + [i for i, s in zip(rest, sims, strict=True) if s >= threshold]
        clusters.append(members)
        left = [i for i in rest if i not in set(members)]
    return clusters


def summary_of(contents: Sequence[str], vectors: Sequence[Sequence[float]]) -> str:
    """A rule summary: the most central memory, and how often the theme came up."""
    matrix = np.asarray(vectors, dtype=np.float32)
    centre = int(np.argmax((matrix @ matrix.T).sum(axis=1)))
    return f"Recurring theme ({len(contents)} mentions): {contents[centre]}"
