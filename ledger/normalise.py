"""Normalising user input before anything is signed (raises UsageError: exit code "usage").

Slugs, handles, decimals, dates, units, policies, seqs, public keys and texts given on the
command line (or by a web form) are checked here, with hints that show the accepted form.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from ledger.ed25519 import parse_public_key_line
from ledger.errors import LedgerError, UsageError
from ledger.format import (
    DATE_RE,
    HANDLE_RE,
    MAX_INT,
    MAX_MEMBERS,
    MAX_TEXT,
    MEMBERS_HINT,
    POLICY_RE,
    SLUG_RE,
    is_unit,
)
from ledger.numbers import (
    EXACT_ROUND,
    MAX_FRACTION_DIGITS,
    NUMBER_FORM,
    decimal_text,
    excess_message,
    number_excess,
)


def normalise_handle(value: str, what: str = "handle") -> str:
    """Return ``value`` if it is a valid party handle.

    Raises:
        UsageError: the handle has characters other than a-z, 0-9 and inner hyphens.
    """
    if not HANDLE_RE.fullmatch(value):
        raise UsageError(
            f"{what} {value!r} is not valid",
            hint="use 1-32 characters: lower-case letters, digits and inner hyphens (acme-corp)",
        )
    return value


def _slug_suggestion(value: str) -> str | None:
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    suggestion = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return suggestion if SLUG_RE.fullmatch(suggestion) and suggestion != value else None


def normalise_slug(value: str) -> str:
    """Return ``value`` if it is a valid project slug.

    Raises:
        UsageError: the slug is not 1-64 lower-case letters, digits and inner hyphens (the
            hint shows the slug it would be, such as ``river-cleanup`` for ``River Cleanup``).
    """
    if not SLUG_RE.fullmatch(value):
        rule = "1-64 characters: lower-case letters, digits and inner hyphens"
        suggestion = _slug_suggestion(value)
        raise UsageError(
            f"project slug {value!r} is not valid",
            hint=f"write it as {suggestion} ({rule})"
            if suggestion
            else f"use {rule} (no-whopper-day)",
        )
    return value


_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")


def _fits(text: str) -> bool:
    """True when the plain decimal ``text`` is within the bound once made canonical."""
    return number_excess(decimal_text(Decimal(text))) is None


def _number_hint(text: str, what: str) -> str:
    """A hint that shows the accepted form of a number written another way, if it can."""
    plain = f"give {what} as a plain decimal number such as 12 or 2.5"
    grouped = re.fullmatch(r"([0-9]{1,3}(?:[,' _\u00a0\u202f][0-9]{3})+)(\.[0-9]+)?", text)
    if grouped:
        whole = re.sub(r"[^0-9]", "", grouped.group(1))
        suggestion = whole + (grouped.group(2) or "")
        single_comma = grouped.group(2) is None and grouped.group(1).count(",") == 1
        if not _fits(suggestion):
            return f"write {what} without thousands separators, with {NUMBER_FORM}"
        if single_comma and "," in grouped.group(1):
            decimal = grouped.group(1).replace(",", ".").rstrip("0").rstrip(".")
            return (
                f"write it as {suggestion} without thousands separators "
                f"(or {decimal} if the comma is a decimal comma)"
            )
        return f"write it as {suggestion}: numbers take no thousands separators"
    european = re.fullmatch(r"([0-9]{1,3}(?:\.[0-9]{3})*),([0-9]+)", text)
    if european:
        suggestion = european.group(1).replace(".", "") + "." + european.group(2)
        if not _fits(suggestion):
            return f"write {what} with a decimal point, not a comma, and {NUMBER_FORM}"
        return f"write it as {suggestion}: decimals take a point, not a comma"
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,3}", text):
        suggestion = decimal_text(Decimal(text))
        if number_excess(suggestion) is None and Decimal(text) > 0:
            return f"write it as {suggestion}: numbers take no exponent"
        return f"give {what} without an exponent, with {NUMBER_FORM}"
    with_unit = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*[^\W\d_][\w/%-]*", text)
    if with_unit and not _fits(with_unit.group(1)):
        return f"give the number alone, with {NUMBER_FORM}; the unit is given separately"
    if with_unit:
        return f"give the number alone, {with_unit.group(1)}; the unit is given separately"
    return plain


def normalise_decimal(value: str, what: str) -> str:
    """Return the canonical decimal string of a positive number given by the user.

    Within the bound of format v1 (:data:`NUMBER_FORM`); every digit given is kept
    (arithmetic on them is exact, see :data:`EXACT`).

    Raises:
        UsageError: the value is not a plain positive decimal number (the hint shows the
            accepted form of ``1,500`` or ``2,5``), or it has more digits before or after
            the point than the bound (the hint shows the accepted form).
    """
    text = value.strip()
    if re.fullmatch(r"-[0-9.]+", text) and re.search(r"[1-9]", text):
        raise UsageError(
            f"{what} must be greater than zero, not {value!r}", hint=f"give a positive {what}"
        )
    if not _NUMBER_RE.fullmatch(text):
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise UsageError(f"{what} {shown!r} is not a number", hint=_number_hint(text, what))
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above excludes it
        raise UsageError(f"{what} {value!r} is not a number") from None
    if number <= 0:
        raise UsageError(
            f"{what} must be greater than zero, not {value!r}",
            hint=f"give a positive {what}",
        )
    canonical = decimal_text(number)
    excess = number_excess(canonical)
    if excess is not None:
        raise UsageError(excess_message(what, excess), hint=_bound_hint(number, what, excess))
    return canonical


def _bound_hint(number: Decimal, what: str, excess: tuple[str, int]) -> str:
    """The hint for a number beyond the bound: the accepted form, rounded when it can be."""
    if excess[0] == "after":
        rounded = number.quantize(Decimal(1).scaleb(-MAX_FRACTION_DIGITS), context=EXACT_ROUND)
        if rounded > 0 and number_excess(decimal_text(rounded)) is None:
            return (
                f"write it as {decimal_text(rounded)} (rounded to {MAX_FRACTION_DIGITS} "
                f"decimals), or give {what} in a smaller unit"
            )
        return f"give {what} in a smaller unit: numbers take {NUMBER_FORM}"
    return f"give {what} in a larger unit (thousands, millions): numbers take {NUMBER_FORM}"


def _date_suggestions(text: str) -> list[str]:
    readings: list[tuple[str, str, str]] = []
    year_first = re.fullmatch(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})", text)
    if year_first:
        readings.append(year_first.groups())  # type: ignore[arg-type]
    year_last = re.fullmatch(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})", text)
    if year_last:
        first, second, year = year_last.groups()
        readings += [(year, second, first), (year, first, second)]  # day first, month first
    found: list[str] = []
    for year, month, day in readings:
        try:
            iso = date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            continue
        if iso not in found:
            found.append(iso)
    return found


def normalise_date(value: str, what: str = "date") -> str:
    """Return ``value`` if it is a real calendar date written ``YYYY-MM-DD``.

    Raises:
        UsageError: the value is not such a date (the hint shows ``01/06/2026`` as
            ``2026-06-01``, and the month-first reading too when both are dates).
    """
    if DATE_RE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    hint = "write dates as YYYY-MM-DD"
    found = _date_suggestions(value.strip())
    if len(found) == 1:
        hint += f": {found[0]}"
    elif len(found) == 2:
        hint += f": {found[0]} (day first) or {found[1]} (month first)"
    raise UsageError(f"{what} {value!r} is not a date", hint=hint)


def normalise_unit(value: str) -> str:
    """Return ``value``, as typed, if it is a valid unit name (see :func:`is_unit`).

    Raises:
        UsageError: it is not.
    """
    if not is_unit(value):
        rule = "1-32 letters, digits, currency symbols, -, _, % or /, without spaces"
        suggestion = re.sub(r"\s+", "-", value.strip())
        raise UsageError(
            f"unit {value!r} is not valid",
            hint=f"write it as {suggestion} ({rule})"
            if suggestion != value and is_unit(suggestion)
            else f"use {rule} (hours, EUR, €, person-days)",
        )
    return value


def check_seq(value: int, what: str) -> int:
    """Return ``value`` if it is a seq (a whole number from 1 to 2^53 - 1).

    Raises:
        UsageError: it is not.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{what} {value!r} is not a seq", hint="seqs are whole numbers from 1")
    if value > MAX_INT:
        raise UsageError(
            f"{what} {value!r} is not a seq", hint=f"seqs are whole numbers from 1 to {MAX_INT}"
        )
    return value


