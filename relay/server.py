"""The relay's HTTP server: a Starlette app over plain ``def`` endpoints.

The contract is ``docs/relay.md``. Each endpoint is a plain function ``(store, call) ->
Response`` run by a worker thread that owns its :class:`~relay.store.RelayStore`; the async
layer (``relay/gate.py``) only applies the rate limit, reads the raw body bytes (signatures
cover exact bytes) within the endpoint's limit and logs one line. :func:`error_response` is the
one place that maps each ``LedgerError`` to a status, as ``commands/errors.py`` maps them to
exit codes. Reads answer members only (``relay/auth.py``); anyone else gets the same 404 as a
project that does not exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledger.errors import (
    ConflictError,
    LedgerError,
    LedgerNotFoundError,
    NotFoundError,
    ProjectNotFoundError,
    RuleViolationError,
    SignatureError,
    StorageUnavailableError,
    StoreDamagedError,
    UsageError,
    VerificationError,
)
from relay import cosigning, invitations, reads
from relay.auth import Message, authenticate, authenticate_invite, authenticate_key
from relay.errors import (
    BodyTooLargeError,
    MalformedRequestError,
    NotReadableError,
    UnsignedCheckpointError,
)
from relay.evidence import EVIDENCE_QUOTA, MAX_EVIDENCE_SIZE, EvidenceLimits, evidence_routes
from relay.gate import Gate, RateLimiter, Workers, read_body
from relay.reads import NoSuchTileError
from relay.tiles import MAX_TREE_SIZE
from relay.wire import check_slug, parse_count, parse_rows

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.types import Scope

    from relay.keys import RelayKey
    from relay.store import RelayStore

log = logging.getLogger("accord.relay")

ENTRY_TYPES = ("application/x-ndjson", "application/jsonl", "application/json")
NOTE_TYPES = ("text/plain",)
MAX_PAGE = 1000


@dataclass(frozen=True)
class RelayConfig:
    """Limits of a relay process.

    Attributes:
        threads: worker threads, each with its own store connection.
        rate: requests per second per client address (0: no limit).
        burst: requests a client may make at once before the rate applies.
        entries_limit: body limit of the entry endpoints, in bytes (by default room for
            a row of the largest entry the format allows, ``relay.wire.MAX_ROW_BYTES``).
        cosignature_limit: body limit of the cosignature endpoint, in bytes.
    """

    threads: int = 4
    rate: float = 20.0
    burst: int = 100
    entries_limit: int = 2 << 20
    cosignature_limit: int = 64 << 10
    # issue 16 (evidence): bytes of one sealed evidence file, and of all those of a project
    max_evidence_size: int = MAX_EVIDENCE_SIZE
    evidence_quota: int = EVIDENCE_QUOTA


# --- errors: the one mapping from causes to statuses ----------------------------------------

_STATUSES: tuple[tuple[type[LedgerError], int, str], ...] = (
    (BodyTooLargeError, 413, "too_large"),
    (MalformedRequestError, 400, "malformed"),
    (NotReadableError, 404, "not_found"),
    (ProjectNotFoundError, 404, "not_found"),
    (NoSuchTileError, 404, "not_found"),
    (LedgerNotFoundError, 503, "unavailable"),
    (StoreDamagedError, 503, "unavailable"),  # the store holds records accord did not write
    (ConflictError, 409, "conflict"),
    (UnsignedCheckpointError, 422, "unknown_checkpoint"),
    (VerificationError, 400, "malformed"),
    (SignatureError, 403, "forbidden"),  # a bad signature, or not a member's (current) key
    (NotFoundError, 422, "rule"),  # an entry names a seq or party that does not exist
    (RuleViolationError, 422, "rule"),
    (UsageError, 400, "malformed"),
    (StorageUnavailableError, 503, "unavailable"),
)


def status_for(error: LedgerError) -> tuple[int, str]:
    """The HTTP status and error code for a ledger error, by its cause."""
    for cls, status, code in _STATUSES:
        if isinstance(error, cls):
            return status, code
    return 500, "internal"


def error_response(error: LedgerError) -> JSONResponse:
    """``{"error": CODE, "message": TEXT}``, plus ``seq``, ``checkpoint`` and ``hint``."""
    status, code = status_for(error)
    body: dict[str, Any] = {"error": code, "message": error.message}
    if code in ("rule", "forbidden"):
        body["seq"] = error.seq
    checkpoint = getattr(error, "checkpoint", None)
    if status == 409 and isinstance(checkpoint, str):
        body["checkpoint"] = checkpoint
    if error.hint:
        body["hint"] = error.hint
    return JSONResponse(body, status_code=status)


# --- the endpoints: plain functions of a store and a call --------------------------------


@dataclass(frozen=True)
class Call:
    """What a plain endpoint gets: path parameters, query, raw body, the signed parts."""

    message: Message
    path: dict[str, str]
    query: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str | None

    @property
    def slug(self) -> str:
        """The ``{slug}`` path parameter."""
        return self.path.get("slug", "")

    def param(self, name: str) -> str | None:
        """The query parameter ``name`` (None when absent).

        Raises:
            MalformedRequestError: it is given more than once.
        """
        values = [v for k, v in self.query if k == name]
        if len(values) > 1:
            raise MalformedRequestError(f"query parameter {name} is given more than once")
        return values[0] if values else None

    def require_type(self, allowed: tuple[str, ...]) -> None:
        """Refuse a body whose Content-Type is given and not one of ``allowed``.

        Raises:
            MalformedRequestError: another content type.
        """
        if self.content_type is not None:
            media = self.content_type.split(";", 1)[0].strip().lower()
            if media not in allowed:
                raise MalformedRequestError(f"the content type must be {allowed[0]}")


Handler = Callable[["RelayStore", Call], Response]


def _member(store: RelayStore, call: Call) -> str:
    """The slug of a read by a member (see ``relay/auth.py``); anyone else: 404."""
    slug = check_slug(call.slug)
    authenticate(store.state(slug), call.message, call.body)
    return slug


def post_project(store: RelayStore, call: Call) -> Response:
    """``POST /v1/projects``: a new project from its signed ``project.proposed`` row."""
    call.require_type(ENTRY_TYPES)
    entries = parse_rows(call.body, slug=None)
    slug = str(entries[0].data["project"])
    status, receipt = store.append(slug, entries)
    return JSONResponse(receipt, status_code=status, headers={"Location": f"/v1/projects/{slug}"})


def post_entries(store: RelayStore, call: Call) -> Response:
    """``POST /v1/projects/{slug}/entries``: 1..100 rows, applied atomically."""
    slug = check_slug(call.slug)
    call.require_type(ENTRY_TYPES)
    status, receipt = store.append(slug, parse_rows(call.body, slug=slug))
    return JSONResponse(receipt, status_code=status)


def get_entries(store: RelayStore, call: Call) -> Response:
    """``GET /v1/projects/{slug}/entries?after=N&limit=K``: bundle rows, JSON lines."""
    slug = _member(store, call)
    after = parse_count(call.param("after"), name="after", default=0, low=0, high=MAX_TREE_SIZE)
    limit = parse_count(call.param("limit"), name="limit", default=MAX_PAGE, low=1, high=MAX_PAGE)
    rows = reads.entries(store, slug, after=after, limit=limit)
    return Response(rows, media_type="application/x-ndjson", headers={"Cache-Control": "no-store"})


def get_checkpoint(store: RelayStore, call: Call) -> Response:
    """``GET /v1/projects/{slug}/checkpoint``: the latest note with the cosignatures over it."""
    note = cosigning.served_note(store, _member(store, call))
    headers = {"Cache-Control": "no-store"}
    return Response(note, media_type="text/plain; charset=utf-8", headers=headers)


def post_cosignature(store: RelayStore, call: Call) -> Response:
    """``POST /v1/projects/{slug}/cosignatures``: the served note plus the member's line."""
    slug = check_slug(call.slug)
    call.require_type(NOTE_TYPES)
    cosigning.cosign(store, slug, call.body)
    return Response(status_code=204)


