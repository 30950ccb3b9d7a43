"""Obligations: who owes what to whom, and whether it is open, due, overdue or fulfilled.

One row per pledge; quantities are added exactly (never rounded, however many digits they
have). Status, in order of precedence:

* ``withdrawn``: the promisor withdrew it;
* ``closed-short``: the beneficiaries accepted to end it with what was approved: nothing more
  is owed (ADR 0009); its ``weight`` stays the last agreed weight and ``short`` says what
  was forgone (ADR 0012);
* ``fulfilled``: approved deliveries reach the (current) weight;
* ``disputed``: a decision on one of its deliverables is under an open dispute (a disputed
  acceptance counts for nothing in ``approved`` meanwhile);
* ``overdue``: the due date has passed ("today" is before it no more) and it is not fulfilled,
  nor submitted in full (see ``submitted``);
* ``amended-pending``: an amendment awaits the beneficiaries' decision;
* ``submitted``: a delivery awaits a decision. A pledge submitted in full (what was approved
  plus what awaits a decision reaches the weight) is ``submitted`` even past its due date: it
  waits for its beneficiaries, not for its promisor, so it is never overdue meanwhile;
* ``open``: nothing of the above.

``short`` is, for a pledge closed short, its weight less what was approved and what is
disputed on it (None for any other pledge).

``days_late`` is how many days after the due date an overdue pledge is (as of today), or a
fulfilled one was fulfilled (by the claimed time of the deciding approval); 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.lazymap import LazyMap, in_pages
from ledger.numbers import decimal_text, exact_sum
from ledger.open_items import open_values
from ledger.totals import claimed_day, fulfilling_seq, shortfall

if TYPE_CHECKING:
    from ledger.rules import Pledge
    from projections.replay import Replay

STATUSES = (
    "open", "submitted", "fulfilled", "overdue", "withdrawn", "amended-pending", "closed-short",
    "disputed",
)  # fmt: skip
FINISHED = ("fulfilled", "withdrawn", "closed-short")  # nothing more is owed


@dataclass(frozen=True)
class Obligation:
    """One pledge as an obligation, as of a given day."""

    seq: int
    party: str
    beneficiaries: tuple[str, ...]
    title: str
    weight: Decimal
    unit: str
    delivered: Decimal
    approved: Decimal
    due: date
    status: str
    days_late: int
    fulfilled_on: date | None
    short: Decimal | None = None  # closed short: what the beneficiaries agreed to forgo

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row (numbers as decimal strings)."""
        return {
            "seq": self.seq,
            "party": self.party,
            "to": list(self.beneficiaries),
            "title": self.title,
            "weight": decimal_text(self.weight),
            "unit": self.unit,
            "delivered": decimal_text(self.delivered),
            "approved": decimal_text(self.approved),
            "due": self.due.isoformat(),
            "status": self.status,
            "days_late": self.days_late,
            "short": decimal_text(self.short) if self.short is not None else None,
        }


def _deliverables(replay: Replay, pledge: Pledge) -> list[rules.Deliverable]:
    decisions = (replay.state.decisions[seq] for seq in pledge.deliverables)
    return [item for item in decisions if isinstance(item, rules.Deliverable)]


def fulfilled_on(
    replay: Replay, pledge: Pledge, times: Mapping[int, str] | None = None
) -> date | None:
    """The claimed day on which approved deliveries first reached the pledge's weight.

    ``times``: the claimed times by seq, when read already (else the entry is looked up).
    """
    seq = fulfilling_seq(pledge)
    if seq is None:
        return None
    return claimed_day(times[seq]) if times is not None else replay.at(seq).date()


def submitted_in_full(pledge: Pledge) -> bool:
    """True when deliveries awaiting a decision, with what was approved, reach the weight.

    The pledge then waits for its beneficiaries' decision, not for its promisor.
    """
    return pledge.pending > 0 and exact_sum((pledge.approved, pledge.pending)) >= pledge.weight


def obligation(
    replay: Replay, pledge: Pledge, today: date, *, times: Mapping[int, str] | None = None
) -> Obligation:
    """Compute the obligation row of one pledge as of ``today`` (``times``: as read already)."""
    approved, pending = pledge.approved, pledge.pending
    due = date.fromisoformat(pledge.due)
    done_on = fulfilled_on(replay, pledge, times)
    days_late = 0
    if pledge.status == "withdrawn":
        status = "withdrawn"
    elif pledge.status == rules.CLOSED_SHORT:
        status = "closed-short"
    elif done_on is not None:
        status = "fulfilled"
        days_late = max(0, (done_on - due).days)
    elif pledge.seq in replay.state.open_disputes.values():
        status = "disputed"
    elif today > due and not submitted_in_full(pledge):
        status = "overdue"
        days_late = (today - due).days
    elif pledge.pending_amendment is not None:
        status = "amended-pending"
    elif pending > 0:
        status = "submitted"
    else:
        status = "open"
    return Obligation(
        seq=pledge.seq,
        party=pledge.by,
        beneficiaries=pledge.beneficiaries,
        title=pledge.title,
        weight=pledge.weight,
        unit=pledge.unit,
        delivered=exact_sum((approved, pending, pledge.disputed)),
        approved=approved,
        due=due,
        status=status,
        days_late=days_late,
        fulfilled_on=done_on,
        short=shortfall(pledge) if status == "closed-short" else None,
    )


def pledge_seqs(state: rules.ProjectState) -> list[int]:
    """The seqs of every pledge, in order, without reading the pledges themselves."""
    if isinstance(state.pledges, LazyMap):
        return state.pledges.seqs()
    return sorted(state.pledges)


def obligations(
    replay: Replay,
    today: date,
    *,
    party: str | None = None,
    status: str | None = None,
    within: int | None = None,
    unfinished: bool = False,
) -> list[Obligation]:
    """Every pledge as an obligation, in seq order, optionally filtered.

    Args:
        replay: the folded project.
        today: the day against which due dates are judged.
        party: only pledges made by, or to, this party.
        status: only pledges with this status.
        within: only unfinished pledges due within this many days from today (overdue
            ones included).
        unfinished: only pledges still owed or awaiting a decision (not in ``FINISHED``).

    Asked for unfinished pledges only (``unfinished``, ``within``, or a status other than a
    finished one), it reads the open pledges only (``ledger.open_items``): a finished
    pledge is never open.
    """
    state = replay.state
    if status is not None and status not in FINISHED:
        unfinished = True
    unfinished = unfinished or within is not None
    pledges = open_values(state, "pledges") if unfinished else in_pages(state.pledges)
    rows = [obligation(replay, p, today) for p in pledges]
    if party is not None:
        rows = [r for r in rows if r.party == party or party in r.beneficiaries]
    if status is not None:
        rows = [r for r in rows if r.status == status]
    if unfinished:
        rows = [r for r in rows if r.status not in FINISHED]
    if within is not None:
        try:
            horizon = today + timedelta(days=within)
        except OverflowError:  # past the end of the calendar: everything is within
            horizon = date.max
        rows = [r for r in rows if r.status not in FINISHED and r.due <= horizon]
    return rows
