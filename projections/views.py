"""Plain read views of a replayed project state: the terms and the members.

Frozen rows for the CLI to render (``as_row()`` gives each one's JSON); nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.summaries import signed_by

__all__ = [
    "MemberRow",
    "ProjectDetail",
    "RemovedSigner",
    "SignerRow",
    "member_rows",
    "project_detail",
    "removed_signer_rows",
    "signed_by",
    "signer_rows",
]

if TYPE_CHECKING:
    from ledger.rules import Member, ProjectState


@dataclass(frozen=True)
class SignerRow:
    """One current signer (person or device) of a party."""

    label: str
    key: str
    since_seq: int

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {"label": self.label, "key": self.key, "since_seq": self.since_seq}


@dataclass(frozen=True)
class RemovedSigner:
    """A signer removed from a party, and the seq of its removal."""

    label: str
    key: str
    removed_seq: int

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {"label": self.label, "key": self.key, "removed_seq": self.removed_seq}


@dataclass(frozen=True)
class MemberRow:
    """One invited member: status, signers, pinned key or invite key, join seq."""

    handle: str
    status: str
    signers: tuple[SignerRow, ...]
    pinned: str | None
    invite: str | None
    joined_seq: int | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "handle": self.handle,
            "status": self.status,
            "signers": [s.as_row() for s in self.signers],
            "pinned": self.pinned,
            "invite": self.invite,
            "joined_seq": self.joined_seq,
        }


@dataclass(frozen=True)
class ProjectDetail:
    """The project's terms, status and members."""

    project: str
    title: str
    purpose: str
    status: str
    proposer: str
    approval: str
    close: str
    entries: int
    head: str
    terms: str
    waiting_for: tuple[str, ...]
    members: tuple[MemberRow, ...]

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "project": self.project,
            "title": self.title,
            "purpose": self.purpose,
            "status": self.status,
            "proposer": self.proposer,
            "approval": self.approval,
            "close": self.close,
            "entries": self.entries,
            "head": self.head,
            "terms": self.terms,
            "waiting_for": list(self.waiting_for),
            "members": [m.as_row() for m in self.members],
        }


def project_detail(state: ProjectState) -> ProjectDetail:
    """Return the project's terms and status."""
    return ProjectDetail(
        project=state.slug,
        title=state.title,
        purpose=state.purpose,
        status=state.status,
        proposer=state.proposer,
        approval=state.approval,
        close=state.close_policy,
        entries=state.seq,
        head=state.head,
        terms=state.terms,
        waiting_for=() if state.status == rules.CANCELLED else tuple(state.waiting_for()),
        members=member_rows(state),
    )


def member_rows(state: ProjectState) -> tuple[MemberRow, ...]:
    """One row per invited member: status, signers, pinned key or invite key, join seq."""
    return tuple(
        MemberRow(
            handle=m.handle,
            status=m.status,
            signers=signer_rows(m),
            pinned=m.pinned,
            invite=m.invite,
            joined_seq=m.joined_seq,
        )
        for m in sorted(state.members.values(), key=lambda m: m.handle)
    )


def signer_rows(member: Member) -> tuple[SignerRow, ...]:
    """The party's current signers (people or devices): label, key, since which seq."""
    return tuple(
        SignerRow(label=s.label, key=s.key, since_seq=s.since_seq)
        for s in sorted(member.signers.values(), key=lambda s: s.label)
    )


def removed_signer_rows(state: ProjectState, member: Member) -> tuple[RemovedSigner, ...]:
    """The signers removed from the party, in order: label, key, seq of the removal."""
    return tuple(
        RemovedSigner(label=state.labels.get(key, ""), key=key, removed_seq=state.removed[key])
        for key in member.keys
        if key in state.removed
    )
