"""How figures read for people: ratios as percentages, shares, guest-star judgements.

Shared by the close report's view (:mod:`commands.report_view`), its charts
(:mod:`commands.charts`) and the ``accord contributions`` table. A ratio is shown from its
JSON text (rounded to 4 places), so the report and the table say the same as the JSON.
:func:`contribution_view` is a contribution row as the report's table shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ledger.numbers import amount_text, decimal_text
from projections.contributions import ratio_text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

    from projections.contributions import Contribution
    from projections.report import ContributionsReport
    from projections.values import ValueRow


def percent(value: str | None) -> str:
    """Show a ratio string ("0.3333") as a percentage ("33.3%"), or n/a."""
    if value is None:
        return "n/a"
    tenths = round(Fraction(value) * 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def ratio_percent(value: Fraction | None) -> str:
    """Show an exact ratio as its JSON text (4 places) does, as a percentage, or n/a."""
    return percent(ratio_text(value, 4))


def shown_share(value: Fraction | None, row: Contribution) -> str:
    """A share of a contribution row for people (ADR 0012).

    ``not valued`` on the overall row of a party none of whose work has an agreed value,
    ``alone`` for the one party working in a unit (its whole, which compares it with
    nobody), else the percentage (or n/a).
    """
    text = ratio_text(value, 4)
    if row.valued == "none":
        return "not valued"
    if text is not None and row.peers == 1 and Fraction(text) == 1:
        return "alone"
    return percent(text)


def judgement(row: Contribution) -> str:
    """The guest-star column in words: guest star, not valued, partly valued, or ''."""
    if row.guest_star:
        return "guest star"
    return {"none": "not valued", "partly": "partly valued"}.get(row.valued or "", "")


def amount_or_dash(value: str | None) -> str:
    """A quantity for people: ``-`` when there is none (an overall row not valued)."""
    return "-" if value is None else value


@dataclass(frozen=True)
class ContributionView:
    """One row of the contributions table (per party and unit)."""

    party: str
    unit: str
    pledged: str
    delivered: str
    approved: str
    disputed: str
    short: str
    pledged_share: str
    approved_share: str
    fulfilment: str
    on_time: str
    guest_star: bool
    judgement: str  # "guest star", "not valued", "partly valued" or "no"


def _figure(row: Contribution, value: Decimal) -> str:
    """A quantity of a contribution row, ``-`` on an overall row that is not valued."""
    return amount_or_dash(decimal_text(value) if row.valued != "none" else None)


def contribution_view(row: Contribution) -> ContributionView:
    """A contribution row as the report's contributions table shows it."""
    pledged_share, approved_share = row.shares
    return ContributionView(
        party=row.party,
        unit=row.unit,
        pledged=_figure(row, row.pledged),
        delivered=_figure(row, row.delivered),
        approved=_figure(row, row.approved),
        disputed=_figure(row, row.disputed),
        short=_figure(row, row.short),
        pledged_share=shown_share(pledged_share, row),
        approved_share=shown_share(approved_share, row),
        fulfilment=ratio_percent(row.fulfilment),
        on_time=ratio_percent(row.on_time),
        guest_star=row.guest_star,
        judgement=judgement(row) or "no",
    )


def overall_sentence(contributions: ContributionsReport, values: Sequence[ValueRow]) -> str:
    """The report's sentence on the overall rows ('' while no value is agreed)."""
    reference = contributions.reference
    if reference is None:
        return ""
    agreed = [v for v in values if v.status == "agreed"]
    worths = "; ".join(
        f"{amount_text('1', v.unit)} = {decimal_text(v.worth)} {v.reference}" for v in agreed
    )
    overall = [r for r in contributions.rows if r.valued is not None]
    compared = overall[0].peers if overall else 0
    bar = ratio_percent(contributions.threshold)
    groups = [
        f"{label}: {', '.join(r.party for r in overall if r.valued == kind)}"
        for kind, label in (("none", "not valued"), ("partly", "partly valued"))
        if any(r.valued == kind for r in overall)
    ]
    return (
        f"The rows of unit overall {reference} add up every party's work in {reference}, "
        f"at the values the members agreed ({worths}; units without an agreed value are "
        f"left out). Their shares compare the {compared} "
        f"{'party' if compared == 1 else 'parties'} with work of an agreed value"
        + (f" ({'; '.join(groups)})" if groups else "")
        + " and are rounded to a tenth of a percent so that they add up to 100%. Overall, "
        f"a party is a guest star when its approved share is below {bar} of an equal "
        "share, unless some of its approved work has no agreed value."
    )
