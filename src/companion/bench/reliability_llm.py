"""A local OpenAI-compatible chat server for the reliability suite, with injected faults.

Run: ``python -m companion.bench.reliability_llm --port 9101 --fail-rate 0.3 --chunk-delay 0.05``.
Requests for the model ``primary`` fail with probability ``--fail-rate``, a third
each as HTTP 500, HTTP 429 with ``Retry-After: 1``, and a hang (the client times
out); any other model (the fallback) always answers. Replies stream in
``--chunks`` pieces, ``--chunk-delay`` seconds apart, so clients can leave mid-reply.
``GET /stats`` returns the counts of each outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STATS: Counter[str] = Counter()
CONFIG = {"fail_rate": 0.0, "chunk_delay": 0.0, "chunks": 6, "hang": 60.0}
WORDS = "that sounds really lovely and I would love to hear more about it soon".split()


def _chunk(delta: dict[str, str], finish: str | None, usage: bool = False) -> bytes:
    body: dict[str, object] = {
        "id": "chatcmpl-reliability",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "instant",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 300, "completion_tokens": 12, "total_tokens": 312}
    return f"data: {json.dumps(body)}\n\n".encode()


def _pieces() -> list[str]:
    count = int(CONFIG["chunks"])
    per = max(1, len(WORDS) // count)
    return [" ".join(WORDS[i : i + per]) + " " for i in range(0, len(WORDS), per)]


async def chat(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model", ""))
    if model == "primary" and random.random() < CONFIG["fail_rate"]:
        fault = random.choice(["500", "429", "hang"])
        STATS[f"primary_{fault}"] += 1
        if fault == "500":
            return JSONResponse({"error": {"message": "injected failure"}}, status_code=500)
        if fault == "429":
            return JSONResponse(
                {"error": {"message": "slow down"}}, status_code=429, headers={"Retry-After": "1"}
            )
        await asyncio.sleep(CONFIG["hang"])
    STATS[f"{model or 'default'}_ok"] += 1
    pieces = _pieces()
    if not body.get("stream"):
        return JSONResponse(
            {
                "id": "chatcmpl-reliability",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(pieces).strip()},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 300, "completion_tokens": 12, "total_tokens": 312},
            }
        )

    async def events() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield _chunk({"content": piece}, None)
            if CONFIG["chunk_delay"]:
                await asyncio.sleep(CONFIG["chunk_delay"])
        yield _chunk({}, "stop", usage=True)
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": "primary", "object": "model"}]})


async def stats(request: Request) -> Response:
    return JSONResponse(dict(STATS))


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9101)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--hang", type=float, default=60.0)
    args = parser.parse_args()
    CONFIG.update(
        fail_rate=args.fail_rate, chunk_delay=args.chunk_delay, chunks=args.chunks, hang=args.hang
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
