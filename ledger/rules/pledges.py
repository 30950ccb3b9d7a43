"""Pledge rules: pledges, deliveries, and the beneficiaries' decisions on them.

A pledge made, amended, withdrawn or closed short, the work delivered on it, and the
approvals and refusals of what needs the beneficiaries' decision.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import format as fmt
from ledger import normalise
from ledger.errors import NotFoundError, UsageError
from ledger.format import unit_key
from ledger.numbers import amount_text, decimal_text, exact_difference, exact_sum
from ledger.rules.checks import (
    check_unit_spelling,
    pledge_at,
    refused_as_usage,
    require_active,
    rule,
)
from ledger.rules.state import (
    CLOSED_SHORT,
    JOINED,
    PENDING,
    VOID,
    WITHDRAWN,
    Amendment,
    Deliverable,
    Pledge,
    ProjectState,
    ShortClose,
)
from ledger.rules.types import Build, EntryType, ListBound, declare, names

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.evidence import Evidence
    from ledger.keys import Signer


def _pledge_made(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    body = item.body
    for handle in body["beneficiaries"]:
        if handle == item.by:
            raise rule("a pledge's beneficiaries are the other members, not its promisor")
        if handle not in state.members or state.members[handle].status != JOINED:
            raise NotFoundError(
                f"beneficiary {handle!r} is not a member of project {state.slug!r}",
                hint=f"`accord project show {state.slug}` lists the members",
            )
    unit = body["unit"]
    check_unit_spelling(state, unit)

    def commit() -> None:
        state.units.setdefault(unit_key(unit), unit)
        state.pledges[item.seq] = Pledge(
            seq=item.seq,
            by=item.by,
            title=body["title"],
            weight=Decimal(body["weight"]),
            unit=body["unit"],
            due=body["due"],
            beneficiaries=tuple(body["beneficiaries"]),
            hash=item.hash,
        )

    return commit


def _own_open_pledge(state: ProjectState, item: SignedEntry, verb: str) -> Pledge:
    require_active(state, item)
    pledge = pledge_at(state, item.body["pledge"])
    if pledge.by != item.by:
        raise rule(f"pledge {pledge.seq} belongs to {pledge.by!r}; only its promisor can {verb} it")
    if pledge.status == WITHDRAWN:
        raise rule(f"pledge {pledge.seq} was withdrawn at seq {pledge.withdrawn_seq}")
    if pledge.status == CLOSED_SHORT:
        raise rule(
            f"pledge {pledge.seq} was closed short at seq {pledge.closed_short_seq}; "
            "nothing more is owed or delivered on it",
            hint="make a new pledge for further work",
        )
    return pledge


def _no_pending_close(pledge: Pledge, verb: str) -> None:
    if pledge.pending_close is not None:
        raise rule(
            f"pledge {pledge.seq} has a pending close-short proposal (seq {pledge.pending_close})"
            f"; it cannot be {verb} meanwhile",
            hint="wait until the beneficiaries approve or reject it",
        )


def _pledge_amended(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "amend")
    _no_pending_close(pledge, "amended")
    if pledge.pending_amendment is not None:
        raise rule(
            f"pledge {pledge.seq} already has a pending amendment (seq {pledge.pending_amendment})",
            hint="wait until it is approved or rejected",
        )
    changes: dict[str, str] = item.body["changes"]
    current = {"title": pledge.title, "weight": str(pledge.weight), "due": pledge.due}
    if all(
        (Decimal(value) == pledge.weight) if name == "weight" else value == current[name]
        for name, value in changes.items()
    ):
        raise rule(f"the amendment changes nothing in pledge {pledge.seq}")

    def commit() -> None:
        state.decisions[item.seq] = Amendment(
            seq=item.seq,
            kind="amendment",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            changes=dict(changes),
            reason=item.body["reason"],
        )
        pledge.pending_amendment = item.seq
        pledge.amendments.append(item.seq)

    return commit


def _pledge_withdrawn(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "withdraw")

    def commit() -> None:
        pledge.status, pledge.withdrawn_seq = WITHDRAWN, item.seq
        if pledge.pending_amendment is not None:
            amendment = state.decisions[pledge.pending_amendment]
            amendment.status, amendment.decided_seq = VOID, item.seq
            pledge.pending_amendment = None
        if pledge.pending_close is not None:
            proposal = state.decisions[pledge.pending_close]
            proposal.status, proposal.decided_seq = VOID, item.seq
            pledge.pending_close = None

    return commit


def _deliverable_submitted(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "deliver on")
    _no_pending_close(pledge, "delivered on")
    body = item.body

    def commit() -> None:
        state.decisions[item.seq] = Deliverable(
            seq=item.seq,
            kind="deliverable",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            summary=body["summary"],
            quantity=Decimal(body["quantity"]),
            evidence=tuple((e["name"], e["sha256"], e["size"]) for e in body["evidence"]),
        )
        pledge.deliverables.append(item.seq)
        pledge.pending = exact_sum((pledge.pending, Decimal(body["quantity"])))

    return commit


def _pledge_closed_short(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    pledge = _own_open_pledge(state, item, "close")
    if pledge.pending_close is not None:
        raise rule(
            f"pledge {pledge.seq} already has a pending close-short proposal "
            f"(seq {pledge.pending_close})",
            hint="wait until it is approved or rejected",
        )
    if pledge.pending_amendment is not None:
        raise rule(
            f"pledge {pledge.seq} has a pending amendment (seq {pledge.pending_amendment})",
            hint="wait until it is approved or rejected",
        )
    if pledge.pending > 0:
        waiting = [seq for seq in pledge.deliverables if state.decisions[seq].status == PENDING]
        raise rule(
            f"pledge {pledge.seq} has deliverables awaiting a decision "
            f"(seq {', '.join(str(s) for s in waiting)})",
            hint="the beneficiaries decide them first, so that what was approved is settled",
        )
    if pledge.seq in state.open_disputes.values():
        open_ = sorted(d for d, p in state.open_disputes.items() if p == pledge.seq)
        raise rule(
            f"pledge {pledge.seq} has an open dispute (seq {open_[0]})",
            hint="its parties resolve it first",
        )
    if pledge.approved >= pledge.weight:
        raise rule(
            f"pledge {pledge.seq} is fulfilled ({decimal_text(pledge.approved)} of "
            f"{decimal_text(pledge.weight)} {pledge.unit} approved); there is nothing to close "
            "short",
        )

    def commit() -> None:
        state.decisions[item.seq] = ShortClose(
            seq=item.seq,
            kind="close-short",
            pledge=pledge.seq,
            by=item.by,
            hash=item.hash,
            reason=item.body["reason"],
        )
        pledge.pending_close = item.seq
        pledge.short_closes.append(item.seq)

    return commit


# --- body builders: what the commands sign (user input is refused as a usage error) ---------


def pledge_body(
    *,
    title: str,
    weight: str,
    unit: str,
    due: str,
    beneficiaries: list[str] | None,
    signer: Signer,
) -> Build:
    """The body of ``pledge.made``: to the other members, or to ``beneficiaries`` only.

    Raises:
        UsageError: a malformed weight, unit, date or handle, or another spelling of a unit
            the project uses.
    """
    base = {
        "title": normalise.required_text(title, "title"),
        "weight": normalise.normalise_decimal(weight, "weight"),
        "unit": normalise.normalise_unit(unit),
        "due": normalise.normalise_date(due, "due date"),
    }
    chosen = sorted({normalise.normalise_handle(h, "beneficiary") for h in beneficiaries or []})

    def build(state: ProjectState) -> dict[str, Any]:
        with refused_as_usage():
            check_unit_spelling(state, unit)
        others = [h for h in state.joined() if h != signer.handle]
        return {**base, "beneficiaries": chosen or others}

    return build


def amendment_body(
    pledge: int, *, title: str | None, weight: str | None, due: str | None, reason: str
) -> Build:
    """The body of ``pledge.amended``.

    Raises:
        UsageError: nothing to change, or a malformed value.
    """
    changes: dict[str, str] = {}
    if title is not None:
        changes["title"] = normalise.required_text(title, "title")
    if weight is not None:
        changes["weight"] = normalise.normalise_decimal(weight, "weight")
    if due is not None:
        changes["due"] = normalise.normalise_date(due, "due date")
    if not changes:
        raise UsageError(
            "an amendment must change something", hint="give --weight, --due or --title"
        )
    body = {
        "pledge": normalise.check_seq(pledge, "pledge"),
        "changes": changes,
        "reason": normalise.required_text(reason, "reason"),
    }
    return lambda _state: body


def withdrawal_body(pledge: int, *, reason: str) -> Build:
    """The body of ``pledge.withdrawn``.

    Raises:
        UsageError: a malformed seq or an empty reason.
    """
    body = {
        "pledge": normalise.check_seq(pledge, "pledge"),
        "reason": normalise.required_text(reason, "reason"),
    }
    return lambda _state: body


def close_short_body(pledge: int, *, reason: str) -> Build:
    """The body of ``pledge.closed-short``.

    Raises:
        UsageError: a malformed seq or an empty reason.
    """
    return withdrawal_body(pledge, reason=reason)


def delivery_body(
    pledge: int,
    *,
    summary: str,
    quantity: str | None,
    evidence: list[Evidence],
    signer: Signer,
    warnings: list[str],
) -> Build:
    """The body of ``deliverable.submitted`` (see :meth:`ledger.application.Ledger.deliver`).

    Without ``quantity`` the deliverable claims what remains of the pledge's weight (the
    weight less what was accepted or is awaiting a decision), computed exactly. A quantity
    that takes the pledge beyond its weight puts a warning in ``warnings``.

    Raises:
        UsageError: a malformed quantity, or nothing remains to deliver.
    """
    summary = normalise.required_text(summary, "summary")
    normalise.check_seq(pledge, "pledge")
    given = normalise.normalise_decimal(quantity, "quantity") if quantity is not None else None

    def build(state: ProjectState) -> dict[str, Any]:
        warnings.clear()
        amount = given
        item = state.pledges.get(pledge)
        own = item is not None and item.by == signer.handle
        if amount is None:
            if item is None or not own:  # let the rules name the problem
                amount = "1"
            else:
                remaining = exact_difference(item.weight, _claimed(item))
                if remaining <= 0:
                    raise UsageError(
                        f"pledge {pledge} has no undelivered weight left",
                        hint="give --quantity for additional work",
                    )
                amount = decimal_text(remaining)
        elif item is not None and own:
            total = exact_sum((_claimed(item), Decimal(amount)))
            if total > item.weight:
                warnings.append(
                    f"pledge {pledge} is now delivered beyond its weight: "
                    f"{decimal_text(total)} of {decimal_text(item.weight)} "
                    f"{item.unit} delivered or awaiting a decision"
                )
        return {
            "pledge": pledge,
            "summary": summary,
            "quantity": amount,
            "evidence": [e.as_dict() for e in evidence],
        }

    return build


def _claimed(pledge: Pledge) -> Decimal:
    """What was delivered on ``pledge``: accepted (disputed or not) or awaiting a decision."""
    return exact_sum((pledge.pending, pledge.approved, pledge.disputed))


# --- summaries and subjects -------------------------------------------------------------------


def _made_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    return (
        f'pledged "{body["title"]}": {amount_text(body["weight"], body["unit"])} '
        f"to {names(body['beneficiaries'])}, due {body['due']}"
    )


def _amended_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    changes = ", ".join(f"{k} {v}" for k, v in sorted(body["changes"].items()))
    return f"asked to amend pledge {body['pledge']} ({changes}): {body['reason']}"


def _delivered_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    pledge = state.pledges.get(body["pledge"]) if state else None
    amount = amount_text(body["quantity"], pledge.unit) if pledge else body["quantity"]
    files = len(body["evidence"])
    evidence = f", {files} evidence file{'s' if files != 1 else ''}" if files else ""
    return f'delivered {amount} on pledge {body["pledge"]}: "{body["summary"]}"{evidence}'


def _delivered_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    pledge = state.pledges[item.body["pledge"]]
    return {
        "pledge": pledge.seq,
        "pledge_title": pledge.title,
        "party": item.by,
        "quantity": item.body["quantity"],
        "unit": pledge.unit,
        "to": list(pledge.beneficiaries),
    }


def _closed_short_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    pledge = state.pledges[item.body["pledge"]]
    return {
        "pledge": pledge.seq,
        "pledge_title": pledge.title,
        "approved": decimal_text(pledge.approved),
        "weight": decimal_text(pledge.weight),
        "unit": pledge.unit,
        "to": list(pledge.beneficiaries),
    }


declare(
    EntryType(
        "pledge.made",
        8,
        "a pledge",
        {
            "title": fmt.is_text(),
            "weight": fmt.is_decimal,
            "unit": fmt.is_unit,
            "due": fmt.is_date,
            "beneficiaries": lambda v: fmt.is_handles(v) and bool(v),
        },
        _pledge_made,
        _made_summary,
        numbers=(("weight",),),
        list_bound=ListBound(
            "beneficiaries",
            fmt.MAX_MEMBERS - 1,
            "beneficiaries",
            f"a pledge's beneficiaries are the other members, at most {fmt.MAX_MEMBERS - 1}",
        ),
        build=pledge_body,
    ),
    EntryType(
        "pledge.amended",
        9,
        "an amendment",
        {"pledge": fmt.is_seq, "changes": fmt.is_changes, "reason": fmt.is_text()},
        _pledge_amended,
        _amended_summary,
        numbers=(("changes", "weight"),),
        build=amendment_body,
    ),
    EntryType(
        "pledge.withdrawn",
        10,
        "a withdrawal",
        {"pledge": fmt.is_seq, "reason": fmt.is_text()},
        _pledge_withdrawn,
        lambda data, state: f"withdrew pledge {data['body']['pledge']}: {data['body']['reason']}",
        build=withdrawal_body,
    ),
    EntryType(
        "deliverable.submitted",
        11,
        "a deliverable",
        {
            "pledge": fmt.is_seq,
            "summary": fmt.is_text(),
            "quantity": fmt.is_decimal,
            "evidence": fmt.is_evidence,
        },
        _deliverable_submitted,
        _delivered_summary,
        subject=_delivered_subject,
        numbers=(("quantity",),),
        list_bound=ListBound(
            "evidence",
            fmt.MAX_EVIDENCE,
            "evidence files",
            f"a deliverable records at most {fmt.MAX_EVIDENCE} evidence files: put the files "
            "in an archive and give that",
        ),
        build=delivery_body,
    ),
    EntryType(
        "pledge.closed-short",
        19,
        "a close-short proposal",
        {"pledge": fmt.is_seq, "reason": fmt.is_text()},
        _pledge_closed_short,
        lambda data, state: (
            f"asked to close pledge {data['body']['pledge']} short: {data['body']['reason']}"
        ),
        subject=_closed_short_subject,
        build=close_short_body,
    ),
)
