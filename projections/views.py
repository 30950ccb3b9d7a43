"""Plain read views of a replayed project state: members, pledges, statements.

These are rows (dicts of JSON-ready values) for the CLI to render; nothing here writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.errors import NotFoundError
from ledger.format import decimal_text

if TYPE_CHECKING:
    from ledger.rules import Pledge, ProjectState


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


def _quantity(state: ProjectState, pledge: Pledge, status: str) -> Decimal:
    total = Decimal(0)
    for seq in pledge.deliverables:
        item = state.decisions[seq]
        if isinstance(item, rules.Deliverable) and item.status == status:
            total += item.quantity
    return total


def pledge_status(state: ProjectState, pledge: Pledge) -> str:
    """Return a pledge's status in the ledger: withdrawn, fulfilled, amendment-pending, open."""
    if pledge.status == "withdrawn":
        return "withdrawn"
    if _quantity(state, pledge, rules.ACCEPTED) >= pledge.weight:
        return "fulfilled"
    if pledge.pending_amendment is not None:
        return "amended-pending"
    if _quantity(state, pledge, rules.PENDING) > 0:
        return "submitted"
    return "open"


def pledge_rows(state: ProjectState) -> list[dict[str, Any]]:
    """Return one row per pledge with its delivered and approved quantities."""
    rows = []
    for pledge in state.pledges.values():
        accepted = _quantity(state, pledge, rules.ACCEPTED)
        pending = _quantity(state, pledge, rules.PENDING)
        rows.append(
            {
                "seq": pledge.seq,
                "party": pledge.by,
                "title": pledge.title,
                "weight": decimal_text(pledge.weight),
                "unit": pledge.unit,
                "due": pledge.due,
                "to": list(pledge.beneficiaries),
                "delivered": decimal_text(accepted + pending),
                "approved": decimal_text(accepted),
                "status": pledge_status(state, pledge),
            }
        )
    return rows


def decision_rows(state: ProjectState) -> list[dict[str, Any]]:
    """Return one row per deliverable or amendment awaiting or past a decision."""
    rows = []
    for item in state.decisions.values():
        rows.append(
            {
                "seq": item.seq,
                "kind": item.kind,
                "pledge": item.pledge,
                "party": item.by,
                "status": item.status,
                "approved_by": sorted(item.approvals),
                "refused_by": item.refusal[0] if item.refusal else None,
            }
        )
    return rows


def statement_rows(state: ProjectState) -> list[dict[str, Any]]:
    """Return one row per statement: version, signatories and who has still to sign."""
    rows = []
    members = state.joined()
    for statement in state.statements.values():
        missing = [h for h in members if h not in statement.signatures]
        rows.append(
            {
                "seq": statement.seq,
                "title": statement.title,
                "by": statement.by,
                "version": statement.version,
                "signed_by": sorted(statement.signatures),
                "waiting_for": missing,
                "status": "in force" if not missing else "pending",
            }
        )
    return rows


def statement_detail(state: ProjectState, seq: int) -> dict[str, Any]:
    """Return one statement with its current text and its revision history.

    Raises:
        NotFoundError: no statement at ``seq``.
    """
    statement = state.statements.get(seq)
    if statement is None:
        raise NotFoundError(
            f"no statement at seq {seq} in project {state.slug!r}",
            hint=f"`accord statement list {state.slug}` lists statements by seq",
        )
    row = next(r for r in statement_rows(state) if r["seq"] == seq)
    row["text"] = statement.text
    row["revisions"] = [
        {"version": i + 1, "seq": s, "text_hash": rules.text_hash(t)}
        for i, (s, t) in enumerate(zip(statement.revisions, statement.texts, strict=True))
    ]
    return row
