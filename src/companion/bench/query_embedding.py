"""What embedding one never-seen query costs, piece by piece, with the local model.

``python -m companion.bench.query_embedding [--n 400] [--redis URL] [--options]``
prints, for ``n`` short queries nobody asked before (``memory_latency.fresh_queries``,
~10 tokens):

- the pieces of ``MiniLMEmbedder``'s single-text path, timed one by one on this
  thread (tokenisation, the padding to arrays, ``session.run``, mean pooling and
  normalisation, the list the caller gets), wall p50/p95 and CPU per call;
- the whole call as a search makes it: ``CachedEmbedder.embed([query], task="query")``
  in front of Redis (a miss: the store asked, the model run, the write left running),
  and a hit from the store (another process embedded it: a fresh ``CachedEmbedder``),
  wall p50/p95 and the process's CPU per call (the worker thread's included);
- with ``--options``, ``session.run`` under other onnxruntime settings (threads,
  spinning, optimisation level, IOBinding, memory pattern) against ours, and whether
  each gives the same outputs (``session_options``).

Wall times on a shared machine vary; the CPU per call is the steadier figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from companion.bench.measure import percentile
from companion.bench.memory_latency import fresh_queries

__all__ = ["main", "pieces", "session_options", "through_cache"]


def _cpu() -> float:
    """The process's CPU seconds, every thread's (``os.times`` counts in 10 ms ticks)."""
    return time.process_time()


def _summary(walls: list[float], cpu: float) -> dict[str, float]:
    ms = [w * 1000 for w in walls]
    return {
        "p50_ms": round(percentile(ms, 0.5), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "cpu_ms": round(cpu * 1000 / len(walls), 3),
    }


def _timed(step: Callable[[Any], Any], inputs: list[Any]) -> tuple[dict[str, float], list[Any]]:
    outputs, walls = [], []
    cpu = time.thread_time()
    for item in inputs:
        started = time.perf_counter()
        outputs.append(step(item))
        walls.append(time.perf_counter() - started)
    return _summary(walls, time.thread_time() - cpu), outputs


def pieces(embedder: Any, queries: list[str]) -> dict[str, dict[str, float]]:
    """The single-text path's steps timed apart (each over all ``queries``)."""
    from companion.llm.local_embedder import _pad, mean_pool_normalise

    tokenizer, session = embedder._tokenizer, embedder._single
    for query in queries[:20]:  # warm the session's allocations
        embedder.embed_sync([query])
    out: dict[str, dict[str, float]] = {}
    out["tokenise"], tokens = _timed(lambda q: tokenizer.encode(q).ids, queries)
    out["arrays"], arrays = _timed(lambda t: _pad([t]), tokens)

    def run(pair: tuple[Any, Any]) -> Any:
        ids, mask = pair
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return session.run(["last_hidden_state"], feeds)[0]

    out["session.run"], hidden = _timed(run, arrays)
    pairs = list(zip(hidden, [mask for _, mask in arrays], strict=True))
    out["pool + normalise"], pooled = _timed(lambda p: mean_pool_normalise(*p), pairs)
    out["to list"], _ = _timed(lambda v: v.tolist(), pooled)
    out["embed_sync, whole"], _ = _timed(lambda q: embedder.embed_sync([q]), queries)
    out["mean tokens"] = {"tokens": round(float(np.mean([len(t) for t in tokens])), 1)}
    return out


async def through_cache(embedder: Any, redis_url: str, queries: list[str]) -> dict[str, Any]:
    """``CachedEmbedder.embed([query], task="query")``: a miss, then a hit from Redis.

    The hits use a fresh ``CachedEmbedder`` (a process that holds nothing) on the
    vectors the misses stored. The CPU includes the miss's write to Redis, which runs
    beside the caller (awaited here after each call, so that it is counted).
    """
    from companion.llm.embed_cache import CachedEmbedder
    from companion.store.kv import RedisStore

    kv = RedisStore(redis_url, prefix=f"bench:qemb:{secrets.token_hex(4)}:")
    try:
        out: dict[str, Any] = {}
        for kind in ("miss (never seen)", "hit (from Redis)"):
            cached = CachedEmbedder(embedder, kv)
            await cached.embed(["warm up the connection"], task="query")
            walls, cpu, calls = [], 0.0, embedder.model_calls
            for query in queries:
                started_cpu, started = _cpu(), time.perf_counter()
                await cached.embed([query], task="query")
                walls.append(time.perf_counter() - started)
                await cached.flush()
                cpu += _cpu() - started_cpu
            out[kind] = {**_summary(walls, cpu), "model runs": embedder.model_calls - calls}
        return out
    finally:
        await kv.delete_pattern("*")
        await kv.close()


