"""How figures read for people: ratios as percentages, shares and guest-star judgements.

Shared by the close report's view (:mod:`commands.report_view`), its charts
(:mod:`commands.charts`) and the ``accord contributions`` table. A ratio is shown from its
JSON text (rounded to 4 places), so the report and the table say the same as the JSON.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from projections.contributions import ratio_text

if TYPE_CHECKING:
    from projections.contributions import Contribution


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
