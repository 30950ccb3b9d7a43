"""Statements: their text, version, who signed, and whether they are in force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.errors import NotFoundError

if TYPE_CHECKING:
    from ledger.rules import ProjectState, Statement


def _row(state: ProjectState, statement: Statement) -> dict[str, Any]:
    members = state.joined()
    missing = [h for h in members if h not in statement.signatures]
    return {
        "seq": statement.seq,
        "title": statement.title,
        "by": statement.by,
        "version": statement.version,
        "signed_by": sorted(statement.signatures),
        "waiting_for": missing,
        "status": "in force" if not missing else "pending",
    }


def statement_rows(state: ProjectState) -> list[dict[str, Any]]:
    """One row per statement: version, signatories, who has still to sign, status.

    A statement is ``in force`` when every joined member signed its current version, and
    ``pending`` otherwise.
    """
    return [_row(state, s) for s in state.statements.values()]


def statement_detail(state: ProjectState, seq: int) -> dict[str, Any]:
    """One statement with its current text, its signatures and its revision history.

    Raises:
        NotFoundError: no statement at ``seq``.
    """
    statement = state.statements.get(seq)
    if statement is None:
        raise NotFoundError(
            f"no statement at seq {seq} in project {state.slug!r}",
            hint=f"`accord statement list {state.slug}` lists statements by seq",
        )
    row = _row(state, statement)
    row["text"] = statement.text
    row["signatures"] = [
        {"party": party, "seq": signed} for party, signed in sorted(statement.signatures.items())
    ]
    row["revisions"] = [
        {"version": i + 1, "seq": s, "text_hash": rules.text_hash(t)}
        for i, (s, t) in enumerate(zip(statement.revisions, statement.texts, strict=True))
    ]
    return row
