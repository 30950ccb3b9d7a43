"""Plain read views of a replayed project state: the terms and the members.

These are rows (dicts of JSON-ready values) for the CLI to render; nothing here writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.rules import ProjectState


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
        "waiting_for": state.waiting_for(),
        "members": member_rows(state),
    }


def member_rows(state: ProjectState) -> list[dict[str, Any]]:
    """Return one row per invited member: status, current key, pinned key, join seq."""
    return [
        {
            "handle": m.handle,
            "status": m.status,
            "key": m.key,
            "pinned": m.pinned,
            "joined_seq": m.joined_seq,
        }
        for m in sorted(state.members.values(), key=lambda m: m.handle)
    ]
