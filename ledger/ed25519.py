"""Ed25519 public keys: the OpenSSH formats accord uses and the one check that refuses weak keys.

Lines (``ssh-ed25519 AAAA...``), fingerprints (``SHA256:...``, as ``ssh-keygen -lf`` prints
them) and raw bytes; every public key that enters a project or is trusted passes
:func:`check_public_key_bytes`. Signing and verifying are in :mod:`ledger.entry` (entries,
invites) and stay with ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import VerificationError, WeakKeyError


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
