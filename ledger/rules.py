"""The rules of a collaboration: one deterministic state machine over signed entries.

``apply(state, entry)`` checks ``entry`` against every rule and, only when all of them hold,
advances ``state`` and returns it. A refused entry raises a :class:`~ledger.errors.LedgerError`
before anything in ``state`` changes, so a caller may keep using the state it had.
The same function runs when a command appends an entry, when an auditor replays a log and
under every projection; it trusts nothing the store says beyond the entry bytes themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from ledger import ed25519
from ledger import entry as entry_mod
from ledger.errors import (
    AlreadyDecidedError,
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    SignatureInvalidError,
    VerificationError,
    WeakKeyError,
)
from ledger.format import MAX_SIGNERS, check_bounds, check_entry, entry_noun, text_size, unit_key
from ledger.numbers import check_numbers, decimal_text, exact_difference, exact_sum

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ledger.entry import SignedEntry

PROPOSED, ACTIVE, CLOSED, ABANDONED = "proposed", "active", "closed", "abandoned"
INVITED, JOINED, DECLINED = "invited", "joined", "declined"
PENDING, ACCEPTED, REJECTED, VOID = "pending", "accepted", "rejected", "void"
OPEN, UPHELD, DISMISSED = "open", "upheld", "dismissed"  # a dispute
CLOSED_SHORT = "closed-short"  # a pledge ended, by agreement, with what was approved
CANCELLED = "cancelled"  # a proposal its proposer withdrew before it became active


@dataclass(slots=True)
class SignerSeat:
    """One person (or device) signing for a party: a label and the key it signs with now."""

    label: str
    key: str
    public_key: str
    since_seq: int


@dataclass(slots=True)
class Member:
    """A party invited to the project, and the signers (keys) that act for it now."""

    handle: str
    pinned: str | None
    status: str = INVITED
    joined_seq: int | None = None
    keys: list[str] = field(default_factory=list)  # every key the party ever signed with
    invite: str | None = None  # fingerprint of the invite key of an unpinned seat
    signers: dict[str, SignerSeat] = field(default_factory=dict)  # label -> current signer

    def signer_for(self, key: str) -> SignerSeat | None:
        """The current signer that signs with ``key``, if any."""
        return next((s for s in self.signers.values() if s.key == key), None)

    def current_keys(self) -> dict[str, str]:
        """The public key line of every current signer, by fingerprint."""
        return {s.key: s.public_key for s in self.signers.values()}


@dataclass(slots=True)
class Pledge:
    """A promise one member made to others."""

    seq: int
    by: str
    title: str
    weight: Decimal
    unit: str
    due: str
    beneficiaries: tuple[str, ...]
    hash: str
    status: str = "open"
    pending_amendment: int | None = None
    amendments: list[int] = field(default_factory=list)
    deliverables: list[int] = field(default_factory=list)
    withdrawn_seq: int | None = None
    pending: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    accepted: list[tuple[int, Decimal]] = field(default_factory=list)
    disputed: Decimal = Decimal(0)  # accepted, but under an open dispute: not in approved
    pending_close: int | None = None  # a close-short proposal awaiting a decision
    short_closes: list[int] = field(default_factory=list)
    closed_short_seq: int | None = None  # the approval that closed it short


@dataclass(slots=True)
class Decision:
    """Something that needs the beneficiaries' approval: a deliverable or an amendment."""

    seq: int
    kind: str
    pledge: int
    by: str
    hash: str
    status: str = PENDING
    approvals: dict[str, int] = field(default_factory=dict)
    refusal: tuple[str, int, str] | None = None
    decided_seq: int | None = None


@dataclass(slots=True)
class Deliverable(Decision):
    """Work submitted against a pledge."""

    summary: str = ""
    quantity: Decimal = Decimal(0)
    evidence: tuple[tuple[str, str, int], ...] = ()
    dispute: int | None = None  # the open dispute on its decision
    disputes: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Amendment(Decision):
    """A proposed change to a pledge; it takes effect when approved."""

    changes: dict[str, str] = field(default_factory=dict)
    reason: str = ""


@dataclass(slots=True)
class ShortClose(Decision):
    """A proposal to end a pledge with what was approved; it takes effect when approved."""

    reason: str = ""


@dataclass(slots=True)
class Dispute:
    """A dispute of the decision on a deliverable: its acceptance or its refusal.

    ``about`` is ``acceptance`` (the target is the deliverable or an approval of it) or
    ``refusal``. ``parties`` must all sign the same outcome for it to take effect; each
    party's current choice is in ``votes`` (outcome, seq).
    """

    seq: int
    by: str
    target: int
    deliverable: int
    pledge: int
    about: str
    reason: str
    parties: tuple[str, ...]
    votes: dict[str, tuple[str, int]] = field(default_factory=dict)
    status: str = OPEN
    resolved_seq: int | None = None


