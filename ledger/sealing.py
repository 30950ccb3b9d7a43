"""Evidence sealed for a project's members: the age format over their ssh-ed25519 keys.

A deliverable's evidence files travel through the relay encrypted end to end (the age
format, ``pyrage``) to every current signer key of every joined member: the relay stores
only ciphertext, and any member decrypts with its accord key, or with the standard ``age``
tool and that key written as an OpenSSH private key (docs/adr/0013-evidence-encryption.md).
Nothing here trusts a blob: what a member decrypts counts only once its size and SHA-256
equal those of the signed ``deliverable.submitted`` (:func:`check_plaintext`).

This module also holds the two rules every copy of an evidence file obeys: which files a
deliverable records (:func:`evidence_of`) and the safe on-disk name of each
(:func:`disk_name`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

import pyrage
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ledger import rules
from ledger.errors import NotFoundError, RuleViolationError, VerificationError

if TYPE_CHECKING:
    from ledger.keys import Signer

AGE_MAGIC = b"age-encryption.org/v1\n"
CHUNK = 64 << 10  # age's STREAM chunk of plaintext
TAG = 16  # the Poly1305 tag of each chunk
NONCE = 16  # the payload's nonce
HEADER_ALLOWANCE = 64 << 10  # bytes of header: a stanza per recipient (~100 B) and grease
MIN_HEADER = len(AGE_MAGIC) + len(b"--- ") + 43 + 1  # the magic and the MAC line, no stanza
MAX_NAME = 120  # characters of an on-disk name (well below 255 bytes of UTF-8)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+()\- ]")


class Sink(Protocol):
    """Where bytes are written: a binary file or a :class:`HashingWriter`."""

    def write(self, data: bytes, /) -> int:
        """Write ``data``."""
        ...


@dataclass(frozen=True)
class SignedFile:
    """An evidence file as its deliverable signed it: index (1-based), name, SHA-256, size."""

    index: int
    name: str
    sha256: str
    size: int

    @property
    def disk_name(self) -> str:
        """The file's safe name on disk (see :func:`disk_name`)."""
        return disk_name(self.index, self.name)

    def as_dict(self) -> dict[str, object]:
        """The file as JSON output shows it."""
        return {"index": self.index, "name": self.name, "size": self.size, "sha256": self.sha256}


def evidence_of(state: rules.ProjectState, seq: int) -> list[SignedFile]:
    """The evidence files deliverable ``seq`` of the project signed (maybe none).

    Raises:
        NotFoundError: seq ``seq`` is not a deliverable.
    """
    decision = state.decisions.get(seq)
    if not isinstance(decision, rules.Deliverable):
        raise NotFoundError(
            f"seq {seq} of {state.slug!r} is not a deliverable",
            hint=f"list the deliverables with `accord trail {state.slug}`",
        )
    return [
        SignedFile(index=n, name=name, sha256=sha, size=size)
        for n, (name, sha, size) in enumerate(decision.evidence, start=1)
    ]


def signed_file(state: rules.ProjectState, seq: int, index: int) -> SignedFile:
    """Evidence file ``index`` (1-based) of deliverable ``seq``.

    Raises:
        NotFoundError: no such deliverable, or it has no file ``index``.
    """
    files = evidence_of(state, seq)
    if not 1 <= index <= len(files):
        raise NotFoundError(f"deliverable {seq} of {state.slug!r} has no evidence file {index}")
    return files[index - 1]


def rejected(state: rules.ProjectState, seq: int) -> bool:
    """Whether deliverable ``seq`` was rejected (its evidence is no longer stored)."""
    decision = state.decisions.get(seq)
    return decision is not None and decision.status == rules.REJECTED