def get_cosignatures(store: RelayStore, call: Call) -> Response:
    """``GET /v1/projects/{slug}/cosignatures``: each member's latest cosignature, whole."""
    found = cosigning.listing(store, _member(store, call))
    return JSONResponse({"cosignatures": found}, headers={"Cache-Control": "no-store"})


def get_tile(store: RelayStore, call: Call) -> Response:
    """``GET /v1/projects/{slug}/tile/...``: tlog-tiles of the latest signed tree."""
    slug = _member(store, call)
    data = reads.tile(store, slug, "tile/" + call.path.get("rest", ""))
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    return Response(data, media_type="application/octet-stream", headers=headers)


def get_invitation(store: RelayStore, call: Call) -> Response:
    """``GET /v1/projects/{slug}/invitations/{handle}``: read with the seat's invite key."""
    slug = check_slug(call.slug)
    authenticate_invite(store.state(slug), call.path.get("handle", ""), call.message, call.body)
    found = invitations.invitation(store, slug)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


def get_invitations(store: RelayStore, call: Call) -> Response:
    """``GET /v1/invitations``: the proposals waiting for the signing key's pinned seats."""
    fingerprint = authenticate_key(call.message, call.body)
    found = invitations.pinned(store, store.cache.invitations, fingerprint)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


