"""How amounts read in sentences: ``1 hour``, ``2 hours``; units that are not English plurals
are left as written, and the signed unit is never rewritten."""

from __future__ import annotations

import pytest

from ledger.numbers import amount_text


@pytest.mark.parametrize(
    ("amount", "unit", "text"),
    [
        ("1", "hours", "1 hour"),
        ("1.0", "hours", "1.0 hour"),
        ("01", "days", "01 day"),
        ("1", "copies", "1 copy"),
        ("1", "posts", "1 post"),
        ("2", "hours", "2 hours"),
        ("0.5", "hours", "0.5 hours"),
        ("0", "hours", "0 hours"),
        ("1.5", "hours", "1.5 hours"),
        ("11", "hours", "11 hours"),
        ("1", "EUR", "1 EUR"),
        ("1", "€", "1 €"),
        ("1", "Hours", "1 Hours"),
        ("1", "person-days", "1 person-days"),
        ("1", "kms", "1 kms"),
        ("1", "status", "1 status"),
        ("1", "glass", "1 glass"),
        ("1", "analysis", "1 analysis"),
        ("1", "m²", "1 m²"),
    ],
)
def test_an_amount_of_one_says_its_english_plural_unit_in_the_singular(
    amount: str, unit: str, text: str
) -> None:
    assert amount_text(amount, unit) == text


def test_the_report_says_one_day_late_in_the_singular() -> None:
    from commands.report_view import _days_late

    assert (_days_late(0), _days_late(1), _days_late(2)) == ("", "1 day late", "2 days late")
