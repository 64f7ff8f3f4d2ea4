"""An instant OpenAI-compatible chat server for the gateway benchmark (no generation cost).

Run: ``python -m companion.bench.gateway_llm --port 9100``. Answers every chat completion at
once, streamed in a few SSE chunks with usage, so the benchmark measures the gateway.
``--echo``: the reply ends with the start of the last user message, so replies differ
as the messages do (the memory work then embeds each reply instead of finding it cached).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REPLY = ["That sounds ", "really lovely — ", "tell me more about it?"]
#: Set by ``--echo``.
ECHO = False


def _reply(body: dict[str, object]) -> list[str]:
    if not ECHO:
        return REPLY
    messages = body.get("messages")
    last = ""
    if isinstance(messages, list):
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content", "") if users else ""
        last = content if isinstance(content, str) else ""
    return [*REPLY[:2], f"tell me more about {' '.join(last.split()[:12]) or 'it'}?"]


def _chunk(delta: dict[str, str], finish: str | None, usage: bool = False) -> bytes:
    body: dict[str, object] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "instant",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 600, "completion_tokens": 12, "total_tokens": 612}
    return f"data: {json.dumps(body)}\n\n".encode()


async def chat(request: Request) -> Response:
    body = await request.json()
    reply = _reply(body)
    if not body.get("stream"):
        return JSONResponse(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "instant",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(reply)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 600, "completion_tokens": 12, "total_tokens": 612},
            }
        )

    async def events() -> AsyncIterator[bytes]:
        for piece in reply:
            yield _chunk({"content": piece}, None)
        yield _chunk({}, "stop", usage=True)
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": "instant", "object": "model"}]})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--echo", action="store_true", help="replies differ as messages do")
    args = parser.parse_args()
    ECHO = args.echo
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
