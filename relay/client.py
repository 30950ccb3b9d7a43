"""The CLI's one HTTP client of a relay (docs/relay.md): nothing it returns is trusted.

:class:`RelayClient` speaks the relay's v1 API through httpx, behind this small interface
(swap the HTTP library here and nowhere else). Reads are signed with the member's key
(RFC 9421, ``ed25519``, ``keyid`` = OpenSSH fingerprint, covering ``@method`` and
``@target-uri``, with ``created``; see ``relay/auth.py``), and the member's public key line is
offered in ``Accord-Public-Key`` so that an invitee who has not joined can read. Answers come
back raw: rows parsed only as far as their own bytes go (canonical text, hash), notes as text,
for the caller to verify against its own verified state and pinned relay key. Transport errors
are :class:`~ledger.errors.StorageUnavailableError`; statuses map to ledger errors by cause.
Every response body is bounded (:data:`MAX_RESPONSE`, uncompressed: the client asks for no
content coding and refuses one), and so is the time: every request of a command shares one
:class:`Deadline` (``ACCORD_RELAY_DEADLINE``, default :data:`DEFAULT_DEADLINE` seconds): no
request starts after it, and each is waited for (in a thread of its own) at most what remains,
so a relay that drips its headers or body cannot hold a command past it. Entries are
fetched page by page up to a size the caller names (the relay's signed tree size), never
beyond it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from ledger import entry as entry_mod
from ledger.errors import (
    DeadlineExceededError,
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    StorageUnavailableError,
    UsageError,
    VerificationError,
)
from relay.errors import MalformedRequestError, RelayConflictError
from relay.remotes import check_relay_url
from relay.wire import MAX_ROWS, parse_rows

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Sequence

    from ledger.keys import Signer

MAX_RESPONSE = 32 << 20  # bytes of one answer (a page of PAGE entries)
PAGE = 100
NDJSON = "application/x-ndjson"
TIMEOUT = 15.0  # seconds of httpx's connect, read, write and pool timeouts (each, per request)
_STORED_URL_HINT = (
    "give the relay's base URL, e.g. https://relay.example.org; for a remote already added: "
    "`accord remote remove NAME`, then add it again with a valid URL"
)
DEADLINE_ENV = "ACCORD_RELAY_DEADLINE"
DEFAULT_DEADLINE = 60.0  # seconds of relay traffic one command may take in all
MAX_DEADLINE = 86400.0
_SECONDS = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,3})?\Z")


class Deadline:
    """The overall time a command's relay traffic may take, shared by all its requests.

    The clock starts at the first request (never while a passphrase is typed), so one
    command, whatever it asks of the relay and however many times, ends at the deadline.

    Args:
        seconds: the deadline; None reads ``ACCORD_RELAY_DEADLINE`` (default
            :data:`DEFAULT_DEADLINE`) when the clock starts.
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._ends: float | None = None

    @staticmethod
    def from_env(env: str = DEADLINE_ENV, default: float = DEFAULT_DEADLINE) -> float:
        """The deadline set by ``env`` (``ACCORD_RELAY_DEADLINE``; seconds), or ``default``.

        Raises:
            UsageError: the variable is not a number of seconds in (0, 86400].
        """
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        if not _SECONDS.match(raw) or not 0 < float(raw) <= MAX_DEADLINE:
            raise UsageError(
                f"{env} must be a number of seconds above 0 and at most "
                f"{MAX_DEADLINE:g}, not {raw[:40]!r}",
                hint=f"for example {env}=120, or unset it for {default:g} s",
            )
        return float(raw)

    def remaining(self) -> float:
        """Seconds left (starting the clock at the first call); 0 or less once passed.

        Raises:
            UsageError: ``ACCORD_RELAY_DEADLINE`` is malformed.
        """
        if self._ends is None:
            if self.seconds is None:
                self.seconds = self.from_env()
            self._ends = time.monotonic() + self.seconds
        return self._ends - time.monotonic()

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0


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
        timeout: seconds of each of httpx's timeouts (connect, read, write, pool).
        transport: an httpx transport (tests pass one that serves the app in process).
        deadline: the command's overall deadline, shared with its other clients (default: a
            new one from ``ACCORD_RELAY_DEADLINE``).
    """

    def __init__(
        self,
        url: str,
        signer: Signer | None = None,
        *,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.url = check_relay_url(url, hint=_STORED_URL_HINT)
        self.signer = signer
        self.deadline = deadline if deadline is not None else Deadline()
        self._timeout = timeout
        self._abandoned = False  # a request outlived the deadline
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        """Close the connections (one still read by an abandoned request is left to it)."""
        if not self._abandoned:
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

    def pages(self, slug: str, *, after: int, upto: int) -> Iterator[list[entry_mod.SignedEntry]]:
        """The entries ``after+1..upto``, page by page, as rows parsed (not verified).

        ``upto`` is the tree size the relay signed: nothing beyond it is asked for or
        accepted. Each page must start at the seq after the last one, hold consecutive
        seqs, hold at most what was asked (pages may be shorter: the relay pages by bytes
        too), and not be empty while ``upto`` is not reached. Only one page is held at a time.

        Raises:
            VerificationError: a row is malformed, of another project, out of order or beyond
                ``upto``, or the relay served fewer entries than it signed.
        """
        while after < upto:
            limit = min(PAGE, upto - after)
            page = self._rows(slug, after=after, limit=limit)
            if not page:
                raise VerificationError(
                    f"the relay signed {upto} entries of {slug!r} but served {after}"
                )
            if len(page) > limit:
                raise VerificationError(
                    f"the relay served {len(page)} entries of {slug!r} after seq {after} where "
                    f"{limit} were asked (its signed tree has {upto})"
                )
            yield page
            after = page[-1].seq

    def entries(self, slug: str, *, after: int, upto: int) -> list[entry_mod.SignedEntry]:
        """The entries ``after+1..upto`` in one list (a bounded range; see :meth:`pages`).

        Raises:
            VerificationError: as for :meth:`pages`.
        """
        return [item for page in self.pages(slug, after=after, upto=upto) for item in page]

    def _rows(self, slug: str, *, after: int, limit: int) -> list[entry_mod.SignedEntry]:
        path = f"/v1/projects/{slug}/entries?after={after}&limit={limit}"
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

    def invitation(self, slug: str, handle: str) -> dict[str, Any]:
        """The invitation to seat ``handle`` of ``slug``, read with its invite key, unverified."""
        return self._json("GET", f"/v1/projects/{slug}/invitations/{handle}", signed=True)

    def invitations(self) -> list[dict[str, Any]]:
        """The proposals waiting for seats pinned to the signer's key, unverified."""
        body = self._json("GET", "/v1/invitations", signed=True)
        rows = body.get("invitations")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise VerificationError("the relay's invitation list is malformed")
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
        remaining = self.deadline.remaining()
        if remaining <= 0 or self._abandoned:
            raise self._late()
        # The exchange runs in a daemon thread and this one waits at most what remains: a
        # relay that drips its status line or headers (where httpx's timeouts are per read
        # and nothing here could look at the clock) cannot hold the command either.
        box: queue.SimpleQueue[tuple[_Answer | None, BaseException | None]] = queue.SimpleQueue()

        def exchange() -> None:
            try:
                box.put((self._exchange(method, path, auth, headers, content, remaining), None))
            except BaseException as exc:  # handed to the waiting thread, raised there
                box.put((None, exc))

        threading.Thread(target=exchange, name="accord-relay-request", daemon=True).start()
        try:
            answered, error = box.get(timeout=remaining)
        except queue.Empty:
            self._abandoned = True  # the thread ends with its read timeout, or with the process
            raise self._late() from None
        if error is not None:
            raise error
        assert answered is not None  # noqa: S101 - one of the two is set
        if answered.status_code >= 300:
            raise _error(answered, self.url)
        return answered

    def _exchange(
        self,
        method: str,
        path: str,
        auth: httpx.Auth | None,
        headers: dict[str, str],
        content: bytes | None,
        remaining: float,
    ) -> _Answer:
        try:
            with self._http.stream(
                method,
                path,
                content=content,
                headers=headers,
                auth=auth,
                timeout=min(self._timeout, remaining),
            ) as response:
                coding = response.headers.get("Content-Encoding", "identity").strip().lower()
                if coding != "identity":
                    raise VerificationError(
                        f"the relay at {self.url} answered with Content-Encoding "
                        f"{coding[:40]!r}, though the client asks for none"
                    )
                body = self._bounded(response.iter_bytes())
        except httpx.HTTPError as exc:
            if self.deadline.passed():
                raise self._late() from None
            raise StorageUnavailableError(
                f"cannot reach the relay at {self.url}: {type(exc).__name__}",
                hint="check the remote's URL (`accord remote list`) and the network",
            ) from None
        return _Answer(response.status_code, body)

    def _bounded(self, chunks: Iterator[bytes]) -> bytes:
        """The answer's bytes: at most :data:`MAX_RESPONSE`, all in before the deadline."""
        data = bytearray()
        for chunk in chunks:
            data.extend(chunk)
            if len(data) > MAX_RESPONSE:
                raise StorageUnavailableError(
                    f"the relay's answer is over {MAX_RESPONSE} bytes",
                    hint=f"the relay at {self.url} is misbehaving; tell its operator",
                )
            if self.deadline.passed():
                raise self._late()
        return bytes(data)

    def _late(self) -> DeadlineExceededError:
        seconds = self.deadline.seconds or DEFAULT_DEADLINE
        return DeadlineExceededError(
            f"the relay at {self.url} did not answer within the deadline of {seconds:g} s "
            "for this command's relay traffic",
            hint=f"the relay is slow or stalls: give it longer with {DEADLINE_ENV}=SECONDS, or "
            "try again later",
        )


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
    relay_hint = body.get("hint") if isinstance(body.get("hint"), str) else None
    # The relay's own hint is its words, not accord's: bounded, and said to be the relay's.
    hint = f"the relay says: {relay_hint[:300]}" if relay_hint else None
    status = response.status_code
    text = f"the relay at {url} answered {status}: {message}"
    if status == 404:
        return NotFoundError(
            text,
            hint="the relay serves a project only to its members and pinned invitees: check "
            "--as and the slug (an invitee with an invite line joins with `accord join LINE`)",
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