# --- the app --------------------------------------------------------------------------------


def target_uri(scope: Scope) -> str:
    """The absolute request URI as the client sent it (what ``@target-uri`` covers)."""
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}" if port else str(server_host)
    raw = scope.get("raw_path")
    path = raw.split(b"?", 1)[0].decode("latin-1") if raw else quote(scope.get("path", "/"))
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")


def message_of(request: Request) -> Message:
    """The parts of ``request`` its signature covers."""
    scope = request.scope
    return Message(
        method=request.method,
        url=target_uri(scope),
        header_list=tuple(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or []
        ),
    )


def _guarded(handler: Handler, store: RelayStore, call: Call) -> Response:
    try:
        return handler(store, call)
    except LedgerError as exc:
        return error_response(exc)
    except Exception as exc:  # a bug: answer 500 and keep serving
        log.debug("unexpected error", exc_info=exc)
        return JSONResponse(
            {"error": "internal", "message": f"unexpected {type(exc).__name__}"}, status_code=500
        )


def _endpoint(workers: Workers[RelayStore], handler: Handler, limit: int) -> Any:
    async def run(request: Request) -> Response:
        try:
            body = await read_body(request, limit)
            scope = request.scope
            call = Call(
                message=message_of(request),
                path={k: str(v) for k, v in request.path_params.items()},
                query=tuple(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)),
                body=body,
                content_type=request.headers.get("content-type"),
            )
            return await workers.run(lambda store: _guarded(handler, store, call))
        except LedgerError as exc:  # the body, or a store that cannot be opened
            return error_response(exc)

    return run


async def _no_route(request: Request, exc: Exception) -> Response:
    status = int(getattr(exc, "status_code", 404))
    code = "method_not_allowed" if status == 405 else "not_found"
    return JSONResponse({"error": code, "message": "no such endpoint"}, status_code=status)


def create_app(
    open_store: Callable[[], RelayStore], key: RelayKey, config: RelayConfig | None = None
) -> Starlette:
    """Build the relay's ASGI app; its worker threads open their stores with ``open_store``.

    The lifespan stops the workers when the server stops; without a server (an in-process
    ASGI transport) call ``app.state.close()``.
    """
    config = config or RelayConfig()
    workers: Workers[RelayStore] = Workers(open_store, config.threads, close=lambda s: s.close())
    entries, cosign, prefix = config.entries_limit, config.cosignature_limit, "/v1/projects/{slug}"

    def route(path: str, handler: Handler, method: str, limit: int = 0) -> Route:
        return Route(path, _endpoint(workers, handler, limit), methods=[method])

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def relay_key(request: Request) -> Response:
        return JSONResponse({"public_key": key.public_key_line, "fingerprint": key.fingerprint})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(workers.close)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/relay/key", relay_key, methods=["GET"]),
            route("/v1/projects", post_project, "POST", entries),
            route(prefix + "/entries", get_entries, "GET"),
            route(prefix + "/entries", post_entries, "POST", entries),
            route(prefix + "/checkpoint", get_checkpoint, "GET"),
            route(prefix + "/cosignatures", get_cosignatures, "GET"),
            route(prefix + "/cosignatures", post_cosignature, "POST", cosign),
            route(prefix + "/tile/{rest:path}", get_tile, "GET"),
            route(prefix + "/invitations/{handle}", get_invitation, "GET"),
            route("/v1/invitations", get_invitations, "GET"),
            *evidence_routes(  # issue 16 (evidence)
                workers,
                EvidenceLimits(config.max_evidence_size, config.evidence_quota),
                prefix=prefix,
                message_of=message_of,
                error_response=error_response,
            ),
        ],
        middleware=[Middleware(Gate, limiter=RateLimiter(config.rate, config.burst), log=log)],
        exception_handlers={404: _no_route, 405: _no_route},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # a path with a slash too many is a 404, not a 307
    app.state.close = workers.close
    return app
