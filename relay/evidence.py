"""The relay's evidence endpoints: sealed evidence files, streamed in and out (docs/relay.md).

``PUT /v1/projects/{slug}/evidence/{seq}/{index}`` stores the age ciphertext of evidence file
``index`` (1-based) of deliverable ``seq``; ``GET`` of the same path serves it;
``GET /v1/projects/{slug}/evidence/{seq}`` lists what is stored for a deliverable. All three
answer joined members only: a request signed (RFC 9421, ``relay/auth.py``) by a current key
of a joined member; anyone else gets the 404 of a project that does not exist. A ``PUT``
signs ``content-digest`` (``sha-256``) too, and the body is hashed as it streams in and
compared with it before anything becomes visible.

An upload is refused when the seq is not a stored ``deliverable.submitted`` with that
evidence index (404), the deliverable was rejected (422), ``Content-Length`` is missing
(411), the body is over the per-file limit (413), larger or smaller than age can make of
the signed plaintext size (422), the project's quota would be exceeded (507), or the body
ends early, is not age, or does not match its digest (400). Bodies stream in both directions
a chunk at a time (``relay/evidence_store.py``): memory stays bounded for any size.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ledger import rules
from ledger.errors import LedgerError, NotFoundError, RuleViolationError
from ledger.sealing import (
    AGE_MAGIC,
    SignedFile,
    ciphertext_bounds,
    evidence_of,
    refuse_rejected,
    signed_file,
)
from relay.auth import Message, authenticate, authenticate_stream
from relay.errors import BodyTooLargeError, MalformedRequestError, NotReadableError
from relay.evidence_store import CHUNK_BYTES, EvidenceStore, StoredBlob
from relay.wire import check_slug

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

    from relay.gate import Workers
    from relay.store import RelayStore

log = logging.getLogger("accord.relay")
MAX_EVIDENCE_SIZE = 100 << 20  # bytes of one sealed file, by default
EVIDENCE_QUOTA = 1 << 30  # bytes of sealed files per project, by default
_DIGEST = re.compile(r"\Asha-256=:([A-Za-z0-9+/]{43}=):\Z")
_stores: weakref.WeakKeyDictionary[RelayStore, EvidenceStore] = weakref.WeakKeyDictionary()


class LengthRequiredError(LedgerError):
    """An upload without ``Content-Length`` (411)."""


class QuotaExceededError(LedgerError):
    """An upload beyond the project's evidence quota (507)."""


class NoSuchEvidenceError(NotFoundError):
    """Not a stored deliverable with that evidence file, or nothing stored for it (404)."""


_STATUSES: tuple[tuple[type[LedgerError], int, str], ...] = (
    (LengthRequiredError, 411, "length_required"),
    (QuotaExceededError, 507, "quota"),
    (NoSuchEvidenceError, 404, "not_found"),
)


@dataclass(frozen=True)
class EvidenceLimits:
    """The relay's limits on evidence: bytes per sealed file, and per project."""

    max_size: int = MAX_EVIDENCE_SIZE
    quota: int = EVIDENCE_QUOTA


def blobs(store: RelayStore) -> EvidenceStore:
    """The evidence tables of a worker's store (opened once per store)."""
    found = _stores.get(store)
    if found is None:
        found = _stores[store] = EvidenceStore(store.ledger)
    return found


def _member(store: RelayStore, slug: str, message: Message, *, upload: bool) -> rules.ProjectState:
    """The project's state, when a joined member's current key signed ``message``."""
    state = store.state(slug)
    handle = authenticate_stream(state, message) if upload else authenticate(state, message, b"")
    member = state.members.get(handle)
    if member is None or member.status != rules.JOINED:
        raise NotReadableError  # an invitee reads its proposal, not evidence
    return state


def _evidence(state: rules.ProjectState, seq: int, index: int) -> SignedFile:
    try:
        return signed_file(state, seq, index)
    except NotFoundError as exc:
        raise NoSuchEvidenceError(exc.message) from None


@dataclass(frozen=True)
class _Upload:
    upload_id: str
    slug: str
    seq: int
    index: int
    length: int


