"""Statements: their text, version, who signed, and whether they are in force."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.errors import NotFoundError
from ledger.lazymap import LazyMap

if TYPE_CHECKING:
    from ledger.rules import ProjectState, Statement


@dataclass(frozen=True)
class StatementRow:
    """One statement: version, signatories, who has still to sign, status.

    ``status`` is ``in force`` when every joined member signed its current version, and
    ``pending`` otherwise.
    """

    seq: int
    title: str
    by: str
    version: int
    signed_by: tuple[str, ...]
    waiting_for: tuple[str, ...]
    status: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "seq": self.seq,
            "title": self.title,
            "by": self.by,
            "version": self.version,
            "signed_by": list(self.signed_by),
            "waiting_for": list(self.waiting_for),
            "status": self.status,
        }


@dataclass(frozen=True)
class Signature:
    """A party's signature of a statement's current version, by seq."""

    party: str
    seq: int


@dataclass(frozen=True)
class Revision:
    """One version of a statement: the seq that set it and the hash of its text."""

    version: int
    seq: int
    text_hash: str


@dataclass(frozen=True)
class StatementDetail(StatementRow):
    """One statement with its current text, its signatures and its revision history."""

    text: str
    signatures: tuple[Signature, ...]
    revisions: tuple[Revision, ...]

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            **super().as_row(),
            "text": self.text,
            "signatures": [{"party": s.party, "seq": s.seq} for s in self.signatures],
            "revisions": [
                {"version": r.version, "seq": r.seq, "text_hash": r.text_hash}
                for r in self.revisions
            ],
        }


def _row(state: ProjectState, statement: Statement) -> StatementRow:
    members = state.joined()
    missing = tuple(h for h in members if h not in statement.signatures)
    return StatementRow(
        seq=statement.seq,
        title=statement.title,
        by=statement.by,
        version=statement.version,
        signed_by=tuple(sorted(statement.signatures)),
        waiting_for=missing,
        status="in force" if not missing else "pending",
    )


def statement_rows(state: ProjectState) -> list[StatementRow]:
    """One row per statement (see :class:`StatementRow`)."""
    return [_row(state, s) for s in state.statements.values()]


def statement_seqs(state: ProjectState) -> list[int]:
    """The seqs of every statement, in order, without reading the statements themselves."""
    if isinstance(state.statements, LazyMap):
        return state.statements.seqs()
    return sorted(state.statements)


def statement_detail(state: ProjectState, seq: int) -> StatementDetail:
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
    return StatementDetail(
        **vars(row),
        text=statement.text,
        signatures=tuple(
            Signature(party, signed) for party, signed in sorted(statement.signatures.items())
        ),
        revisions=tuple(
            Revision(version=i + 1, seq=s, text_hash=rules.text_hash(t))
            for i, (s, t) in enumerate(zip(statement.revisions, statement.texts, strict=True))
        ),
    )
