"""A tiny threaded HTTP/1.1 server on loopback that fake vendors build on.

Each fake implements ``handle(request) -> Response``; the response may stream
(``chunks``), be delayed, hang until released, or drop the connection midway, so the
clients under test see real sockets, real timeouts and real broken streams.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LoopbackServer", "RecordedRequest", "Response"]


@dataclass
class RecordedRequest:
    """What the fake received: method, path (with query), headers and JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> Any:
        """The parsed body (None when it was not JSON)."""
        return self.body


@dataclass
class Response:
    """What to send back.

    ``body`` (bytes or JSON-able) is sent whole; ``chunks`` are written one by one as
    they come (Server-Sent Events); ``drop_after`` closes the socket after that many
    chunks without finishing; ``hang`` waits until the server is released or closed.
    """

    status: int = 200
    body: Any = None
    chunks: Iterable[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    drop_after: int | None = None
    chunk_delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        request = RecordedRequest(method, self.path, dict(self.headers.items()), body)
        owner = self.server.owner
        owner.requests.append(request)
        with owner.in_flight():
            self._answer(owner, owner.handle(request))

    def _answer(self, owner: LoopbackServer, response: Response) -> None:
        if response.delay:
            time.sleep(response.delay)
        if response.hang:
            owner.released.wait(timeout=120)
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.chunks is not None:
            self._stream(response)
            return
        payload = _encode(response.body)
        self.send_header("Content-Length", str(len(payload)))
        if "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, response: Response) -> None:
        # Close-delimited body: the simplest streaming framing every client accepts.
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        assert response.chunks is not None
        for index, chunk in enumerate(response.chunks):
            if response.drop_after is not None and index >= response.drop_after:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(chunk)
            self.wfile.flush()
            if response.chunk_delay:
                time.sleep(response.chunk_delay)


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """Base of the fakes: start on a free 127.0.0.1 port, record requests, stop."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.released = threading.Event()
        #: The most requests ever served at the same time (checks concurrency caps).
        self.max_in_flight = 0
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, request: RecordedRequest) -> Response:
        """Answer one request (subclasses override)."""
        return Response(status=404, body={"error": {"message": f"no route {request.path}"}})

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request as being served while the block runs."""
        with self._count_lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._count_lock:
                self._in_flight -= 1

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def release(self) -> None:
        """Let every hanging request finish (by closing its connection)."""
        self.released.set()

    def close(self) -> None:
        """Release hanging requests and stop serving."""
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
