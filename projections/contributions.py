"""Contributions: who carried the collaboration, per party and per unit, exactly.

Quantities in different units are never added together, and quantities are added exactly
(never rounded, however many digits they have). All ratios are exact
:class:`~fractions.Fraction` values, rounded only for display. The judgements below
(shares, the guest star, the overall rows) are ADR 0012 (docs/adr/0012-fair-judgements.md).

Per party and unit:

* ``pledged``: the current weights of its pledges that are not withdrawn; a pledge closed
  short counts for its whole (last agreed) weight: that is what was promised;
* ``delivered``: quantities delivered and not rejected (accepted, awaiting a decision, or
  accepted and disputed);
* ``approved``: quantities accepted and not under an open dispute;
* ``disputed``: quantities accepted but under an open dispute (in neither ``approved`` nor
  any share until the dispute is settled);
* ``short``: the shortfall the beneficiaries agreed to when they closed its pledges short
  (weight less approved and disputed, of each pledge closed short), so that
  ``pledged = approved + disputed + short + what is still owed``;
* ``pledged_share`` / ``approved_share``: its part of everyone's pledged / approved total in
  that unit (None when that total is 0);
* ``peers``: how many parties work in that unit (a pledge not withdrawn, or something
  delivered there): the shares of a unit compare only them. A party alone in its unit has
  the whole of it, which says nothing about anyone else;
* ``fulfilment``: approved / pledged (None when nothing is pledged; above 1 when it
  delivered more than it promised; below 1 for a pledge closed short, whose ``short`` says
  why);
* ``on_time``: of its pledges that are due by today, fulfilled or closed short, the part
  fulfilled (or closed short) on or before the due date (None when there is none yet).

**Guest star: like with like.** A party is judged only in the units it works in, against
the parties working there: in unit u with k peers an equal share is 1/k. A party is a guest
star when, in every unit it works in where anything was approved, its approved share is
below ``threshold`` times the equal share (default threshold 0.5: less than half an equal
share everywhere it could be compared). A unit where it works alone and had work approved
is wholly its own, so it is never below the bar there; units it does not work in never
count against it; a party whose units have nothing approved yet is not judged. A member
with no work at all (no pledge, or only withdrawn ones with nothing delivered) is a guest
star once anything in the project was approved (for any threshold above 0). Members without
any pledge get a row with unit ``-`` so they are not silently left out.

**Overall, in the reference unit.** Once the members have agreed what units are worth
(``value.proposed``, docs/adr/0010-agreed-values.md), one more row per party follows the
per-unit rows, with unit ``overall REF`` (REF: the reference unit; the space keeps it apart
from every real unit). Its pledged, delivered, approved, disputed and short figures are the
sums, over the reference unit and every unit with a value in force, of the per-unit figures
times the unit's worth (the reference unit is worth 1), computed exactly. A party is
**valued** ``all`` when all its work is in such units (or it has no work), ``partly`` when
some is, and ``none`` when none is: its row is then "not valued", with no figures, no
shares and no flag, never 0%. Shares are exact fractions of the totals of the valued
parties (``all`` or ``partly``; ``peers`` says how many), and for display
(:meth:`Contribution.as_row`) they are rounded to a tenth of a percent by the largest
remainder method, so that the shown shares add up to exactly 1 (100.0%). The overall guest
star: a valued party with no approved work outside the valued units whose overall approved
share is below ``threshold`` times 1 / ``peers`` (work that has no agreed value cannot be
compared, so it is never held against the party that did it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.format import unit_key
from ledger.numbers import decimal_text, exact_sum
from ledger.totals import Key, UnitTotals, add_up, pledge_facts

if TYPE_CHECKING:
    from projections.replay import Replay

DEFAULT_THRESHOLD = Fraction(1, 2)
NO_UNIT = "-"


VALUED = ("all", "partly", "none")  # overall rows: how much of a party's work has a value


@dataclass(frozen=True)
class Contribution:
    """One party's contribution in one unit (or overall, in the reference unit)."""

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
    short: Decimal = Decimal(0)  # agreed shortfall of its pledges closed short (ADR 0012)
    # Per-unit rows: the parties working in the unit; overall rows: the valued parties.
    peers: int | None = None
    valued: str | None = None  # overall rows only: one of VALUED

    def as_row(self, places: int = 4) -> dict[str, Any]:
        """JSON-ready row: quantities and ratios as decimal strings, ratios rounded.

        An overall row of a party none of whose work has an agreed value (``valued``
        ``none``) has no figures: its quantities are None, as its shares are.
        """
        pledged_share, approved_share = self.shares
        figures = self.valued != "none"
        return {
            "party": self.party,
            "unit": self.unit,
            "pledged": decimal_text(self.pledged) if figures else None,
            "delivered": decimal_text(self.delivered) if figures else None,
            "approved": decimal_text(self.approved) if figures else None,
            "disputed": decimal_text(self.disputed) if figures else None,
            "short": decimal_text(self.short) if figures else None,
            "pledged_share": ratio_text(pledged_share, places),
            "approved_share": ratio_text(approved_share, places),
            "fulfilment": ratio_text(self.fulfilment, places),
            "on_time": ratio_text(self.on_time, places),
            "guest_star": self.guest_star,
            "peers": self.peers,
            "valued": self.valued,
        }

    @property
    def shares(self) -> tuple[Fraction | None, Fraction | None]:
        """The pledged and approved shares as shown: an overall row's apportioned ones."""
        shown = self.shown_pledged_share, self.shown_approved_share
        return (
            self.pledged_share if shown[0] is None else shown[0],
            self.approved_share if shown[1] is None else shown[1],
        )

    @property
    def works(self) -> bool:
        """Whether the party works in this unit: a pledge not withdrawn, or a delivery."""
        return self.pledged > 0 or self.delivered > 0


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
    """Every party's contribution per unit, sorted by unit then party, then overall rows."""
    state = replay.state
    zero = Decimal(0)
    sums = unit_totals(replay)
    figures: dict[tuple[str, str], list[Decimal]] = {  # pledged, delivered, approved, ...
        key: [t.pledged, t.delivered, t.approved, t.disputed, t.short] for key, t in sums.items()
    }
    due_count = {key: t.due_by(today) for key, t in sums.items()}
    on_time_count = {key: t.on_time for key, t in sums.items()}
    units = sorted({unit for _, unit in figures})
    totals_pledged = {u: exact_sum(v[0] for (_, x), v in figures.items() if x == u) for u in units}
    totals_approved = {u: exact_sum(v[2] for (_, x), v in figures.items() if x == u) for u in units}
    peers = {
        u: {p for (p, x), v in figures.items() if x == u and (v[0] > 0 or v[1] > 0)} for u in units
    }
    members = state.joined()
    guest = {
        party: is_guest_star(party, peers, figures, totals_approved, threshold)
        for party in {*members, *(p for p, _ in figures)}
    }
    rows = []
    for unit in units:
        for party in sorted(p for p, u in figures if u == unit):
            key = (party, unit)
            pledged, delivered, approved, disputed, short = figures[key]
            rows.append(
                Contribution(
                    party=party,
                    unit=unit,
                    pledged=pledged,
                    delivered=delivered,
                    approved=approved,
                    disputed=disputed,
                    short=short,
                    pledged_share=_share(pledged, totals_pledged[unit]),
                    approved_share=_share(approved, totals_approved[unit]),
                    fulfilment=_share(approved, pledged),
                    on_time=Fraction(on_time_count[key], due_count[key])
                    if due_count[key]
                    else None,
                    guest_star=guest[party],
                    peers=len(peers[unit]),
                )
            )
    with_rows = {party for party, _ in figures}
    for party in members:
        if party not in with_rows:
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


