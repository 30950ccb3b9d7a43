"""The invitee's side of a relay: the invite line, the invitation, the join or decline.

An invitee is onboarded with one message, its **invite line** (``relay/invite_line.py``): the
project, the seat, the hash of the proposal (the terms), the relay's URL and key fingerprint,
and for a seat protected by an invite (ADR 0007) the invite token. ``accord join LINE``:

1. finds the relay named in the line (:func:`find_remote`): an existing remote at that URL
   must hold the key of the fingerprint the line names; otherwise the relay's key is fetched
   and used only if it has that fingerprint (not trust on first use), and pinned once the
   invitation is answered (:func:`save_remote`): a refused line leaves nothing behind;
2. reads the invitation (:func:`fetch_invitation`) with the invite key: the proposal, which
   must be exactly the one the line names (its hash) and record the invite's fingerprint for
   the seat, and the head the answer follows, under a checkpoint signed by the pinned key;
3. signs the join or decline after that head (``ledger.writes.sign_seat_answer``), posts it
   (:func:`post_answer`): the relay's receipt must name exactly that entry and prove it in
   a checkpoint the pinned key signed (an RFC 6962 inclusion proof);
4. for a join, pulls the log as a member (every entry verified, its own join included) and
   checks that the replica's root at the receipt's tree size is the receipt's root.

A seat pinned to the invitee's key needs no invite: the invitee reads the log with its own
key and joins through the usual write path (``accord project join``). The invite token is a
secret: it is never printed, logged or put in JSON output by any of this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger.errors import (
    ConflictError,
    LedgerError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.writes import sign_seat_answer
from relay.client import RelayClient
from relay.errors import MalformedRequestError, RelayConflictError
from relay.invite_line import InviteLine
from relay.merkle import ProofError, leaf_hash, verify_inclusion
from relay.note import Checkpoint, origin_for
from relay.receipts import receipt_parts
from relay.remotes import Remote
from relay.sync import differs, verified_note
from relay.wire import parse_rows

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from ledger.application import Ledger
    from relay.remotes import RemoteStore

ATTEMPTS = 8  # signs of an answer while the relay's head keeps moving
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
NOT_INVITED_HINT = (
    "the invite is wrong, already used (the seat was taken or declined) or for another seat, "
    "or the proposal was cancelled: ask the proposer for a new invite line"
)


# --- the remote ----------------------------------------------------------------------------


def find_remote(store: RemoteStore, line: InviteLine, **client_args: Any) -> tuple[Remote, bool]:
    """The remote of the line's relay, and whether it is new (not saved yet: :func:`save_remote`).

    A remote at the line's URL must pin the key of the line's fingerprint; otherwise the
    relay's key is fetched and used only if it has that fingerprint (never trust on first
    use). A new remote is named ``relay`` (``relay-2``, ... when taken). Nothing is stored.

    Raises:
        VerificationError: the pinned or offered key is not the one the line names (exit 5).
        StorageUnavailableError: the relay cannot be reached.
    """
    known = store.list()
    for remote in known:
        if remote.url == line.relay:
            pinned = ed25519.fingerprint(ed25519.parse_public_key_line(remote.relay_key))
            if pinned != line.relay_key:
                raise VerificationError(
                    f"remote {remote.name} ({remote.url}) pins relay key {pinned}, but the "
                    f"invite line names {line.relay_key}",
                    hint="check the relay key with the proposer before going on; "
                    "`accord remote list` shows what this ledger pins",
                )
            return remote, False
    with RelayClient(line.relay, **client_args) as client:
        offered = client.relay_key()
    try:
        public = ed25519.parse_public_key_line(offered.strip())
    except LedgerError as exc:
        raise VerificationError(
            f"the relay at {line.relay} sent an unusable key: {exc.message}",
            hint="do not use this relay; tell the proposer",
        ) from None
    found = ed25519.fingerprint(public)
    if found != line.relay_key:
        raise VerificationError(
            f"the relay at {line.relay} presents key {found}, not {line.relay_key} as the "
            "invite line says",
            hint="do not use this relay (someone may stand in for it); ask the proposer",
        )
    taken = {r.name for r in known}
    name = next(n for n in ("relay", *(f"relay-{i}" for i in range(2, 1000))) if n not in taken)
    return Remote(name, line.relay, ed25519.public_key_line(public)), True


def save_remote(store: RemoteStore, remote: Remote) -> Remote:
    """Add a remote :func:`find_remote` found, once the invitation was answered.

    Raises:
        UsageError: a remote of that name was added meanwhile.
    """
    return store.add(remote.name, remote.url, remote.relay_key)


# --- the invitation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """An invitation read from the relay and verified: the proposal and the head to follow."""

    line: InviteLine
    proposal: entry_mod.SignedEntry
    state: rules.ProjectState  # the project after its proposal alone
    head: tuple[int, str]
    checkpoint: Checkpoint

    def terms(self) -> dict[str, Any]:
        """What joining accepts: the proposal's terms, as JSON-ready data."""
        return proposal_terms(self.proposal, self.state)