@dataclass(slots=True)
class Statement:
    """A shared-responsibility statement; every revision voids earlier signatures."""

    seq: int
    by: str
    title: str
    texts: list[str]
    revisions: list[int]
    signatures: dict[str, int] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The current version number, starting at 1."""
        return len(self.texts)

    @property
    def text(self) -> str:
        """The current text."""
        return self.texts[-1]


@dataclass(slots=True)
class ValueProposal:
    """A proposed worth of one unit in the project's reference unit (``value.proposed``).

    It takes effect (``accepted``) when every other joined member that can still sign has
    approved it; proposing counts as the proposer's agreement. A refusal rejects it, a
    later proposal for the same unit voids it while pending, and a later agreed value for
    the same unit replaces it (``replaced_seq``).
    """

    seq: int
    by: str
    hash: str
    unit: str
    worth: Decimal
    reference: str
    reason: str
    status: str = PENDING
    approvals: dict[str, int] = field(default_factory=dict)
    refusal: tuple[str, int, str] | None = None
    decided_seq: int | None = None
    replaced_seq: int | None = None


@dataclass(slots=True)
class ProjectState:
    """Everything the rules need to know about a project after some prefix of its stream."""

    slug: str
    seq: int = 0
    head: str = entry_mod.ZERO_HASH
    status: str = PROPOSED
    title: str = ""
    purpose: str = ""
    proposer: str = ""
    approval: str = "all"
    close_policy: str = "all"
    terms: str = ""
    members: dict[str, Member] = field(default_factory=dict)
    pledges: MutableMapping[int, Pledge] = field(default_factory=dict)
    decisions: MutableMapping[int, Decision] = field(default_factory=dict)
    statements: MutableMapping[int, Statement] = field(default_factory=dict)
    types: MutableMapping[int, str] = field(default_factory=dict)
    revoked: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)  # key of a removed signer -> seq
    labels: dict[str, str] = field(default_factory=dict)  # every key ever admitted -> label
    final_head: str = entry_mod.ZERO_HASH
    final_head_seq: int = 0
    close_signatures: dict[str, int] = field(default_factory=dict)
    closed_seq: int | None = None
    cancelled_seq: int | None = None  # the project.cancelled that ended a proposal
    units: dict[str, str] = field(default_factory=dict)  # unit_key -> the first spelling
    values: dict[int, ValueProposal] = field(default_factory=dict)  # value.proposed by seq
    disputes: MutableMapping[int, Dispute] = field(default_factory=dict)
    open_disputes: dict[int, int] = field(default_factory=dict)  # dispute seq -> pledge seq

    def joined(self) -> list[str]:
        """Handles of members who have joined, sorted."""
        return sorted(h for h, m in self.members.items() if m.status == JOINED)

    def waiting_for(self) -> list[str]:
        """Handles of invited members who have neither joined nor declined, sorted."""
        return sorted(h for h, m in self.members.items() if m.status == INVITED)

    def approvals_needed(self, pledge: Pledge) -> int:
        """How many beneficiaries must approve a deliverable or amendment of ``pledge``."""
        count = len(pledge.beneficiaries)
        if self.approval == "all":
            return count
        if self.approval == "any":
            return 1
        return min(int(self.approval), count)

    def closes_needed(self) -> int:
        """How many close signatures on the final head close the project."""
        signers = [h for h in self.joined() if self.members[h].signers]
        if self.close_policy == "all":
            return len(signers)
        return min(int(self.close_policy), len(signers))


def new_state(slug: str) -> ProjectState:
    """Return the state of a project before its first entry."""
    return ProjectState(slug=slug)


def replay(slug: str, entries: Iterable[SignedEntry]) -> ProjectState:
    """Fold ``apply`` over ``entries`` from the empty state.

    Raises:
        LedgerError: the first entry that breaks a rule, with its seq.
    """
    state = new_state(slug)
    for item in entries:
        apply(state, item)
    return state


def apply(
    state: ProjectState,
    item: SignedEntry,
    *,
    unsafe_skip_signature: bool = False,
    unsafe_skip_format: bool = False,
) -> ProjectState:
    """Check ``item`` against the rules and, if it passes, advance ``state`` to include it.

    Args:
        state: the project after the entries before ``item``; it is changed in place only
            when every check passes.
        item: the next signed entry.
        unsafe_skip_signature: skip the Ed25519 check (only for callers that verified the
            signature already, such as the parallel verifier).
        unsafe_skip_format: skip the format v1 check of envelope and body (only for callers
            that ran :func:`ledger.format.check_entry` on this entry already).

    Returns:
        The advanced state (the same object).

    Raises:
        VerificationError: malformed or out-of-chain entry.
        SignatureInvalidError: the signature does not verify.
        KeyNotValidError: the key is unknown, revoked, superseded or not the pinned one.
        WeakKeyError: the entry brings in a weak public key (small order, non-canonical).
        NotFoundError: the entry refers to a seq or party that does not exist.
        RuleViolationError: the entry breaks a rule of the collaboration, or is beyond the
            bounds of the format (its size, the length of a list: ``format.check_bounds``; a
            number: :func:`ledger.format.check_numbers`).
    """
    data = item.data
    if not unsafe_skip_format:
        try:
            check_entry(data)
        except VerificationError as exc:
            raise VerificationError(exc.message, seq=data.get("seq")) from None
    check_bounds(data, text_size(item.text))  # not skipped with the format: verify's workers
    # check the format of each row, never its bounds
    seq = item.seq
    if data["project"] != state.slug:
        raise VerificationError(
            f"entry belongs to project {data['project']!r}, not {state.slug!r}", seq=seq
        )
    if seq != state.seq + 1:
        raise VerificationError(f"expected seq {state.seq + 1}, found seq {seq}", seq=seq)
    if data["prev"] != state.head:
        raise VerificationError(
            f"prev of seq {seq} does not match the hash of seq {state.seq}", seq=seq
        )
    require_open(state, seq)
    public_key = _signing_key(state, item)
    if not unsafe_skip_signature:
        entry_mod.verify(item, _parse_key(public_key))
    handler = _HANDLERS[item.type]
    try:
        check_numbers(item.type, item.body)  # the bound the arithmetic below relies on
        commit = handler(state, item)
    except LedgerError as exc:
        if exc.seq is None:
            exc.seq = seq
        raise
    # Every check has passed: from here on, only assignments.
    commit()
    state.types[seq] = item.type
    state.seq = seq
    state.head = item.hash
    if item.type != "close.signed":
        state.final_head, state.final_head_seq = item.hash, seq
        state.close_signatures = {}
    return state


# --- helpers --------------------------------------------------------------------------------


def require_open(state: ProjectState, seq: int | None = None) -> None:
    """Refuse anything more on a closed or abandoned project.

    Raises:
        RuleViolationError: the project is closed or abandoned.
    """
    if state.status == CLOSED:
        raise _rule(
            f"project {state.slug!r} is closed (seq {state.closed_seq}); nothing more can be added",
            seq,
            hint="start a new project for further work",
        )
    if state.status == ABANDONED:
        raise _rule(f"project {state.slug!r} was abandoned: every invitee declined", seq)
    if state.status == CANCELLED:
        raise _rule(
            f"project {state.slug!r} was cancelled by its proposer (seq {state.cancelled_seq}); "
            "nothing more can be added",
            seq,
            hint="ask the proposer for a new proposal",
        )


def _rule(message: str, seq: int | None = None, hint: str | None = None) -> RuleViolationError:
    return RuleViolationError(message, seq=seq, hint=hint)


@lru_cache(maxsize=1024)
def _parse_key(line: str) -> Ed25519PublicKey:
    return ed25519.parse_public_key_line(line)


def text_hash(text: str) -> str:
    """Return the SHA-256 (hex) of a statement text, as statement.signed records it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signing_key(state: ProjectState, item: SignedEntry) -> str:
    """Return the public key line ``item`` must be signed with, or raise why it cannot be."""
    seq, by, kind, key = item.seq, item.by, item.type, item.key
    if seq == 1 or kind == "project.proposed":
        if seq != 1 or kind != "project.proposed":
            raise VerificationError("a stream starts with project.proposed, and only once", seq=seq)
        line = str(item.body["public_key"])
        _check_fingerprint(line, key, seq)
        return line
    if kind in ("member.joined", "member.declined"):
        member = state.members.get(by)
        if member is None:
            raise _rule(
                f"{by!r} was not invited to project {state.slug!r}",
                seq,
                hint="only the members named in the proposal can join or decline",
            )
        if member.status == JOINED and member.joined_seq is not None:
            raise AlreadyDecidedError(
                f"{by!r} has already joined project {state.slug!r}",
                decided_seq=member.joined_seq,
                seq=seq,
            )
        if member.status != INVITED:
            raise _rule(f"{by!r} has already {member.status} project {state.slug!r}", seq)
        line = str(item.body["public_key"])
        _check_fingerprint(line, key, seq)
        if member.pinned is not None and member.pinned != key:
            raise KeyNotValidError(
                f"key {key} of {by!r} does not match the fingerprint pinned in the proposal "
                f"({member.pinned})",
                seq=seq,
                hint="join with the key the proposer pinned, or ask for a new proposal",
            )
        check_invite(state, item, member)
        if _key_in_use(state, key):
            raise KeyNotValidError(f"key {key} is already used in this project", seq=seq)
        return line
    member = state.members.get(by)
    if member is None or member.status != JOINED:
        status = "invited but has not joined" if member and member.status == INVITED else None
        raise _rule(
            f"{by!r} is not a member of project {state.slug!r}"
            + (f" ({status})" if status else ""),
            seq,
            hint="`accord project show SLUG` lists the members",
        )
    signer = member.signer_for(key)
    if signer is None:
        label = state.labels.get(key) if key in member.keys else None
        if key in state.revoked:
            reason = f"was revoked at seq {state.revoked[key]}"
        elif key in state.removed:
            reason = f"belongs to signer {label!r}, removed from {by!r} at seq {state.removed[key]}"
        elif key in member.keys:
            reason = "was replaced by a newer key"
        else:
            reason = f"is not a current key of {by!r}"
        raise KeyNotValidError(
            f"key {key} {reason}",
            seq=seq,
            hint="`accord project show SLUG` lists each member's current signers and keys",
        )
    return signer.public_key