def _plan_upload(
    store: RelayStore,
    message: Message,
    *,
    slug: str,
    seq: int,
    index: int,
    limits: EvidenceLimits,
) -> tuple[_Upload, bytes]:
    """Check who uploads what, and its size; start the upload; return it and the digest."""
    state = _member(store, slug, message, upload=True)  # anyone else: 404, before all else
    length, expected = _length(message), _digest(message)
    signed = _evidence(state, seq, index)
    refuse_rejected(state, seq)
    if length > limits.max_size:
        raise BodyTooLargeError(
            f"the sealed file is {length} bytes, over the relay's limit of {limits.max_size}"
        )
    least, most = ciphertext_bounds(signed.size)
    if not least <= length <= most:
        raise RuleViolationError(
            f"a sealed file of {length} bytes cannot hold evidence file {index} of deliverable "
            f"{seq} ({signed.size} bytes signed): age makes {least}..{most} bytes of it",
            seq=seq,
        )
    tables = blobs(store)
    used = tables.used(slug, besides=(seq, index))
    if used + length > limits.quota:
        raise QuotaExceededError(
            f"project {slug!r} would hold {used + length} bytes of evidence, over the relay's "
            f"quota of {limits.quota}",
            hint="ask the relay's operator for a larger --evidence-quota",
        )
    return _Upload(tables.begin(slug), slug, seq, index, length), expected


def _stored(store: RelayStore, message: Message, slug: str, seq: int, index: int) -> StoredBlob:
    state = _member(store, slug, message, upload=False)
    _evidence(state, seq, index)
    found = blobs(store).blob(slug, seq, index)
    if found is None:
        raise NoSuchEvidenceError(
            f"the relay holds no evidence file {index} of deliverable {seq} of {slug!r}"
        )
    return found


def _listing(store: RelayStore, message: Message, slug: str, seq: int) -> dict[int, int]:
    state = _member(store, slug, message, upload=False)
    try:
        evidence_of(state, seq)
    except NotFoundError as exc:
        raise NoSuchEvidenceError(exc.message) from None
    return blobs(store).listing(slug, seq)


def _path_number(value: Any, name: str) -> int:
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) < 1:
        raise NoSuchEvidenceError(f"{name} {text[:20]!r} is not a positive number")
    return int(text)


def _length(message: Message) -> int:
    declared = message.header("content-length")
    if declared is None:
        raise LengthRequiredError(
            "an evidence upload needs Content-Length",
            hint="send the sealed file with its length, not chunked",
        )
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
        raise MalformedRequestError("Content-Length is not a number")
    return int(declared)


def _digest(message: Message) -> bytes:
    header = (message.header("content-digest") or "").strip()
    found = _DIGEST.match(header)
    if found is None:
        raise MalformedRequestError(
            "an evidence upload needs Content-Digest: sha-256=:BASE64: (and signs it)"
        )
    return base64.b64decode(found.group(1))