def proposal_terms(proposal: entry_mod.SignedEntry, state: rules.ProjectState) -> dict[str, Any]:
    """The terms of a verified proposal (``state``: the project after it), JSON-ready."""

    def seat(member: dict[str, Any]) -> str:
        if member["handle"] == proposal.by:
            return "proposer"
        return "pinned" if member["key"] else "invite"

    return {
        "project": state.slug,
        "title": state.title,
        "purpose": state.purpose,
        "proposer": state.proposer,
        "members": [{"handle": m["handle"], "seat": seat(m)} for m in proposal.body["members"]],
        "approval": state.approval,
        "close": state.close_policy,
        "terms": proposal.hash,
        "proposed_at": str(proposal.data["at"]),
    }


def invite_signer(line: InviteLine, handle: str) -> Signer:
    """The invite key of ``line`` as a signer of reads (never of entries).

    Raises:
        UsageError: the line carries no invite (a pinned seat reads with its own key).
    """
    if line.invite is None:
        raise UsageError("this invite line carries no invite: the seat is pinned")
    return Signer(
        handle=handle, key_name="invite", private_key=entry_mod.parse_invite_token(line.invite)
    )


def fetch_invitation(
    remote: Remote, line: InviteLine, handle: str, **client_args: Any
) -> Invitation:
    """Read the invitation of seat ``handle`` with the line's invite key, and verify it.

    Raises:
        NotFoundError: the relay answers 404 (a wrong, used or other seat's invite, a
            cancelled proposal, or no such project: it does not say which; exit 3).
        VerificationError: the proposal is not the one the line names, does not record this
            invite for the seat, or the checkpoint or head does not verify (exit 5).
    """
    with RelayClient(remote.url, invite_signer(line, handle), **client_args) as client:
        try:
            body = client.invitation(line.project, handle)
        except NotFoundError as exc:
            raise NotFoundError(exc.message, hint=NOT_INVITED_HINT) from None
    return verify_invitation(remote, line, handle, body)


def verify_invitation(
    remote: Remote, line: InviteLine, handle: str, body: dict[str, Any]
) -> Invitation:
    """Check a relay's invitation answer against the line and the pinned relay key.

    Raises:
        VerificationError: see :func:`fetch_invitation`.
    """
    where = f"the relay at {remote.url} sent an invitation to {line.project!r} that"
    row, head, note = body.get("proposal"), body.get("head"), body.get("checkpoint")
    if not isinstance(row, dict) or not isinstance(head, dict) or not isinstance(note, str):
        raise VerificationError(f"{where} is malformed")
    try:
        proposal = parse_rows(json.dumps(row, ensure_ascii=False).encode("utf-8"), slug=None)[0]
    except (MalformedRequestError, ValueError):
        raise VerificationError(f"{where} holds no proposal row") from None
    if proposal.hash != line.terms or proposal.data.get("project") != line.project:
        raise VerificationError(
            f"{where} is not the proposal the invite line names (terms {line.terms[:12]}...)",
            hint="do not join: the relay (or someone) shows other terms; tell the proposer",
        )
    state = rules.replay(line.project, [proposal])
    member = state.members.get(handle)
    invite = entry_mod.invite_fingerprint(line.invite) if line.invite else None
    if member is None or member.invite != invite:
        raise VerificationError(f"{where} does not record this invite for the seat of {handle!r}")
    seq, digest = head.get("seq"), head.get("hash")
    if type(seq) is not int or seq < 1 or not isinstance(digest, str) or not _HEX64.match(digest):
        raise VerificationError(f"{where} names a malformed head")
    _, checkpoint = verified_note(remote, note, origin=origin_for(proposal.hash))
    if checkpoint.size != seq or (seq == 1 and digest != proposal.hash):
        raise VerificationError(f"{where} names a head other than its signed checkpoint's")
    return Invitation(line, proposal, state, (seq, digest), checkpoint)


# --- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """An answer the relay holds, with its verified receipt."""

    entry: entry_mod.SignedEntry
    note: str
    checkpoint: Checkpoint
    proof: list[str]
    attempts: int


def post_answer(
    remote: Remote,
    invitation: Invitation,
    *,
    kind: str,
    signer: Signer,
    clock: Callable[[], datetime],
    reason: str | None = None,
    **client_args: Any,
) -> Posted:
    """Sign the join or decline after the invitation's head and post it; verify the receipt.

    A 409 (the head moved) reads the invitation again and signs again, at most
    :data:`ATTEMPTS` times.

    Raises:
        LedgerError: the answer cannot be built (see ``sign_seat_answer``), the relay
            refuses it (a rule: exit 4; a signature or key: exit 5), the invitation is gone
            (exit 3), or the receipt does not prove it (exit 5).
    """
    line = invitation.line
    for attempt in range(1, ATTEMPTS + 1):
        signed = sign_seat_answer(
            invitation.proposal,
            head=invitation.head,
            kind=kind,
            signer=signer,
            invite=line.invite,
            reason=reason,
            at=clock(),
        )
        with RelayClient(remote.url, None, **client_args) as client:
            try:
                outcome = client.post_entries(line.project, [signed])
            except RelayConflictError:
                invitation = fetch_invitation(remote, line, signer.handle, **client_args)
                continue
        note, checkpoint, proof = check_detached_receipt(
            remote, invitation, signed, outcome.receipt
        )
        return Posted(signed, note, checkpoint, proof, attempt)
    raise ConflictError(
        f"gave up after {ATTEMPTS} attempts: others kept appending to {line.project!r}",
        hint="try again in a moment",
    )