def unit_totals(replay: Replay) -> dict[Key, UnitTotals]:
    """The sums over each party's pledges in each unit (``ledger/totals.py``).

    The verified state keeps them as it goes, so reading them costs the parties and units;
    a state it does not hold (a read in the past, a replay in memory) adds up its pledges.
    """
    state = replay.state
    if replay.ledger is not None:
        kept = replay.ledger.verified.unit_totals(state.slug, seq=state.seq, head=state.head)
        if kept is not None:
            return kept
    return add_up(
        pledge_facts(pledge, lambda seq: replay.at(seq).date()) for pledge in state.pledges.values()
    )


def is_guest_star(
    party: str,
    peers: dict[str, set[str]],
    figures: dict[tuple[str, str], list[Decimal]],
    totals_approved: dict[str, Decimal],
    threshold: Fraction,
) -> bool:
    """The per-unit guest-star rule (module docstring): judged like with like.

    ``peers``: the parties working in each unit; ``figures``: per (party, unit), pledged,
    delivered, approved, disputed and short; ``totals_approved``: per unit.
    """
    mine = [u for u, working in peers.items() if party in working]
    if not mine:  # no work at all: below any positive bar once anything was approved
        return threshold > 0 and any(total > 0 for total in totals_approved.values())
    judged = [u for u in mine if totals_approved[u] > 0]
    return bool(judged) and all(
        Fraction(figures[(party, u)][2]) / Fraction(totals_approved[u])
        < threshold * Fraction(1, len(peers[u]))
        for u in judged
    )


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
    sums: dict[str, list[Fraction]] = {p: [Fraction(0)] * 5 for p in parties}
    valued_work: set[str] = set()
    unvalued_work: set[str] = set()
    unvalued_approved: set[str] = set()
    for row in rows:
        factor = worth.get(unit_key(row.unit)) if row.unit != NO_UNIT else None
        if factor is None:
            if row.unit != NO_UNIT and row.works:
                unvalued_work.add(row.party)
            if row.unit != NO_UNIT and (row.approved > 0 or row.disputed > 0):
                unvalued_approved.add(row.party)
            continue
        if row.works:
            valued_work.add(row.party)
        figures = sums[row.party]
        amounts = (row.pledged, row.delivered, row.approved, row.disputed, row.short)
        for index, amount in enumerate(amounts):
            figures[index] += Fraction(amount) * Fraction(factor)
    valued = {
        p: "none"
        if p in unvalued_work and p not in valued_work
        else "partly"
        if p in unvalued_work
        else "all"
        for p in parties
    }
    compared = [p for p in parties if valued[p] != "none"]
    total_pledged = sum((sums[p][0] for p in compared), Fraction(0))
    total_approved = sum((sums[p][2] for p in compared), Fraction(0))
    pledged_shares = {p: _fraction_share(sums[p][0], total_pledged) for p in compared}
    approved_shares = {p: _fraction_share(sums[p][2], total_approved) for p in compared}
    shown_pledged = apportion(pledged_shares, OVERALL_PLACES)
    shown_approved = apportion(approved_shares, OVERALL_PLACES)
    bar = threshold * Fraction(1, len(compared)) if compared else Fraction(0)
    result = []
    for party in parties:
        pledged, delivered, approved, disputed, short = sums[party]
        share = approved_shares.get(party)
        result.append(
            Contribution(
                party=party,
                unit=overall_unit(reference),
                pledged=fraction_decimal(pledged),
                delivered=fraction_decimal(delivered),
                approved=fraction_decimal(approved),
                disputed=fraction_decimal(disputed),
                short=fraction_decimal(short),
                pledged_share=pledged_shares.get(party),
                approved_share=share,
                fulfilment=_fraction_share(approved, pledged) if valued[party] != "none" else None,
                on_time=None,
                guest_star=share is not None and party not in unvalued_approved and share < bar,
                shown_pledged_share=shown_pledged.get(party),
                shown_approved_share=shown_approved.get(party),
                peers=len(compared),
                valued=valued[party],
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
