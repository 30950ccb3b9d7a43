"""The client of the relay's evidence endpoints: sealed files streamed up and down.

Requests are signed as ``relay/client.py`` signs reads (RFC 9421, the member's key); an
upload also signs its ``Content-Digest`` (``sha-256`` of the sealed file, computed before
sending), so the relay stores exactly the bytes the member sent. Bodies stream from and to
files: memory stays bounded whatever the size. Nothing served is trusted: the caller
decrypts to a temporary file and checks the signed size and SHA-256 before keeping it
(``commands/evidence.py``). Each transfer is bounded by httpx's timeouts per read and write
(:data:`TIMEOUT`) rather than the command's overall deadline, since a large file takes long.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx
from http_message_signatures import HTTPMessageSigner, algorithms

from ledger.errors import StorageUnavailableError, VerificationError
from relay.client import _error, _Resolver

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ledger.keys import Signer

TIMEOUT = 60.0  # seconds of each connect, read or write
PIECE = 256 << 10  # bytes read from a file per piece of the body


class _Answer:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content


class EvidenceClient:
    """The evidence endpoints of the relay at ``url``, as ``signer`` (a joined member)."""

    def __init__(
        self, url: str, signer: Signer, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.signer = signer
        self._http = httpx.Client(
            base_url=self.url,
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
            headers={"Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> EvidenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sign(self, request: httpx.Request, *, digest: bool) -> None:
        request.headers["Accord-Public-Key"] = self.signer.public_key_line
        covered = (
            ("@method", "@target-uri", "content-digest") if digest else ("@method", "@target-uri")
        )
        HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_Resolver(self.signer)
        ).sign(
            request,
            key_id=self.signer.fingerprint,
            covered_component_ids=covered,
            created=datetime.now(UTC),
            use_existing_digest=digest,
        )

    def _unreachable(self, exc: Exception) -> StorageUnavailableError:
        return StorageUnavailableError(
            f"cannot reach the relay at {self.url}: {type(exc).__name__}",
            hint="check the remote's URL (`accord remote list`) and the network",
        )

    def put(self, slug: str, seq: int, index: int, sealed: Path) -> None:
        """Upload the sealed file at ``sealed`` as evidence file ``index`` of ``seq``.

        Raises:
            LedgerError: the relay refused it (by status, as ``relay/client.py`` maps them),
                or could not be reached.
        """
        digest = hashlib.sha256()
        with sealed.open("rb") as handle:
            for piece in iter(lambda: handle.read(1 << 20), b""):
                digest.update(piece)
        size = sealed.stat().st_size
        value = base64.b64encode(digest.digest()).decode("ascii")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "Content-Digest": f"sha-256=:{value}:",
        }

        def pieces() -> Iterator[bytes]:
            with sealed.open("rb") as handle:
                yield from iter(lambda: handle.read(PIECE), b"")

        path = f"/v1/projects/{slug}/evidence/{seq}/{index}"
        request = self._http.build_request("PUT", path, content=pieces(), headers=headers)
        self._sign(request, digest=True)
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 300:
            raise _error(_Answer(response.status_code, response.content[:65536]), self.url)  # type: ignore[arg-type]

    def get(self, slug: str, seq: int, index: int, target: BinaryIO, *, limit: int) -> int:
        """Write the sealed evidence file ``index`` of ``seq`` to ``target``; return its size.

        At most ``limit`` bytes are read (what age can make of the signed size).

        Raises:
            NotFoundError: the relay holds none (or this party is not a member).
            VerificationError: the relay sends more than ``limit`` bytes.
        """
        path = f"/v1/projects/{slug}/evidence/{seq}/{index}"
        request = self._http.build_request("GET", path)
        self._sign(request, digest=False)
        size = 0
        try:
            response = self._http.send(request, stream=True)
            try:
                if response.status_code >= 300:
                    content = b"".join(_bounded(response.iter_raw(), 65536))
                    raise _error(_Answer(response.status_code, content), self.url)  # type: ignore[arg-type]
                for piece in response.iter_raw():
                    size += len(piece)
                    if size > limit:
                        raise VerificationError(
                            f"the relay sent more than {limit} bytes for evidence file {index} "
                            f"of deliverable {seq}: more than the signed file can make",
                            hint="the relay is misbehaving; tell its operator",
                        )
                    target.write(piece)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return size

    def listing(self, slug: str, seq: int) -> dict[int, int]:
        """The sizes of the sealed files the relay holds for ``seq``, by index (unverified)."""
        request = self._http.build_request("GET", f"/v1/projects/{slug}/evidence/{seq}")
        self._sign(request, digest=False)
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 300:
            raise _error(_Answer(response.status_code, response.content[:65536]), self.url)  # type: ignore[arg-type]
        try:
            rows: Any = json.loads(response.content)["evidence"]
            return {int(r["index"]): int(r["size"]) for r in rows}
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(f"the relay's evidence list is malformed ({exc})") from None


def _bounded(pieces: Iterator[bytes], limit: int) -> Iterator[bytes]:
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > limit:
            return
        yield piece
