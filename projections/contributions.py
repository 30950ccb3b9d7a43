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

**Overall, in the reference unit.** Once the members have agreed what units are worth
(``value.proposed``, docs/adr/0010-agreed-values.md), one more row per party follows the
per-unit rows, with unit ``overall REF`` (REF: the reference unit; the space keeps it apart
from every real unit). Its pledged, delivered and approved figures are the sums, over the
reference unit and every unit with a value in force, of the per-unit figures times the
unit's worth (the reference unit is worth 1; units without an agreed value are left out),
computed exactly. Its shares are exact fractions of everyone's overall totals; for display
(:meth:`Contribution.as_row`) they are rounded to a tenth of a percent by the largest
remainder method, so that the shown shares add up to exactly 1 (100.0%). The guest-star rule
applies to the overall approved share alone: below ``threshold`` times the fair share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.format import decimal_text, exact_sum, unit_key
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
    # Overall rows only: the shares as shown, apportioned so that they add up to 1.
    shown_pledged_share: Fraction | None = None
    shown_approved_share: Fraction | None = None

    def as_row(self, places: int = 4) -> dict[str, Any]:
        """JSON-ready row: quantities and ratios as decimal strings, ratios rounded."""
        shown = self.shown_pledged_share, self.shown_approved_share
        pledged_share = self.pledged_share if shown[0] is None else shown[0]
        approved_share = self.approved_share if shown[1] is None else shown[1]
        return {
            "party": self.party,
            "unit": self.unit,
            "pledged": decimal_text(self.pledged),
            "delivered": decimal_text(self.delivered),
            "approved": decimal_text(self.approved),
            "disputed": decimal_text(self.disputed),
            "pledged_share": ratio_text(pledged_share, places),
            "approved_share": ratio_text(approved_share, places),
            "fulfilment": ratio_text(self.fulfilment, places),
            "on_time": ratio_text(self.on_time, places),
            "guest_star": self.guest_star,
        }


def ratio_text(value: Fraction | None, places: int = 4) -> str | None:
    """Round an exact ratio to ``places`` decimals (half to even), as a string.

    Integer arithmetic on the fraction, so any ratio is shown, however large or small (a
    delivery of 10^17 on a weight of 10^-12 is a fulfilment of 10^29), never an error of a
    decimal context's precision.
    """
    if value is None:
        return None
    scaled = round(value * 10**places)  # Fraction.__round__: exact, half to even
    sign, digits = ("-" if scaled < 0 else ""), str(abs(scaled)).rjust(places + 1, "0")
    if places <= 0:
        return f"{sign}{digits}"
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


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
    return rows + overall_rows(state, rows, threshold=threshold)


OVERALL_PLACES = 3  # overall shares are shown to a tenth of a percent


def overall_unit(reference: str) -> str:
    """The unit column of the overall rows (with a space: never a real unit)."""
    return f"overall {reference}"


def valued_units(state: rules.ProjectState) -> dict[str, Decimal]:
    """The worth of each unit counted overall, by unit key (the reference unit is worth 1).

    Empty while no value is in force.
    """
    agreed = rules.agreed_values(state)
    if not agreed:
        return {}
    reference = next(iter(agreed.values())).reference
    return {unit_key(reference): Decimal(1), **{k: v.worth for k, v in agreed.items()}}


def overall_rows(
    state: rules.ProjectState,
    rows: list[Contribution],
    *,
    threshold: Fraction = DEFAULT_THRESHOLD,
) -> list[Contribution]:
    """Each party's overall contribution in the reference unit (see the module docstring).

    ``rows`` are the per-unit rows. Empty while no value is in force.
    """
    worth = valued_units(state)
    if not worth:
        return []
    reference = next(iter(rules.agreed_values(state).values())).reference
    parties = sorted({r.party for r in rows})
    sums: dict[str, list[Fraction]] = {p: [Fraction(0)] * 4 for p in parties}
    for row in rows:
        factor = worth.get(unit_key(row.unit)) if row.unit != NO_UNIT else None
        if factor is None:
            continue
        figures = sums[row.party]
        amounts = (row.pledged, row.delivered, row.approved, row.disputed)
        for index, amount in enumerate(amounts):
            figures[index] += Fraction(amount) * Fraction(factor)
    total_pledged = sum((f[0] for f in sums.values()), Fraction(0))
    total_approved = sum((f[2] for f in sums.values()), Fraction(0))
    pledged_shares = {p: _fraction_share(f[0], total_pledged) for p, f in sums.items()}
    approved_shares = {p: _fraction_share(f[2], total_approved) for p, f in sums.items()}
    shown_pledged = apportion(pledged_shares, OVERALL_PLACES)
    shown_approved = apportion(approved_shares, OVERALL_PLACES)
    members = state.joined()
    bar = threshold * Fraction(1, len(members)) if members else Fraction(0)
    result = []
    for party in parties:
        pledged, delivered, approved, disputed = sums[party]
        share = approved_shares[party]
        result.append(
            Contribution(
                party=party,
                unit=overall_unit(reference),
                pledged=fraction_decimal(pledged),
                delivered=fraction_decimal(delivered),
                approved=fraction_decimal(approved),
                disputed=fraction_decimal(disputed),
                pledged_share=pledged_shares[party],
                approved_share=share,
                fulfilment=_fraction_share(approved, pledged),
                on_time=None,
                guest_star=share is not None and party in members and share < bar,
                shown_pledged_share=shown_pledged[party],
                shown_approved_share=shown_approved[party],
            )
        )
    return result


def _fraction_share(part: Fraction, total: Fraction) -> Fraction | None:
    return part / total if total > 0 else None


def fraction_decimal(value: Fraction) -> Decimal:
    """The exact decimal of a fraction whose denominator divides a power of ten.

    Sums of products of decimals are such fractions, so nothing is rounded.

    Raises:
        ValueError: the fraction has no finite decimal expansion.
    """
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        raise ValueError(f"{value} has no finite decimal expansion")
    places = max(twos, fives)
    scaled = value.numerator * 10**places // value.denominator
    return Decimal(f"{scaled}E-{places}")  # built from text: exact whatever the context


def apportion(shares: dict[str, Fraction | None], places: int) -> dict[str, Fraction | None]:
    """Round shares that add up to 1 to ``places`` decimals so that they still add up to 1.

    The largest remainder (Hamilton) method: every share is first rounded down, then the
    units of the last place still missing go one each to the largest remainders, ties to
    the handle first in alphabetical order. None (no total) stays None.
    """
    known = {p: s for p, s in shares.items() if s is not None}
    if not known:
        return dict(shares)
    scale = 10**places
    floors = {p: (s * scale).numerator // (s * scale).denominator for p, s in known.items()}
    missing = scale - sum(floors.values())
    by_remainder = sorted(known, key=lambda p: (-(known[p] * scale - floors[p]), p))
    for party in by_remainder[: max(missing, 0)]:
        floors[party] += 1
    return {p: Fraction(floors[p], scale) if p in floors else None for p in shares}


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
