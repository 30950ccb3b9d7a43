"""Approval rules: the beneficiaries' decisions on what needs them.

An approval or a rejection of a deliverable, an amendment, a close-short proposal or a value
proposal (a value's decision is in ``values.py``), signed over the target's hash.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import normalise
from ledger.errors import AlreadyDecidedError
from ledger.numbers import decimal_text, exact_difference, exact_sum
from ledger.rules.checks import (
    find,
    require_active,
    rule,
)
from ledger.rules.state import (
    ACCEPTED,
    CLOSED_SHORT,
    PENDING,
    REJECTED,
    Amendment,
    Decision,
    Deliverable,
    Pledge,
    ProjectState,
    ShortClose,
)
from ledger.rules.types import Build, EntryType, declare, entry_noun
from ledger.rules.values import value_approved, value_refused, value_subject

if TYPE_CHECKING:
    from ledger.entry import SignedEntry


def _decision_for(state: ProjectState, item: SignedEntry) -> tuple[Decision, Pledge]:
    require_active(state, item)
    target = item.body["target"]
    kind = find(state, target)
    decision = state.decisions.get(target)
    if decision is None:
        raise rule(
            f"seq {target} is {entry_noun(kind)}, not a deliverable, an amendment, a "
            "close-short or a value proposal",
            hint="only deliverables, amendments, close-short and value proposals are approved "
            f"or rejected; `accord trail {state.slug}` lists every seq",
        )
    if item.body["target_hash"] != decision.hash:
        raise rule(f"the target hash does not match the hash of seq {target}")
    pledge = state.pledges[decision.pledge]
    if decision.by == item.by:
        raise rule(
            f"{item.by!r} cannot approve or reject its own {decision.kind} (seq {target})",
            hint="a beneficiary of the pledge must decide",
        )
    if item.by not in pledge.beneficiaries:
        raise rule(
            f"{item.by!r} is not a beneficiary of pledge {pledge.seq}; "
            f"only its beneficiaries ({', '.join(pledge.beneficiaries)}) decide on it",
        )
    if item.by in decision.approvals:
        raise AlreadyDecidedError(
            f"{item.by!r} already approved seq {target}", decided_seq=decision.approvals[item.by]
        )
    if decision.status != PENDING:
        raise AlreadyDecidedError(
            f"{decision.kind} seq {target} is already {decision.status}",
            decided_seq=decision.decided_seq or decision.seq,
        )
    return decision, pledge


def _approval_given(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["target"] in state.values:
        return value_approved(state, item)
    decision, pledge = _decision_for(state, item)
    needed = state.approvals_needed(pledge)

    def commit() -> None:
        decision.approvals[item.by] = item.seq
        if len(decision.approvals) >= needed:
            decision.status, decision.decided_seq = ACCEPTED, item.seq
            if isinstance(decision, Amendment):
                _apply_amendment(pledge, decision)
            elif isinstance(decision, ShortClose):
                pledge.status, pledge.closed_short_seq = CLOSED_SHORT, item.seq
                pledge.pending_close = None
            elif isinstance(decision, Deliverable):
                pledge.pending = exact_difference(pledge.pending, decision.quantity)
                pledge.approved = exact_sum((pledge.approved, decision.quantity))
                pledge.accepted.append((item.seq, decision.quantity))

    return commit


def _apply_amendment(pledge: Pledge, amendment: Amendment) -> None:
    changes = amendment.changes
    pledge.title = changes.get("title", pledge.title)
    pledge.due = changes.get("due", pledge.due)
    if "weight" in changes:
        pledge.weight = Decimal(changes["weight"])
    pledge.pending_amendment = None


def _approval_refused(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["target"] in state.values:
        return value_refused(state, item)
    decision, pledge = _decision_for(state, item)

    def commit() -> None:
        if isinstance(decision, Deliverable):
            pledge.pending = exact_difference(pledge.pending, decision.quantity)
        decision.status, decision.decided_seq = REJECTED, item.seq
        decision.refusal = (item.by, item.seq, item.body["reason"])
        if pledge.pending_amendment == decision.seq:
            pledge.pending_amendment = None
        if pledge.pending_close == decision.seq:
            pledge.pending_close = None

    return commit


def approval_body(target: int, *, comment: str) -> Build:
    """The body of ``approval.given`` (it signs the target's hash).

    Raises:
        UsageError: the comment is too long or not UTF-8, or a malformed seq.
    """
    comment = normalise.optional_text(comment, "comment")
    normalise.check_seq(target, "target")
    return lambda state: {
        "target": target,
        "target_hash": _target_hash(state, target),
        "comment": comment,
    }


def refusal_body(target: int, *, reason: str) -> Build:
    """The body of ``approval.refused`` (it signs the target's hash).

    Raises:
        UsageError: the reason is empty, or a malformed seq.
    """
    reason = normalise.required_text(reason, "reason")
    normalise.check_seq(target, "target")
    return lambda state: {
        "target": target,
        "target_hash": _target_hash(state, target),
        "reason": reason,
    }


def _target_hash(state: ProjectState, target: int) -> str:
    decision = state.decisions.get(target)
    if decision is not None:
        return decision.hash
    if target in state.values:
        return state.values[target].hash
    return entry_mod.ZERO_HASH  # the rules name the problem (not found / wrong type)


def _approved_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    comment = f": {body['comment']}" if body["comment"] else ""
    return f"approved seq {body['target']}{comment}"


def _decided_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    """What an approval or a rejection decided: a value proposal or a pledge's decision."""
    target = item.body["target"]
    if target in state.values:
        return value_subject(state, state.values[target])
    decision = state.decisions[target]
    pledge = state.pledges[decision.pledge]
    data: dict[str, Any] = {
        "target": decision.seq,
        "target_type": decision.kind,
        "party": decision.by,
        "pledge": pledge.seq,
        "pledge_title": pledge.title,
    }
    if isinstance(decision, Deliverable):
        data["quantity"] = decimal_text(decision.quantity)
        data["unit"] = pledge.unit
    elif isinstance(decision, Amendment):
        data["changes"] = dict(sorted(decision.changes.items()))
    elif isinstance(decision, ShortClose):
        data["approved"] = decimal_text(pledge.approved)
        data["weight"] = decimal_text(pledge.weight)
        data["unit"] = pledge.unit
    data["status"] = decision.status
    data["approvals"] = len(decision.approvals)
    data["approvals_needed"] = state.approvals_needed(pledge)
    return data


declare(
    EntryType(
        "approval.given",
        12,
        "an approval",
        {"target": fmt.is_seq, "target_hash": fmt.is_hash, "comment": fmt.is_text(False)},
        _approval_given,
        _approved_summary,
        subject=_decided_subject,
        build=approval_body,
    ),
    EntryType(
        "approval.refused",
        13,
        "a rejection",
        {"target": fmt.is_seq, "target_hash": fmt.is_hash, "reason": fmt.is_text()},
        _approval_refused,
        lambda data, state: f"rejected seq {data['body']['target']}: {data['body']['reason']}",
        subject=_decided_subject,
        build=refusal_body,
    ),
)
