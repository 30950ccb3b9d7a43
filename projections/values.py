"""Agreed values: what each unit is worth in the project's reference unit, and who agreed.

One row per ``value.proposed`` entry, in seq order, for ``accord project values`` and the
close report. ``status`` reads as a person would say it:

* ``pending``: waiting for the approvals in ``waiting_for``;
* ``agreed``: every other member approved it and it is in force;
* ``replaced``: it was agreed, then a later agreed value for the unit replaced it
  (``replaced_seq``: the approval that did);
* ``rejected``: a member refused it (``refused_by``);
* ``superseded``: a newer proposal for the unit voided it while it was pending
  (``decided_seq``: that proposal).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.numbers import decimal_text

if TYPE_CHECKING:
    from ledger.rules import ProjectState, ValueProposal

VALUE_HEADERS = [
    "seq", "unit", "worth", "in", "by", "status", "approved_by", "refused_by", "waiting_for",
    "decided_seq", "replaced_seq", "reason",
]  # fmt: skip


@dataclass(frozen=True)
class ValueApproval:
    """A member's approval of a value proposal, by seq."""

    party: str
    seq: int


@dataclass(frozen=True)
class ValueRefusal:
    """The refusal that rejected a value proposal."""

    party: str
    seq: int
    reason: str


@dataclass(frozen=True)
class ValueRow:
    """One value proposal with its decision (``status`` as the module docstring names it)."""

    seq: int
    unit: str
    worth: Decimal
    reference: str  # JSON: "in"
    by: str
    reason: str
    status: str
    approved_by: tuple[ValueApproval, ...]
    refused_by: ValueRefusal | None
    waiting_for: tuple[str, ...]
    decided_seq: int | None
    replaced_seq: int | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row (the worth as a decimal string)."""
        refusal = self.refused_by
        return {
            "seq": self.seq,
            "unit": self.unit,
            "worth": decimal_text(self.worth),
            "in": self.reference,
            "by": self.by,
            "reason": self.reason,
            "status": self.status,
            "approved_by": [{"party": a.party, "seq": a.seq} for a in self.approved_by],
            "refused_by": {"party": refusal.party, "seq": refusal.seq, "reason": refusal.reason}
            if refusal
            else None,
            "waiting_for": list(self.waiting_for),
            "decided_seq": self.decided_seq,
            "replaced_seq": self.replaced_seq,
        }


def value_status(proposal: ValueProposal) -> str:
    """The status of a value proposal as the module docstring names it."""
    if proposal.status == rules.ACCEPTED:
        return "agreed" if proposal.replaced_seq is None else "replaced"
    if proposal.status == rules.VOID:
        return "superseded"
    return proposal.status


def value_rows(state: ProjectState) -> list[ValueRow]:
    """Every value proposal of the project with its decision, by seq."""
    rows = []
    for seq in sorted(state.values):
        proposal = state.values[seq]
        refusal = proposal.refusal
        waiting = (
            tuple(h for h in rules.value_approvers(state, proposal) if h not in proposal.approvals)
            if proposal.status == rules.PENDING
            else ()
        )
        rows.append(
            ValueRow(
                seq=proposal.seq,
                unit=proposal.unit,
                worth=proposal.worth,
                reference=proposal.reference,
                by=proposal.by,
                reason=proposal.reason,
                status=value_status(proposal),
                approved_by=tuple(
                    ValueApproval(p, s) for p, s in sorted(proposal.approvals.items())
                ),
                refused_by=ValueRefusal(*refusal) if refusal else None,
                waiting_for=waiting,
                decided_seq=proposal.decided_seq,
                replaced_seq=proposal.replaced_seq,
            )
        )
    return rows