INVITE_HINT = "ask the proposer for your invite, then --invite TOKEN"


def check_invite(state: ProjectState, item: SignedEntry, member: Member) -> None:
    """Check the invite proof of a join or decline against the seat's invite fingerprint.

    Raises:
        KeyNotValidError: the seat has an invite and the entry carries no valid proof of it,
            or the entry carries a proof the seat has no invite for.
    """
    seq, by = item.seq, item.by
    proof = item.body.get("invite_proof")
    if member.invite is None:
        if proof is not None:
            raise KeyNotValidError(
                f"the seat of {by!r} has no invite, but the entry carries an invite proof",
                seq=seq,
            )
        return
    if proof is None:
        raise KeyNotValidError(
            f"the seat of {by!r} is protected by an invite ({member.invite}); the entry "
            "carries no invite proof",
            seq=seq,
            hint=INVITE_HINT,
        )
    try:
        signer = ed25519.fingerprint(_parse_key(str(proof["public_key"])))
    except WeakKeyError as exc:
        raise WeakKeyError(f"the invite proof of {by!r} carries a {exc.message}", seq=seq) from None
    except (VerificationError, KeyError, TypeError):
        signer = "(none: the proof is malformed)"
    if signer != member.invite:
        raise KeyNotValidError(
            f"the invite proof of {by!r} is signed by invite key {signer}, not by the seat's "
            f"invite {member.invite}",
            seq=seq,
            hint=INVITE_HINT,
        )
    try:
        entry_mod.verify_invite_proof(
            proof, project=state.slug, terms=state.terms, handle=by, key=item.key
        )
    except (VerificationError, SignatureInvalidError):
        raise KeyNotValidError(
            f"the invite proof of {by!r} does not verify for project {state.slug!r}, "
            f"its terms, handle {by!r} and key {item.key}",
            seq=seq,
            hint=INVITE_HINT,
        ) from None


def _check_fingerprint(line: str, key: str, seq: int) -> None:
    if _new_key(line, seq) != key:
        raise KeyNotValidError(f"entry names key {key} but carries a different public key", seq=seq)


def _new_key(line: str, seq: int) -> str:
    """The fingerprint of a public key an entry brings into the project; a weak one is refused.

    Raises:
        WeakKeyError: the key is of small order or not canonically encoded.
    """
    try:
        return ed25519.fingerprint(_parse_key(line))
    except WeakKeyError as exc:
        raise WeakKeyError(f"entry {seq} carries a {exc.message}", seq=seq) from None


KEY_HINT = "each person signs with a key of their own: `accord key new NAME`"


def _check_key_unused(state: ProjectState, key: str, handle: str) -> None:
    """Refuse a new key that was used in the project before or is pinned to another's seat.

    Raises:
        RuleViolationError: the key was used before (by any party) or is pinned elsewhere.
    """
    if _key_in_use(state, key) or key in state.revoked:
        owner = next((m.handle for m in state.members.values() if key in m.keys), None)
        whose = f" (by {owner!r})" if owner is not None else ""
        raise _rule(
            f"key {key} was used in this project before{whose}; a key serves one signer only",
            hint=KEY_HINT,
        )
    seat = _pinned_elsewhere(state, key, handle)
    if seat is not None:
        raise _rule(
            f"key {key} is pinned to the seat of {seat!r}, who has not joined yet", hint=KEY_HINT
        )


def _key_in_use(state: ProjectState, key: str) -> bool:
    return any(key in m.keys for m in state.members.values())


