"""Who may read a project, and who may see a conflict's checkpoint.

A read request is signed with Ed25519 (``http-message-signatures``), covering ``"@method"``
and ``"@target-uri"`` (and ``"content-digest"`` when there is a body), with ``created``
within :data:`MAX_SKEW` of the relay's clock either way and ``keyid`` = the key's OpenSSH
SHA256 fingerprint. The keys are the log's own: the current key of each signer of every
joined member, and the key pinned in the proposal for every invited member who has not joined
yet (it sends its public key line in ``Accord-Public-Key``, since the log holds only the
fingerprint). An invitee whose seat has an invite reads its invitation (and only that) with
the invite key (:func:`authenticate_invite`); anyone may ask for the invitations pinned to
its own key (:func:`authenticate_key`). Every failure is the same
:class:`~relay.errors.NotReadableError` as a project that does not exist. A conflict's
checkpoint goes only to an entry signed by a key the project knows for its signer
(:func:`check_signer`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger.errors import KeyNotValidError, LedgerError, VerificationError
from relay.errors import NotReadableError

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_SKEW = datetime.timedelta(seconds=300)
PUBLIC_KEY_HEADER = "accord-public-key"
MAX_SIGNATURE_HEADER = 4096


@dataclass(frozen=True)
class Message:
    """The parts of a request a signature covers: method, absolute target URI, headers."""

    method: str
    url: str
    header_list: tuple[tuple[str, str], ...]

    @property
    def headers(self) -> _Headers:
        """The header fields, in wire order (what the library's resolver reads)."""
        return _Headers(self.header_list)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        for key, value in self.header_list:
            if key.lower() == name:
                return value
        return None


class _Headers:
    def __init__(self, items: tuple[tuple[str, str], ...]) -> None:
        self._items = items

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._items)


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = keys

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        key = self._keys.get(key_id)
        if key is None:
            raise NotReadableError
        return key

    def resolve_private_key(self, key_id: str) -> Any:  # pragma: no cover - never signs
        raise NotReadableError


class _Verifier(HTTPMessageVerifier):
    max_clock_skew = MAX_SKEW  # ``created`` may be up to 300 s ahead (and, with max_age 0, behind)


class ReaderKeys(Mapping[str, Ed25519PublicKey]):
    """The readers' keys by fingerprint, each parsed only when looked up.

    A request names one key (its ``keyid``): verifying it parses that key alone, whatever
    the number of members and signers of the project.
    """

    def __init__(self, lines: dict[str, str]) -> None:
        self._lines = lines

    def __getitem__(self, fingerprint: str) -> Ed25519PublicKey:
        key = _public_key(self._lines[fingerprint])
        if key is None:
            raise KeyError(fingerprint)
        return key

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)


def reader_keys(state: rules.ProjectState, message: Message) -> tuple[ReaderKeys, dict[str, str]]:
    """The readers' keys by fingerprint, and their handles by fingerprint.

    Joined members read with the current key of each of their signers (a removed signer's
    or a revoked key reads nothing). An invited member who has not joined reads
    with the key pinned in the proposal, when the request carries its public key line in
    ``Accord-Public-Key`` and that line has the pinned fingerprint. No key is parsed here
    but the offered one, once (see :class:`ReaderKeys`).
    """
    lines: dict[str, str] = {}
    handles: dict[str, str] = {}
    offered = message.header(PUBLIC_KEY_HEADER)
    offered_key: str | None = None  # the offered line's fingerprint, once computed
    for handle, member in sorted(state.members.items()):
        if member.status == rules.JOINED:
            for signer_key, line in member.current_keys().items():
                lines[signer_key], handles[signer_key] = line, handle
        elif member.status == rules.INVITED and member.pinned and offered and len(offered) < 200:
            if offered_key is None:
                public = _public_key(offered)
                offered_key = ed25519.fingerprint(public) if public is not None else ""
            if offered_key == member.pinned:
                lines[member.pinned], handles[member.pinned] = offered, handle
    return ReaderKeys(lines), handles


def authenticate(state: rules.ProjectState, message: Message, body: bytes) -> str:
    """Return the handle of the member whose key signed ``message``.

    Raises:
        NotReadableError: no signature, a bad or stale one, or not a reader's key.
    """
    _signature_headers(message)
    keys, handles = reader_keys(state, message)
    return handles[_signed_by(message, body, keys)]


def authenticate_invite(
    state: rules.ProjectState, handle: str, message: Message, body: bytes
) -> None:
    """Check that ``message`` is signed by the invite key of ``handle``'s seat, still open.

    The seat must have an invite (its fingerprint is in the proposal), its member must have
    neither joined nor declined, and the project must still be proposed (not cancelled):
    a used invite, another seat's invite or any other key reads nothing. The invite's
    public key line comes in ``Accord-Public-Key`` (the log holds only its fingerprint).

    Raises:
        NotReadableError: anything else, exactly as for a project that does not exist.
    """
    _signature_headers(message)
    member = state.members.get(handle)
    if (
        state.status != rules.PROPOSED
        or member is None
        or member.status != rules.INVITED
        or member.invite is None
    ):
        raise NotReadableError
    fingerprint, line = offered_key(message)
    if fingerprint != member.invite:
        raise NotReadableError
    _signed_by(message, body, ReaderKeys({fingerprint: line}))


