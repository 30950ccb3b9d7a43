"""One command's session with a relay: the ledger, the client, the remote, the remotes file.

:class:`RemoteSession` holds the four things every step of a sync takes (``relay/sync.py``
pulls, ``relay/confirm.py`` cosigns and confirms, ``relay/receipts.py`` checks what a push
got back), so a command names them once. :class:`RelayUpstream` is the
``ledger.upstream.Upstream`` of a ledger with a remote: a session per request batch, all
sharing the command's one :class:`~relay.client.Deadline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.errors import ConflictError, NotFoundError
from relay.client import Deadline, RelayClient
from relay.confirm import Status, own_cosignature, status
from relay.errors import RelayConflictError
from relay.receipts import check_receipt
from relay.sync import Pulled, cosign_pulled, has_project, pull

if TYPE_CHECKING:
    from ledger import entry as entry_mod
    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.remotes import Remote, RemoteStore


@dataclass(frozen=True)
class RemoteSession:
    """A ledger and a relay it syncs with, through one client (and its deadline).

    Attributes:
        ledger: this party's ledger (the replica).
        client: the relay's HTTP client (signing reads as the command's signer, if any).
        remote: the remote (URL and pinned relay key).
        store: this home's remotes file of the ledger (kept checkpoints, receipts).
    """

    ledger: Ledger
    client: RelayClient
    remote: Remote
    store: RemoteStore

    def pull(self, slug: str) -> Pulled:
        """Bring ``slug`` up to the relay's verified checkpoint (:func:`relay.sync.pull`).

        Raises:
            ForkError: the checkpoint contradicts one kept before (both kept and shown).
            VerificationError: a bad relay signature, another history, or a root that differs.
            LedgerError: an entry breaks a rule or a signature (nothing more is appended).
        """
        return pull(self.ledger, self.client, self.remote, self.store, slug)

    def status(self, slug: str) -> Status:
        """Local and relay heads, and what the quorum confirmed (:func:`relay.confirm.status`).

        Raises:
            NotFoundError: the project is not in this ledger (sync it first).
            ForkError: the relay's checkpoint contradicts a kept one or this replica.
        """
        return status(self.ledger, self.client, self.remote, self.store, slug)

    def own_cosignature(self, pulled: Pulled, *, signer: Signer) -> int:
        """The size of this party's latest cosigned tree the relay holds, checked.

        Raises:
            ForkError: the relay's checkpoint does not extend what this party cosigned.
        """
        return own_cosignature(
            self.ledger, self.client, self.remote, self.store, pulled, signer=signer
        )

    def cosign(self, pulled: Pulled, *, signer: Signer) -> None:
        """Cosign the checkpoint ``pulled`` verified and post it."""
        cosign_pulled(self.client, self.remote, self.store, pulled, signer=signer)

    def cosign_and_confirm(self, pulled: Pulled, *, signer: Signer) -> int:
        """Cosign ``pulled``'s checkpoint unless the party did; keep and return what is confirmed.

        Raises:
            ForkError: the relay showed a tree inconsistent with one this party kept.
        """
        if self.own_cosignature(pulled, signer=signer) < pulled.checkpoint.size:
            self.cosign(pulled, signer=signer)
        confirmed = self.status(pulled.slug).confirmed
        self.store.set_confirmed(self.remote.name, pulled.slug, confirmed)
        return confirmed

    def push(self, slug: str, entry: entry_mod.SignedEntry) -> None:
        """Post ``entry``; 201 or 200 (already held) with a receipt that verifies is success.

        Raises:
            ConflictError: the relay's head moved (pull and retry).
            VerificationError: the receipt does not prove the relay holds the entry.
        """
        try:
            outcome = self.client.post_entries(slug, [entry])
        except RelayConflictError as exc:
            raise ConflictError(exc.message, hint=exc.hint) from None
        check_receipt(self.ledger, self.remote, self.store, slug, entry, outcome.receipt)


class RelayUpstream:
    """The ``Upstream`` of a ledger with a remote: pull before a write, post before appending.

    Every request of the command shares one :class:`~relay.client.Deadline`. ``closed``
    lists the projects a pull closed (for the command to write their close report).
    """

    def __init__(self, remote: Remote, store: RemoteStore, **client_args: Any) -> None:
        self.remote = remote
        self.store = store
        self.closed: list[str] = []
        self.deadline = client_args.pop("deadline", None) or Deadline()
        self._client_args = client_args

    def _client(self, signer: Signer | None) -> RelayClient:
        return RelayClient(self.remote.url, signer, deadline=self.deadline, **self._client_args)

    def pull(self, ledger: Ledger, slug: str, *, signer: Signer) -> None:
        """Bring ``slug`` up to the relay's verified checkpoint (a new slug: nothing to do)."""
        with self._client(signer) as client:
            try:
                if RemoteSession(ledger, client, self.remote, self.store).pull(slug).closed:
                    self.closed.append(slug)
            except NotFoundError:
                if has_project(ledger, slug):
                    raise

    def submit(self, ledger: Ledger, slug: str, entry: entry_mod.SignedEntry) -> None:
        """Post ``entry`` and check the relay's receipt (:meth:`RemoteSession.push`).

        Raises:
            ConflictError: the relay's head moved (pull and retry).
            VerificationError: the receipt does not prove the relay holds the entry.
        """
        with self._client(None) as client:
            RemoteSession(ledger, client, self.remote, self.store).push(slug, entry)
