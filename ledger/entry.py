r"""The signed entry, format v1: canonical bytes, signing, verification and the entry hash.

This is the only module that does Ed25519. See ``docs/format.md`` for the specification.

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
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import (
    LedgerError,
    SignatureInvalidError,
    SignatureMissingError,
    VerificationError,
    WeakKeyError,
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


def public_key_line(public_key: Ed25519PublicKey) -> str:
    """Return the OpenSSH public key line (``ssh-ed25519 AAAA...``) without comment."""
    raw = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return raw.decode("ascii")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Return the OpenSSH SHA256 fingerprint, exactly as ``ssh-keygen -lf`` prints it."""
    blob = base64.b64decode(public_key_line(public_key).split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def parse_public_key_line(line: str) -> Ed25519PublicKey:
    """Parse an OpenSSH ``ssh-ed25519`` public key line.

    Raises:
        VerificationError: the line is not an Ed25519 OpenSSH public key.
        WeakKeyError: the key is of small order or not canonically encoded
            (:func:`check_public_key_bytes`).
    """
    parts = line.split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise VerificationError("public key is not an 'ssh-ed25519 AAAA...' line")
    try:
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise VerificationError("public key line is malformed") from None
    if not isinstance(key, Ed25519PublicKey):
        raise VerificationError("public key is not Ed25519")
    check_public_key_bytes(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return key


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    """Return the Ed25519 public key of 32 raw bytes, refusing a weak one.

    Raises:
        WeakKeyError: the bytes are not a canonical encoding of a point of large order
            (see :func:`check_public_key_bytes`).
    """
    check_public_key_bytes(raw)
    return Ed25519PublicKey.from_public_bytes(raw)


# --- weak public keys ---------------------------------------------------------------------
# A pure-Python strict decoding of an edwards25519 point (RFC 8032 section 5.1.3), used only
# to refuse weak public keys; signing and verifying stay with ``cryptography``.
PUBLIC_KEY_SIZE = 32
_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_IDENTITY = (0, 1)


def check_public_key_bytes(raw: bytes) -> None:
    """Refuse raw Ed25519 public key bytes that cannot stand for one signer.

    The one check of every public key that enters a project or is trusted (entries, invite
    proofs, the relay key, cosignature and request-signing keys, keys in a home). ``cryptography``
    (OpenSSL) verifies signatures against any 32 bytes: a key of small order accepts, for
    any or many messages, signatures that no private key made, and a non-canonical encoding
    gives one point a second name. The bytes are decoded strictly as RFC 8032 section
    5.1.3 says (y below p, x from the curve equation, no negative zero), and the point is
    multiplied by the cofactor 8: it is refused when that gives the identity (the eight
    points of small order). libsodium refuses the same keys.

    Raises:
        WeakKeyError: not 32 bytes, y not below p = 2**255 - 19, not a point of the curve,
            x zero with the sign bit set, or a point of small order.
    """
    if not isinstance(raw, bytes) or len(raw) != PUBLIC_KEY_SIZE:
        raise WeakKeyError("weak public key (an Ed25519 public key is 32 bytes)")
    reason = _weakness(raw)
    if reason is not None:
        raise WeakKeyError(f"weak public key ({reason})")


@lru_cache(maxsize=4096)
def _weakness(raw: bytes) -> str | None:
    """Why 32 raw bytes are a weak Ed25519 public key, or None (cached: a pure function)."""
    number = int.from_bytes(raw, "little")
    sign, y = number >> 255, number & ((1 << 255) - 1)
    if y >= _P:
        return "not canonically encoded: y is not below 2^255-19"
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if v * x * x % _P == (-u) % _P:
        x = x * _SQRT_M1 % _P
    if v * x * x % _P != u:
        return "not a point of the Ed25519 curve"
    if x == 0 and sign:
        return "not canonically encoded: x is zero but its sign bit is set"
    if x & 1 != sign:
        x = _P - x
    point = (x, y)
    for _ in range(3):  # [8]A: the cofactor
        point = _point_add(point, point)
    if point == _IDENTITY:
        return (
            "a point of small order: signatures would verify by it for many messages, "
            "without any private key"
        )
    return None


def _point_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Add two affine points of edwards25519 (complete: d is not a square mod p)."""
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return x3, y3


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
