"""Signing keys on disk: create, import, list, load.

Keys live under ``ACCORD_HOME/keys`` (default: the platform's user config dir), one
``NAME.key`` (PKCS#8 PEM, encrypted with a passphrase) and one ``NAME.pub`` (the OpenSSH
public key line) per key. Key files are written with mode 0600. Private key bytes never appear
in an event, a log line, a ``repr`` or JSON output.

After the PEM block, a key file accord writes carries one line ``accord-key-sha256: HEX``,
the SHA-256 of the encrypted key's DER bytes (text after the PEM block is ignored by PEM
readers such as OpenSSL). Without it a damaged file and a wrong passphrase look the same to
the decryption; with it a damaged file is named as such before any passphrase is tried.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519
from ledger.errors import (
    KeyFileError,
    NotFoundError,
    UsageError,
    VerificationError,
    WeakKeyError,
)
from ledger.inputs import open_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEY_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?\Z")
MIN_PASSPHRASE = 8
MAX_KEY_FILE = 1 << 16  # bytes; an Ed25519 private key file takes well under 1 KiB
CHECKSUM_LABEL = b"accord-key-sha256: "
_CHECKSUM_RE = re.compile(rb"^accord-key-sha256: ([0-9a-f]{64})[ \t\r]*$", re.MULTILINE)
_PEM_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END \1-----", re.DOTALL
)
DAMAGED_HINT = "restore the key file from a backup, or import the key again under a new name"


def accord_home() -> Path:
    """Return ``ACCORD_HOME`` or the platform's user config directory for accord."""
    value = os.environ.get("ACCORD_HOME")
    return Path(value) if value else Path(platformdirs.user_config_dir("accord"))


def keys_dir(home: Path | None = None) -> Path:
    """Return the directory that holds the key files."""
    return (home or accord_home()) / "keys"


@dataclass(frozen=True)
class KeyInfo:
    """The public facts about a stored key."""

    name: str
    public_key: str
    fingerprint: str
    path: str
    problem: str | None = None  # why the key cannot be used (list_keys only)


