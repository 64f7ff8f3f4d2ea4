"""Embedding a long list of texts in chunks that run ahead of whoever uses them.

An import embeds thousands of turns (the embedder runs in a worker thread) and inserts
them into the HNSW index (the PostgreSQL process); done one after the other, each waits
for the other. With the stream, chunk n + 1 is embedded while chunk n is written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["EmbedStream"]

Vectors = list[list[float] | None]


class EmbedStream:
    """Starts embedding ``texts`` chunk by chunk in the background as soon as it is made.

    ``until(count)`` waits for at least ``count`` vectors (or all of them) and returns
    every vector ready so far, in the order of ``texts``. Errors of the embedding
    surface there. ``aclose()`` stops the work if the caller gives up early.
    """

    def __init__(
        self,
        embed: Callable[[Sequence[str]], Awaitable[Vectors]],
        texts: Sequence[str],
        *,
        chunk: int,
    ) -> None:
        self._embed = embed
        self._texts = list(texts)
        self._chunk = max(1, chunk)
        self._vectors: Vectors = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        for start in range(0, len(self._texts), self._chunk):
            vectors = await self._embed(self._texts[start : start + self._chunk])
            self._vectors.extend(vectors)
            self._changed.set()

    async def until(self, count: int) -> Vectors:
        """The vectors ready once at least ``min(count, len(texts))`` are."""
        wanted = min(count, len(self._texts))
        while len(self._vectors) < wanted:
            if self._task.done():
                self._task.result()  # raises the embedding's error, if any
                break
            self._changed.clear()
            waiter = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        return self._vectors

    async def aclose(self) -> None:
        """Cancel the remaining chunks (a no-op once everything is embedded)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
