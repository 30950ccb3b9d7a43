"""Dispute rules: a deliverable's decision disputed, and the outcome its parties sign.

ADR 0009.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import format as fmt
from ledger import normalise
from ledger.errors import AlreadyDecidedError, UsageError
from ledger.numbers import decimal_text, exact_difference, exact_sum
from ledger.rules.checks import find, require_active, rule
from ledger.rules.state import (
    ACCEPTED,
    CLOSED_SHORT,
    OPEN,
    PENDING,
    REJECTED,
    UPHELD,
    Deliverable,
    Dispute,
    Pledge,
    ProjectState,
)
from ledger.rules.types import Build, EntryType, declare, entry_noun

if TYPE_CHECKING:
    from ledger.entry import SignedEntry

DISPUTABLE = ("deliverable.submitted", "approval.given", "approval.refused")


def _disputed_decision(
    state: ProjectState, item: SignedEntry
) -> tuple[Deliverable, Pledge, str, str]:
    """The deliverable whose decision ``item`` disputes, and more, or the rule it breaks.

    Returns the deliverable, its pledge, the target's author and what is disputed
    (``acceptance`` or ``refusal``).
    """
    target, number = item.body["target"], item.body["deliverable"]
    kind = find(state, target)
    if kind not in DISPUTABLE:
        raise rule(
            f"seq {target} is {entry_noun(kind)}, not a deliverable, an approval or a rejection",
            hint="only the decision on a deliverable is disputed (an accepted amendment is "
            f"changed by another amendment); `accord trail {state.slug}` lists every seq",
        )
    found = find(state, number)
    deliverable = state.decisions.get(number)
    if not isinstance(deliverable, Deliverable):
        raise rule(f"seq {number} is {entry_noun(found)}, not a deliverable")
    if kind == "deliverable.submitted":
        author = deliverable.by if target == number else None
    elif kind == "approval.given":
        author = next((p for p, s in deliverable.approvals.items() if s == target), None)
    else:
        refusal = deliverable.refusal
        author = refusal[0] if refusal is not None and refusal[1] == target else None
    if author is None:
        raise rule(
            f"seq {target} is not the decision that stands on deliverable {number}",
            hint=f"`accord trail {state.slug}` shows which entries decided it",
        )
    about = "refusal" if kind == "approval.refused" else "acceptance"
    return deliverable, state.pledges[deliverable.pledge], author, about


def _dispute_opened(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    target = item.body["target"]
    deliverable, pledge, author, about = _disputed_decision(state, item)
    if item.by != pledge.by and item.by not in pledge.beneficiaries:
        raise rule(
            f"{item.by!r} is neither the promisor nor a beneficiary of pledge {pledge.seq}; "
            "only they dispute the decisions on it",
        )
    if item.by == author:
        raise rule(
            f"{item.by!r} cannot dispute its own {entry_noun(state.types[target]).split(' ', 1)[1]}"
            f" (seq {target})",
            hint="a decision is disputed by another party concerned",
        )
    if deliverable.dispute is not None:
        raise AlreadyDecidedError(
            f"deliverable {deliverable.seq} is already disputed",
            decided_seq=deliverable.dispute,
            hint="its parties resolve that dispute first",
        )
    if about == "acceptance" and deliverable.status != ACCEPTED:
        raise rule(
            f"deliverable {deliverable.seq} is {deliverable.status}, not accepted; only an "
            "accepted deliverable (or an approval of it) is disputed",
            hint="a pending deliverable is rejected, not disputed"
            if deliverable.status == PENDING
            else "dispute the rejection instead",
        )
    if about == "refusal" and pledge.status == CLOSED_SHORT:
        raise rule(
            f"pledge {pledge.seq} was closed short at seq {pledge.closed_short_seq}; the "
            "refusals on it stand",
        )
    if about == "refusal" and pledge.pending_close is not None:
        raise rule(
            f"pledge {pledge.seq} has a pending close-short proposal (seq {pledge.pending_close})"
            "; the refusals on it stand meanwhile",
            hint="reject the close-short proposal first if the refusal is wrong",
        )
    parties = tuple(sorted({item.by, author, pledge.by}))

    def commit() -> None:
        state.disputes[item.seq] = Dispute(
            seq=item.seq,
            by=item.by,
            target=target,
            deliverable=deliverable.seq,
            pledge=pledge.seq,
            about=about,
            reason=item.body["reason"],
            parties=parties,
        )
        state.open_disputes[item.seq] = pledge.seq
        deliverable.dispute = item.seq
        deliverable.disputes.append(item.seq)
        if about == "acceptance":
            quantity = deliverable.quantity
            pledge.approved = exact_difference(pledge.approved, quantity)
            pledge.disputed = exact_sum((pledge.disputed, quantity))
            pledge.accepted = [a for a in pledge.accepted if a[0] != deliverable.decided_seq]

    return commit


def _resolution_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    body = item.body
    number, outcome = body["dispute"], body["outcome"]
    kind = find(state, number)
    dispute = state.disputes.get(number)
    if dispute is None:
        raise rule(
            f"seq {number} is {entry_noun(kind)}, not a dispute",
            hint=f"`accord trail {state.slug} --type dispute.opened` lists the disputes",
        )
    if dispute.status != OPEN:
        raise AlreadyDecidedError(
            f"dispute {number} was already resolved: {dispute.status}",
            decided_seq=dispute.resolved_seq or dispute.seq,
        )
    if item.by not in dispute.parties:
        raise rule(
            f"{item.by!r} is not a party to dispute {number}; its parties "
            f"({', '.join(dispute.parties)}) resolve it",
        )
    prior = dispute.votes.get(item.by)
    if prior is not None and prior[0] == outcome:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed {outcome} on dispute {number}",
            decided_seq=prior[1],
            hint="the other parties concerned sign too; the dispute is settled when they agree",
        )
    signers = [p for p in dispute.parties if state.members[p].signers or p == item.by]
    votes = {**dispute.votes, item.by: (outcome, item.seq)}
    settled = all(votes.get(p, ("", 0))[0] == outcome for p in signers)
    deliverable = state.decisions[dispute.deliverable]
    pledge = state.pledges[dispute.pledge]
    assert isinstance(deliverable, Deliverable)  # noqa: S101 - a dispute names a deliverable

    def commit() -> None:
        dispute.votes[item.by] = (outcome, item.seq)
        if not settled:
            return
        dispute.status, dispute.resolved_seq = outcome, item.seq
        del state.open_disputes[dispute.seq]
        deliverable.dispute = None
        quantity = deliverable.quantity
        if dispute.about == "acceptance":
            pledge.disputed = exact_difference(pledge.disputed, quantity)
            if outcome == UPHELD:  # the acceptance is reversed: it counts for nothing
                deliverable.status, deliverable.decided_seq = REJECTED, item.seq
            else:  # restored, in the place it was accepted
                pledge.approved = exact_sum((pledge.approved, quantity))
                assert deliverable.decided_seq is not None  # noqa: S101 - it was accepted
                pledge.accepted = sorted([*pledge.accepted, (deliverable.decided_seq, quantity)])
        elif outcome == UPHELD:  # the refusal is reversed: the beneficiaries decide again
            deliverable.status, deliverable.decided_seq = PENDING, None
            deliverable.refusal = None
            pledge.pending = exact_sum((pledge.pending, quantity))

    return commit


# --- body builders: what the commands sign (user input is refused as a usage error) ---------


def dispute_body(target: int, *, reason: str, target_of: Callable[[int], int]) -> Build:
    """The body of ``dispute.opened``: the decision disputed and the deliverable it decided.

    ``target_of(seq)`` reads the target of the verified approval or rejection at ``seq``.

    Raises:
        UsageError: the reason is empty, or a malformed seq.
    """
    reason = normalise.required_text(reason, "reason")
    normalise.check_seq(target, "target")

    def build(state: ProjectState) -> dict[str, Any]:
        deliverable = target
        if state.types.get(target) in ("approval.given", "approval.refused"):
            deliverable = target_of(target)
        return {"target": target, "deliverable": deliverable, "reason": reason}

    return build


def resolution_body(dispute: int, *, outcome: str, reason: str) -> Build:
    """The body of ``resolution.signed``.

    Raises:
        UsageError: an outcome other than upheld or dismissed, or an empty reason.
    """
    if outcome not in fmt.OUTCOMES:
        raise UsageError(
            f"outcome {outcome!r} is not valid", hint="use --outcome upheld or dismissed"
        )
    body = {
        "dispute": normalise.check_seq(dispute, "dispute"),
        "outcome": outcome,
        "reason": normalise.required_text(reason, "reason"),
    }
    return lambda _state: body


def _disputed(body: dict[str, Any], state: ProjectState | None) -> str:
    """What a dispute is about: "the acceptance of deliverable 7", "rejection seq 13 of ..."."""
    target, deliverable = body["target"], body["deliverable"]
    if target == deliverable:
        return f"the acceptance of deliverable {deliverable}"
    kind = state.types.get(target) if state else None
    noun = {"approval.given": "approval", "approval.refused": "rejection"}.get(kind or "", "seq")
    return f"{noun} seq {target} of deliverable {deliverable}"


def _resolution_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    dispute = state.disputes.get(body["dispute"]) if state else None
    settled = dispute is not None and dispute.resolved_seq == data.get("seq")
    outcome = f" (dispute {body['dispute']} is {body['outcome']})" if settled else ""
    return f"signed {body['outcome']} on dispute {body['dispute']}: {body['reason']}{outcome}"


def _dispute_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    seq = item.seq if item.type == "dispute.opened" else item.body["dispute"]
    dispute = state.disputes[seq]
    deliverable = state.decisions[dispute.deliverable]
    pledge = state.pledges[dispute.pledge]
    assert isinstance(deliverable, Deliverable)  # noqa: S101 - a dispute names one
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


declare(
    EntryType(
        "dispute.opened",
        20,
        "a dispute",
        {"target": fmt.is_seq, "deliverable": fmt.is_seq, "reason": fmt.is_text()},
        _dispute_opened,
        lambda data, state: f"disputed {_disputed(data['body'], state)}: {data['body']['reason']}",
        subject=_dispute_subject,
        build=dispute_body,
    ),
    EntryType(
        "resolution.signed",
        21,
        "a dispute resolution",
        {
            "dispute": fmt.is_seq,
            "outcome": lambda v: v in fmt.OUTCOMES,
            "reason": fmt.is_text(),
        },
        _resolution_signed,
        _resolution_summary,
        subject=_dispute_subject,
        build=resolution_body,
    ),
)