def check_public_key(line: str) -> str:
    """Return ``line`` if it is a usable OpenSSH Ed25519 public key line.

    Raises:
        UsageError: it is not, or it is a weak key (small order, not canonically encoded).
    """
    try:
        parse_public_key_line(line)
    except LedgerError as exc:
        raise UsageError(
            f"the new key is not usable: {exc.message}",
            hint=exc.hint or "give an OpenSSH Ed25519 public key line (ssh-ed25519 AAAA...)",
        ) from None
    return line


def optional_text(value: str, what: str) -> str:
    """Return ``value`` if it is UTF-8 text within the length limit (it may be empty).

    Raises:
        UsageError: it is too long, or holds bytes that are not UTF-8 (passed through as
            lone surrogates).
    """
    if len(value) > MAX_TEXT:
        raise UsageError(
            f"the {what} has {len(value)} characters, more than the {MAX_TEXT} accord records",
            hint=f"shorten the {what}",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"the {what} is not valid UTF-8 text",
            hint="check the encoding of your terminal or file: accord records UTF-8 text",
        ) from None
    return value


def required_text(value: str, what: str) -> str:
    """Return ``value`` if it is non-blank UTF-8 text within the length limit.

    Raises:
        UsageError: it is blank, too long or not UTF-8.
    """
    if not value or not value.strip():
        raise UsageError(f"the {what} must not be empty", hint=f"give a {what}")
    return optional_text(value, what)


def check_policy(value: str, what: str, *, allow_any: bool) -> None:
    """Check an approval or close policy given by the user.

    Raises:
        UsageError: it is not all, any (approval only) or a number from 1 to 9999 written
            in ASCII digits.
    """
    if value == "all" or (allow_any and value == "any") or POLICY_RE.fullmatch(value):
        return
    allowed = "all, any or a number" if allow_any else "all or a number"
    raise UsageError(f"{what} policy {value!r} is not valid", hint=f"use {allowed} from 1 to 9999")


def check_member_count(count: int) -> None:
    """Check the number of members a proposal would list, the proposer included.

    Raises:
        UsageError: more than :data:`MAX_MEMBERS`.
    """
    if count > MAX_MEMBERS:
        raise UsageError(
            f"the project proposal would list {count} members, more than the {MAX_MEMBERS} "
            "a project may have",
            hint=MEMBERS_HINT,
        )
