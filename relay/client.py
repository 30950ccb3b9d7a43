"""The CLI's one HTTP client of a relay (docs/relay.md): nothing it returns is trusted.

:class:`RelayClient` speaks the relay's v1 API through httpx, behind this small interface
(swap the HTTP library here and nowhere else). Reads are signed with the member's key
(RFC 9421, ``ed25519``, ``keyid`` = OpenSSH fingerprint, covering ``@method`` and
``@target-uri``, with ``created``; see ``relay/auth.py``), and the member's public key line is
offered in ``Accord-Public-Key`` so that an invitee who has not joined can read. Answers come
back raw: rows parsed only as far as their own bytes go (canonical text, hash), notes as text,
for the caller to verify against its own verified state and pinned relay key. Transport errors
are :class:`~ledger.errors.StorageUnavailableError`; statuses map to ledger errors by cause.
Every response body is bounded (:data:`MAX_RESPONSE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from ledger import entry as entry_mod
from ledger.errors import (
    ConflictError,
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    StorageUnavailableError,
    UsageError,
    VerificationError,
)
from ledger.remotes import check_relay_url
from relay.wire import MAX_ROWS, MalformedRequestError, parse_rows

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Sequence

    from ledger.keys import Signer

MAX_RESPONSE = 32 << 20  # bytes of one answer (a page of PAGE entries)
PAGE = 100
NDJSON = "application/x-ndjson"
TIMEOUT = 15.0
_STORED_URL_HINT = (
    "give the relay's base URL, e.g. https://relay.example.org; for a remote already added: "
    "`accord remote remove NAME`, then add it again with a valid URL"
)


class RelayConflictError(ConflictError):
    """The relay's head moved (409); carries its current signed checkpoint, unverified."""

    def __init__(self, message: str, *, checkpoint: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.checkpoint = checkpoint


@dataclass(frozen=True)
class PostOutcome:
    """What the relay said to a post of entries: stored (201) or already held (200)."""

    stored: bool
    receipt: dict[str, Any]


@dataclass(frozen=True)
class _Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("the relay's answer is not UTF-8") from None


class _Resolver(HTTPSignatureKeyResolver):
    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def resolve_private_key(self, key_id: str) -> Any:
        return self._signer.private_key

    def resolve_public_key(self, key_id: str) -> Any:  # pragma: no cover - never verifies
        return self._signer.public


class _MemberAuth(httpx.Auth):
    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Accord-Public-Key"] = self._signer.public_key_line
        HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_Resolver(self._signer)
        ).sign(
            request,
            key_id=self._signer.fingerprint,
            covered_component_ids=("@method", "@target-uri"),
            body=request.content or None,
            created=datetime.now(UTC),
        )
        yield request


