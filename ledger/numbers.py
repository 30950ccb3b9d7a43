"""Exact numbers: the one bound on every weight, quantity and worth, and exact arithmetic.

Numbers in entries are canonical decimal strings within one bound (docs/format.md,
Numbers); :func:`ledger.rules.schema.check_numbers` applies it to every entry body.
Arithmetic on them runs in the :data:`EXACT` context, which traps rather than round.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

# The one bound on every weight, quantity and worth (docs/format.md#numbers).
MAX_WHOLE_DIGITS = 18  # digits before the point: every number is below 10^18
MAX_FRACTION_DIGITS = 12  # digits after the point: the smallest number is 10^-12
MAX_NUMBER = MAX_WHOLE_DIGITS + 1 + MAX_FRACTION_DIGITS  # characters of the longest one (31)
SMALLEST_NUMBER = "0." + "0" * (MAX_FRACTION_DIGITS - 1) + "1"
LARGEST_NUMBER = "9" * MAX_WHOLE_DIGITS + "." + "9" * MAX_FRACTION_DIGITS
NUMBER_FORM = (
    f"at most {MAX_WHOLE_DIGITS} digits before the point and {MAX_FRACTION_DIGITS} after it, "
    f"from {SMALLEST_NUMBER} to {LARGEST_NUMBER}"
)
# Exact decimal arithmetic: a bounded number has at most MAX_WHOLE_DIGITS + MAX_FRACTION_DIGITS
# digits, a product of two has at most twice as many, and a sum of up to 2^53 products (one per
# entry) adds at most 16 digits of carries. Nothing computed from the log is ever rounded;
# Inexact traps if it were.
EXACT = Context(
    prec=2 * (MAX_WHOLE_DIGITS + MAX_FRACTION_DIGITS) + 32,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)
# Rounding a number typed by the user for a hint (a quantize needs room for all its digits).
EXACT_ROUND = Context(prec=2 * MAX_NUMBER, rounding=ROUND_HALF_EVEN)


def number_excess(text: str) -> tuple[str, int] | None:
    """Where the canonical decimal ``text`` goes beyond the bound of format v1, if it does.

    Returns ``("before", n)`` when it has ``n`` > :data:`MAX_WHOLE_DIGITS` digits before the
    point, ``("after", n)`` when it has ``n`` > :data:`MAX_FRACTION_DIGITS` digits after it,
    and None when it is within the bound. Counting characters is enough: a canonical
    decimal has no sign, no exponent, no leading zero before its first digit and no
    trailing zero after the point.
    """
    whole, _, fraction = text.partition(".")
    if len(whole) > MAX_WHOLE_DIGITS:
        return ("before", len(whole))
    if len(fraction) > MAX_FRACTION_DIGITS:
        return ("after", len(fraction))
    return None


def excess_message(what: str, excess: tuple[str, int]) -> str:
    """The message for ``what`` whose number goes beyond the bound (:func:`number_excess`)."""
    where, count = excess
    limit = MAX_WHOLE_DIGITS if where == "before" else MAX_FRACTION_DIGITS
    return f"{what} has {count} digits {where} the point; accord records at most {limit}"


def decimal_text(number: Decimal) -> str:
    """Return the canonical text of a non-negative decimal: no exponent, no trailing zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def amount_text(amount: str, unit: str) -> str:
    """``amount`` and ``unit`` as a phrase: ``1 hour``, ``2 hours``, ``1 EUR``.

    When the amount is exactly one, an English plural unit (lower-case ASCII letters, as
    people write ``hours``, ``days``, ``posts``, ``copies``) is said in the singular; any other
    unit (``EUR``, ``€``, ``m²``, ``person-days``) is left as written. Only the phrase
    changes: the signed unit is never rewritten.
    """
    return f"{amount} {_singular(unit) if _is_one(amount) else unit}"


def _is_one(amount: str) -> bool:
    whole, _, fraction = amount.partition(".")
    return whole.lstrip("0") == "1" and not fraction.strip("0")


def _singular(unit: str) -> str:
    if not (unit.isascii() and unit.isalpha() and unit.islower() and len(unit) > 3):
        return unit
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    if unit.endswith("s") and not unit.endswith(("ss", "us", "is")):
        return unit[:-1]
    return unit


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``values`` (never rounded, whatever their number of digits)."""
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def exact_difference(minuend: Decimal, subtrahend: Decimal) -> Decimal:
    """The exact difference ``minuend - subtrahend`` (never rounded)."""
    return EXACT.subtract(minuend, subtrahend)


def exact_product(first: Decimal, second: Decimal) -> Decimal:
    """The exact product ``first * second`` (never rounded; :data:`EXACT` traps if it were)."""
    return EXACT.multiply(first, second)
