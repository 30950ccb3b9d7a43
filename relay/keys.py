"""The relay's own Ed25519 key: created on first start, kept under the relay's home.

The key signs checkpoints (C2SP signed notes). It lives in ``<home>/relay/relay.key`` as
PKCS#8 PEM, mode 0600 in a 0700 directory. It is stored **unencrypted** by default so that the
relay starts unattended (a service manager restarts it without anyone typing a passphrase);
protect it like a TLS server key. When ``ACCORD_RELAY_PASSPHRASE`` is set, a new key is
encrypted with it and an encrypted key is decrypted with it. The private key never appears in
a log line, a response or a ``repr``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519
from ledger.errors import KeyFileError
from ledger.keys import MIN_PASSPHRASE, accord_home, read_private_key
from relay.note import VerifierKey

PASSPHRASE_ENV = "ACCORD_RELAY_PASSPHRASE"  # noqa: S105 - the variable's name
KEY_FILE = "relay.key"


@dataclass(frozen=True)
class RelayKey:
    """The relay's signing key and its public facts. The private key never prints."""

    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    path: Path

    @property
    def public_key_line(self) -> str:
        """The OpenSSH public key line (``ssh-ed25519 AAAA...``)."""
        return ed25519.public_key_line(self.private_key.public_key())

    @property
    def fingerprint(self) -> str:
        """The OpenSSH SHA256 fingerprint of the public key."""
        return ed25519.fingerprint(self.private_key.public_key())

    def verifier_key(self, origin: str) -> VerifierKey:
        """The note verifier key of this relay for a log of ``origin`` (its key name)."""
        return VerifierKey.from_public_key(origin, self.private_key.public_key())


def key_path(home: Path | None = None) -> Path:
    """Where the relay key lives: ``<home>/relay/relay.key``."""
    return (home or accord_home()) / "relay" / KEY_FILE


def load_or_create(home: Path | None = None, *, passphrase: str | None = None) -> RelayKey:
    """Load the relay key under ``home``, creating it on first use.

    Args:
        home: the relay's home (default: ``ACCORD_HOME`` or the user config dir).
        passphrase: encrypts a new key and decrypts an encrypted one (default:
            ``ACCORD_RELAY_PASSPHRASE``; none: the key is stored unencrypted).

    Returns:
        The key and its path.

    Raises:
        KeyFileError: the key file is readable by others, corrupt, encrypted without a
            passphrase, or cannot be written; the passphrase is too short.
    """
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
    path = key_path(home)
    if not path.exists():
        _create(path, passphrase)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(
            f"relay key {path} is readable by others (mode {oct(mode)})",
            hint=f"run: chmod 600 {path}",
        )
    try:
        private_key = read_private_key(path, passphrase)
    except KeyFileError as exc:
        if "not encrypted, but a passphrase was given" in exc.message:
            private_key = read_private_key(path, None)
        else:
            raise KeyFileError(
                exc.message, hint=f"set {PASSPHRASE_ENV} if the relay key is encrypted"
            ) from None
    return RelayKey(private_key=private_key, path=path)


def _create(path: Path, passphrase: str | None) -> None:
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"{PASSPHRASE_ENV} must have at least {MIN_PASSPHRASE} characters")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another relay process was first: use its
            os.link(temporary, path)  # publish whole, never overwrite
    except OSError as exc:
        raise KeyFileError(
            f"cannot create the relay key {path}: {exc.strerror}",
            hint="choose a writable --home",
        ) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
