"""Forgetting that is complete: a memory goes with everything derived only from it.

When memories are forgotten (one by the user, a conversation's by ``/memory/clear``,
old ones by retention) the same transaction also:

- deletes the facts derived only from them: a memory whose ``source_memory_ids`` are
  all being forgotten (a fact extracted from a turn, a fact extracted from that fact),
  transitively; a user's own correction is their new statement and stays;
- deletes the consolidated summaries that used any of them (a summary's text may
  repeat what was forgotten) and releases the summaries' other sources
  (``consolidated_into`` = NULL), so the nightly consolidation rebuilds the summary
  from what is left;
- removes the forgotten ids from the provenance of memories that keep other sources;
- deletes the ``memory_conflicts`` rows that name them (their text quotes both facts).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["ForgetCounts", "forget_memories"]

#: Derivations are shallow (turn → fact → correction); the bound only stops a cycle.
_MAX_DEPTH = 8

_DERIVED = text(
    "SELECT id, metadata->>'method' = 'consolidation' AS summary FROM memories "
    "WHERE user_id = :uid AND NOT (id = ANY(:ids)) AND source_memory_ids && :ids "
    "AND (metadata->>'method' = 'consolidation' OR (source_memory_ids <@ :ids "
    "AND coalesce(metadata->>'method', '') <> 'user_correction'))"
)
_RELEASE = text(
    "UPDATE memories SET consolidated_into = NULL "
    "WHERE user_id = :uid AND consolidated_into = ANY(:ids) AND NOT (id = ANY(:ids))"
)
_UNLINK = text(
    "UPDATE memories SET source_memory_ids = coalesce((SELECT array_agg(s) "
    "FROM unnest(source_memory_ids) AS s WHERE NOT (s = ANY(:ids))), '{}') "
    "WHERE user_id = :uid AND source_memory_ids && :ids AND NOT (id = ANY(:ids))"
)
_CONFLICTS = text(
    "DELETE FROM memory_conflicts WHERE user_id = :uid "
    "AND (primary_memory_id = ANY(:names) OR conflicting_memory_id = ANY(:names))"
)
_DELETE = text("DELETE FROM memories WHERE user_id = :uid AND id = ANY(:ids)")


@dataclass(frozen=True)
class ForgetCounts:
    """What one forgetting removed."""

    memories: int
    derived_facts: int
    summaries: int
    conflicts: int

    def to_dict(self) -> dict[str, int]:
        """JSON form."""
        return {
            "memories": self.memories,
            "derived_facts": self.derived_facts,
            "summaries": self.summaries,
            "conflicts": self.conflicts,
        }


async def forget_memories(
    session: AsyncSession, *, user_id: str, memory_ids: Collection[uuid.UUID]
) -> ForgetCounts:
    """Delete ``memory_ids`` of ``user_id`` and what derives from them (in ``session``).

    Returns the counts; ``memories`` counts only the rows asked for that existed.
    """
    asked = list(dict.fromkeys(memory_ids))
    if not asked:
        return ForgetCounts(0, 0, 0, 0)
    doomed = set(asked)
    derived: set[uuid.UUID] = set()
    summaries: set[uuid.UUID] = set()
    for _ in range(_MAX_DEPTH):
        rows = (await session.execute(_DERIVED, {"uid": user_id, "ids": list(doomed)})).all()
        if not rows:
            break
        for memory_id, is_summary in rows:
            (summaries if is_summary else derived).add(memory_id)
            doomed.add(memory_id)
    ids = list(doomed)
    params = {"uid": user_id, "ids": ids}
    await session.execute(_RELEASE, params)
    await session.execute(_UNLINK, params)
    conflicts = await session.execute(_CONFLICTS, {"uid": user_id, "names": [str(i) for i in ids]})
    result = await session.execute(_DELETE, params)
    deleted = int(result.rowcount)  # type: ignore[attr-defined]
    return ForgetCounts(
        memories=deleted - len(derived) - len(summaries),
        derived_facts=len(derived),
        summaries=len(summaries),
        conflicts=int(conflicts.rowcount),  # type: ignore[attr-defined]
    )