def authenticate_key(message: Message, body: bytes) -> str:
    """Return the fingerprint of the key offered in ``Accord-Public-Key`` that signed ``message``.

    For requests about the signer itself (``GET /v1/invitations``): whoever signs learns
    only what concerns its own key.

    Raises:
        NotReadableError: no signature, a bad or stale one, or no (strong) key offered.
    """
    _signature_headers(message)
    fingerprint, line = offered_key(message)
    return _signed_by(message, body, ReaderKeys({fingerprint: line}))


def offered_key(message: Message) -> tuple[str, str]:
    """The fingerprint and line of the public key offered in ``Accord-Public-Key``.

    Raises:
        NotReadableError: none, too long, or not a strong Ed25519 key line.
    """
    offered = message.header(PUBLIC_KEY_HEADER)
    public = _public_key(offered) if offered is not None and len(offered) < 200 else None
    if offered is None or public is None:
        raise NotReadableError
    return ed25519.fingerprint(public), offered


def _signature_headers(message: Message) -> None:
    for name in ("signature", "signature-input"):
        value = message.header(name)
        if value is None or len(value) > MAX_SIGNATURE_HEADER:
            raise NotReadableError


# issue 16 (evidence): a streamed body is checked against its signed Content-Digest by the
# endpoint as it arrives (relay/evidence.py); here only the headers are verified.
def authenticate_stream(state: rules.ProjectState, message: Message) -> str:
    """Return the handle of the member whose key signed ``message`` and its Content-Digest.

    Raises:
        NotReadableError: no signature, a bad or stale one, not a reader's key, or a
            signature that does not cover ``content-digest``.
    """
    _signature_headers(message)
    keys, handles = reader_keys(state, message)
    return handles[_signed_by(message, b"", keys, digest=True)]


def _signed_by(message: Message, body: bytes, keys: ReaderKeys, *, digest: bool = False) -> str:
    """The fingerprint (``keyid``) of the one key of ``keys`` whose signature verifies.

    Raises:
        NotReadableError: no valid, fresh signature by one of ``keys``.
    """
    covered = ["@method", "@target-uri"] + (["content-digest"] if body or digest else [])
    verifier = _Verifier(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(keys))
    try:
        results = verifier.verify(
            message,
            max_age=datetime.timedelta(0),
            require_components=covered,
            body=body or None,
        )
    except (HTTPMessageSignaturesException, LedgerError, ValueError, TypeError):
        raise NotReadableError from None
    if len(results) != 1:
        raise NotReadableError
    key_id = results[0].parameters.get("keyid")
    if not isinstance(key_id, str) or key_id not in keys:
        raise NotReadableError
    return key_id


def _public_key(line: str) -> Ed25519PublicKey | None:
    try:
        return ed25519.parse_public_key_line(line)
    except LedgerError:
        return None


def check_signer(state: rules.ProjectState, item: entry_mod.SignedEntry) -> None:
    """Check that ``item`` is signed by a key the project knows for its signer.

    This guards what a conflict reveals (the current checkpoint) from anyone else.

    Raises:
        KeyNotValidError: the signer is not a member, or the key is not one of its keys.
        SignatureInvalidError: the signature does not verify.
    """
    member = state.members.get(item.by)
    body = item.data.get("body")
    # Only the entries that introduce their own signing key carry it: a signer.added or a
    # key.rotated carries another key, never the one that signs it.
    own_key = item.type in ("project.proposed", "member.joined", "member.declined")
    offered = body.get("public_key") if own_key and isinstance(body, dict) else None
    if member is None:
        raise KeyNotValidError(f"{item.by!r} is not a member of {state.slug!r}", seq=item.seq)
    joining = item.type in ("member.joined", "member.declined")
    if joining and member.status == rules.INVITED and isinstance(body, dict):
        rules.check_invite(state, item, member)  # a seat with an invite: only its holder
    current = member.current_keys().get(item.key)
    if current is not None:
        offered = current
    elif not (
        joining
        and member.status == rules.INVITED
        and (member.pinned is None or item.key == member.pinned)
    ):
        # A key carried in the body counts only for the invitee taking (or declining) its
        # seat; a removed, rotated-away or revoked key, or a stranger's, reads nothing.
        raise KeyNotValidError(f"key {item.key} is not a current key of {item.by!r}", seq=item.seq)
    if not isinstance(offered, str):
        raise KeyNotValidError(f"key {item.key} is not a current key of {item.by!r}", seq=item.seq)
    try:
        public = ed25519.parse_public_key_line(offered)
    except VerificationError:
        raise KeyNotValidError(
            f"entry {item.seq} carries no valid public key", seq=item.seq
        ) from None
    if ed25519.fingerprint(public) != item.key:
        raise KeyNotValidError(f"entry names key {item.key} but carries another", seq=item.seq)
    entry_mod.verify(item, public)
