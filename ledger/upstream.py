"""The seam between the write path and a relay: ``Ledger(..., upstream=...)``.

A ledger with an upstream writes through it (docs/relay.md "Client"): before each attempt it
pulls the project (every new entry verified by ``append_signed``), builds and signs against
the verified state, submits the entry, and appends it locally only once the upstream has
proved it holds it (a relay's receipt: its signed checkpoint and an inclusion proof of exactly
that entry after this replica's verified history), so the local replica holds exactly what
the relay holds. ``ledger/`` knows only this
Protocol; the HTTP side lives in ``relay/sync.py``.

The protocol is generic in the ledger it is handed (``Upstream[Ledger]``), so this module
does not import the application that holds an upstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.keys import Signer

L_contra = TypeVar("L_contra", contravariant=True)


class Upstream(Protocol[L_contra]):
    """Where a ledger's entries are ordered first (a relay)."""

    def pull(self, ledger: L_contra, slug: str, *, signer: Signer) -> None:
        """Append what the upstream holds beyond the local verified head.

        Raises:
            LedgerError: the upstream's history fails verification or is unreachable.
        """

    def submit(self, ledger: L_contra, slug: str, entry: SignedEntry) -> None:
        """Have the upstream store ``entry`` (already holding it is success) and prove it.

        ``ledger`` is at the verified head ``entry`` follows: the proof is checked against it.

        Raises:
            ConflictError: the upstream's head moved: pull, re-check, re-sign, retry.
            VerificationError: the upstream's proof that it holds the entry does not verify.
            DeadlineExceededError: the command's deadline for upstream traffic passed.
            LedgerError: the upstream refused the entry or is unreachable.
        """
