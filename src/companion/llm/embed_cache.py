"""A read-through cache in front of any embedder, stored in the runtime's key-value store.

Keys are sha256 of model, dimension, task type and text, so switching the embedder
or its dimension never serves a stale vector. With Redis the entries live 7 days and
are shared by every process; without it ``MemoryStore`` keeps them in an LRU.

The last few hundred vectors also stay in the process (``RECENT``): a turn embeds its
message for the security screen, the memory search and the memory write, and the
second and third ask need no round trip to Redis. Those small calls (a query, a turn)
also do not wait for their new vectors to be written: the write runs beside the
caller's next step (the search's statement), since this process serves them from
``RECENT`` anyway; large batches (imports) still wait for theirs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from companion.llm.base import Embedder, EmbedTask
from companion.store.kv import MemoryStore, RedisStore

__all__ = ["EMBED_CACHE_TTL", "CachedEmbedder", "embedding_cache_key"]

log = logging.getLogger(__name__)

EMBED_CACHE_TTL = 7 * 24 * 3600.0
#: Vectors kept in the process, most recently used first out last (~1.5 KB each).
RECENT = 512


def embedding_cache_key(model_id: str, dimensions: int, *, task: EmbedTask, text: str) -> str:
    """The cache key of one text's vector."""
    digest = hashlib.sha256(f"{model_id}\x1f{dimensions}\x1f{task}\x1f{text}".encode()).hexdigest()
    return f"emb:{digest}"


class CachedEmbedder:
    """Wraps an ``Embedder``; only cache misses reach it, in one batch.

    ``hits`` and ``misses`` count texts, for /health and the benchmark.
    """

    def __init__(
        self, inner: Embedder, kv: RedisStore | MemoryStore, *, ttl: float = EMBED_CACHE_TTL
    ) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self._kv = kv
        self._ttl = ttl
        self.hits = 0
        self.misses = 0
        self._recent: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._writes: set[asyncio.Task[None]] = set()

    def recent(self, text: str, *, task: EmbedTask) -> list[float] | None:
        """The vector of ``text`` if this process holds it (``RECENT``), without waiting.

        A search asks first: with the vector at hand it needs no time to embed, and
        so nothing to run beside that time (``memory.retrieval``).
        """
        kept = self._recent.get(embedding_cache_key(self.model_id, self.dimensions, task=task,
                                                    text=text))  # fmt: skip
        return None if kept is None else list(kept)

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """Vectors for ``texts`` in order, computing only the ones not cached."""
        keys = [
            embedding_cache_key(self.model_id, self.dimensions, task=task, text=t) for t in texts
        ]
        vectors: list[list[float] | None] = []
        for key in keys:
            recent = self._recent.get(key)
            vectors.append(None if recent is None else list(recent))
            if recent is not None:
                self._recent.move_to_end(key)
        # One MGET and one pipelined SET per call: an import embeds thousands of texts.
        unknown = [i for i, v in enumerate(vectors) if v is None]
        if unknown:
            raw = await self._kv.get_many([keys[i] for i in unknown])
            for i, r in zip(unknown, raw, strict=True):
                vectors[i] = _decode(r, self.dimensions) if r is not None else None
        missing = [i for i, v in enumerate(vectors) if v is None]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        small = len(texts) <= RECENT // 4  # an import's batches would only flush ``RECENT``
        if missing:
            fresh = await self.inner.embed([texts[i] for i in missing], task=task)
            for i, vector in zip(missing, fresh, strict=True):
                vectors[i] = vector
            fresh_items = {keys[i]: _encode(v) for i, v in zip(missing, fresh, strict=True)}
            if small:  # kept in ``RECENT`` below: the write need not hold the caller up
                self._write_later(fresh_items)
            else:
                await self._kv.set_many(fresh_items, ttl=self._ttl)
        if small:
            for key, kept in zip(keys, vectors, strict=True):
                if kept is not None:
                    self._recent[key] = tuple(kept)
                    self._recent.move_to_end(key)
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return [v for v in vectors if v is not None]

    def _write_later(self, items: dict[str, bytes]) -> None:
        """Store ``items`` in a task of their own (kept referenced until it ends)."""
        task = asyncio.get_running_loop().create_task(self._write(items))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, items: dict[str, bytes]) -> None:
        try:
            await self._kv.set_many(items, ttl=self._ttl)
        except Exception as exc:  # a cache: a lost write costs one embedding later
            log.warning("embedding cache write failed: %s", exc)

    async def flush(self) -> None:
        """Wait for the cache writes still running."""
        while self._writes:
            await asyncio.gather(*list(self._writes))

    async def aclose(self) -> None:
        """Finish the cache writes; close the wrapped embedder if it holds connections."""
        await self.flush()
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


def _encode(vector: list[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _decode(raw: bytes, dimensions: int) -> list[float] | None:
    # A value of the wrong size (e.g. written by an older build) is a miss, not an error.
    if len(raw) != dimensions * 4:
        return None
    return np.frombuffer(raw, dtype=np.float32).tolist()  # type: ignore[no-any-return]