def _pinned_elsewhere(state: ProjectState, key: str, handle: str) -> str | None:
    """The invitee (not yet joined) whose seat is pinned to ``key``, other than ``handle``."""
    return next(
        (
            m.handle
            for m in state.members.values()
            if m.pinned == key and m.handle != handle and m.status == INVITED
        ),
        None,
    )


def _member_key(state: ProjectState, item: SignedEntry, line: str) -> Callable[[], None]:
    """Check a new key for the signer of ``item``; the commit puts it in that signer's seat."""
    key = _new_key(line, item.seq)
    _check_key_unused(state, key, item.by)
    member = state.members[item.by]
    old = member.signer_for(item.key)
    if old is None:  # pragma: no cover - _signing_key admitted only a current signer's key
        raise KeyNotValidError(f"key {item.key} is not a current key of {item.by!r}")
    label = old.label

    def commit() -> None:
        member.signers[label] = SignerSeat(label, key, line, item.seq)
        member.keys.append(key)
        state.labels[key] = label

    return commit


def _first_signer(state: ProjectState, member: Member, key: str, line: str, seq: int) -> None:
    """Give ``member`` its first signer (labelled with its handle), at a join or proposal."""
    member.signers = {member.handle: SignerSeat(member.handle, key, line, seq)}
    member.keys.append(key)
    state.labels[key] = member.handle


def _find(state: ProjectState, seq: int) -> str:
    kind = state.types.get(seq)
    if kind is None:
        raise NotFoundError(
            f"no entry at seq {seq} in project {state.slug!r}",
            hint=f"`accord trail {state.slug}` lists every seq",
        )
    return kind


def _pledge(state: ProjectState, seq: int) -> Pledge:
    kind = _find(state, seq)
    pledge = state.pledges.get(seq)
    if pledge is None:
        raise _rule(
            f"seq {seq} is {entry_noun(kind)}, not a pledge",
            hint=f"`accord pledge list {state.slug}` lists pledges by seq",
        )
    return pledge


def unit_spelling_error(slug: str, unit: str, first: str) -> RuleViolationError:
    """The error for a unit spelled differently from the same unit earlier in the project."""
    return _rule(
        f"unit {unit!r} is spelled {first!r} in project {slug!r}; two spellings would split "
        "its contributions",
        hint=f"write the unit as {first}",
    )


def _require_active(state: ProjectState, item: SignedEntry) -> None:
    if state.status != ACTIVE:
        waiting = ", ".join(state.waiting_for())
        raise _rule(
            f"project {state.slug!r} is not active yet: waiting for {waiting} to join",
            item.seq,
            hint="every invited member must join (or decline) first",
        )


# --- handlers: checks first, then a commit closure that only assigns ------------------------

Handler = Callable[[ProjectState, "SignedEntry"], Callable[[], None]]


def _project_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    members = {m["handle"]: m["key"] for m in body["members"]}
    invites = {m["handle"]: m.get("invite") for m in body["members"]}
    if members.get(item.by) != item.key:
        raise _rule("the proposer must be listed as a member with its own key")
    if invites.get(item.by) is not None:
        raise _rule("the proposer's own seat has no invite")
    if len(members) < 2:
        raise _rule("a collaboration needs at least two members", hint="invite a partner")
    if body["close"] != "all" and int(body["close"]) > len(members):
        raise _rule(f"close policy {body['close']} is more than the {len(members)} members")

    def commit() -> None:
        state.title, state.purpose = body["title"], body["purpose"]
        state.proposer, state.terms = item.by, item.hash
        state.approval, state.close_policy = body["approval"], body["close"]
        for handle, pinned in members.items():
            state.members[handle] = Member(handle=handle, pinned=pinned, invite=invites[handle])
        proposer = state.members[item.by]
        proposer.status, proposer.joined_seq = JOINED, 1
        _first_signer(state, proposer, item.key, body["public_key"], 1)

    return commit


