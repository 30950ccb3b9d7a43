r"""The signed entry, format v1: canonical bytes, signing, verification and the entry hash.

This is the only module that signs and verifies with Ed25519 (entries and invites); public key
formats and the weak-key check are in :mod:`ledger.ed25519`. See ``docs/format.md`` for the
specification.

* signing input = ``b"accord/entry/v1\n"`` + RFC 8785 canonical JSON of the entry;
* signature = Ed25519 over the signing input, stored as standard base64;
* entry hash = SHA-256(signing input || raw 64-byte signature), lower-case hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.ed25519 import fingerprint, parse_public_key_line, public_key_line
from ledger.errors import (
    LedgerError,
    SignatureInvalidError,
    SignatureMissingError,
    VerificationError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

PREFIX = b"accord/entry/v1\n"
ZERO_HASH = "0" * 64
SIGNATURE_SIZE = 64


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """Return the RFC 8785 (JCS) canonical UTF-8 bytes of ``entry``.

    Raises:
        VerificationError: the entry holds a float or another value JCS cannot encode.
    """
    _reject_floats(entry)
    try:
        return bytes(rfc8785.dumps(entry))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise VerificationError(f"entry cannot be canonicalised: {exc}") from None


def signing_input(canonical: bytes) -> bytes:
    """Return the bytes that are signed: the v1 prefix followed by the canonical entry."""
    return PREFIX + canonical


def entry_hash(canonical: bytes, signature: bytes) -> str:
    """Return the entry hash: SHA-256 of the signing input and the raw signature, hex."""
    return hashlib.sha256(signing_input(canonical) + signature).hexdigest()


INVITE_PREFIX = b"accord/invite/v1\n"
INVITE_TOKEN_PREFIX = "accord-invite-v1:"  # noqa: S105 - a format tag, not a secret
_SEED_SIZE = 32


def new_invite() -> tuple[str, str]:
    """Create a fresh invite key pair; return its secret token and its public fingerprint.

    The token is ``accord-invite-v1:`` followed by the unpadded base64url of the 32-byte
    Ed25519 seed; whoever holds it can prove the invitation (see :func:`invite_proof`).
    """
    seed = os.urandom(_SEED_SIZE)
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    token = INVITE_TOKEN_PREFIX + base64.urlsafe_b64encode(seed).decode("ascii").rstrip("=")
    return token, fingerprint(private_key.public_key())


def parse_invite_token(token: str) -> Ed25519PrivateKey:
    """Return the invite private key held by an ``accord-invite-v1:`` token.

    Raises:
        VerificationError: the token is not ``accord-invite-v1:`` + 43 base64url characters.
    """
    text = token.strip()
    encoded = text.removeprefix(INVITE_TOKEN_PREFIX)
    if (
        encoded == text
        or len(encoded) != 43
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in encoded)
    ):
        raise VerificationError(
            f"an invite is {INVITE_TOKEN_PREFIX} followed by 43 base64url characters"
        )
    seed = base64.urlsafe_b64decode(encoded + "=")
    if base64.urlsafe_b64encode(seed).decode("ascii").rstrip("=") != encoded:
        raise VerificationError("the invite token is not canonical base64url")
    return Ed25519PrivateKey.from_private_bytes(seed)


def invite_message(project: str, terms: str, handle: str, key: str) -> bytes:
    """The bytes an invite key signs: the invite prefix and the JCS of the claim."""
    claim = {"project": project, "terms": terms, "handle": handle, "key": key}
    return INVITE_PREFIX + canonical_bytes(claim)


def invite_proof(token: str, *, project: str, terms: str, handle: str, key: str) -> dict[str, str]:
    """Return the ``invite_proof`` object a join or decline carries, signed by the invite.

    Raises:
        VerificationError: the token is malformed.
    """
    private_key = parse_invite_token(token)
    signature = private_key.sign(invite_message(project, terms, handle, key))
    return {
        "public_key": public_key_line(private_key.public_key()),
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def invite_fingerprint(token: str) -> str:
    """The fingerprint of the invite public key a token holds (what the proposal records).

    Raises:
        VerificationError: the token is malformed.
    """
    return fingerprint(parse_invite_token(token).public_key())


def verify_invite_proof(
    proof: Mapping[str, Any], *, project: str, terms: str, handle: str, key: str
) -> str:
    """Check an ``invite_proof``; return the fingerprint of the invite key that signed it.

    Raises:
        VerificationError: the public key or the signature is malformed.
        SignatureInvalidError: the signature does not verify over this claim.
    """
    public_key = parse_public_key_line(str(proof["public_key"]))
    try:
        raw = base64.b64decode(str(proof["signature"]), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("invite signature is not standard base64") from None
    if len(raw) != SIGNATURE_SIZE:
        raise VerificationError("invite signature is not 64 bytes")
    try:
        public_key.verify(raw, invite_message(project, terms, handle, key))
    except InvalidSignature:
        raise SignatureInvalidError(
            "the invite proof does not verify for this project, terms, handle and key"
        ) from None
    return fingerprint(public_key)


@dataclass(frozen=True)
class SignedEntry:
    """An entry exactly as stored: its canonical text, its signature (base64) and its hash."""

    text: str
    sig: str
    hash: str
    data: dict[str, Any] = field(compare=False, repr=False, hash=False)

    @property
    def seq(self) -> int:
        """The entry's position in its project's stream."""
        return int(self.data["seq"])

    @property
    def type(self) -> str:
        """The entry type, such as ``pledge.made``."""
        return str(self.data["type"])

    @property
    def by(self) -> str:
        """The handle of the party that signed the entry."""
        return str(self.data["by"])

    @property
    def key(self) -> str:
        """The OpenSSH fingerprint of the key that signed the entry."""
        return str(self.data["key"])

    @property
    def body(self) -> dict[str, Any]:
        """The type-specific body of the entry."""
        body: dict[str, Any] = self.data["body"]
        return body

    def signature_bytes(self) -> bytes:
        """Return the raw 64-byte signature (see :func:`decode_signature`).

        Raises:
            SignatureMissingError: no signature is stored.
            SignatureInvalidError: the stored signature is not 64 bytes of canonical base64.
        """
        return decode_signature(self.sig, seq=_seq_or_none(self.data))


def decode_signature(sig: Any, *, seq: int | None = None) -> bytes:
    """The one decoding of a stored signature: 64 bytes in canonical standard base64.

    The entry hash binds the raw signature, not its encoding, so every encoding but one of
    the same bytes (another alphabet, missing padding, non-zero padding bits, whitespace)
    is refused here, by append, reads and ``verify`` alike.

    Raises:
        SignatureMissingError: the signature is empty.
        SignatureInvalidError: it is not text, not standard base64, not 64 bytes, or not
            the canonical encoding of its bytes.
    """
    if not isinstance(sig, str):
        raise SignatureInvalidError("stored signature is not text", seq=seq)
    if not sig:
        raise SignatureMissingError("entry has no signature", seq=seq)
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalidError("signature is not standard base64", seq=seq) from None
    if len(raw) != SIGNATURE_SIZE or base64.b64encode(raw).decode("ascii") != sig:
        raise SignatureInvalidError("signature is not 64 bytes in canonical base64", seq=seq)
    return raw


def row_hash(text: str, sig: Any, *, seq: int | None = None) -> str:
    """The entry hash of a stored row's text and signature (:func:`decode_signature`).

    Raises:
        VerificationError: the text is not Unicode text that UTF-8 can encode.
        SignatureMissingError: the signature is empty.
        SignatureInvalidError: the signature is not 64 bytes in canonical base64.
    """
    return entry_hash(_utf8(text, seq=seq), decode_signature(sig, seq=seq))


def _utf8(text: Any, *, seq: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise VerificationError("stored entry is not text", seq=seq)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise VerificationError(
            "stored entry text is not valid Unicode (a lone surrogate)", seq=seq
        ) from None


def sign(entry: Mapping[str, Any], private_key: Ed25519PrivateKey) -> SignedEntry:
    """Sign ``entry`` and return it as it will be stored.

    Raises:
        VerificationError: the entry cannot be canonicalised.
    """
    canonical = canonical_bytes(entry)
    signature = private_key.sign(signing_input(canonical))
    return SignedEntry(
        text=canonical.decode("utf-8"),
        sig=base64.b64encode(signature).decode("ascii"),
        hash=entry_hash(canonical, signature),
        data=json.loads(canonical),
    )


MAX_ENTRY_TEXT = 1 << 21  # 2 MiB: more than any valid v1 entry (bodies hold <= 100,000 chars)


def parse_text(text: str) -> dict[str, Any]:
    """Parse stored entry text as v1 JSON: an object, integers only, bounded size and depth.

    This is the one JSON parse of entry text: append, reads and verify all use it.

    Raises:
        VerificationError: not text, too long, not UTF-8 encodable (a lone surrogate), not
            JSON, a float or NaN, too deeply nested, or not an object.
    """
    if not isinstance(text, str):
        raise VerificationError("stored entry is not text")
    if len(text) > MAX_ENTRY_TEXT:
        raise VerificationError(f"stored entry is longer than {MAX_ENTRY_TEXT} characters")
    if not text.isascii():
        _utf8(text)
    try:
        data = _DECODER.decode(text)
    except (ValueError, _FloatError) as exc:
        raise VerificationError(f"entry is not valid v1 JSON: {exc}") from None
    except RecursionError:
        raise VerificationError("stored entry is nested too deeply to be an entry") from None
    if not isinstance(data, dict):
        raise VerificationError("entry is not a JSON object")
    return data


def is_canonical(text: str, data: Any) -> bool:
    """True when ``text`` is exactly the RFC 8785 form of ``data``.

    For objects whose keys are all ASCII and whose numbers are all integers (every valid v1
    entry; floats are refused by :func:`parse_text`), ``json.dumps(sort_keys=True)`` with
    compact separators produces exactly the JCS bytes and is several times faster; anything
    else, or any difference, is decided by the reference implementation.
    """
    try:
        if text.isascii() or _ascii_keys(data):
            fast = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            if fast == text:
                return True
        return canonical_bytes(data) == text.encode("utf-8")
    except (VerificationError, UnicodeEncodeError, RecursionError, ValueError):
        return False


def _ascii_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _ascii_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_ascii_keys(v) for v in value)
    return True


def load(text: str, sig: str, stored_hash: str | None = None) -> SignedEntry:
    """Parse a stored entry, insisting that its text is already canonical.

    The one per-row check of append, reads and ``verify`` (ADR 0005): JSON
    (:func:`parse_text`), canonical text (:func:`is_canonical`), the signature's one encoding
    (:func:`decode_signature`), and the hash recomputed from the bytes, which must equal
    ``stored_hash`` exactly (None only for an entry that has no stored hash yet). The
    signature itself is checked by :func:`verify`.

    Raises:
        VerificationError: the text is not JSON, not an object, or not canonical,
            or the stored hash does not match.
        SignatureInvalidError: the signature is not 64 bytes of canonical base64.
        SignatureMissingError: the signature is empty.
    """
    data = parse_text(text)
    seq = _seq_or_none(data)
    if not is_canonical(text, data):
        raise VerificationError("stored entry text is not in RFC 8785 canonical form", seq=seq)
    digest = row_hash(text, sig, seq=seq)
    if stored_hash is not None and stored_hash != digest:
        raise VerificationError("stored hash does not match the entry and its signature", seq=seq)
    return SignedEntry(text=text, sig=sig, hash=digest, data=data)


def load_verified(text: str, sig: str, stored_hash: str, verified_hash: str) -> SignedEntry | None:
    """Parse a stored row that must be the entry verified earlier with ``verified_hash``.

    The same row check as :func:`load` (the signature's one encoding, the stored hash equal
    to the recomputed one), but the text is not canonicalised again: the hash covers the
    exact text and signature bytes, so equality with the hash recorded when the entry was
    fully verified proves the text is the canonical text verified then. Returns None when
    the row is not that entry.
    """
    try:
        digest = row_hash(text, sig)
    except LedgerError:
        return None
    if digest != verified_hash or stored_hash != digest:
        return None
    try:
        data = parse_text(text)
    except VerificationError:  # pragma: no cover - a verified entry always parses
        return None
    return SignedEntry(text=text, sig=sig, hash=digest, data=data)


def verify(entry: SignedEntry, public_key: Ed25519PublicKey) -> None:
    """Check the entry's signature against ``public_key``.

    Raises:
        SignatureInvalidError: the signature does not verify.
        SignatureMissingError: the entry carries no signature.
    """
    signature = entry.signature_bytes()
    try:
        public_key.verify(signature, signing_input(entry.text.encode("utf-8")))
    except InvalidSignature:
        raise SignatureInvalidError(
            f"signature of seq {_seq_or_none(entry.data)} does not verify with key "
            f"{entry.data.get('key')}",
            seq=_seq_or_none(entry.data),
        ) from None


@dataclass(frozen=True)
class SignatureReport:
    """Which of a set of entries carry a valid signature (the non-raising twin of verify).

    Attributes:
        signed: seqs whose signature verified with the given key.
        missing: seqs with no signature, an unknown key, or a signature that fails.
        complete: True when nothing is missing.
    """

    signed: tuple[int, ...]
    missing: tuple[int, ...]

    @property
    def complete(self) -> bool:
        """True when every entry verified."""
        return not self.missing


def signature_report(
    entries: Iterable[SignedEntry], keys: Mapping[str, Ed25519PublicKey]
) -> SignatureReport:
    """Verify each entry with the key its ``key`` field names in ``keys``; never raises."""
    signed: list[int] = []
    missing: list[int] = []
    for entry in entries:
        public_key = keys.get(entry.key)
        try:
            if public_key is None:
                raise SignatureMissingError("unknown key")
            verify(entry, public_key)
        except (SignatureInvalidError, SignatureMissingError):
            missing.append(entry.seq)
        else:
            signed.append(entry.seq)
    return SignatureReport(signed=tuple(signed), missing=tuple(missing))


class _FloatError(ValueError):
    pass


def _refuse_float(text: str) -> Any:
    raise _FloatError(f"number {text} is not an integer (v1 has no floats)")


def _refuse_constant(text: str) -> Any:
    raise _FloatError(f"number {text} is not an integer (v1 has no floats)")


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise VerificationError("entries hold no floats: write quantities as decimal strings")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_constant)


def _seq_or_none(data: Any) -> int | None:
    if isinstance(data, dict) and isinstance(data.get("seq"), int):
        return int(data["seq"])
    return None
