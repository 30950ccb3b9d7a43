"""A hostile relay for the client's tests: a real relay app behind a lying HTTP front.

:class:`HostileRelay` listens on a free loopback port (a ``ThreadingHTTPServer`` in a thread)
and forwards every request to a real relay app in process, unless its ``hook`` answers
instead: the hook sees the request (and may forward it itself and alter the answer), so a
test can make the relay overclaim its tree, serve rows beyond it, drip an answer one byte at
a time, drop an entry and answer ``201 {"receipt": {}}``, or tamper with a receipt.
Everything it served is counted (``rows_served``, ``requests``) for the tests to bound.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from anyio.from_thread import start_blocking_portal

DRIP_CAP = 8.0  # seconds a drip-fed answer lasts at most (then the connection is closed)


@dataclass
class Request:
    """What the client sent."""

    method: str
    target: str  # path and query, as sent
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the hostile relay sends back; ``drip`` > 0 sends the body a byte at a time.

    With ``whole``, the status line and headers are dripped too.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0
    whole: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


Hook = Callable[[Request, Callable[[], Answer]], Answer | None]


class HostileRelay:
    """A relay app in process behind a real HTTP server that lies when ``hook`` says so."""

    def __init__(self, app: Any) -> None:
        self.hook: Hook | None = None
        self.requests: list[tuple[str, str]] = []
        self.rows_served = 0
        self.drip_over = threading.Event()  # set when a drip ends (all sent, capped, cut off)
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                relay._handle(self)

            def do_POST(self) -> None:
                relay._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._app = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def lie(self, hook: Hook) -> None:
        """Answer through ``hook`` from now on, counting requests and rows from zero."""
        self.hook = hook
        self.requests.clear()
        self.rows_served = 0
        self.drip_over.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._portal.call(self._app.aclose)
        self._portal_cm.__exit__(None, None, None)

    # --- serving ------------------------------------------------------------------------------

    def forward(self, request: Request) -> Answer:
        """The real relay's answer to ``request``."""

        async def send() -> httpx.Response:
            return await self._app.request(
                request.method,
                request.target,
                headers=request.headers,
                content=request.body or None,
            )

        with self._lock:
            response = self._portal.call(send)
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "location", "retry-after")
        }
        return Answer(response.status_code, response.content, headers)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            target=handler.path,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k: v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        self.requests.append((request.method, handler.path))
        answer = None
        if self.hook is not None:
            answer = self.hook(request, lambda: self.forward(request))
        if answer is None:
            answer = self.forward(request)
        if request.path.endswith("/entries") and request.method == "GET" and answer.status == 200:
            self.rows_served += answer.body.count(b"\n")
        self._send(handler, answer)

    def _send(self, handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        head = [f"HTTP/1.1 {answer.status} {answer.status}"]
        head += [f"{key}: {value}" for key, value in answer.headers.items()]
        head.append(f"Content-Length: {len(answer.body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        dripped = raw + answer.body if answer.whole else answer.body
        try:
            if not answer.whole:
                handler.wfile.write(raw)
            if not answer.drip:
                handler.wfile.write(dripped)
                return
            handler.close_connection = True
            ends = time.monotonic() + DRIP_CAP
            for byte in dripped:
                if time.monotonic() > ends:
                    break  # a client that waits this long is hung: close the connection
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(answer.drip)
        except OSError:
            handler.close_connection = True  # the client gave up
        finally:
            if answer.drip:
                self.drip_over.set()
