"""In-memory fact reconciliation for bulk imports (no I/O).

Reconciling fact by fact against the database costs a few queries per fact; an import
of thousands of messages instead loads the user's current facts once, decides here in
time order (the same ``decide`` rules as the live path), and writes the outcome in bulk.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from companion.memory.reconcile import Decision, ExistingFact, decide

__all__ = ["FactBook", "Supersession"]


@dataclass(frozen=True)
class Supersession:
    """``old`` stopped being valid at ``at`` because ``new`` said otherwise."""

    old: uuid.UUID
    new: uuid.UUID
    at: datetime
    old_content: str
    new_content: str
    method: str


@dataclass
class FactBook:
    """The user's current facts, updated as new facts are decided."""

    facts: list[ExistingFact] = field(default_factory=list)
    merges: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    supersessions: list[Supersession] = field(default_factory=list)

    def _candidates(self, key: str | None, vector: Sequence[float] | None) -> list[ExistingFact]:
        same = [f for f in self.facts if key is not None and f.fact_key == key]
        with_vectors = [f for f in self.facts if f.vector is not None]
        if vector is None or not with_vectors:
            return same
        matrix = np.asarray([f.vector for f in with_vectors], dtype=np.float32)
        sims = matrix @ np.asarray(vector, dtype=np.float32)
        nearest = [with_vectors[i] for i in np.argsort(-sims)[:5]]
        return same + [f for f in nearest if f not in same]

    def decide(
        self,
        *,
        new_id: uuid.UUID,
        content: str,
        key: str | None,
        vector: Sequence[float] | None,
        at: datetime,
        source_index: int,
    ) -> Decision:
        """Decide for one new fact and record the outcome (in time order)."""
        decision = decide(content, key, vector, self._candidates(key, vector))
        if decision.action == "merge" and decision.target is not None:
            self.merges.setdefault(uuid.UUID(decision.target), []).append(source_index)
            return decision
        if decision.action == "supersede" and decision.target is not None:
            old = next(f for f in self.facts if f.id == decision.target)
            self.facts.remove(old)
            self.supersessions.append(
                Supersession(uuid.UUID(old.id), new_id, at, old.content, content, decision.method)
            )
        self.facts.append(ExistingFact(str(new_id), key, content, vector))
        return decision