def check_detached_receipt(
    remote: Remote,
    invitation: Invitation,
    entry: entry_mod.SignedEntry,
    answer: dict[str, Any],
) -> tuple[str, Checkpoint, list[str]]:
    """Verify a receipt without the log: the checkpoint and the inclusion proof of ``entry``.

    The replica holds none of the entries before ``entry`` yet, so the proof is checked on
    its own (RFC 6962): the entry's leaf at index ``seq - 1`` of a tree the pinned relay key
    signed under the project's origin.

    Raises:
        VerificationError: anything does not verify (exit 5).
    """
    slug = invitation.line.project
    where = f"the relay at {remote.url} sent a receipt for seq {entry.seq} of {slug!r} that"
    hint = f"`accord sync {slug}` (once joined) shows what the relay holds"
    body, proof_b64, proof = receipt_parts(answer, slug, entry, where=where, hint=hint)
    try:
        note, checkpoint = verified_note(
            remote, body["checkpoint"], origin=origin_for(invitation.proposal.hash)
        )
        leaf = leaf_hash(bytes.fromhex(entry.hash))
        verify_inclusion(entry.seq - 1, checkpoint.size, leaf, proof, checkpoint.root_hash)
    except (ValueError, ProofError, VerificationError):
        raise VerificationError(
            f"{where} does not prove it holds the entry in a tree the pinned key signed",
            hint=hint,
        ) from None
    return note.encode().decode("utf-8"), checkpoint, list(proof_b64)


def keep_answer(ledger: Ledger | None, remote: Remote, store: RemoteStore, posted: Posted) -> None:
    """Keep the receipt (and, once the log is pulled into ``ledger``, its checkpoint).

    With a ``ledger`` (a join: the replica holds the log up to at least the entry) the
    entry at its seq must be the one posted, and the replica's root at the receipt's size
    must be the receipt's root (else the relay showed two histories: exit 5). A decline
    keeps the receipt alone: the decliner reads the log no more.

    Raises:
        VerificationError: the pulled log does not hold the posted entry where the receipt
            put it, or has another root at the receipt's size.
    """
    slug = str(posted.entry.data["project"])
    root = posted.checkpoint.root_hash.hex()
    if ledger is not None:
        state = ledger.verified_state(slug)
        if state.seq < posted.checkpoint.size or (
            ledger.log_entry(slug, posted.entry.seq).hash != posted.entry.hash
        ):
            raise VerificationError(
                f"the relay's log of {slug!r} does not hold the {posted.entry.type} it "
                f"acknowledged at seq {posted.entry.seq}",
                hint="keep the receipt (`accord status`) and tell your partners",
            )
        if differs(ledger, slug, posted.checkpoint.size, store, posted.checkpoint.root_hash):
            raise VerificationError(
                f"the relay's receipt for seq {posted.entry.seq} of {slug!r} signs a tree "
                "that is not the log it served",
                hint="keep the receipt and tell your partners",
            )
        store.keep(remote.name, slug, size=posted.checkpoint.size, root=root, note=posted.note)
    store.keep_receipt(
        remote.name,
        slug,
        seq=posted.entry.seq,
        digest=posted.entry.hash,
        size=posted.checkpoint.size,
        note=posted.note,
        proof=json.dumps(posted.proof),
    )


def pinned_invitations(
    remote: Remote, signer: Signer, **client_args: Any
) -> list[tuple[str, entry_mod.SignedEntry, rules.ProjectState]]:
    """The proposals waiting for a seat pinned to ``signer``'s key at ``remote``, verified.

    Each served proposal must verify on its own (format, signature, rules) and pin the
    signer's fingerprint to the seat it is listed for; anything else is left out (a relay
    can hide an invitation, never make one up that the proposer did not sign).

    Returns:
        (handle, proposal, state after it) for each, in the relay's order (newest first).
    """
    found = []
    with RelayClient(remote.url, signer, **client_args) as client:
        rows = client.invitations()
    for row in rows[:100]:
        proposal_row, handle = row.get("proposal"), row.get("handle")
        if not isinstance(proposal_row, dict) or not isinstance(handle, str):
            continue
        try:
            text = json.dumps(proposal_row, ensure_ascii=False).encode("utf-8")
            proposal = parse_rows(text, slug=None)[0]
            state = rules.replay(str(proposal.data["project"]), [proposal])
        except (MalformedRequestError, LedgerError, ValueError):
            continue
        member = state.members.get(handle)
        if member is None or member.pinned != signer.fingerprint or member.status != rules.INVITED:
            continue
        found.append((handle, proposal, state))
    return found