def session_options(
    embedder: Any, queries: list[str], *, rounds: int = 3
) -> dict[str, dict[str, float]]:
    """``session.run`` of one query under other onnxruntime settings, against ours.

    Ours (``local_embedder._session`` with one thread): all graph optimisations, one
    intra-op thread, no spinning. Each variant is a session of its own on the same
    model file; they take turns, ``rounds`` times over all queries, so that they see
    the same load. ``max_diff`` is the largest difference of any output value from
    ours over the queries (0.0: the same vectors).
    """
    import onnxruntime as ort

    from companion.llm.local_embedder import _pad

    path = Path(embedder._single._model_path)  # the file our single-text session runs
    tokens = [embedder._tokenizer.encode(q).ids for q in queries]
    level = ort.GraphOptimizationLevel

    def make(threads: int = 1, spin: str = "0", optimise: Any = None, pattern: bool = True) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.enable_mem_pattern = pattern
        if optimise is not None:
            options.graph_optimization_level = optimise
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def plain(session: Any, ids: Any, mask: Any) -> Any:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return session.run(["last_hidden_state"], feeds)[0]

    def bound(session: Any, ids: Any, mask: Any) -> Any:
        binding = session.io_binding()
        for name, array in (("input_ids", ids), ("attention_mask", mask),
                            ("token_type_ids", np.zeros_like(ids))):  # fmt: skip
            binding.bind_cpu_input(name, array)
        out = np.empty((1, ids.shape[1], 384), np.float32)  # preallocated output
        binding.bind_output("last_hidden_state", "cpu", 0, np.float32, out.shape,
                            out.ctypes.data)  # fmt: skip
        session.run_with_iobinding(binding)
        return out

    variants: dict[str, tuple[Any, Any]] = {
        "ours (1 thread, all optimisations, no spinning)": (make(), plain),
        "2 intra-op threads": (make(threads=2), plain),
        "spinning allowed": (make(spin="1"), plain),
        "extended optimisations only": (make(optimise=level.ORT_ENABLE_EXTENDED), plain),
        "basic optimisations only": (make(optimise=level.ORT_ENABLE_BASIC), plain),
        "IOBinding, preallocated output": (make(), bound),
        "no memory pattern": (make(pattern=False), plain),
    }
    arrays = [_pad([t]) for t in tokens]
    reference = [plain(variants[next(iter(variants))][0], *a) for a in arrays]
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpu = dict.fromkeys(variants, 0.0)
    diff = dict.fromkeys(variants, 0.0)
    for name, (session, run) in variants.items():
        for a in arrays[:20]:
            run(session, *a)
        diff[name] = max(float(np.abs(run(session, *a) - r).max())
                         for a, r in zip(arrays, reference, strict=True))  # fmt: skip
    for _ in range(rounds):
        for name, (session, run) in variants.items():
            started_cpu = _cpu()
            for a in arrays:
                started = time.perf_counter()
                run(session, *a)
                walls[name].append(time.perf_counter() - started)
            cpu[name] += _cpu() - started_cpu
    return {name: {**_summary(walls[name], cpu[name]), "max_diff": diff[name]} for name in variants}


def main(argv: list[str] | None = None) -> None:
    from companion.llm.local_embedder import MiniLMEmbedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--options", action="store_true", help="also other session settings")
    args = parser.parse_args(argv)
    embedder = MiniLMEmbedder()
    print(f"model {embedder.model_id}; loadavg {open('/proc/loadavg').read().split()[:3]}")
    for label, row in pieces(embedder, fresh_queries(args.n, seed=secrets.randbits(32))).items():
        print(f"{label:24s} {row}")
    queries = fresh_queries(args.n, seed=secrets.randbits(32))
    for label, row in asyncio.run(through_cache(embedder, args.redis, queries)).items():
        print(f"{label:24s} {row}")
    if args.options:
        queries = fresh_queries(args.n, seed=secrets.randbits(32))
        for label, row in session_options(embedder, queries).items():
            print(f"{label:48s} {row}")
    print(f"loadavg {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
