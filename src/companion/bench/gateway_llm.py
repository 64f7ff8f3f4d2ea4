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

from aiohttp import web

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


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    reply = _reply(body)
    if not body.get("stream"):
        return web.json_response(
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
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for piece in reply:
        await response.write(_chunk({"content": piece}, None))
    await response.write(_chunk({}, "stop", usage=True))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": "instant", "object": "model"}]})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--echo", action="store_true", help="replies differ as messages do")
    args = parser.parse_args()
    ECHO = args.echo
    # aiohttp's server: it shares the machine with the server under test, and costs
    # less CPU per streamed answer than Starlette on uvicorn.
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