def _project_cancelled(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.by != state.proposer:
        raise _rule(
            f"only the proposer ({state.proposer!r}) can cancel project {state.slug!r}",
            hint=f"ask {state.proposer} to cancel it, or decline the invitation",
        )
    if state.status != PROPOSED:
        raise _rule(
            f"project {state.slug!r} is {state.status}: only a proposal still waiting for "
            "its invitees can be cancelled",
            hint=f"end an active project with `accord close {state.slug}`",
        )

    def commit() -> None:
        state.status, state.cancelled_seq = CANCELLED, item.seq

    return commit


def _update_status(state: ProjectState) -> None:
    if state.status == PROPOSED and not state.waiting_for():
        state.status = ACTIVE if len(state.joined()) >= 2 else ABANDONED


def _member_joined(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["terms"] != state.terms:
        raise _rule("the joining member accepted different terms (terms hash mismatch)")
    member = state.members[item.by]

    def commit() -> None:
        member.status, member.joined_seq = JOINED, item.seq
        _first_signer(state, member, item.key, item.body["public_key"], item.seq)
        _update_status(state)

    return commit


def _member_declined(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["terms"] != state.terms:
        raise _rule("the declining member saw different terms (terms hash mismatch)")
    member = state.members[item.by]

    def commit() -> None:
        member.status = DECLINED
        _update_status(state)

    return commit


def _key_rotated(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    return _member_key(state, item, item.body["public_key"])


def _key_revoked(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    if body["fingerprint"] != item.key:
        raise _rule(
            f"{item.by!r} can only revoke the key it signs with ({item.key})",
            hint="sign the revocation with the key being revoked",
        )
    replace = (
        _member_key(state, item, body["replacement"]) if body["replacement"] is not None else None
    )
    member = state.members[item.by]
    signer = member.signer_for(item.key)

    def commit() -> None:
        state.revoked[item.key] = item.seq
        if signer is not None:
            del member.signers[signer.label]
        if replace is not None:
            replace()

    return commit


def _signer_added(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    label, line = body["label"], body["public_key"]
    member = state.members[item.by]
    taken = member.signers.get(label)
    if taken is not None:
        raise _rule(
            f"{item.by!r} already has a signer labelled {label!r} (key {taken.key})",
            hint="choose another label, or remove that signer first",
        )
    if len(member.signers) >= MAX_SIGNERS:
        raise _rule(
            f"{item.by!r} has {len(member.signers)} signers already, the most a party may have",
            hint="remove a signer first (`accord project remove-signer`)",
        )
    key = _new_key(line, item.seq)
    _check_key_unused(state, key, item.by)

    def commit() -> None:
        member.signers[label] = SignerSeat(label, key, line, item.seq)
        member.keys.append(key)
        state.labels[key] = label

    return commit


def _signer_removed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    label = item.body["label"]
    member = state.members[item.by]
    signer = member.signers.get(label)
    if signer is None:
        current = ", ".join(sorted(member.signers)) or "none"
        raise NotFoundError(
            f"{item.by!r} has no current signer labelled {label!r} in project {state.slug!r}",
            hint=f"its current signers are: {current}",
        )
    if len(member.signers) == 1:
        raise _rule(
            f"{label!r} is the last signer of {item.by!r}; a party cannot remove its last signer",
            hint="add another signer first (`accord project add-signer`)",
        )

    def commit() -> None:
        del member.signers[label]
        state.removed[signer.key] = item.seq

    return commit


def _pledge_made(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    body = item.body
    for handle in body["beneficiaries"]:
        if handle == item.by:
            raise _rule("a pledge's beneficiaries are the other members, not its promisor")
        if handle not in state.members or state.members[handle].status != JOINED:
            raise NotFoundError(
                f"beneficiary {handle!r} is not a member of project {state.slug!r}",
                hint=f"`accord project show {state.slug}` lists the members",
            )
    unit = body["unit"]
    first = state.units.get(unit_key(unit))
    if first is not None and first != unit:
        raise unit_spelling_error(state.slug, unit, first)

    def commit() -> None:
        state.units.setdefault(unit_key(unit), unit)
        state.pledges[item.seq] = Pledge(
            seq=item.seq,
            by=item.by,
            title=body["title"],
            weight=Decimal(body["weight"]),
            unit=body["unit"],
            due=body["due"],
            beneficiaries=tuple(body["beneficiaries"]),
            hash=item.hash,
        )

    return commit


def _own_open_pledge(state: ProjectState, item: SignedEntry, verb: str) -> Pledge:
    _require_active(state, item)
    pledge = _pledge(state, item.body["pledge"])
    if pledge.by != item.by:
        raise _rule(
            f"pledge {pledge.seq} belongs to {pledge.by!r}; only its promisor can {verb} it"
        )
    if pledge.status == "withdrawn":
        raise _rule(f"pledge {pledge.seq} was withdrawn at seq {pledge.withdrawn_seq}")
    if pledge.status == CLOSED_SHORT:
        raise _rule(
            f"pledge {pledge.seq} was closed short at seq {pledge.closed_short_seq}; "
            "nothing more is owed or delivered on it",
            hint="make a new pledge for further work",
        )
    return pledge


def _no_pending_close(pledge: Pledge, verb: str) -> None:
    if pledge.pending_close is not None:
        raise _rule(
            f"pledge {pledge.seq} has a pending close-short proposal (seq {pledge.pending_close})"
            f"; it cannot be {verb} meanwhile",
            hint="wait until the beneficiaries approve or reject it",
        )


def _pledge_amended(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "amend")
    _no_pending_close(pledge, "amended")
    if pledge.pending_amendment is not None:
        raise _rule(
            f"pledge {pledge.seq} already has a pending amendment (seq {pledge.pending_amendment})",
            hint="wait until it is approved or rejected",
        )
    changes: dict[str, str] = item.body["changes"]
    current = {"title": pledge.title, "weight": str(pledge.weight), "due": pledge.due}
    if all(
        (Decimal(value) == pledge.weight) if name == "weight" else value == current[name]
        for name, value in changes.items()
    ):
        raise _rule(f"the amendment changes nothing in pledge {pledge.seq}")

    def commit() -> None:
        state.decisions[item.seq] = Amendment(
            seq=item.seq,
            kind="amendment",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            changes=dict(changes),
            reason=item.body["reason"],
        )
        pledge.pending_amendment = item.seq
        pledge.amendments.append(item.seq)

    return commit


def _pledge_withdrawn(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "withdraw")

    def commit() -> None:
        pledge.status, pledge.withdrawn_seq = "withdrawn", item.seq
        if pledge.pending_amendment is not None:
            amendment = state.decisions[pledge.pending_amendment]
            amendment.status, amendment.decided_seq = VOID, item.seq
            pledge.pending_amendment = None
        if pledge.pending_close is not None:
            proposal = state.decisions[pledge.pending_close]
            proposal.status, proposal.decided_seq = VOID, item.seq
            pledge.pending_close = None

    return commit


def _deliverable_submitted(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "deliver on")
    _no_pending_close(pledge, "delivered on")
    body = item.body

    def commit() -> None:
        state.decisions[item.seq] = Deliverable(
            seq=item.seq,
            kind="deliverable",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            summary=body["summary"],
            quantity=Decimal(body["quantity"]),
            evidence=tuple((e["name"], e["sha256"], e["size"]) for e in body["evidence"]),
        )
        pledge.deliverables.append(item.seq)
        pledge.pending = exact_sum((pledge.pending, Decimal(body["quantity"])))

    return commit


def _decision_for(state: ProjectState, item: SignedEntry) -> tuple[Decision, Pledge]:
    _require_active(state, item)
    target = item.body["target"]
    kind = _find(state, target)
    decision = state.decisions.get(target)
    if decision is None:
        raise _rule(
            f"seq {target} is {entry_noun(kind)}, not a deliverable, an amendment, a "
            "close-short or a value proposal",
            hint="only deliverables, amendments, close-short and value proposals are approved "
            f"or rejected; `accord trail {state.slug}` lists every seq",
        )
    if item.body["target_hash"] != decision.hash:
        raise _rule(f"the target hash does not match the hash of seq {target}")
    pledge = state.pledges[decision.pledge]
    if decision.by == item.by:
        raise _rule(
            f"{item.by!r} cannot approve or reject its own {decision.kind} (seq {target})",
            hint="a beneficiary of the pledge must decide",
        )
    if item.by not in pledge.beneficiaries:
        raise _rule(
            f"{item.by!r} is not a beneficiary of pledge {pledge.seq}; "
            f"only its beneficiaries ({', '.join(pledge.beneficiaries)}) decide on it",
        )
    if item.by in decision.approvals:
        raise AlreadyDecidedError(
            f"{item.by!r} already approved seq {target}", decided_seq=decision.approvals[item.by]
        )
    if decision.status != PENDING:
        raise AlreadyDecidedError(
            f"{decision.kind} seq {target} is already {decision.status}",
            decided_seq=decision.decided_seq or decision.seq,
        )
    return decision, pledge


def _approval_given(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["target"] in state.values:
        return _value_approved(state, item)
    decision, pledge = _decision_for(state, item)
    needed = state.approvals_needed(pledge)

    def commit() -> None:
        decision.approvals[item.by] = item.seq
        if len(decision.approvals) >= needed:
            decision.status, decision.decided_seq = ACCEPTED, item.seq
            if isinstance(decision, Amendment):
                _apply_amendment(pledge, decision)
            elif isinstance(decision, ShortClose):
                pledge.status, pledge.closed_short_seq = CLOSED_SHORT, item.seq
                pledge.pending_close = None
            elif isinstance(decision, Deliverable):
                pledge.pending = exact_difference(pledge.pending, decision.quantity)
                pledge.approved = exact_sum((pledge.approved, decision.quantity))
                pledge.accepted.append((item.seq, decision.quantity))

    return commit


def _apply_amendment(pledge: Pledge, amendment: Amendment) -> None:
    changes = amendment.changes
    pledge.title = changes.get("title", pledge.title)
    pledge.due = changes.get("due", pledge.due)
    if "weight" in changes:
        pledge.weight = Decimal(changes["weight"])
    pledge.pending_amendment = None


def _approval_refused(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["target"] in state.values:
        return _value_refused(state, item)
    decision, pledge = _decision_for(state, item)

    def commit() -> None:
        if isinstance(decision, Deliverable):
            pledge.pending = exact_difference(pledge.pending, decision.quantity)
        decision.status, decision.decided_seq = REJECTED, item.seq
        decision.refusal = (item.by, item.seq, item.body["reason"])
        if pledge.pending_amendment == decision.seq:
            pledge.pending_amendment = None
        if pledge.pending_close == decision.seq:
            pledge.pending_close = None

    return commit


def _statement(state: ProjectState, seq: int) -> Statement:
    kind = _find(state, seq)
    statement = state.statements.get(seq)
    if statement is None:
        raise _rule(
            f"seq {seq} is {entry_noun(kind)}, not a statement",
            hint=f"`accord statement list {state.slug}` lists statements by seq",
        )
    return statement


def _statement_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)

    def commit() -> None:
        state.statements[item.seq] = Statement(
            seq=item.seq,
            by=item.by,
            title=item.body["title"],
            texts=[item.body["text"]],
            revisions=[item.seq],
        )

    return commit


def _statement_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    statement = _statement(state, item.body["statement"])
    if item.body["version"] != statement.version:
        raise _rule(
            f"statement {statement.seq} is at version {statement.version}, "
            f"not version {item.body['version']}",
            hint="read the current text with `accord statement show` and sign again",
        )
    if item.body["text_hash"] != text_hash(statement.text):
        raise _rule(f"the signed text hash does not match statement {statement.seq}")
    if item.by in statement.signatures:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed version {statement.version} of statement {statement.seq}",
            decided_seq=statement.signatures[item.by],
        )

    def commit() -> None:
        statement.signatures[item.by] = item.seq

    return commit


def _statement_revised(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    statement = _statement(state, item.body["statement"])
    if item.body["text"] == statement.text:
        raise _rule(f"the revision does not change the text of statement {statement.seq}")

    def commit() -> None:
        statement.texts.append(item.body["text"])
        statement.revisions.append(item.seq)
        statement.signatures = {}

    return commit


def _close_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    body = item.body
    if body["head"] != state.final_head or body["head_seq"] != state.final_head_seq:
        raise _rule(
            f"the close signature names head seq {body['head_seq']}, but the final head is "
            f"seq {state.final_head_seq}",
            hint="an entry was added since; sign the close again",
        )
    if item.by in state.close_signatures:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed the close of head seq {state.final_head_seq}",
            decided_seq=state.close_signatures[item.by],
        )
    if state.open_disputes:
        first = min(state.open_disputes)
        raise _rule(
            f"dispute {first} is open; a project with an open dispute cannot close",
            hint=f"its parties settle it first: `accord resolve {state.slug} {first} "
            "--outcome upheld|dismissed --reason R --as HANDLE`",
        )
    needed = state.closes_needed()

    def commit() -> None:
        state.close_signatures[item.by] = item.seq
        if len(state.close_signatures) >= needed:
            state.status, state.closed_seq = CLOSED, item.seq

    return commit


# --- agreed values (value.proposed; approved and refused like amendments) --------------------


def agreed_values(state: ProjectState) -> dict[str, ValueProposal]:
    """The values in force, by the unit's spelling-insensitive key (:func:`unit_key`)."""
    return {
        unit_key(v.unit): v
        for v in state.values.values()
        if v.status == ACCEPTED and v.replaced_seq is None
    }


def reference_unit(state: ProjectState) -> str | None:
    """The unit every value is agreed in: that of the values in force or pending (or None).

    While no value is in force or pending, the next proposal may name any reference unit.
    """
    for proposal in state.values.values():
        if proposal.status == PENDING or (
            proposal.status == ACCEPTED and proposal.replaced_seq is None
        ):
            return proposal.reference
    return None


def value_approvers(state: ProjectState, proposal: ValueProposal) -> list[str]:
    """The members whose approval ``proposal`` needs: every other joined member with a key.

    A member whose key was revoked without a replacement can no longer sign, so it is not
    waited for.
    """
    return [h for h in state.joined() if h != proposal.by and state.members[h].signers]


def _check_unit_spelling(state: ProjectState, unit: str) -> None:
    first = state.units.get(unit_key(unit))
    if first is not None and first != unit:
        raise unit_spelling_error(state.slug, unit, first)


def _value_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    body = item.body
    unit, worth, reference = body["unit"], Decimal(body["worth"]), body["in"]
    _check_unit_spelling(state, unit)
    _check_unit_spelling(state, reference)
    if unit_key(unit) == unit_key(reference):
        raise _rule(
            f"a unit is worth 1 of itself: {unit!r} cannot be valued in {reference!r}",
            hint="value another unit in the reference unit",
        )
    current = reference_unit(state)
    if current is not None and unit_key(reference) != unit_key(current):
        raise _rule(
            f"values in project {state.slug!r} are agreed in {current}, not in {reference}",
            hint=f"give the value in {current} (one reference unit per project)",
        )
    agreed = agreed_values(state).get(unit_key(unit))
    if agreed is not None and agreed.worth == worth:
        raise _rule(
            f"{unit} is already agreed at {decimal_text(agreed.worth)} {agreed.reference} "
            f"(seq {agreed.seq})",
            hint="propose a different worth to replace it",
        )
    pending = [
        v
        for v in state.values.values()
        if v.status == PENDING and unit_key(v.unit) == unit_key(unit)
    ]

    def commit() -> None:
        state.units.setdefault(unit_key(unit), unit)
        state.units.setdefault(unit_key(reference), reference)
        for earlier in pending:  # a newer proposal for the unit supersedes a pending one
            earlier.status, earlier.decided_seq = VOID, item.seq
        state.values[item.seq] = ValueProposal(
            seq=item.seq,
            by=item.by,
            hash=item.hash,
            unit=unit,
            worth=worth,
            reference=reference,
            reason=body["reason"],
        )

    return commit


# --- closing a pledge short, and disputes (ADR 0009) -----------------------------------------


def _pledge_closed_short(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "close")
    if pledge.pending_close is not None:
        raise _rule(
            f"pledge {pledge.seq} already has a pending close-short proposal "
            f"(seq {pledge.pending_close})",
            hint="wait until it is approved or rejected",
        )
    if pledge.pending_amendment is not None:
        raise _rule(
            f"pledge {pledge.seq} has a pending amendment (seq {pledge.pending_amendment})",
            hint="wait until it is approved or rejected",
        )
    if pledge.pending > 0:
        waiting = [seq for seq in pledge.deliverables if state.decisions[seq].status == PENDING]
        raise _rule(
            f"pledge {pledge.seq} has deliverables awaiting a decision "
            f"(seq {', '.join(str(s) for s in waiting)})",
            hint="the beneficiaries decide them first, so that what was approved is settled",
        )
    if pledge.seq in state.open_disputes.values():
        open_ = sorted(d for d, p in state.open_disputes.items() if p == pledge.seq)
        raise _rule(
            f"pledge {pledge.seq} has an open dispute (seq {open_[0]})",
            hint="its parties resolve it first",
        )
    if pledge.approved >= pledge.weight:
        raise _rule(
            f"pledge {pledge.seq} is fulfilled ({decimal_text(pledge.approved)} of "
            f"{decimal_text(pledge.weight)} {pledge.unit} approved); there is nothing to close "
            "short",
        )

    def commit() -> None:
        state.decisions[item.seq] = ShortClose(
            seq=item.seq,
            kind="close-short",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            reason=item.body["reason"],
        )
        pledge.pending_close = item.seq
        pledge.short_closes.append(item.seq)

    return commit


def _value_for(state: ProjectState, item: SignedEntry) -> ValueProposal:
    _require_active(state, item)
    target = item.body["target"]
    proposal = state.values[target]
    if item.body["target_hash"] != proposal.hash:
        raise _rule(f"the target hash does not match the hash of seq {target}")
    if proposal.by == item.by:
        raise _rule(
            f"{item.by!r} cannot approve or reject its own value proposal (seq {target})",
            hint="proposing a value counts as agreeing to it; the other members decide",
        )
    if item.by in proposal.approvals:
        raise AlreadyDecidedError(
            f"{item.by!r} already approved seq {target}", decided_seq=proposal.approvals[item.by]
        )
    if proposal.status != PENDING:
        what = "superseded by a newer proposal for its unit" if proposal.status == VOID else ""
        raise AlreadyDecidedError(
            f"value proposal seq {target} is already {what or proposal.status}",
            decided_seq=proposal.decided_seq or proposal.seq,
            hint=f"`accord project values {state.slug}` lists the values and proposals",
        )
    return proposal


def _value_approved(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    proposal = _value_for(state, item)
    needed = value_approvers(state, proposal)
    earlier = agreed_values(state).get(unit_key(proposal.unit))

    def commit() -> None:
        proposal.approvals[item.by] = item.seq
        if all(h in proposal.approvals for h in needed):
            proposal.status, proposal.decided_seq = ACCEPTED, item.seq
            if earlier is not None:
                earlier.replaced_seq = item.seq

    return commit


DISPUTABLE = ("deliverable.submitted", "approval.given", "approval.refused")


def _disputed_decision(
    state: ProjectState, item: SignedEntry
) -> tuple[Deliverable, Pledge, str, str]:
    """The deliverable whose decision ``item`` disputes, and more, or the rule it breaks.

    Returns the deliverable, its pledge, the target's author and what is disputed
    (``acceptance`` or ``refusal``).
    """
    target, number = item.body["target"], item.body["deliverable"]
    kind = _find(state, target)
    if kind not in DISPUTABLE:
        raise _rule(
            f"seq {target} is {entry_noun(kind)}, not a deliverable, an approval or a rejection",
            hint="only the decision on a deliverable is disputed (an accepted amendment is "
            f"changed by another amendment); `accord trail {state.slug}` lists every seq",
        )
    found = _find(state, number)
    deliverable = state.decisions.get(number)
    if not isinstance(deliverable, Deliverable):
        raise _rule(f"seq {number} is {entry_noun(found)}, not a deliverable")
    if kind == "deliverable.submitted":
        author = deliverable.by if target == number else None
    elif kind == "approval.given":
        author = next((p for p, s in deliverable.approvals.items() if s == target), None)
    else:
        refusal = deliverable.refusal
        author = refusal[0] if refusal is not None and refusal[1] == target else None
    if author is None:
        raise _rule(
            f"seq {target} is not the decision that stands on deliverable {number}",
            hint=f"`accord trail {state.slug}` shows which entries decided it",
        )
    about = "refusal" if kind == "approval.refused" else "acceptance"
    return deliverable, state.pledges[deliverable.pledge], author, about


def _dispute_opened(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    target = item.body["target"]
    deliverable, pledge, author, about = _disputed_decision(state, item)
    if item.by != pledge.by and item.by not in pledge.beneficiaries:
        raise _rule(
            f"{item.by!r} is neither the promisor nor a beneficiary of pledge {pledge.seq}; "
            "only they dispute the decisions on it",
        )
    if item.by == author:
        raise _rule(
            f"{item.by!r} cannot dispute its own {entry_noun(state.types[target]).split(' ', 1)[1]}"
            f" (seq {target})",
            hint="a decision is disputed by another party concerned",
        )
    if deliverable.dispute is not None:
        raise AlreadyDecidedError(
            f"deliverable {deliverable.seq} is already disputed",
            decided_seq=deliverable.dispute,
            hint="its parties resolve that dispute first",
        )
    if about == "acceptance" and deliverable.status != ACCEPTED:
        raise _rule(
            f"deliverable {deliverable.seq} is {deliverable.status}, not accepted; only an "
            "accepted deliverable (or an approval of it) is disputed",
            hint="a pending deliverable is rejected, not disputed"
            if deliverable.status == PENDING
            else "dispute the rejection instead",
        )
    if about == "refusal" and pledge.status == CLOSED_SHORT:
        raise _rule(
            f"pledge {pledge.seq} was closed short at seq {pledge.closed_short_seq}; the "
            "refusals on it stand",
        )
    if about == "refusal" and pledge.pending_close is not None:
        raise _rule(
            f"pledge {pledge.seq} has a pending close-short proposal (seq {pledge.pending_close})"
            "; the refusals on it stand meanwhile",
            hint="reject the close-short proposal first if the refusal is wrong",
        )
    parties = tuple(sorted({item.by, author, pledge.by}))

    def commit() -> None:
        state.disputes[item.seq] = Dispute(
            seq=item.seq,
            by=item.by,
            target=target,
            deliverable=deliverable.seq,
            pledge=pledge.seq,
            about=about,
            reason=item.body["reason"],
            parties=parties,
        )
        state.open_disputes[item.seq] = pledge.seq
        deliverable.dispute = item.seq
        deliverable.disputes.append(item.seq)
        if about == "acceptance":
            quantity = deliverable.quantity
            pledge.approved = exact_difference(pledge.approved, quantity)
            pledge.disputed = exact_sum((pledge.disputed, quantity))
            pledge.accepted = [a for a in pledge.accepted if a[0] != deliverable.decided_seq]

    return commit


def _value_refused(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    proposal = _value_for(state, item)

    def commit() -> None:
        proposal.status, proposal.decided_seq = REJECTED, item.seq
        proposal.refusal = (item.by, item.seq, item.body["reason"])

    return commit


def _resolution_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    _require_active(state, item)
    body = item.body
    number, outcome = body["dispute"], body["outcome"]
    kind = _find(state, number)
    dispute = state.disputes.get(number)
    if dispute is None:
        raise _rule(
            f"seq {number} is {entry_noun(kind)}, not a dispute",
            hint=f"`accord trail {state.slug} --type dispute.opened` lists the disputes",
        )
    if dispute.status != OPEN:
        raise AlreadyDecidedError(
            f"dispute {number} was already resolved: {dispute.status}",
            decided_seq=dispute.resolved_seq or dispute.seq,
        )
    if item.by not in dispute.parties:
        raise _rule(
            f"{item.by!r} is not a party to dispute {number}; its parties "
            f"({', '.join(dispute.parties)}) resolve it",
        )
    prior = dispute.votes.get(item.by)
    if prior is not None and prior[0] == outcome:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed {outcome} on dispute {number}",
            decided_seq=prior[1],
            hint="the other parties concerned sign too; the dispute is settled when they agree",
        )
    signers = [p for p in dispute.parties if state.members[p].signers or p == item.by]
    votes = {**dispute.votes, item.by: (outcome, item.seq)}
    settled = all(votes.get(p, ("", 0))[0] == outcome for p in signers)
    deliverable = state.decisions[dispute.deliverable]
    pledge = state.pledges[dispute.pledge]
    assert isinstance(deliverable, Deliverable)  # noqa: S101 - a dispute names a deliverable

    def commit() -> None:
        dispute.votes[item.by] = (outcome, item.seq)
        if not settled:
            return
        dispute.status, dispute.resolved_seq = outcome, item.seq
        del state.open_disputes[dispute.seq]
        deliverable.dispute = None
        quantity = deliverable.quantity
        if dispute.about == "acceptance":
            pledge.disputed = exact_difference(pledge.disputed, quantity)
            if outcome == UPHELD:  # the acceptance is reversed: it counts for nothing
                deliverable.status, deliverable.decided_seq = REJECTED, item.seq
            else:  # restored, in the place it was accepted
                pledge.approved = exact_sum((pledge.approved, quantity))
                assert deliverable.decided_seq is not None  # noqa: S101 - it was accepted
                pledge.accepted = sorted([*pledge.accepted, (deliverable.decided_seq, quantity)])
        elif outcome == UPHELD:  # the refusal is reversed: the beneficiaries decide again
            deliverable.status, deliverable.decided_seq = PENDING, None
            deliverable.refusal = None
            pledge.pending = exact_sum((pledge.pending, quantity))

    return commit


_HANDLERS: dict[str, Handler] = {
    "project.proposed": _project_proposed,
    "member.joined": _member_joined,
    "member.declined": _member_declined,
    "key.rotated": _key_rotated,
    "key.revoked": _key_revoked,
    "signer.added": _signer_added,
    "signer.removed": _signer_removed,
    "pledge.made": _pledge_made,
    "pledge.amended": _pledge_amended,
    "pledge.withdrawn": _pledge_withdrawn,
    "deliverable.submitted": _deliverable_submitted,
    "approval.given": _approval_given,
    "approval.refused": _approval_refused,
    "statement.proposed": _statement_proposed,
    "statement.signed": _statement_signed,
    "statement.revised": _statement_revised,
    "close.signed": _close_signed,
    "value.proposed": _value_proposed,
    "pledge.closed-short": _pledge_closed_short,
    "dispute.opened": _dispute_opened,
    "resolution.signed": _resolution_signed,
    "project.cancelled": _project_cancelled,
}
