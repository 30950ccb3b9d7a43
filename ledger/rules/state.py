"""The state the rules fold entries into: a project after some prefix of its stream.

Statuses are ``StrEnum`` members whose values are the strings stored in the verified state
and shown in every output, so a status read back from storage (a plain string) compares
equal to its member.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ledger import entry as entry_mod


class ProjectStatus(StrEnum):
    """Where a project stands."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    CLOSED = "closed"
    ABANDONED = "abandoned"  # every invitee declined
    CANCELLED = "cancelled"  # a proposal its proposer withdrew before it became active


class MemberStatus(StrEnum):
    """Where a member's seat stands."""

    INVITED = "invited"
    JOINED = "joined"
    DECLINED = "declined"


class DecisionStatus(StrEnum):
    """Where a deliverable, amendment, close-short or value proposal stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    VOID = "void"


class PledgeStatus(StrEnum):
    """Where a pledge stands."""

    OPEN = "open"
    WITHDRAWN = "withdrawn"
    CLOSED_SHORT = "closed-short"  # ended, by agreement, with what was approved


class DisputeStatus(StrEnum):
    """Where a dispute stands (its outcomes are those of format v1's ``resolution.signed``)."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


PROPOSED, ACTIVE, CLOSED = ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.CLOSED
ABANDONED, CANCELLED = ProjectStatus.ABANDONED, ProjectStatus.CANCELLED
INVITED, JOINED, DECLINED = MemberStatus.INVITED, MemberStatus.JOINED, MemberStatus.DECLINED
PENDING, ACCEPTED = DecisionStatus.PENDING, DecisionStatus.ACCEPTED
REJECTED, VOID = DecisionStatus.REJECTED, DecisionStatus.VOID
OPEN, UPHELD, DISMISSED = DisputeStatus.OPEN, DisputeStatus.UPHELD, DisputeStatus.DISMISSED
WITHDRAWN, CLOSED_SHORT = PledgeStatus.WITHDRAWN, PledgeStatus.CLOSED_SHORT


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
    status: str = PledgeStatus.OPEN
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
