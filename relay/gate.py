"""What every relay request passes through: rate limit, one log line, body limit, workers.

* :class:`Gate` (ASGI middleware): a token bucket per client address answers 429 with
  ``Retry-After`` before anything else runs, and exactly one line per request is logged:
  method, path (never the query), status, duration.
* :func:`read_body` reads the raw body bytes, refusing them past the endpoint's limit (from
  ``Content-Length`` and while reading).
* :class:`Workers`: a fixed pool of threads, each owning one store for its whole life
  (eventsourcing's API is synchronous, and a ``Ledger`` and its SQLite verified-state file
  belong to the thread that opened them).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlette.responses import JSONResponse

from relay.errors import BodyTooLargeError, MalformedRequestError

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

S = TypeVar("S")
R = TypeVar("R")
MAX_CLIENTS = 10_000  # buckets kept; beyond, the ones idle longest are dropped
MAX_LOGGED_PATH = 200


class RateLimiter:
    """A token bucket per client address: ``burst`` requests at once, ``rate`` per second."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0 when allowed, else the seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            if len(self._buckets) > MAX_CLIENTS:  # dicts keep order: the first is idle longest
                del self._buckets[next(iter(self._buckets))]
        return wait


def printable(path: str) -> str:
    """``path`` made safe for one log line: control characters escaped, length bounded."""
    out = "".join(c if c.isprintable() and c != "\\" else repr(c)[1:-1] for c in path)
    return out if len(out) <= MAX_LOGGED_PATH else out[:MAX_LOGGED_PATH] + "..."


class Gate:
    """ASGI middleware: the rate limit per client address, and one log line per request."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, log: logging.Logger) -> None:
        self.app = app
        self.limiter = limiter
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the rate limit, pass the request on, log one line."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        client = scope.get("client")
        wait = self.limiter.take(str(client[0]) if client else "unknown")
        try:
            if wait > 0:
                response = JSONResponse(
                    {"error": "rate_limited", "message": "too many requests"},
                    status_code=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
                await response(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            path = printable(str(scope.get("path", "")))
            self.log.info("%s %s %d %.1fms", scope.get("method", "-"), path, status, elapsed)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused past ``limit`` bytes (from Content-Length, and while reading).

    Raises:
        BodyTooLargeError: the body is over the limit.
        MalformedRequestError: Content-Length is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
            raise MalformedRequestError("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Workers(Generic[S]):
    """A fixed pool of threads, each owning one store (opened on first use) for its life."""

    def __init__(
        self, open_store: Callable[[], S], threads: int, *, close: Callable[[S], None]
    ) -> None:
        self._open = open_store
        self._close = close
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"relay-worker-{n}", daemon=True)
            for n in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        store: S | None = None
        while True:
            job = self._jobs.get()
            if job is None:
                break
            func, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if store is None:
                    store = self._open()  # retried by the next job if it fails
                future.set_result(func(store))
            except BaseException as exc:
                future.set_exception(exc)
        if store is not None:
            self._close(store)

    async def run(self, func: Callable[[S], R]) -> R:
        """Run ``func`` with a worker's store; return its result."""
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        self._jobs.put((func, future))
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = 10.0) -> None:
        """Let each worker finish its job, close its store and stop."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout)