class RelayClient:
    """A relay at ``url``, read as ``signer`` (a member) when given.

    Args:
        url: the relay's base URL (``http://127.0.0.1:8470``).
        signer: the member whose key signs reads; None allows only the public endpoints.
        timeout: seconds per request.
        transport: an httpx transport (tests pass one that serves the app in process).
    """

    def __init__(
        self,
        url: str,
        signer: Signer | None = None,
        *,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = check_relay_url(url, hint=_STORED_URL_HINT)
        self.signer = signer
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> RelayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the endpoints ----------------------------------------------------------------------

    def relay_key(self) -> str:
        """The relay's public key line (``ssh-ed25519 AAAA...``), unverified."""
        body = self._json("GET", "/v1/relay/key", signed=False)
        line = body.get("public_key")
        if not isinstance(line, str) or len(line) > 200:
            raise VerificationError(f"the relay at {self.url} sent no public key")
        return line

    def entries(self, slug: str, *, after: int = 0) -> list[entry_mod.SignedEntry]:
        """Every entry after seq ``after``, page by page, as rows parsed (not verified).

        Raises:
            VerificationError: a row is malformed, of another project, or out of order.
        """
        found: list[entry_mod.SignedEntry] = []
        while True:
            page = self._rows(slug, after=after + len(found))
            found.extend(page)
            if not page:  # a page may hold fewer rows than asked (bounded in bytes)
                return found

    def _rows(self, slug: str, *, after: int) -> list[entry_mod.SignedEntry]:
        path = f"/v1/projects/{slug}/entries?after={after}&limit={PAGE}"
        body = self._send("GET", path, signed=True).content
        if not body.strip():
            return []
        try:
            rows = parse_rows(body, slug=slug)
        except MalformedRequestError as exc:
            raise VerificationError(f"the relay served a bad row of {slug!r}: {exc}") from None
        if rows[0].seq != after + 1:
            raise VerificationError(f"the relay served seq {rows[0].seq} after seq {after}")
        return rows

    def checkpoint(self, slug: str) -> str:
        """The relay's latest checkpoint note with its cosignatures, unverified."""
        return self._send("GET", f"/v1/projects/{slug}/checkpoint", signed=True).text

    def cosignatures(self, slug: str) -> list[dict[str, Any]]:
        """Each member's latest cosigned note (``party, key, size, time, note``), unverified."""
        body = self._json("GET", f"/v1/projects/{slug}/cosignatures", signed=True)
        rows = body.get("cosignatures")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise VerificationError("the relay's cosignature list is malformed")
        return rows

    def post_entries(self, slug: str, entries: Sequence[entry_mod.SignedEntry]) -> PostOutcome:
        """Post 1..100 signed entries; a lone ``project.proposed`` goes to ``POST /v1/projects``.

        Raises:
            RelayConflictError: the head moved (409).
            RuleViolationError: an entry breaks a rule (422).
            KeyNotValidError: a bad signature or a key that is not a member's (403).
        """
        if not 1 <= len(entries) <= MAX_ROWS:
            raise UsageError(f"post 1 to {MAX_ROWS} entries at once")
        # UTF-8 as signed, never \u escapes (12 bytes for a 4-byte character), as the relay
        # serves rows (relay.wire.bundle_line): the largest entry's row stays small.
        lines = [
            json.dumps({"entry": e.text, "sig": e.sig, "hash": e.hash}, ensure_ascii=False)
            for e in entries
        ]
        content = ("\n".join(lines) + "\n").encode("utf-8")
        genesis = len(entries) == 1 and entries[0].type == "project.proposed"
        path = "/v1/projects" if genesis else f"/v1/projects/{slug}/entries"
        response = self._send("POST", path, signed=False, content=content, content_type=NDJSON)
        return PostOutcome(stored=response.status_code == 201, receipt=_object(response))

    def post_cosignature(self, slug: str, note: str) -> None:
        """Post the served checkpoint note plus this member's cosignature line."""
        self._send(
            "POST",
            f"/v1/projects/{slug}/cosignatures",
            signed=False,
            content=note.encode("utf-8"),
            content_type="text/plain; charset=utf-8",
        )

    # --- the one place that sends ------------------------------------------------------------

    def _json(self, method: str, path: str, *, signed: bool) -> dict[str, Any]:
        return _object(self._send(method, path, signed=signed))

    def _send(
        self,
        method: str,
        path: str,
        *,
        signed: bool,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> _Answer:
        auth: httpx.Auth | None = None
        if signed:
            if self.signer is None:
                raise UsageError("reading a project from a relay needs a member's key (--as)")
            auth = _MemberAuth(self.signer)
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            with self._http.stream(
                method, path, content=content, headers=headers, auth=auth
            ) as response:
                body = _bounded(response.iter_bytes())
        except httpx.HTTPError as exc:
            raise StorageUnavailableError(
                f"cannot reach the relay at {self.url}: {type(exc).__name__}",
                hint="check the remote's URL (`accord remote list`) and the network",
            ) from None
        answered = _Answer(response.status_code, body)
        if answered.status_code >= 300:
            raise _error(answered, self.url)
        return answered


def _bounded(chunks: Iterator[bytes]) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data.extend(chunk)
        if len(data) > MAX_RESPONSE:
            raise StorageUnavailableError(f"the relay's answer is over {MAX_RESPONSE} bytes")
    return bytes(data)


def _object(response: _Answer) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise VerificationError("the relay's answer is not a JSON object")
    return body


def _error(response: _Answer, url: str) -> LedgerError:
    """The ledger error for a relay's error status (the inverse of relay/server.py)."""
    try:
        body: Any = json.loads(response.content)
    except (ValueError, RecursionError):
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message", ""))[:500] or f"HTTP {response.status_code}"
    seq = body.get("seq") if type(body.get("seq")) is int else None
    hint = body.get("hint") if isinstance(body.get("hint"), str) else None
    status = response.status_code
    text = f"the relay at {url} answered {status}: {message}"
    if status == 404:
        return NotFoundError(
            text, hint="the relay serves a project only to its members: check --as and the slug"
        )
    if status == 409:
        checkpoint = body.get("checkpoint")
        return RelayConflictError(
            text, checkpoint=checkpoint if isinstance(checkpoint, str) else None, hint=hint
        )
    if status == 403:
        return KeyNotValidError(text, seq=seq, hint=hint)
    if status in (400, 413, 422):
        return RuleViolationError(text, seq=seq, hint=hint)
    return StorageUnavailableError(text, hint=hint or "try again later")
