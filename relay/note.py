r"""C2SP signed notes, tlog checkpoints and cosignature/v1, as pure functions.

* signed-note (c2sp.org/signed-note): ``text`` ending in a newline, a blank line, then one or
  more lines ``— <key name> base64(key ID (4 bytes, big-endian) || signature)``. Verifier keys
  are ``<name>+<hex key ID>+base64(type || public key)`` with the key ID
  ``SHA-256(name || "\n" || type || public key)[:4]``. Only Ed25519 is supported: type
  ``0x01`` (note signatures) and ``0x04`` (cosignature/v1).
* tlog-checkpoint: the text is ``origin\nsize\nbase64(root)\n`` plus optional extension lines.
* tlog-cosignature, Ed25519 (``0x04``): the signature payload is ``timestamp (u64 big-endian)
  || Ed25519 signature`` over ``cosignature/v1\ntime <timestamp>\n`` + the checkpoint text.

Parsing is strict: a note must be UTF-8 without control characters other than newline, at most
:data:`MAX_NOTE_SIZE` bytes and :data:`MAX_SIGNATURES` signatures, with canonical base64 and at
most one signature per (key name, key ID). Verification ignores signatures from unknown keys,
rejects the whole note if a known key's signature fails, and requires at least one valid one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from ledger import ed25519
from ledger.errors import WeakKeyError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
MAX_NOTE_SIZE = 1 << 20
MAX_TIMESTAMP = (1 << 63) - 1
MAX_TREE_SIZE = (1 << 63) - 1
ORIGIN_PREFIX = "accord.ledger/"
_ED25519_SIZE = 64
_COSIGNATURE_HEADER = "cosignature/v1\n"
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}\Z")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key, checkpoint or cosignature is malformed or does not verify."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed note, verifier key or checkpoint."""


