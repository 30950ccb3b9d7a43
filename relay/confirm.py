"""What the members cosigned, and which entries are confirmed (docs/relay.md "Client").

* **Own cosignature**: a home that lost its kept checkpoints gets its latest cosigned one
  back from the relay (:func:`own_cosignature`), checked against this replica, before it
  cosigns (``relay.sync.cosign_pulled``).
* **Status**: each member's latest cosignature from the relay, each verified with the relay
  key and the member's current key from the local verified state; an entry is confirmed when
  every joined member has cosigned a checkpoint covering it.

Every function takes the ledger, the relay's client, the remote and the remotes file in that
order (``relay/session.py`` bundles them). Roots are compared through ``relay.sync.differs``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger import ed25519, rules
from ledger.errors import LedgerError, NotFoundError
from relay import sync
from relay.cosigning import cosigner_keys
from relay.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    VerifierKey,
    origin_for,
    verify_cosignatures,
)
from relay.sync import (
    ForkError,
    Pulled,
    check_kept,
    has_project,
    keep_conflict,
    verified_note,
)

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.client import RelayClient
    from relay.remotes import Remote, RemoteStore


LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z: a cosignature's time shown as RFC 3339


@dataclass(frozen=True)
class MemberStatus:
    """One member's latest verified cosignature (size 0: none)."""

    party: str
    size: int
    time: int | None


