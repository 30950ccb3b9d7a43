"""Contributions: who carried the collaboration, per party and per unit, exactly.

Quantities in different units are never added together, and quantities are added exactly
(never rounded, however many digits they have). All ratios are exact
:class:`~fractions.Fraction` values, rounded only for display.

Per party and unit:

* ``pledged``: the current weights of its pledges that are not withdrawn; a pledge closed
  short counts for what was approved on it (and what is disputed, until the dispute is
  settled) (ADR 0009);
* ``delivered``: quantities delivered and not rejected (accepted, awaiting a decision, or
  accepted and disputed);
* ``approved``: quantities accepted and not under an open dispute;
* ``disputed``: quantities accepted but under an open dispute (in neither ``approved`` nor
  any share until the dispute is settled);
* ``pledged_share`` / ``approved_share``: its part of everyone's pledged / approved total in
  that unit (None when that total is 0);
* ``fulfilment``: approved / pledged (None when nothing is pledged; above 1 when it
  delivered more than it promised);
* ``on_time``: of its pledges that are due by today, fulfilled or closed short, the part
  fulfilled (or closed short) on or before the due date (None when there is none yet).

**Guest star.** With n joined members, a fair share of a unit is 1/n. A party is a guest
star when, in every unit where anything was approved, its approved share is below
``threshold`` times the fair share (default threshold 0.5: less than half of a fair share
everywhere). Nobody is flagged before anything is approved. Members without any pledge get a
row with unit ``-`` so they are not silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.format import decimal_text, exact_sum
from projections.obligations import fulfilled_on

if TYPE_CHECKING:
    from projections.replay import Replay

DEFAULT_THRESHOLD = Fraction(1, 2)
NO_UNIT = "-"


@dataclass(frozen=True)
class Contribution:
    """One party's contribution in one unit."""

    party: str
    unit: str
    pledged: Decimal
    delivered: Decimal
    approved: Decimal
    pledged_share: Fraction | None
    approved_share: Fraction | None
    fulfilment: Fraction | None
    on_time: Fraction | None
    guest_star: bool
    disputed: Decimal = Decimal(0)  # accepted, under an open dispute (ADR 0009)

    def as_row(self, places: int = 4) -> dict[str, Any]:
        """JSON-ready row: quantities and ratios as decimal strings, ratios rounded."""
        return {
            "party": self.party,
            "unit": self.unit,
            "pledged": decimal_text(self.pledged),
            "delivered": decimal_text(self.delivered),
            "approved": decimal_text(self.approved),
            "disputed": decimal_text(self.disputed),
            "pledged_share": ratio_text(self.pledged_share, places),
            "approved_share": ratio_text(self.approved_share, places),
            "fulfilment": ratio_text(self.fulfilment, places),
            "on_time": ratio_text(self.on_time, places),
            "guest_star": self.guest_star,
        }


def ratio_text(value: Fraction | None, places: int = 4) -> str | None:
    """Round an exact ratio to ``places`` decimals (half to even), as a string."""
    if value is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        number = Decimal(value.numerator) / Decimal(value.denominator)
        return str(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def percent_text(value: Fraction | None, places: int = 1) -> str:
    """Show a ratio as a percentage for people (``n/a`` when undefined)."""
    if value is None:
        return "n/a"
    text = ratio_text(value * 100, places)
    return f"{text}%"


def _share(part: Decimal, total: Decimal) -> Fraction | None:
    return Fraction(part) / Fraction(total) if total > 0 else None


def contributions(
    replay: Replay, today: date, *, threshold: Fraction = DEFAULT_THRESHOLD
) -> list[Contribution]:
    """Every party's contribution per unit, sorted by unit then party."""
    state = replay.state
    pledged: dict[tuple[str, str], Decimal] = {}
    delivered: dict[tuple[str, str], Decimal] = {}
    approved: dict[tuple[str, str], Decimal] = {}
    disputed: dict[tuple[str, str], Decimal] = {}
    due_count: dict[tuple[str, str], int] = {}
    on_time_count: dict[tuple[str, str], int] = {}
    for pledge in state.pledges.values():
        key = (pledge.by, pledge.unit)
        pledged.setdefault(key, Decimal(0))
        delivered.setdefault(key, Decimal(0))
        approved.setdefault(key, Decimal(0))
        disputed.setdefault(key, Decimal(0))
        due_count.setdefault(key, 0)
        on_time_count.setdefault(key, 0)
        short = pledge.status == rules.CLOSED_SHORT
        if short:
            pledged[key] = exact_sum((pledged[key], pledge.approved, pledge.disputed))
        elif pledge.status != "withdrawn":
            pledged[key] = exact_sum((pledged[key], pledge.weight))
        delivered[key] = exact_sum(
            (delivered[key], pledge.approved, pledge.pending, pledge.disputed)
        )
        approved[key] = exact_sum((approved[key], pledge.approved))
        disputed[key] = exact_sum((disputed[key], pledge.disputed))
        if pledge.status == "withdrawn":
            continue
        done = fulfilled_on(replay, pledge)
        if short and pledge.closed_short_seq is not None:
            closed = replay.at(pledge.closed_short_seq).date()
            done = min(done, closed) if done is not None else closed
        due = date.fromisoformat(pledge.due)
        if done is not None or due <= today:
            due_count[key] += 1
            if done is not None and done <= due:
                on_time_count[key] += 1

    units = sorted({unit for _, unit in pledged})
    totals_pledged = {u: exact_sum(v for (_, x), v in pledged.items() if x == u) for u in units}
    totals_approved = {u: exact_sum(v for (_, x), v in approved.items() if x == u) for u in units}
    members = state.joined()
    fair = Fraction(1, len(members)) if members else Fraction(0)
    guest = {
        party: _is_guest_star(party, units, approved, totals_approved, fair, threshold)
        for party in members
    }
    rows = []
    for unit in units:
        for party in sorted(p for p, u in pledged if u == unit):
            key = (party, unit)
            rows.append(
                Contribution(
                    party=party,
                    unit=unit,
                    pledged=pledged[key],
                    delivered=delivered[key],
                    approved=approved[key],
                    disputed=disputed[key],
                    pledged_share=_share(pledged[key], totals_pledged[unit]),
                    approved_share=_share(approved[key], totals_approved[unit]),
                    fulfilment=_share(approved[key], pledged[key]),
                    on_time=Fraction(on_time_count[key], due_count[key])
                    if due_count[key]
                    else None,
                    guest_star=guest.get(party, False),
                )
            )
    with_rows = {party for party, _ in pledged}
    for party in members:
        if party not in with_rows:
            zero = Decimal(0)
            rows.append(
                Contribution(
                    party=party,
                    unit=NO_UNIT,
                    pledged=zero,
                    delivered=zero,
                    approved=zero,
                    disputed=zero,
                    pledged_share=None,
                    approved_share=None,
                    fulfilment=None,
                    on_time=None,
                    guest_star=guest[party],
                )
            )
    return rows


def _is_guest_star(
    party: str,
    units: list[str],
    approved: dict[tuple[str, str], Decimal],
    totals: dict[str, Decimal],
    fair: Fraction,
    threshold: Fraction,
) -> bool:
    judged = [u for u in units if totals[u] > 0]
    if not judged:
        return False
    bar = threshold * fair
    return all(
        Fraction(approved.get((party, u), Decimal(0))) / Fraction(totals[u]) < bar for u in judged
    )
