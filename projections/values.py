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

from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.numbers import decimal_text

if TYPE_CHECKING:
    from ledger.rules import ProjectState, ValueProposal

VALUE_HEADERS = [
    "seq", "unit", "worth", "in", "by", "status", "approved_by", "refused_by", "waiting_for",
    "decided_seq", "replaced_seq", "reason",
]  # fmt: skip


def value_status(proposal: ValueProposal) -> str:
    """The status of a value proposal as the module docstring names it."""
    if proposal.status == rules.ACCEPTED:
        return "agreed" if proposal.replaced_seq is None else "replaced"
    if proposal.status == rules.VOID:
        return "superseded"
    return proposal.status


def value_rows(state: ProjectState) -> list[dict[str, Any]]:
    """Every value proposal of the project with its decision, JSON-ready, by seq."""
    rows = []
    for seq in sorted(state.values):
        proposal = state.values[seq]
        refusal = proposal.refusal
        waiting = (
            [h for h in rules.value_approvers(state, proposal) if h not in proposal.approvals]
            if proposal.status == rules.PENDING
            else []
        )
        rows.append(
            {
                "seq": proposal.seq,
                "unit": proposal.unit,
                "worth": decimal_text(proposal.worth),
                "in": proposal.reference,
                "by": proposal.by,
                "reason": proposal.reason,
                "status": value_status(proposal),
                "approved_by": [
                    {"party": p, "seq": s} for p, s in sorted(proposal.approvals.items())
                ],
                "refused_by": {"party": refusal[0], "seq": refusal[1], "reason": refusal[2]}
                if refusal
                else None,
                "waiting_for": waiting,
                "decided_seq": proposal.decided_seq,
                "replaced_seq": proposal.replaced_seq,
            }
        )
    return rows
