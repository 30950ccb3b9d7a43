"""Plain read views of a replayed project state: the terms and the members.

These are rows (dicts of JSON-ready values) for the CLI to render; nothing here writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.summaries import signed_by

__all__ = ["member_rows", "project_detail", "removed_signer_rows", "signed_by", "signer_rows"]

if TYPE_CHECKING:
    from ledger.rules import Member, ProjectState


def project_detail(state: ProjectState) -> dict[str, Any]:
    """Return the project's terms and status."""
    return {
        "project": state.slug,
        "title": state.title,
        "purpose": state.purpose,
        "status": state.status,
        "proposer": state.proposer,
        "approval": state.approval,
        "close": state.close_policy,
        "entries": state.seq,
        "head": state.head,
        "terms": state.terms,
        "waiting_for": [] if state.status == rules.CANCELLED else state.waiting_for(),
        "members": member_rows(state),
    }


def member_rows(state: ProjectState) -> list[dict[str, Any]]:
    """One row per invited member: status, signers, pinned key or invite key, join seq."""
    return [
        {
            "handle": m.handle,
            "status": m.status,
            "signers": signer_rows(m),
            "pinned": m.pinned,
            "invite": m.invite,
            "joined_seq": m.joined_seq,
        }
        for m in sorted(state.members.values(), key=lambda m: m.handle)
    ]


def signer_rows(member: Member) -> list[dict[str, Any]]:
    """The party's current signers (people or devices): label, key, since which seq."""
    return [
        {"label": s.label, "key": s.key, "since_seq": s.since_seq}
        for s in sorted(member.signers.values(), key=lambda s: s.label)
    ]


def removed_signer_rows(state: ProjectState, member: Member) -> list[dict[str, Any]]:
    """The signers removed from the party, in order: label, key, seq of the removal."""
    return [
        {"label": state.labels.get(key, ""), "key": key, "removed_seq": state.removed[key]}
        for key in member.keys
        if key in state.removed
    ]
