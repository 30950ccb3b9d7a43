"""The client side of a relay: pull, and the checks of the relay's checkpoints.

A party trusts only what it verified itself (docs/relay.md "Client"):

* **Pull**: fetch the relay's checkpoint, verify its signature with the pinned relay key under
  the project's origin (``accord.ledger/<genesis hash>``), refuse a tree smaller than, or with
  another root at a size equal to, a checkpoint kept before (a rollback or a fork: both notes
  are kept and shown), then fetch the entries after the local head up to the signed tree
  size, never beyond, a page at a time, and append each page through
  ``Ledger.append_signed`` (signatures, chain, every rule) before asking for the next. The
  tree size must equal the local head and its RFC 6962 root the root of the local entry
  hashes; the note is kept, whole.
* **Cosign**: the member's cosignature/v1 over that checkpoint (key name = its handle), posted
  (:func:`cosign_pulled`).

What the members cosigned and what is confirmed is in ``relay/confirm.py``, the receipts of a
write through a relay in ``relay/receipts.py``; ``relay/session.py`` holds the four things
they all take (the ledger, the relay's client, the remote and this home's remotes file) as a
``RemoteSession``; every function here takes them in that order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger.errors import ConflictError, NotFoundError, RuleViolationError, VerificationError
from relay.merkle import Frontier, ProofError, leaf_hash
from relay.note import (
    Checkpoint,
    Note,
    NoteError,
    VerifierKey,
    cosign,
    origin_for,
    parse_checkpoint,
    parse_note,
    verify_note,
)

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.client import RelayClient
    from relay.remotes import Remote, RemoteStore


class ForkError(VerificationError):
    """The relay showed a checkpoint inconsistent with one this party kept: both are evidence."""

    def __init__(self, message: str, *, evidence: tuple[str, str]) -> None:
        super().__init__(
            message,
            hint="the relay is misbehaving or was rolled back: keep both signed notes "
            "(printed above) and compare them with your partners",
        )
        self.evidence = evidence


@dataclass(frozen=True)
class Pulled:
    """What a pull did: the relay's verified checkpoint and the entries appended."""

    slug: str
    note: str
    checkpoint: Checkpoint
    appended: int
    created: bool
    closed: bool = False  # the entries appended closed the project (its close policy met)


def relay_verifier(remote: Remote, origin: str) -> VerifierKey:
    """The pinned relay key as the note verifier key of a log of ``origin``.

    Raises:
        VerificationError: the pinned key line is not an Ed25519 key.
    """
    return VerifierKey.from_public_key(origin, ed25519.parse_public_key_line(remote.relay_key))


def local_root(ledger: Ledger, slug: str, size: int, store: RemoteStore | None = None) -> bytes:
    """The RFC 6962 root of the first ``size`` verified entry hashes of ``slug``.

    With ``store``, the Merkle frontier kept at the largest size up to ``size`` whose head
    still matches this home's verified log is extended with the entries after it, and the
    new frontier is kept: a sync or status costs the new entries, not the whole history.
    """
    return local_frontier(ledger, slug, size, store).root()


def local_frontier(
    ledger: Ledger, slug: str, size: int, store: RemoteStore | None = None
) -> Frontier:
    """The Merkle frontier of the first ``size`` verified entry hashes of ``slug``.

    See :func:`local_root` for ``store``.

    Raises:
        VerificationError: this home has verified fewer than ``size`` entries.
    """
    base = Frontier.empty()
    if store is not None:
        for kept_size, head, subtrees in store.frontiers(slug, upto=size):
            item = ledger.verified.log_entry(slug, kept_size)
            if item is None or item.hash != head:
                continue  # this home's verified log changed since: not this frontier
            try:
                parts = tuple(bytes.fromhex(h) for h in subtrees.split(",") if h)
                base = Frontier(kept_size, parts)
            except (ProofError, ValueError):
                continue
            break
    hashes = [h for _, h in ledger.verified.log_hashes(slug, upto=size, after=base.size)]
    if base.size + len(hashes) != size:
        raise VerificationError(
            f"this home has verified {base.size + len(hashes)} entries of {slug!r}"
        )
    frontier = base.extend(leaf_hash(bytes.fromhex(h)) for h in hashes)
    if store is not None and hashes:
        store.keep_frontier(slug, size, hashes[-1], ",".join(h.hex() for h in frontier.hashes))
    return frontier