def disk_name(index: int, name: str) -> str:
    r"""The name of evidence file ``index`` on disk: ``INDEX-SAFE`` (docs/evidence.md).

    The signed name is partner text. Its last path component is kept (after ``/`` or
    ``\\``), normalised (NFC), every character outside ``A-Z a-z 0-9 . _ + ( ) - space``
    becomes ``_``, leading dots and spaces are dropped, and it is cut to
    :data:`MAX_NAME` characters keeping the extension. The 1-based index in front makes the
    names of one deliverable distinct whatever the signed names are (the same twice, or
    differing only by case), and never ``.``, ``..`` or empty.
    """
    base = re.split(r"[/\\]", name)[-1]
    safe = _UNSAFE.sub("_", unicodedata.normalize("NFC", base)).lstrip(". ")
    if len(safe) > MAX_NAME:
        _stem, dot, ext = safe.rpartition(".")
        keep = f".{ext}" if dot and len(ext) <= 16 else ""
        safe = safe[: MAX_NAME - len(keep)] + keep
    return f"{index}-{safe or 'file'}"


# --- the age format -------------------------------------------------------------------------


def recipients(state: rules.ProjectState) -> list[str]:
    """The public key lines evidence is sealed to: every current key of every joined member.

    The promisor is a joined member, so its keys are among them.
    """
    lines: set[str] = set()
    for handle in state.joined():
        lines.update(state.members[handle].current_keys().values())
    return sorted(lines)


def ciphertext_bounds(size: int) -> tuple[int, int]:
    """The least and the most bytes an age file of ``size`` bytes of plaintext can take."""
    chunks = max(1, -(-size // CHUNK))
    payload = NONCE + size + chunks * TAG
    return MIN_HEADER + payload, HEADER_ALLOWANCE + payload


def seal(plain: BinaryIO, sealed: Sink, lines: list[str]) -> None:
    """Encrypt ``plain`` into ``sealed`` for the public key ``lines`` (streaming).

    Raises:
        VerificationError: a line is not an ssh-ed25519 key age accepts.
    """
    try:
        found = [pyrage.ssh.Recipient.from_str(line) for line in lines]
        pyrage.encrypt_io(plain, sealed, found)
    except (pyrage.RecipientError, pyrage.EncryptError, ValueError) as exc:
        raise VerificationError(f"cannot seal the evidence: {exc}") from None


def unseal(sealed: BinaryIO, plain: Sink, signer: Signer) -> None:
    """Decrypt ``sealed`` into ``plain`` with ``signer``'s key (streaming).

    The key becomes an OpenSSH private key in memory only, for ``pyrage``; it is never
    written anywhere.

    Raises:
        NotFoundError: the file is not sealed to this key (a member added later: `share`).
        VerificationError: the file is not age, or was altered or cut short.
    """
    pem = signer.private_key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    identity = pyrage.ssh.Identity.from_buffer(pem)
    try:
        pyrage.decrypt_io(sealed, plain, [identity])
    except (pyrage.DecryptError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the disk, not the ciphertext
        text = str(exc)
        if "No matching keys" in text or "no identity matched" in text.lower():
            raise NotFoundError(
                f"the evidence on the relay is not sealed to the key of {signer.handle!r}",
                hint="a member who can read it shares it anew: `accord evidence share SLUG SEQ`",
            ) from None
        raise VerificationError(f"the evidence on the relay does not decrypt: {text}") from None


def check_plaintext(path_sha: str, path_size: int, expected: SignedFile) -> None:
    """Compare a decrypted or received file's SHA-256 and size with the signed ones.

    Raises:
        VerificationError: they differ.
    """
    if path_size != expected.size or path_sha != expected.sha256:
        raise VerificationError(
            f"evidence file {expected.index} ({expected.name!r}) is not the signed one: "
            f"got {path_size} bytes, SHA-256 {path_sha}; signed {expected.size} bytes, "
            f"SHA-256 {expected.sha256}",
            hint="the file was altered or replaced; ask the deliverer for the signed file",
        )


def refuse_rejected(state: rules.ProjectState, seq: int) -> None:
    """Refuse to store evidence of a rejected deliverable.

    Raises:
        RuleViolationError: deliverable ``seq`` was rejected.
    """
    if rejected(state, seq):
        raise RuleViolationError(
            f"deliverable {seq} of {state.slug!r} was rejected: its evidence is not stored",
            hint="deliver again with the new evidence",
        )


class HashingWriter:
    """A binary sink that hashes and counts what passes through to ``target``."""

    def __init__(self, target: Sink) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        """Hash, count and pass on ``data``."""
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)
