"""The words a very large user says everywhere, known without probing the full-text index.

On the big search path the full-text side counts each query word's matches up to
``search.DF_CAP`` to find the rare words. A GIN index cannot stop early: for a word in
tens of thousands of the user's memories the count first turns the word's whole posting
list into a bitmap (28,226 rows for one word of the 1M-row benchmark's 100k user), and
those counts were most of that user's statement. For a user with their own indexes
(``memory.user_index``) the words are counted here now and then (``ts_stat`` over their
current shared memories), in the background, and the words found in at least
``COMMON_FROM`` of them are passed to the search, which takes them as counted to the cap
without the probe. They are passed the most frequent first: when every word of a query is
common the search scans only the rarest, the one latest in the list.

That count is a lower bound of what a search with the default filters sees (current
memories; a companion's private ones only add to it), and memories are rarely deleted,
so a word counted at twice the cap still reaches it: the search's result is the same.
With filters (types, dates, importance) the search probes every word as before
(``search.fetch_candidates``). Until the first count ends the list is empty and every
word is probed.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from companion.memory.search import DF_CAP

__all__ = ["COMMON_FROM", "CommonWords"]

log = logging.getLogger(__name__)

#: Memories a word must be in, at the last count, to be taken as reaching the cap.
COMMON_FROM = 2 * DF_CAP
#: Most words kept per user (the most frequent: the costliest to probe).
MOST_WORDS = 500
#: How long a count is used before it is made again.
REFRESH_SECONDS = 600.0

_COUNT = (
    "SELECT word FROM ts_stat(format('SELECT tsv FROM memories WHERE user_id = %L "
    "AND invalid_at IS NULL AND companion_id IS NULL', CAST(:uid AS text))) "
    "WHERE ndoc >= :least ORDER BY ndoc DESC, word LIMIT :most"
)


class CommonWords:
    """Per user with their own indexes: the words counted in ``COMMON_FROM`` memories or more."""

    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._engine = engine
        self._refresh = refresh_seconds
        self._words: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._counting: dict[str, asyncio.Task[None]] = {}

    def get(self, user_id: str) -> tuple[str, ...]:
        """The user's common words as last counted; an old or missing count is started
        again in the background (the search never waits for one)."""
        counted_at, words = self._words.get(user_id, (-float("inf"), ()))
        if time.monotonic() - counted_at > self._refresh and user_id not in self._counting:
            task = asyncio.get_running_loop().create_task(self._recount(user_id))
            self._counting[user_id] = task
            task.add_done_callback(lambda _: self._counting.pop(user_id, None))
        return words

    async def count(self, user_id: str) -> tuple[str, ...]:
        """Count the user's words now and keep the result."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            rows = await conn.execute(
                text(_COUNT), {"uid": user_id, "least": COMMON_FROM, "most": MOST_WORDS}
            )
            words = tuple(str(w) for w in rows.scalars())
        self._words[user_id] = (time.monotonic(), words)
        return words

    async def _recount(self, user_id: str) -> None:
        try:
            await self.count(user_id)
        except Exception as exc:  # the search probes every word meanwhile
            log.warning("common words not counted: %s", exc)
            self._words[user_id] = (time.monotonic(), self._words.get(user_id, (0.0, ()))[1])

    async def wait(self) -> None:
        """Wait for the counts running in the background."""
        while self._counting:
            await asyncio.gather(*list(self._counting.values()), return_exceptions=True)