def differs(ledger: Ledger, slug: str, size: int, store: RemoteStore, root_hash: bytes) -> bool:
    """Whether this replica's root at ``size`` is not ``root_hash``, before saying so.

    A root from a kept frontier that disagrees is computed again from the verified hashes
    alone (the kept frontiers of ``slug`` are dropped first): a damaged frontier in this home
    must never turn an honest relay into a fork.
    """
    if local_root(ledger, slug, size, store) == root_hash:
        return False
    store.forget_frontiers(slug)
    return local_root(ledger, slug, size) != root_hash


def has_project(ledger: Ledger, slug: str) -> bool:
    """Whether this ledger holds ``slug``."""
    return ledger.rows.last(slug) is not None


def verified_note(remote: Remote, text: str, *, origin: str | None) -> tuple[Note, Checkpoint]:
    """Parse a served note and verify the relay's signature (under ``origin`` when known).

    Raises:
        VerificationError: malformed, another origin, or the pinned key did not sign it.
    """
    try:
        note = parse_note(text)
        checkpoint = parse_checkpoint(note.text)
        if origin is not None and checkpoint.origin != origin:
            raise VerificationError(
                f"the relay's checkpoint is of log {checkpoint.origin}, not {origin}"
            )
        verify_note(note, [relay_verifier(remote, checkpoint.origin)])
    except NoteError as exc:
        raise VerificationError(
            f"the relay's checkpoint does not verify with the pinned relay key: {exc}",
            hint="`accord remote list` shows the pinned key; compare it with the relay operator",
        ) from None
    return note, checkpoint


def pull(
    ledger: Ledger, client: RelayClient, remote: Remote, store: RemoteStore, slug: str
) -> Pulled:
    """Bring the local replica of ``slug`` up to the relay's verified checkpoint.

    Raises:
        ForkError: the checkpoint contradicts one kept before (both kept and shown).
        VerificationError: a bad relay signature, another history, or a root that differs.
        LedgerError: an entry breaks a rule or a signature (nothing more is appended).
    """
    have = has_project(ledger, slug)
    state = ledger.verified_state(slug) if have else None
    origin = origin_for(ledger.log_entry(slug, 1).hash) if have else None
    text = client.checkpoint(slug)
    note, checkpoint = verified_note(remote, text, origin=origin)
    check_kept(store, remote, slug, note, checkpoint)
    local = state.seq if state is not None else 0
    was_closed = state is not None and state.status == rules.CLOSED
    if checkpoint.size < local:
        keep_conflict(store, remote, slug, note, checkpoint)
        raise VerificationError(
            f"the relay's signed tree of {slug!r} has {checkpoint.size} entries, this "
            f"replica {local}: the relay lost or hides entries",
            hint="keep the relay's signed note as evidence and tell your partners",
        )
    appended = 0
    for page in client.pages(slug, after=local, upto=checkpoint.size):
        if not appended:
            _check_first(store, remote, slug, note, checkpoint, state, page[0])
        _append_served(ledger, slug, page)  # verified page by page: one page held at a time
        appended += len(page)
    if checkpoint.size and differs(ledger, slug, checkpoint.size, store, checkpoint.root_hash):
        keep_conflict(store, remote, slug, note, checkpoint)
        raise VerificationError(
            f"the relay's signed root of {slug!r} at size {checkpoint.size} is not the root "
            "of this replica's verified entries"
        )
    store.keep(remote.name, slug, size=checkpoint.size, root=checkpoint.root_hash.hex(), note=text)
    store.set_synced(remote.name, slug)
    closed = (
        bool(appended) and not was_closed and ledger.verified_state(slug).status == rules.CLOSED
    )
    created = not have and bool(appended)
    return Pulled(slug, text, checkpoint, appended, created=created, closed=closed)


