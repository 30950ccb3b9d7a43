"""The client side of a relay: pull, check the relay's checkpoint, cosign, confirm, write through.

A party trusts only what it verified itself (docs/relay.md "Client"):

* **Pull**: fetch the relay's checkpoint, verify its signature with the pinned relay key under
  the project's origin (``accord.ledger/<genesis hash>``), refuse a tree smaller than, or with
  another root at a size equal to, a checkpoint kept before (a rollback or a fork: both notes
  are kept and shown), then fetch the entries after the local head up to the signed tree
  size, never beyond, a page at a time, and append each page through
  ``Ledger.append_signed`` (signatures, chain, every rule) before asking for the next. The
  tree size must equal the local head and its RFC 6962 root the root of the local entry
  hashes; the note is kept, whole.
* **Cosign**: the member's cosignature/v1 over that checkpoint (key name = its handle), posted.
* **Status**: each member's latest cosignature from the relay, each verified with the relay
  key and the member's current key from the local verified state; an entry is confirmed when
  every joined member has cosigned a checkpoint covering it.
* **Write through** (:class:`RelayUpstream`, the ``ledger.upstream.Upstream`` of a ledger with
  a remote): pull, then post each new entry and verify the relay's receipt (its signed
  checkpoint and the inclusion proof of exactly that entry, :func:`check_receipt`) before it
  is appended locally; the receipt is kept as evidence.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger.errors import (
    ConflictError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    VerificationError,
)
from relay.client import Deadline, RelayClient, RelayConflictError
from relay.cosigning import cosigner_keys
from relay.merkle import Frontier, ProofError, leaf_hash, verify_inclusion_after
from relay.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    VerifierKey,
    cosign,
    origin_for,
    parse_checkpoint,
    parse_note,
    verify_cosignatures,
    verify_note,
)

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer
    from ledger.remotes import Remote, RemoteStore


LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z: a cosignature's time shown as RFC 3339


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


def _has(ledger: Ledger, slug: str) -> bool:
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
    have = _has(ledger, slug)
    state = ledger.verified_state(slug) if have else None
    origin = origin_for(ledger.log_entry(slug, 1).hash) if have else None
    text = client.checkpoint(slug)
    note, checkpoint = verified_note(remote, text, origin=origin)
    _check_kept(store, remote, slug, note, checkpoint)
    local = state.seq if state is not None else 0
    was_closed = state is not None and state.status == rules.CLOSED
    if checkpoint.size < local:
        _keep_conflict(store, remote, slug, note, checkpoint)
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
        _keep_conflict(store, remote, slug, note, checkpoint)
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
        _keep_conflict(store, remote, slug, note, checkpoint)
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


def _check_kept(
    store: RemoteStore, remote: Remote, slug: str, note: Note, checkpoint: Checkpoint
) -> None:
    """Refuse a checkpoint smaller than, or different at the same size from, one kept."""
    kept = store.contradicting(
        remote.name, slug, size=checkpoint.size, root=checkpoint.root_hash.hex()
    )
    if kept is not None:
        new = note.encode().decode("utf-8")
        _keep_conflict(store, remote, slug, note, checkpoint)
        what = "a smaller tree" if checkpoint.size < kept.size else "another root at the same size"
        raise ForkError(
            f"the relay forked {slug!r}: it signed {what} ({checkpoint.size}) than the "
            f"checkpoint of size {kept.size} kept before",
            evidence=(kept.note, new),
        )


def _keep_conflict(
    store: RemoteStore, remote: Remote, slug: str, note: Note, checkpoint: Checkpoint
) -> None:
    store.keep(
        remote.name,
        slug,
        size=checkpoint.size,
        root=checkpoint.root_hash.hex(),
        note=note.encode().decode("utf-8"),
        conflict=True,
    )


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
        size and differs(ledger, pulled.slug, size, store, checkpoint.root_hash)
    ):
        _keep_conflict(store, remote, pulled.slug, note, checkpoint)
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


def status(
    ledger: Ledger, client: RelayClient, remote: Remote, slug: str, store: RemoteStore
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
    if not _has(ledger, slug):
        raise NotFoundError(f"no project {slug!r} in this ledger", hint="`accord sync` it first")
    state = ledger.verified_state(slug)
    origin = origin_for(ledger.log_entry(slug, 1).hash)
    note, relay_checkpoint = verified_note(remote, client.checkpoint(slug), origin=origin)
    _check_kept(store, remote, slug, note, relay_checkpoint)
    size = relay_checkpoint.size
    if 0 < size <= state.seq and differs(ledger, slug, size, store, relay_checkpoint.root_hash):
        _keep_conflict(store, remote, slug, note, relay_checkpoint)
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
    if checkpoint.size > local or differs(
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


def check_receipt(
    ledger: Ledger,
    remote: Remote,
    store: RemoteStore,
    slug: str,
    entry: entry_mod.SignedEntry,
    answer: dict[str, Any],
) -> None:
    """Verify the relay's receipt of ``entry`` and keep it; the ledger is at ``entry.seq - 1``.

    The receipt must name exactly ``entry`` (project, seq, hash); its checkpoint must be
    signed by the pinned relay key under the project's origin, cover ``entry.seq`` and
    extend every checkpoint kept before; and its inclusion proof must put the entry's leaf at
    index ``seq - 1`` of that tree, right after this replica's verified entries (the proof's
    left siblings are this replica's Merkle frontier). Then the checkpoint is kept with the
    others and the receipt (note and proof) in the remotes file, as evidence.

    Raises:
        ForkError: the receipt's checkpoint contradicts a kept one (both kept).
        VerificationError: anything else does not verify (nothing is kept).
    """
    where = f"the relay at {remote.url} sent a receipt for seq {entry.seq} of {slug!r} that"
    hint = (
        "nothing was recorded here: the relay may not hold the entry; "
        f"`accord sync {slug}` shows what it holds (tell your partners if it misbehaves)"
    )
    body, proof_b64, proof = receipt_parts(answer, slug, entry, where=where, hint=hint)
    genesis = entry.hash if entry.seq == 1 else ledger.log_entry(slug, 1).hash
    try:
        note, checkpoint = verified_note(remote, body["checkpoint"], origin=origin_for(genesis))
    except VerificationError as exc:
        raise VerificationError(f"{where} does not verify: {exc.message}", hint=hint) from None
    if checkpoint.size < entry.seq:
        raise VerificationError(
            f"{where} holds a checkpoint of size {checkpoint.size}, which does not cover it",
            hint=hint,
        )
    _check_kept(store, remote, slug, note, checkpoint)
    leaf = leaf_hash(bytes.fromhex(entry.hash))
    for kept in (store, None):  # a kept frontier that disagrees is computed again first
        frontier = local_frontier(ledger, slug, entry.seq - 1, kept)
        try:
            verify_inclusion_after(frontier, leaf, checkpoint.size, proof, checkpoint.root_hash)
            break
        except ProofError:
            store.forget_frontiers(slug)
    else:
        raise VerificationError(
            f"{where} does not prove it: its inclusion proof does not put this entry right "
            f"after this replica's {entry.seq - 1} entries in the signed tree of size "
            f"{checkpoint.size}",
            hint=hint,
        )
    text = note.encode().decode("utf-8")
    root = checkpoint.root_hash.hex()
    store.keep(remote.name, slug, size=checkpoint.size, root=root, note=text)
    store.keep_receipt(
        remote.name,
        slug,
        seq=entry.seq,
        digest=entry.hash,
        size=checkpoint.size,
        note=text,
        proof=json.dumps(proof_b64),
    )


def receipt_parts(
    answer: dict[str, Any],
    slug: str,
    entry: entry_mod.SignedEntry,
    *,
    where: str,
    hint: str | None,
) -> tuple[dict[str, Any], list[str], list[bytes]]:
    """The receipt of ``entry`` in a relay's answer: its body, its proof as sent and decoded.

    The one check of a receipt's shape, for a write and for a join alike: it must name
    exactly ``entry`` (project, seq, hash), hold a checkpoint note and one inclusion proof of
    at most 64 canonical base64 hashes for that seq. The signature and the proof itself are
    the caller's to verify.

    Raises:
        VerificationError: it is not such a receipt.
    """
    body = answer.get("receipt")
    if not isinstance(body, dict):
        raise VerificationError(f"{where} is not a receipt", hint=hint)
    inclusion = body.get("inclusion")
    item = inclusion[0] if isinstance(inclusion, list) and len(inclusion) == 1 else None
    proof_b64 = None
    if isinstance(item, dict) and type(item.get("seq")) is int and item["seq"] == entry.seq:
        proof_b64 = item.get("proof")
    if (
        body.get("project") != slug
        or body.get("seq") != [entry.seq, entry.seq]
        or body.get("hashes") != [entry.hash]
        or not isinstance(body.get("checkpoint"), str)
        or not isinstance(proof_b64, list)
        or len(proof_b64) > 64
        or not all(isinstance(h, str) for h in proof_b64)
    ):
        raise VerificationError(f"{where} does not name exactly the entry sent", hint=hint)
    try:
        proof = [_b64_hash(h) for h in proof_b64]
    except ValueError:
        raise VerificationError(f"{where} holds a malformed proof", hint=hint) from None
    return body, proof_b64, proof


def _b64_hash(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not the canonical base64 of a 32-byte hash")
    return raw


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
                if pull(ledger, client, self.remote, self.store, slug).closed:
                    self.closed.append(slug)
            except NotFoundError:
                if _has(ledger, slug):
                    raise

    def submit(self, ledger: Ledger, slug: str, entry: entry_mod.SignedEntry) -> None:
        """Post ``entry``; 201 or 200 (already held) with a receipt that verifies is success.

        Raises:
            ConflictError: the relay's head moved (pull and retry).
            VerificationError: the receipt does not prove the relay holds the entry.
        """
        with self._client(None) as client:
            try:
                outcome = client.post_entries(slug, [entry])
            except RelayConflictError as exc:
                raise ConflictError(exc.message, hint=exc.hint) from None
        check_receipt(ledger, self.remote, self.store, slug, entry, outcome.receipt)
