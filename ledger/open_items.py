"""Which items of a project's state are still open: the ones everyday reads look at.

A long project holds thousands of pledges, deliverables and statements that are done with:
fulfilled or withdrawn pledges, accepted deliverables, statements everyone signed. What waits
for someone (``accord todo``, the unfinished obligations, the web's dashboard) is among the
*open* items only, and the verified state file keeps, beside each item, whether it is open
(``ledger/state_file.py``), so such a read decodes the open items and no others.

Each predicate looks at the item, and at the parts of the project's state that never change
after the proposal (its members), so an item's flag changes only when the item itself
changes, and the rules reach every item they change by its key: it is then written back
with its new flag. Every predicate is a superset test: a read still checks each open item
it gets exactly as it checked every item before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.lazymap import LazyMap

if TYPE_CHECKING:
    from ledger.rules import ProjectState

Predicate = Callable[[Any, "ProjectState"], bool]


def _pledge(pledge: rules.Pledge, _state: ProjectState) -> bool:
    """Not withdrawn, not closed short, and approved work short of its weight."""
    return pledge.status == rules.PledgeStatus.OPEN and pledge.approved < pledge.weight


def _decision(decision: rules.Decision, _state: ProjectState) -> bool:
    """Awaiting its beneficiaries, or a rejected deliverable (its promisor may owe an answer).

    Whether a rejection is still unanswered (no later delivery on the pledge, no dispute)
    depends on other items, so every rejected deliverable stays open: the to-do list checks
    each one, which costs the rejections, not every deliverable of the promisor's pledges.
    """
    if decision.status == rules.PENDING:
        return True
    return decision.status == rules.REJECTED and isinstance(decision, rules.Deliverable)


def _statement(statement: rules.Statement, state: ProjectState) -> bool:
    """Some member (the seats are fixed by the proposal) has not signed its current text."""
    return len(statement.signatures) < len(state.members)


def _dispute(dispute: rules.Dispute, _state: ProjectState) -> bool:
    """Not resolved yet."""
    return dispute.status == rules.DisputeStatus.OPEN


# By attribute of the state (``ProjectState.pledges``...): when an item of it is open.
OPEN: dict[str, Predicate] = {
    "pledges": _pledge,
    "decisions": _decision,
    "statements": _statement,
    "disputes": _dispute,
}


def is_open(attribute: str, item: Any, state: ProjectState) -> bool:
    """Whether ``item`` of ``state.<attribute>`` is open (see :data:`OPEN`)."""
    return OPEN[attribute](item, state)


def open_values(state: ProjectState, attribute: str) -> list[Any]:
    """The open items of ``state.<attribute>``, in seq order.

    From a state loaded from the verified state file, only the open items are decoded
    (``LazyMap.open_seqs``); from any other state (a replay), every item is tested.
    """
    items = getattr(state, attribute)
    if isinstance(items, LazyMap):
        return [items[seq] for seq in items.open_seqs()]
    return [item for _, item in sorted(items.items()) if is_open(attribute, item, state)]