def _append_served(ledger: Ledger, slug: str, page: list[entry_mod.SignedEntry]) -> None:
    """Append entries the relay served; one that breaks a rule is a verification failure.

    A rule broken by an entry this party is about to sign is the party's own mistake (exit 4);
    one broken by an entry a relay served means the relay (or whoever wrote its store) shows
    a history no replica may hold: a failed verification (exit 5), like the same entry in a
    stored log or a bundle.

    Raises:
        VerificationError: an entry breaks a rule or names something that does not exist.
        ConflictError: this replica's head moved meanwhile (another command wrote).
        LedgerError: an entry fails its signature or key check (already exit 5).
    """
    try:
        ledger.append_signed(slug, page)
    except ConflictError:
        raise
    except (RuleViolationError, NotFoundError) as error:
        seq = error.seq if error.seq is not None else page[0].seq
        raise VerificationError(
            f"the relay served seq {seq} of {slug!r}, which breaks a rule: {error.message}",
            hint="no replica may hold it: nothing was appended from it; keep `accord status` "
            "output as evidence and tell your partners and the relay's operator",
            seq=seq,
        ) from None


def _check_first(
    store: RemoteStore,
    remote: Remote,
    slug: str,
    note: Note,
    checkpoint: Checkpoint,
    state: rules.ProjectState | None,
    first: entry_mod.SignedEntry,
) -> None:
    """The relay's first new entry must follow this replica (or be the project's proposal)."""
    if state is not None and first.data.get("prev") != state.head:
        keep_conflict(store, remote, slug, note, checkpoint)
        raise VerificationError(
            f"the relay's seq {first.seq} of {slug!r} does not follow this replica's "
            "verified history (another history)",
            seq=first.seq,
        )
    if state is None:
        if first.type != "project.proposed" or first.data.get("project") != slug:
            raise VerificationError(f"the relay's first entry of {slug!r} is not its proposal")
        if origin_for(first.hash) != checkpoint.origin:
            raise VerificationError("the relay's checkpoint is not of this project's log")


def check_kept(
    store: RemoteStore, remote: Remote, slug: str, note: Note, checkpoint: Checkpoint
) -> None:
    """Refuse a checkpoint smaller than, or different at the same size from, one kept."""
    kept = store.contradicting(
        remote.name, slug, size=checkpoint.size, root=checkpoint.root_hash.hex()
    )
    if kept is not None:
        new = note.encode().decode("utf-8")
        keep_conflict(store, remote, slug, note, checkpoint)
        what = "a smaller tree" if checkpoint.size < kept.size else "another root at the same size"
        raise ForkError(
            f"the relay forked {slug!r}: it signed {what} ({checkpoint.size}) than the "
            f"checkpoint of size {kept.size} kept before",
            evidence=(kept.note, new),
        )


def keep_conflict(
    store: RemoteStore, remote: Remote, slug: str, note: Note, checkpoint: Checkpoint
) -> None:
    """Keep a checkpoint that contradicts a kept one, as evidence of a fork."""
    store.keep(
        remote.name,
        slug,
        size=checkpoint.size,
        root=checkpoint.root_hash.hex(),
        note=note.encode().decode("utf-8"),
        conflict=True,
    )


def cosign_pulled(
    client: RelayClient, remote: Remote, store: RemoteStore, pulled: Pulled, *, signer: Signer
) -> None:
    """Cosign the checkpoint a pull verified (cosignature/v1, key name = the handle); post it."""
    note = parse_note(pulled.note)
    signed = cosign(
        note, name=signer.handle, private_key=signer.private_key, timestamp=int(time.time())
    )
    client.post_cosignature(pulled.slug, signed.encode().decode("utf-8"))
    store.keep(
        remote.name,
        pulled.slug,
        size=pulled.checkpoint.size,
        root=pulled.checkpoint.root_hash.hex(),
        note=pulled.note,
        cosigned=True,
    )
