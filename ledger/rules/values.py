"""Value rules: what one unit is worth in the project's reference unit.

Proposed (``value.proposed``), then approved or refused by every other member.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import format as fmt
from ledger import normalise
from ledger.errors import AlreadyDecidedError, UsageError
from ledger.format import unit_key
from ledger.numbers import amount_text, decimal_text
from ledger.rules.checks import check_unit_spelling, refused_as_usage, require_active, rule
from ledger.rules.state import ACCEPTED, PENDING, REJECTED, VOID, ProjectState, ValueProposal
from ledger.rules.types import Build, EntryType, declare

if TYPE_CHECKING:
    from ledger.entry import SignedEntry


def agreed_values(state: ProjectState) -> dict[str, ValueProposal]:
    """The values in force, by the unit's spelling-insensitive key (:func:`unit_key`)."""
    return {
        unit_key(v.unit): v
        for v in state.values.values()
        if v.status == ACCEPTED and v.replaced_seq is None
    }


def reference_unit(state: ProjectState) -> str | None:
    """The unit every value is agreed in: that of the values in force or pending (or None).

    While no value is in force or pending, the next proposal may name any reference unit.
    """
    for proposal in state.values.values():
        if proposal.status == PENDING or (
            proposal.status == ACCEPTED and proposal.replaced_seq is None
        ):
            return proposal.reference
    return None


def value_approvers(state: ProjectState, proposal: ValueProposal) -> list[str]:
    """The members whose approval ``proposal`` needs: every other joined member with a key.

    A member whose key was revoked without a replacement can no longer sign, so it is not
    waited for.
    """
    return [h for h in state.joined() if h != proposal.by and state.members[h].signers]


def _value_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    body = item.body
    unit, worth, reference = body["unit"], Decimal(body["worth"]), body["in"]
    check_unit_spelling(state, unit)
    check_unit_spelling(state, reference)
    if unit_key(unit) == unit_key(reference):
        raise rule(
            f"a unit is worth 1 of itself: {unit!r} cannot be valued in {reference!r}",
            hint="value another unit in the reference unit",
        )
    current = reference_unit(state)
    if current is not None and unit_key(reference) != unit_key(current):
        raise rule(
            f"values in project {state.slug!r} are agreed in {current}, not in {reference}",
            hint=f"give the value in {current} (one reference unit per project)",
        )
    agreed = agreed_values(state).get(unit_key(unit))
    if agreed is not None and agreed.worth == worth:
        raise rule(
            f"{unit} is already agreed at {decimal_text(agreed.worth)} {agreed.reference} "
            f"(seq {agreed.seq})",
            hint="propose a different worth to replace it",
        )
    pending = [
        v
        for v in state.values.values()
        if v.status == PENDING and unit_key(v.unit) == unit_key(unit)
    ]

    def commit() -> None:
        state.units.setdefault(unit_key(unit), unit)
        state.units.setdefault(unit_key(reference), reference)
        for earlier in pending:  # a newer proposal for the unit supersedes a pending one
            earlier.status, earlier.decided_seq = VOID, item.seq
        state.values[item.seq] = ValueProposal(
            seq=item.seq,
            by=item.by,
            hash=item.hash,
            unit=unit,
            worth=worth,
            reference=reference,
            reason=body["reason"],
        )

    return commit


def _value_for(state: ProjectState, item: SignedEntry) -> ValueProposal:
    require_active(state, item)
    target = item.body["target"]
    proposal = state.values[target]
    if item.body["target_hash"] != proposal.hash:
        raise rule(f"the target hash does not match the hash of seq {target}")
    if proposal.by == item.by:
        raise rule(
            f"{item.by!r} cannot approve or reject its own value proposal (seq {target})",
            hint="proposing a value counts as agreeing to it; the other members decide",
        )
    if item.by in proposal.approvals:
        raise AlreadyDecidedError(
            f"{item.by!r} already approved seq {target}", decided_seq=proposal.approvals[item.by]
        )
    if proposal.status != PENDING:
        what = "superseded by a newer proposal for its unit" if proposal.status == VOID else ""
        raise AlreadyDecidedError(
            f"value proposal seq {target} is already {what or proposal.status}",
            decided_seq=proposal.decided_seq or proposal.seq,
            hint=f"`accord project values {state.slug}` lists the values and proposals",
        )
    return proposal


def value_approved(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    """The handler of an ``approval.given`` whose target is a value proposal."""
    proposal = _value_for(state, item)
    needed = value_approvers(state, proposal)
    earlier = agreed_values(state).get(unit_key(proposal.unit))

    def commit() -> None:
        proposal.approvals[item.by] = item.seq
        if all(h in proposal.approvals for h in needed):
            proposal.status, proposal.decided_seq = ACCEPTED, item.seq
            if earlier is not None:
                earlier.replaced_seq = item.seq

    return commit


def value_refused(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    """The handler of an ``approval.refused`` whose target is a value proposal."""
    proposal = _value_for(state, item)

    def commit() -> None:
        proposal.status, proposal.decided_seq = REJECTED, item.seq
        proposal.refusal = (item.by, item.seq, item.body["reason"])

    return commit


def value_body(*, unit: str, worth: str, reference: str, reason: str) -> Build:
    """The body of ``value.proposed`` (see :meth:`ledger.application.Ledger.propose_value`).

    Raises:
        UsageError: a malformed unit or worth, an empty reason, a unit valued in itself, or
            another spelling of a unit the project uses.
    """
    body = {
        "unit": normalise.normalise_unit(unit),
        "worth": normalise.normalise_decimal(worth, "worth"),
        "in": normalise.normalise_unit(reference),
        "reason": normalise.required_text(reason, "reason"),
    }
    if unit_key(unit) == unit_key(reference):
        raise UsageError(
            f"a unit is worth 1 of itself: {unit!r} cannot be valued in {reference!r}",
            hint="give with --in the unit every value of the project is agreed in",
        )

    def build(state: ProjectState) -> dict[str, Any]:
        with refused_as_usage():
            check_unit_spelling(state, unit)
            check_unit_spelling(state, reference)
        return body

    return build


def value_subject(state: ProjectState, proposal: ValueProposal) -> dict[str, Any]:
    """What a value proposal says and where it stands (``target_type`` ``value``)."""
    needed = value_approvers(state, proposal)
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


def _proposed_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    worth = f"{amount_text('1', body['unit'])} = {body['worth']} {body['in']}"
    return f"proposed {worth}: {body['reason']}"


declare(
    EntryType(
        "value.proposed",
        18,
        "a value proposal",
        {"unit": fmt.is_unit, "worth": fmt.is_decimal, "in": fmt.is_unit, "reason": fmt.is_text()},
        _value_proposed,
        _proposed_summary,
        subject=lambda state, item: value_subject(state, state.values[item.seq]),
        numbers=(("worth",),),
        build=value_body,
    ),
)
