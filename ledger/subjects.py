"""What a decision or signature was about, so that its receipt names more than a seq.

Approvals, rejections, deliveries, statement signatures and close signatures address their
subject by seq; a receipt that only echoes the seq lets a mistyped number pass unnoticed.
:func:`subject_of` describes the subject from the project's state right after the entry:
the pledge's title, the party whose work was decided, the quantity and unit, the statement's
title, and where the decision stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.numbers import decimal_text

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


def subject_of(state: ProjectState, item: SignedEntry) -> dict[str, Any] | None:
    """Describe what ``item`` decided or signed (``state``: right after it), or None.

    Only for deliveries, approvals, rejections, statement signatures, close signatures,
    value proposals, added or removed signers, close-short proposals, disputes, dispute
    resolutions and cancellations.
    """
    body = item.body
    if item.type == "deliverable.submitted":
        pledge = state.pledges[body["pledge"]]
        return {
            "pledge": pledge.seq,
            "pledge_title": pledge.title,
            "party": item.by,
            "quantity": body["quantity"],
            "unit": pledge.unit,
            "to": list(pledge.beneficiaries),
        }
    if item.type in ("approval.given", "approval.refused"):
        if body["target"] in state.values:
            return value_subject(state, state.values[body["target"]])
        return _decision(state, state.decisions[body["target"]])
    if item.type == "value.proposed":
        return value_subject(state, state.values[item.seq])
    if item.type == "statement.signed":
        statement = state.statements[body["statement"]]
        members = state.joined()
        signed = sum(1 for handle in members if handle in statement.signatures)
        return {
            "statement": statement.seq,
            "statement_title": statement.title,
            "version": body["version"],
            "signatures": signed,
            "signatures_needed": len(members),
            "status": "in force" if signed == len(members) else "pending",
        }
    if item.type == "close.signed":
        return {"project_title": state.title, "head_seq": body["head_seq"]}
    if item.type in ("signer.added", "signer.removed"):
        member = state.members[item.by]
        if item.type == "signer.added":
            key = member.signers[body["label"]].key
        else:
            key = next(k for k, seq in state.removed.items() if seq == item.seq)
        return {
            "party": item.by,
            "label": body["label"],
            "key": key,
            "signers": sorted(member.signers),
        }
    if item.type == "pledge.closed-short":
        pledge = state.pledges[body["pledge"]]
        return {
            "pledge": pledge.seq,
            "pledge_title": pledge.title,
            "approved": decimal_text(pledge.approved),
            "weight": decimal_text(pledge.weight),
            "unit": pledge.unit,
            "to": list(pledge.beneficiaries),
        }
    if item.type == "project.cancelled":
        return {"project_title": state.title, "waiting": state.waiting_for()}
    if item.type in ("dispute.opened", "resolution.signed"):
        seq = item.seq if item.type == "dispute.opened" else body["dispute"]
        return _dispute(state, state.disputes[seq])
    return None


def value_subject(state: ProjectState, proposal: rules.ValueProposal) -> dict[str, Any]:
    """What a value proposal says and where it stands (``target_type`` ``value``)."""
    needed = rules.value_approvers(state, proposal)
    return {
        "target": proposal.seq,
        "target_type": "value",
        "party": proposal.by,
        "unit": proposal.unit,
        "worth": decimal_text(proposal.worth),
        "in": proposal.reference,
        "status": proposal.status,
        "approvals": sum(1 for h in needed if h in proposal.approvals),
        "approvals_needed": len(needed),
    }


def _dispute(state: ProjectState, dispute: rules.Dispute) -> dict[str, Any]:
    deliverable = state.decisions[dispute.deliverable]
    pledge = state.pledges[dispute.pledge]
    assert isinstance(deliverable, rules.Deliverable)  # noqa: S101 - a dispute names one
    return {
        "dispute": dispute.seq,
        "about": dispute.about,
        "target": dispute.target,
        "deliverable": deliverable.seq,
        "party": deliverable.by,
        "quantity": decimal_text(deliverable.quantity),
        "unit": pledge.unit,
        "pledge": pledge.seq,
        "pledge_title": pledge.title,
        "parties": list(dispute.parties),
        "signed": {p: outcome for p, (outcome, _) in sorted(dispute.votes.items())},
        "status": dispute.status,
        "deliverable_status": deliverable.status,
    }


def _decision(state: ProjectState, decision: rules.Decision) -> dict[str, Any]:
    pledge = state.pledges[decision.pledge]
    data: dict[str, Any] = {
        "target": decision.seq,
        "target_type": decision.kind,
        "party": decision.by,
        "pledge": pledge.seq,
        "pledge_title": pledge.title,
    }
    if isinstance(decision, rules.Deliverable):
        data["quantity"] = decimal_text(decision.quantity)
        data["unit"] = pledge.unit
    elif isinstance(decision, rules.Amendment):
        data["changes"] = dict(sorted(decision.changes.items()))
    elif isinstance(decision, rules.ShortClose):
        data["approved"] = decimal_text(pledge.approved)
        data["weight"] = decimal_text(pledge.weight)
        data["unit"] = pledge.unit
    data["status"] = decision.status
    data["approvals"] = len(decision.approvals)
    data["approvals_needed"] = state.approvals_needed(pledge)
    return data