def evidence_routes(
    workers: Workers[RelayStore],
    limits: EvidenceLimits,
    *,
    prefix: str,
    message_of: Callable[[Request], Message],
    error_response: Callable[[LedgerError], Response],
) -> list[Route]:
    """The evidence routes under ``prefix`` (``/v1/projects/{slug}``)."""

    def failed(error: LedgerError) -> Response:
        for cls, status, code in _STATUSES:
            if isinstance(error, cls):
                body = {"error": code, "message": error.message}
                if error.hint:
                    body["hint"] = error.hint
                return JSONResponse(body, status_code=status)
        return error_response(error)

    async def put(request: Request) -> Response:
        upload: _Upload | None = None
        try:
            slug = check_slug(str(request.path_params.get("slug", "")))
            seq = _path_number(request.path_params.get("seq"), "seq")
            index = _path_number(request.path_params.get("index"), "index")
            message = message_of(request)
            started, expected = await workers.run(
                lambda s: _plan_upload(s, message, slug=slug, seq=seq, index=index, limits=limits)
            )
            upload = started
            size, sha256 = await _receive(request, workers, started, expected)
            await workers.run(
                lambda s: blobs(s).commit(
                    started.upload_id, slug=slug, seq=seq, index=index, size=size, sha256=sha256
                )
            )
            upload = None
            body = {"project": slug, "seq": seq, "index": index, "size": size}
            return JSONResponse(body, status_code=201)
        except LedgerError as exc:
            return failed(exc)
        except ClientDisconnect:
            return failed(MalformedRequestError("the upload ended before its Content-Length"))
        except Exception as exc:  # a bug: answer 500 and keep serving
            return _internal(exc)
        finally:
            if upload is not None:
                dropped = upload
                await workers.run(lambda s: blobs(s).abort(dropped.upload_id))

    async def get(request: Request) -> Response:
        try:
            slug = check_slug(str(request.path_params.get("slug", "")))
            seq = _path_number(request.path_params.get("seq"), "seq")
            index = _path_number(request.path_params.get("index"), "index")
            message = message_of(request)
            found = await workers.run(lambda s: _stored(s, message, slug, seq, index))
        except LedgerError as exc:
            return failed(exc)
        except Exception as exc:
            return _internal(exc)

        def reader(n: int) -> Callable[[RelayStore], bytes]:
            return lambda s: blobs(s).chunk(found.upload_id, n)

        async def chunks() -> AsyncIterator[bytes]:
            for n in range(found.chunks):
                data = await workers.run(reader(n))
                if not data:
                    return  # replaced while read: the client sees a short body and refuses it
                yield data

        headers = {"Content-Length": str(found.size), "Cache-Control": "no-store"}
        return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)

    async def listing(request: Request) -> Response:
        try:
            slug = check_slug(str(request.path_params.get("slug", "")))
            seq = _path_number(request.path_params.get("seq"), "seq")
            message = message_of(request)
            found = await workers.run(lambda s: _listing(s, message, slug, seq))
        except LedgerError as exc:
            return failed(exc)
        except Exception as exc:
            return _internal(exc)
        rows = [{"index": i, "size": size} for i, size in sorted(found.items())]
        return JSONResponse({"evidence": rows}, headers={"Cache-Control": "no-store"})

    path = prefix + "/evidence/{seq}"
    return [
        Route(path, listing, methods=["GET"]),
        Route(path + "/{index}", get, methods=["GET"]),
        Route(path + "/{index}", put, methods=["PUT"]),
    ]


def _internal(exc: Exception) -> Response:
    log.debug("unexpected error", exc_info=exc)
    body = {"error": "internal", "message": f"unexpected {type(exc).__name__}"}
    return JSONResponse(body, status_code=500)


async def _receive(
    request: Request, workers: Workers[RelayStore], upload: _Upload, expected: bytes
) -> tuple[int, str]:
    """Stream the body into the upload's chunks; return its size and SHA-256 (hex).

    Raises:
        MalformedRequestError: it ends early, runs past Content-Length, is not age, or does
            not match its signed digest.
    """
    digest = hashlib.sha256()
    size = n = 0
    buffer = bytearray()

    async def flush() -> None:
        nonlocal n
        data = bytes(buffer)
        buffer.clear()
        number = n
        n += 1
        await workers.run(lambda s: blobs(s).write(upload.upload_id, number, data))

    async for part in request.stream():
        size += len(part)
        if size > upload.length:
            raise MalformedRequestError("the body runs past its Content-Length")
        digest.update(part)
        buffer.extend(part)
        if n == 0 and len(buffer) >= len(AGE_MAGIC) and not buffer.startswith(AGE_MAGIC):
            raise MalformedRequestError("the body is not an age file (age-encryption.org/v1)")
        while len(buffer) >= CHUNK_BYTES:
            rest = bytes(buffer[CHUNK_BYTES:])
            del buffer[CHUNK_BYTES:]
            await flush()
            buffer.extend(rest)
    if size != upload.length:
        raise MalformedRequestError(
            f"the upload ended after {size} of its {upload.length} bytes (Content-Length)"
        )
    if not bytes(buffer[: len(AGE_MAGIC)]).startswith(AGE_MAGIC) and n == 0:
        raise MalformedRequestError("the body is not an age file (age-encryption.org/v1)")
    if buffer:
        await flush()
    if digest.digest() != expected:
        raise MalformedRequestError("the body does not match its signed Content-Digest")
    return size, digest.hexdigest()