@dataclass(frozen=True)
class Signer:
    """A party handle and the private key it signs with. The key never prints."""

    handle: str
    key_name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half of the key."""
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        """The OpenSSH SHA256 fingerprint of the key."""
        return ed25519.fingerprint(self.public)

    @property
    def public_key_line(self) -> str:
        """The OpenSSH public key line, without comment."""
        return ed25519.public_key_line(self.public)


def check_key_name(name: str) -> str:
    """Return ``name`` if it is a valid key name.

    Raises:
        UsageError: the name is not lower-case letters, digits, dots, dashes, underscores.
    """
    if not KEY_NAME_RE.match(name):
        raise UsageError(
            f"key name {name!r} is not valid",
            hint="use lower-case letters, digits, '.', '-' and '_' (acme, acme-2026)",
        )
    return name


def check_passphrase(passphrase: str) -> str:
    """Return ``passphrase`` if it is long enough to encrypt a key with.

    Raises:
        UsageError: it is shorter than 8 characters.
    """
    if len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(
            f"the passphrase must have at least {MIN_PASSPHRASE} characters",
            hint="choose a longer passphrase (ACCORD_PASSPHRASE for automation)",
        )
    return passphrase


def check_name_free(name: str, home: Path | None = None) -> str:
    """Return ``name`` if no key of that name exists yet.

    Raises:
        UsageError: the name is malformed or taken.
    """
    check_key_name(name)
    key_path, pub_path = _paths(name, home)
    if key_path.exists() or pub_path.exists():
        raise UsageError(
            f"a key named {name!r} exists already ({key_path})",
            hint="choose another name; accord never overwrites a key",
        )
    return name


def _paths(name: str, home: Path | None) -> tuple[Path, Path]:
    directory = keys_dir(home)
    return directory / f"{name}.key", directory / f"{name}.pub"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def save_key(
    name: str, private_key: Ed25519PrivateKey, passphrase: str, home: Path | None = None
) -> KeyInfo:
    """Store ``private_key`` as ``name``, encrypted with ``passphrase``, mode 0600.

    Raises:
        UsageError: bad name, short passphrase, or the name is taken.
        KeyFileError: the key directory is not writable.
    """
    check_name_free(name, home)
    check_passphrase(passphrase)
    key_path, pub_path = _paths(name, home)
    pem = _with_checksum(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        )
    )
    try:
        _write_private(key_path, pem)
        line = ed25519.public_key_line(private_key.public_key())
        pub_path.write_text(f"{line} {name}\n", encoding="ascii")
    except OSError as exc:
        raise KeyFileError(
            f"cannot write key {name!r} under {keys_dir(home)}: {exc.strerror}",
            hint="set ACCORD_HOME to a writable directory",
        ) from None
    return info(name, home)


def new_key(name: str, passphrase: str, home: Path | None = None) -> KeyInfo:
    """Create a new Ed25519 key, encrypted with ``passphrase``.

    Raises:
        UsageError: bad name, short passphrase, or the name is taken.
        KeyFileError: the key directory is not writable.
    """
    return save_key(name, Ed25519PrivateKey.generate(), passphrase, home)


def import_key(
    name: str,
    source: Path,
    *,
    source_passphrase: str | None,
    passphrase: str,
    home: Path | None = None,
) -> KeyInfo:
    """Import an OpenSSH or PKCS#8 PEM Ed25519 private key and store it encrypted.

    Raises:
        NotFoundError: ``source`` does not exist.
        KeyFileError: the file is not an Ed25519 private key, or its passphrase is wrong.
        UsageError: bad name, short passphrase, or the name is taken.
    """
    private_key = read_private_key(source, source_passphrase)
    return save_key(name, private_key, passphrase, home)


def needs_passphrase(source: Path) -> bool:
    """Return True when the private key file at ``source`` is encrypted.

    Raises:
        NotFoundError: ``source`` does not exist.
        KeyFileError: it cannot be read.
    """
    return _is_encrypted(_read(source))


def _is_encrypted(data: bytes) -> bool:
    if b"BEGIN ENCRYPTED PRIVATE KEY" in data:
        return True
    if b"BEGIN OPENSSH PRIVATE KEY" in data:
        try:
            serialization.load_ssh_private_key(data, None)
        except TypeError:
            return True
        except (ValueError, UnsupportedAlgorithm):
            return False
    return False


def _is_bad_password(exc: ValueError) -> bool:
    # PKCS#8 says "Incorrect password"; OpenSSH's bcrypt KDF gives a "broken checksum".
    text = str(exc).lower()
    return "password" in text or "checksum" in text


def _read(source: Path) -> bytes:
    """Read a key file, at most :data:`MAX_KEY_FILE` bytes (``/dev/zero`` never ends)."""
    try:
        with open_file(source, "key file", regular=False) as handle:
            data = handle.read(MAX_KEY_FILE + 1)
    except NotFoundError:
        raise NotFoundError(f"no key file at {source}", hint="check the path") from None
    except UsageError as exc:
        raise KeyFileError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {source}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(
            f"key file {source} is larger than any private key file ({MAX_KEY_FILE} bytes)",
            hint="accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
        )
    return data


def _pem_der(data: bytes) -> bytes | None:
    """The DER bytes of the first PEM block in ``data``, or None when there is none."""
    match = _PEM_RE.search(data)
    if match is None:
        return None
    try:
        return base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _with_checksum(pem: bytes) -> bytes:
    der = _pem_der(pem)
    if der is None:  # pragma: no cover - cryptography always writes a PEM block
        return pem
    return pem + CHECKSUM_LABEL + hashlib.sha256(der).hexdigest().encode("ascii") + b"\n"


def _is_damaged(data: bytes) -> bool:
    """True when ``data`` carries accord's checksum line and no longer matches it."""
    match = _CHECKSUM_RE.search(data)
    if match is None:
        return False  # a key file from elsewhere (or from before the checksum): cannot tell
    der = _pem_der(data)
    return der is None or hashlib.sha256(der).hexdigest().encode("ascii") != match.group(1)


