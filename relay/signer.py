"""The relay's checkpoint signer: a (size, root) of a project's tree in, a signed note out.

:class:`~relay.store.RelayStore` is given one (:class:`CheckpointSigner`) and never touches a
key itself, as a transparency log's core is given its note signer (sunlight, tessera). The
relay's signer is :class:`NoteSigner`: its Ed25519 relay key, one C2SP signed note per
project, named with the project's checkpoint origin (``relay/note.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from relay.note import Checkpoint, NoteError, parse_checkpoint, parse_note, sign_note, verify_note

if TYPE_CHECKING:
    from relay.keys import RelayKey
    from relay.note import VerifierKey


class CheckpointSigner(Protocol):
    """Signs the checkpoints of the relay's logs (one log per project, named by its origin)."""

    def sign(self, origin: str, size: int, root: bytes) -> str:
        """The signed checkpoint note (text) of the tree ``(size, root)`` of log ``origin``."""
        ...

    def verifier_key(self, origin: str) -> VerifierKey:
        """The note verifier key of log ``origin`` (what members pin)."""
        ...

    def signed(self, note: str, origin: str, size: int, root: bytes) -> bool:
        """Whether ``note`` is this signer's checkpoint of exactly ``(origin, size, root)``."""
        ...


@dataclass
class NoteSigner:
    """The relay key as a :class:`CheckpointSigner`."""

    key: RelayKey

    def sign(self, origin: str, size: int, root: bytes) -> str:
        """The signed checkpoint note (text) of the tree ``(size, root)`` of log ``origin``."""
        text = Checkpoint(origin, size, root).text()
        note = sign_note(text, name=origin, private_key=self.key.private_key)
        return note.encode().decode("utf-8")

    def verifier_key(self, origin: str) -> VerifierKey:
        """The note verifier key of log ``origin``."""
        return self.key.verifier_key(origin)

    def signed(self, note: str, origin: str, size: int, root: bytes) -> bool:
        """Whether ``note`` is signed by this key and names exactly ``(origin, size, root)``."""
        try:
            parsed = parse_note(note)
            checkpoint = parse_checkpoint(parsed.text)
            verify_note(parsed, [self.verifier_key(origin)])
        except (NoteError, ValueError):  # not a note, or an origin no key name may take
            return False
        return (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (origin, size, root)