class NoteSignatureError(NoteError):
    """A known key's signature fails, or too few known keys signed."""


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 32-bit key ID and the payload after the key ID.

    The payload is the signature itself, or ``timestamp || signature`` for a cosignature.
    """

    name: str
    key_id: int
    payload: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not _is_int(self.key_id) or not 0 <= self.key_id <= 0xFFFFFFFF or not self.payload:
            raise MalformedNoteError("a signature needs a 32-bit key ID and a payload")

    def line(self) -> str:
        """Return the signature line, newline included."""
        blob = struct.pack(">I", self.key_id) + self.payload
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True)
class Note:
    """A note: its text (ending in a newline) and its signatures, in order."""

    text: str
    signatures: tuple[Signature, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.text)
        if len(self.signatures) > MAX_SIGNATURES:
            raise MalformedNoteError(f"a note carries at most {MAX_SIGNATURES} signatures")
        keys = {(s.name, s.key_id) for s in self.signatures}
        if len(keys) != len(self.signatures):
            raise MalformedNoteError("a key signs a note at most once")

    def encode(self) -> bytes:
        """Return the note as UTF-8 bytes: text, blank line, signature lines."""
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 verifier key: name, key ID, type (0x01 note, 0x04 cosignature), raw key.

    Construction checks that the key ID is the one derived from the name, type and key.
    """

    name: str
    key_id: int
    type: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.type not in (ED25519, COSIGNATURE_V1):
            raise MalformedNoteError(f"unsupported signature type {self.type!r}")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise MalformedNoteError("an Ed25519 public key is 32 bytes")
        if self.key_id != key_id(self.name, self.type, self.public_key):
            raise MalformedNoteError("key ID does not match the key name, type and key")
        _public_key(self)

    @classmethod
    def from_public_key(
        cls, name: str, public_key: Ed25519PublicKey, *, type: int = ED25519
    ) -> VerifierKey:
        """Return the verifier key for ``public_key`` under ``name``.

        Raises:
            MalformedNoteError: the name is invalid or the type is not 0x01 or 0x04.
        """
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        _check_name(name)
        return cls(name=name, key_id=key_id(name, type, raw), type=type, public_key=raw)

    def encode(self) -> str:
        """Return the vkey string ``<name>+<hex key ID>+base64(type || public key)``."""
        blob = base64.b64encode(bytes([self.type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{blob}"


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: the key and, for a cosignature, its timestamp."""

    key: VerifierKey
    timestamp: int | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not isinstance(line, str) or not line or "\n" in line:
                raise MalformedNoteError("checkpoint lines must be non-empty single lines")
        if not _is_int(self.size) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedNoteError(f"checkpoint tree size must be in [0, {MAX_TREE_SIZE}]")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise MalformedNoteError("checkpoint root hash must be 32 bytes")
        _check_text(self.text())

    def text(self) -> str:
        """Return the note text of the checkpoint (ending in a newline)."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def key_id(name: str, type: int, public_key: bytes) -> int:
    r"""Return ``SHA-256(name || "\n" || type || public_key)[:4]`` as a big-endian integer."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse a vkey string of type 0x01 (note) or 0x04 (cosignature/v1).

    Raises:
        MalformedNoteError: the string is malformed, the type is unsupported, the key is not
            32 bytes, or the key ID does not match the name and key.
    """
    name, _, rest = vkey.partition("+")
    hex_id, _, blob64 = rest.partition("+")
    _check_name(name)
    if not _HEX_KEY_ID.match(hex_id):
        raise MalformedNoteError("verifier key ID must be 8 lower-case hex digits")
    blob = _b64decode(blob64, "verifier key")
    if len(blob) != 33 or blob[0] not in (ED25519, COSIGNATURE_V1):
        raise MalformedNoteError("verifier key is not a 32-byte Ed25519 key of type 0x01 or 0x04")
    return VerifierKey(name=name, key_id=int(hex_id, 16), type=blob[0], public_key=blob[1:])


def parse_note(data: bytes | str) -> Note:
    """Parse a signed note without verifying it.

    Raises:
        MalformedNoteError: the note is too large, not UTF-8, holds control characters, has no
            blank line before the signatures, a malformed signature line, too many signatures,
            or two signatures by the same key.
    """
    raw = data if isinstance(data, bytes) else _utf8(data)
    if len(raw) > MAX_NOTE_SIZE:
        raise MalformedNoteError(f"a note is at most {MAX_NOTE_SIZE} bytes")
    try:
        message = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNoteError("a note must be valid UTF-8") from None
    if _CONTROL.search(message):
        raise MalformedNoteError("a note holds no control characters other than newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("a note needs a blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("a note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"a note carries at most {MAX_SIGNATURES} signatures")
    return Note(text=text, signatures=tuple(parse_signature_line(line) for line in lines))


def parse_signature_line(line: str) -> Signature:
    """Parse one signature line (``— <name> <base64>``, without its newline).

    Raises:
        MalformedNoteError: the line is not a well-formed signature line.
    """
    if not line.startswith(SIGNATURE_PREFIX) or line.count(" ") != 2:
        raise MalformedNoteError("a signature line is '— <key name> <base64>'")
    name, blob64 = line[len(SIGNATURE_PREFIX) :].split(" ")
    blob = _b64decode(blob64, "signature")
    if len(blob) < 5:
        raise MalformedNoteError("a signature holds a 4-byte key ID and at least one byte")
    return Signature(name=name, key_id=int.from_bytes(blob[:4], "big"), payload=blob[4:])


def add_signatures(note: Note, signatures: Iterable[Signature]) -> Note:
    """Return ``note`` with ``signatures`` appended, replacing any by the same key.

    Raises:
        MalformedNoteError: the result would carry more than :data:`MAX_SIGNATURES`.
    """
    new = {(s.name, s.key_id): s for s in signatures}
    kept = tuple(s for s in note.signatures if (s.name, s.key_id) not in new)
    return Note(text=note.text, signatures=kept + tuple(new.values()))


def sign_note(note: Note | str, *, name: str, private_key: Ed25519PrivateKey) -> Note:
    """Return the note with an Ed25519 note signature (type 0x01) by ``private_key`` added.

    A signature by the same key (name and key ID) is replaced.

    Raises:
        MalformedNoteError: the text or the key name is not valid in a note.
    """
    note = note if isinstance(note, Note) else Note(text=note)
    key = VerifierKey.from_public_key(name, private_key.public_key())
    signature = Signature(name, key.key_id, private_key.sign(_utf8(note.text)))
    return add_signatures(note, [signature])


def cosignature(
    text: str, *, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> Signature:
    """Return the cosignature/v1 (type 0x04) of the checkpoint ``text`` at ``timestamp``.

    Raises:
        MalformedNoteError: the text is not a checkpoint, the name is invalid, or the timestamp
            is outside ``[0, 2**63 - 1]``.
    """
    parse_checkpoint(text)
    key = VerifierKey.from_public_key(name, private_key.public_key(), type=COSIGNATURE_V1)
    if not _is_int(timestamp) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedNoteError(f"a cosignature timestamp is in [0, {MAX_TIMESTAMP}]")
    signed = private_key.sign(_cosigned_message(text, timestamp))
    return Signature(name, key.key_id, struct.pack(">Q", timestamp) + signed)


def cosign(note: Note, *, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Note:
    """Return the checkpoint ``note`` with this cosigner's cosignature added (or replaced).

    Raises:
        MalformedNoteError: see :func:`cosignature`.
    """
    line = cosignature(note.text, name=name, private_key=private_key, timestamp=timestamp)
    return add_signatures(note, [line])


def verify_note(note: Note, keys: Iterable[VerifierKey]) -> tuple[VerifiedSignature, ...]:
    """Verify the note against known keys (note or cosigner keys); unknown ones are ignored.

    Returns:
        The signatures by known keys, all of which verified (at least one).

    Raises:
        NoteSignatureError: a known key's signature fails, or no known key signed the note.
    """
    verified = _verify_known(note, keys)
    if not verified:
        raise NoteSignatureError("no known key signed the note")
    return verified


def verify_cosignatures(
    note: Note, cosigners: Iterable[VerifierKey], *, quorum: int = 1
) -> tuple[VerifiedSignature, ...]:
    """Verify the cosignatures of known cosigners and require at least ``quorum`` of them.

    Check the log's own signature (:func:`verify_note`) and the checkpoint's origin first: an
    Ed25519 cosignature does not name the log it vouches for beyond the signed text.

    Returns:
        The verified cosignatures, each with its timestamp (``quorum=0`` allows none).

    Raises:
        NoteError: a key is not a cosigner (type 0x04) key.
        NoteSignatureError: a known cosigner's signature fails, or fewer than ``quorum`` verify.
    """
    keys = list(cosigners)
    if any(key.type != COSIGNATURE_V1 for key in keys):
        raise NoteError("cosignatures are verified with type 0x04 (cosignature/v1) keys")
    verified = _verify_known(note, keys)
    if len(verified) < quorum:
        raise NoteSignatureError(f"{len(verified)} known cosignatures, {quorum} required")
    return verified


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (origin, size, root hash, extension lines).

    Raises:
        MalformedNoteError: fewer than three lines, an empty line, a size with leading zeros or
            out of range, a root that is not canonical base64 of 32 bytes, or a bad character.
    """
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise MalformedNoteError("a checkpoint has at least three non-empty lines")
    if not _DECIMAL.match(lines[1]):
        raise MalformedNoteError("checkpoint tree size must be decimal without leading zeros")
    root_hash = _b64decode(lines[2], "checkpoint root hash")
    return Checkpoint(lines[0], int(lines[1]), root_hash, tuple(lines[3:]))


def origin_for(genesis_hash_hex: str) -> str:
    """Return accord's checkpoint origin for a project: ``accord.ledger/<genesis hash hex>``.

    The origin is derived from the 64-hex-digit hash of the project's genesis entry
    (``project.proposed``), so it is globally unique, holds no space or ``+`` (it doubles as
    the relay's note key name), and stays the same when the project moves to another relay.

    Raises:
        NoteError: the hash is not 64 lower-case hex digits.
    """
    if not isinstance(genesis_hash_hex, str) or not _SHA256_HEX.match(genesis_hash_hex):
        raise NoteError("a genesis entry hash is 64 lower-case hex digits")
    return ORIGIN_PREFIX + genesis_hash_hex


def origin_hash(origin: str) -> str:
    """Return the lower-case hex SHA-256 of ``origin`` (the log id in tlog-witness paths)."""
    return hashlib.sha256(_utf8(origin)).hexdigest()


def _verify_known(note: Note, keys: Iterable[VerifierKey]) -> tuple[VerifiedSignature, ...]:
    known = {(key.name, key.key_id): key for key in keys}
    verified: list[VerifiedSignature] = []
    for signature in note.signatures:
        key = known.get((signature.name, signature.key_id))
        if key is not None:
            verified.append(_verify_one(note.text, key, signature.payload))
    return tuple(verified)


def _verify_one(text: str, key: VerifierKey, payload: bytes) -> VerifiedSignature:
    timestamp: int | None = None
    message = _utf8(text)
    if key.type == COSIGNATURE_V1:
        if len(payload) != 8 + _ED25519_SIZE:
            raise NoteSignatureError(f"cosignature by {key.name} is not 72 bytes")
        timestamp = int.from_bytes(payload[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise NoteSignatureError(f"cosignature by {key.name} has a timestamp above 2**63-1")
        message, payload = _cosigned_message(text, timestamp), payload[8:]
    try:
        if len(payload) != _ED25519_SIZE:
            raise InvalidSignature
        _public_key(key).verify(payload, message)
    except InvalidSignature:
        raise NoteSignatureError(f"signature by known key {key.name} does not verify") from None
    return VerifiedSignature(key=key, timestamp=timestamp)


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return _utf8(f"{_COSIGNATURE_HEADER}time {timestamp}\n{text}")


def _public_key(key: VerifierKey) -> Ed25519PublicKey:
    try:
        return ed25519.public_key_from_bytes(key.public_key)
    except WeakKeyError as exc:
        raise MalformedNoteError(f"key {key.name} is a {exc.message}") from None
    except ValueError:
        raise MalformedNoteError(f"key {key.name} is not an Ed25519 public key") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedNoteError("a key name is non-empty, without spaces or '+'")
    if _CONTROL.search(name):
        raise MalformedNoteError("a key name holds no control characters")
    _utf8(name)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise MalformedNoteError("note text holds no control characters other than newline")
    _utf8(text)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNoteError("text is not encodable as UTF-8") from None


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedNoteError(f"{what} is not standard base64") from None
    if not raw or base64.b64encode(raw).decode("ascii") != text:
        raise MalformedNoteError(f"{what} is not canonical standard base64")
    return raw