@dataclass(frozen=True)
class Status:
    """A project's heads: local, relay, confirmed by the quorum, and who lags since when."""

    project: str
    local_head: int
    relay_head: int
    confirmed: int
    members: tuple[MemberStatus, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        lagging = [m for m in self.members if m.size < self.relay_head]
        return {
            "project": self.project,
            "local_head": self.local_head,
            "relay_head": self.relay_head,
            "confirmed": self.confirmed,
            "cosigned": {m.party: m.size for m in self.members},
            "not_cosigned": [
                {"party": m.party, "cosigned_size": m.size, "since": _iso(m.time)} for m in lagging
            ],
        }


def own_cosignature(
    ledger: Ledger,
    client: RelayClient,
    remote: Remote,
    store: RemoteStore,
    pulled: Pulled,
    *,
    signer: Signer,
) -> int:
    """Check the relay's copy of this party's latest cosignature against the pulled tree.

    A home restored from a backup (or a new machine of the same party) no longer keeps the
    checkpoints it cosigned; the relay holds the latest one. It is used only when it
    verifies with the pinned relay key and this party's own key. A cosigned tree larger than
    the pulled one, or one whose root is not the root of this replica's verified entries at
    its size, means the relay showed two histories: a fork, with both notes. A consistent one
    is kept (as cosigned), so later syncs check against it as against any kept checkpoint.

    Returns:
        The size of this party's latest cosigned tree the relay holds (0 if none verifies).

    Raises:
        ForkError: the relay's checkpoint does not extend what this party cosigned.
    """
    origin = pulled.checkpoint.origin
    # Any current signer of the party may have made its latest cosignature (ADR 0011).
    party = cosigner_keys(ledger.verified_state(pulled.slug), signer.handle).get(signer.handle, {})
    keys = [vkey for _, vkey in party.values()] or [
        VerifierKey.from_public_key(signer.handle, signer.public, type=COSIGNATURE_V1)
    ]
    best: tuple[int, Note, Checkpoint] | None = None
    for row in client.cosignatures(pulled.slug):
        text = row.get("note")
        if row.get("party") != signer.handle or not isinstance(text, str):
            continue
        try:
            note, checkpoint = verified_note(remote, text, origin=origin)
            verify_cosignatures(note, keys, quorum=1)
        except (NoteError, LedgerError):
            continue  # not ours, or not signed by the pinned relay key: proves nothing
        if best is None or checkpoint.size > best[0]:
            best = (checkpoint.size, note, checkpoint)
    if best is None:
        return 0
    size, note, checkpoint = best
    text = note.encode().decode("utf-8")
    if size > pulled.checkpoint.size or (
        size and sync.differs(ledger, pulled.slug, size, store, checkpoint.root_hash)
    ):
        keep_conflict(store, remote, pulled.slug, note, checkpoint)
        what = "a larger tree" if size > pulled.checkpoint.size else "another tree"
        raise ForkError(
            f"the relay forked {pulled.slug!r}: this party cosigned {what} of size {size} "
            f"than the relay's checkpoint of size {pulled.checkpoint.size} now shows",
            evidence=(text, pulled.note),
        )
    store.keep(
        remote.name,
        pulled.slug,
        size=size,
        root=checkpoint.root_hash.hex(),
        note=text,
        cosigned=True,
    )
    return size


def status(
    ledger: Ledger, client: RelayClient, remote: Remote, store: RemoteStore, slug: str
) -> Status:
    """Local and relay heads and the seq the quorum (every joined member) has confirmed.

    Each cosignature is verified with the pinned relay key and the member's current key from
    the local verified state; a cosigned tree is counted only as far as this replica shows the
    same root. Unverifiable ones are ignored.

    The relay's checkpoint must agree with the checkpoints kept and with this replica, as
    for a sync: a contradiction is a fork.

    Raises:
        NotFoundError: the project is not in this ledger (sync it first).
        ForkError: the relay's checkpoint contradicts a kept one or this replica.
    """
    if not has_project(ledger, slug):
        raise NotFoundError(f"no project {slug!r} in this ledger", hint="`accord sync` it first")
    state = ledger.verified_state(slug)
    origin = origin_for(ledger.log_entry(slug, 1).hash)
    note, relay_checkpoint = verified_note(remote, client.checkpoint(slug), origin=origin)
    check_kept(store, remote, slug, note, relay_checkpoint)
    size = relay_checkpoint.size
    if 0 < size <= state.seq and sync.differs(
        ledger, slug, size, store, relay_checkpoint.root_hash
    ):
        keep_conflict(store, remote, slug, note, relay_checkpoint)
        kept = [k for k in store.kept(remote.name, slug) if not k.conflict]
        raise ForkError(
            f"the relay forked {slug!r}: its checkpoint of size {size} is not the tree of "
            "this replica's entries",
            evidence=(kept[-1].note if kept else "", note.encode().decode("utf-8")),
        )
    best: dict[str, tuple[int, int | None]] = {}
    seen: set[str] = set()  # one row per member is checked: a relay holds one (its latest)
    for row in client.cosignatures(slug):
        party = row.get("party")
        member = state.members.get(party) if isinstance(party, str) else None
        if member is None or member.status != rules.JOINED or not member.signers:
            continue
        if member.handle in seen:
            continue  # more rows for a member cost a root each: never more than one
        seen.add(member.handle)
        found = _cosigned(ledger, remote, store, slug, origin, member, row.get("note"), state.seq)
        if found is not None and found[0] >= best.get(member.handle, (0, None))[0]:
            best[member.handle] = found
    joined = sorted(h for h, m in state.members.items() if m.status == rules.JOINED)
    members = tuple(MemberStatus(h, *best.get(h, (0, None))) for h in joined)
    confirmed = min((m.size for m in members), default=0)
    return Status(slug, state.seq, relay_checkpoint.size, confirmed, members)


def _cosigned(
    ledger: Ledger,
    remote: Remote,
    store: RemoteStore,
    slug: str,
    origin: str,
    member: rules.Member,
    text: object,
    local: int,
) -> tuple[int, int | None] | None:
    if not isinstance(text, str) or not member.signers:
        return None
    try:
        note, checkpoint = verified_note(remote, text, origin=origin)
        keys = [
            VerifierKey.from_public_key(
                member.handle, ed25519.parse_public_key_line(line), type=COSIGNATURE_V1
            )
            for line in member.current_keys().values()
        ]
        verified = verify_cosignatures(note, keys, quorum=1)
    except (NoteError, LedgerError):
        return None
    if checkpoint.size > local or sync.differs(
        ledger, slug, checkpoint.size, store, checkpoint.root_hash
    ):
        return None
    stamp = verified[0].timestamp
    if stamp is not None and stamp > LAST_SECOND:  # a time no honest relay holds (see cosigning)
        return None
    return checkpoint.size, stamp


def _iso(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