def read_private_key(source: Path, passphrase: str | None) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from an OpenSSH or PKCS#8 PEM file.

    A file whose checksum line (see the module) no longer matches is reported as damaged
    before decryption, so damage is never called a wrong passphrase.

    Raises:
        NotFoundError: the file does not exist.
        KeyFileError: not an Ed25519 private key, damaged, or the passphrase is wrong.
    """
    data = _read(source)
    if _is_damaged(data):
        raise KeyFileError(
            f"key file {source} is damaged: it no longer matches the checksum written with it",
            hint=DAMAGED_HINT,
        )
    secret = passphrase.encode("utf-8") if passphrase else None
    key: object
    try:
        if b"BEGIN OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
    except TypeError:
        if secret is None:
            raise KeyFileError(
                f"key file {source} is encrypted and no passphrase was given",
                hint="enter its passphrase when asked (or set ACCORD_IMPORT_PASSPHRASE)",
            ) from None
        raise KeyFileError(
            f"key file {source} is not encrypted, but a passphrase was given"
        ) from None
    except ValueError as exc:
        if secret is not None and _is_encrypted(data) and _is_bad_password(exc):
            raise KeyFileError(
                f"wrong passphrase for key file {source}", hint="try the passphrase again"
            ) from None
        raise KeyFileError(
            f"key file {source} is not a readable private key",
            hint="accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
        ) from None
    except UnsupportedAlgorithm:
        raise KeyFileError(
            f"key file {source} uses an unsupported algorithm or cipher",
            hint="accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(
            f"key file {source} does not hold an Ed25519 key",
            hint="create one with `accord key new` or `ssh-keygen -t ed25519`",
        )
    return key


def info(name: str, home: Path | None = None) -> KeyInfo:
    """Return the public facts of the stored key ``name``.

    Raises:
        NotFoundError: no key of that name.
        KeyFileError: the public key file is corrupt.
    """
    check_key_name(name)
    key_path, pub_path = _paths(name, home)
    if not key_path.exists():
        raise NotFoundError(
            f"no key named {name!r} in {keys_dir(home)}",
            hint="`accord key list` shows your keys; `accord key new NAME` makes one",
        )
    try:
        line = " ".join(pub_path.read_text(encoding="ascii").split()[:2])
        public = ed25519.parse_public_key_line(line)
    except WeakKeyError as exc:
        raise KeyFileError(
            f"public key file {pub_path} holds a {exc.message}",
            hint="re-import the key under a new name",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, VerificationError) as exc:
        raise KeyFileError(
            f"public key file {pub_path} is missing or corrupt ({type(exc).__name__})",
            hint="re-import the key under a new name",
        ) from None
    return KeyInfo(
        name=name,
        public_key=line,
        fingerprint=ed25519.fingerprint(public),
        path=str(key_path),
    )


def list_keys(home: Path | None = None) -> list[KeyInfo]:
    """Return every stored key, sorted by name.

    A key whose public key file is missing or damaged is listed too, with empty public facts
    and its ``problem``, so one damaged file never hides the other keys.
    """
    directory = keys_dir(home)
    if not directory.is_dir():
        return []
    names = sorted(p.stem for p in directory.glob("*.key"))
    listed = []
    for name in names:
        if not KEY_NAME_RE.match(name):
            continue
        try:
            listed.append(info(name, home))
        except (KeyFileError, NotFoundError) as exc:
            path = str(keys_dir(home) / f"{name}.key")
            listed.append(
                KeyInfo(name, public_key="", fingerprint="", path=path, problem=exc.message)
            )
    return listed


def load_signer(handle: str, name: str, passphrase: str, home: Path | None = None) -> Signer:
    """Decrypt the key ``name`` and return a :class:`Signer` for ``handle``.

    Raises:
        NotFoundError: no key of that name.
        KeyFileError: the key file is corrupt, not Ed25519, or the passphrase is wrong;
            or its public key file does not match it.
    """
    stored = info(name, home)
    key_path = Path(stored.path)
    with contextlib.suppress(OSError):
        if key_path.stat().st_mode & 0o077:
            raise KeyFileError(
                f"key file {key_path} is readable by others (mode "
                f"{oct(key_path.stat().st_mode & 0o777)})",
                hint=f"run: chmod 600 {key_path}",
            )
    private_key = read_private_key(key_path, passphrase)
    signer = Signer(handle=handle, key_name=name, private_key=private_key)
    if signer.fingerprint != stored.fingerprint:
        raise KeyFileError(f"the public key file of {name!r} does not match its private key")
    return signer
