"""Field formats of entry format v1.

Every value in an entry is a string, an integer, a list, an object or null; there are no
floats. Quantities are canonical decimal strings, dates ``YYYY-MM-DD``, times RFC 3339 UTC
with ``Z``. The ``is_*`` checks below are the shapes the body schemas are made of; each entry
type declares its schema beside its rules (``ledger/rules/``), and
``ledger.rules.schema.check_entry`` enforces the envelope and the body exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Any

from ledger.entry import parse_public_key_line
from ledger.errors import LedgerError, UsageError

VERSION = 1
HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?\Z")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
HASH_RE = re.compile(r"^[0-9a-f]{64}\Z")
FINGERPRINT_RE = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}\Z")
PUBLIC_KEY_RE = re.compile(r"^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}\Z")
DECIMAL_RE = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?\Z")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
POLICY_RE = re.compile(r"^[1-9][0-9]{0,3}\Z")
MAX_UNIT = 32
UNIT_PUNCTUATION = frozenset("-_%/")
MAX_TEXT = 100_000
MAX_INT = 2**53 - 1
# Bounds of one entry (docs/format.md "Bounds"): what a member can make every party store,
# serve and fold. A statement of MAX_TEXT 4-byte characters (400,000 bytes) fits one entry.
MAX_ENTRY_BYTES = 512 << 10  # bytes of an entry's canonical JSON (the signed text)
MAX_MEMBERS = 64  # members of a project: the seats of its proposal, proposer included
MAX_SIGNERS = 16  # current signers of one party (signer.added beyond it is refused)
MAX_EVIDENCE = 100  # evidence files of one deliverable
# --- numbers: the one bound on every weight, quantity and worth (docs/format.md#numbers) ----
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
    """``the weight of a pledge has 19 digits before the point; accord records at most 18``."""
    where, count = excess
    limit = MAX_WHOLE_DIGITS if where == "before" else MAX_FRACTION_DIGITS
    return f"{what} has {count} digits {where} the point; accord records at most {limit}"


ENVELOPE_KEYS = frozenset({"v", "project", "seq", "prev", "type", "by", "key", "at", "body"})


# --- user-facing normalisation (raises UsageError: exit code "usage") -------------------


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


def is_unit(value: Any) -> bool:
    """True when ``value`` is a unit name as format v1 allows it.

    1-32 characters, no spaces or controls: letters of any script, digits, currency symbols
    (Unicode category Sc) and ``%``, then also combining marks, ``-``, ``_`` and ``/``
    (``hours``, ``EUR``, ``€``, ``person-days``, ``km/h``, ``m²``).
    """
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_UNIT:
        return False
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category[0] == "L" or category in ("Nd", "No", "Sc") or char == "%":
            continue
        if index > 0 and (category[0] == "M" or char in UNIT_PUNCTUATION):
            continue
        return False
    return True


def unit_key(unit: str) -> str:
    """The spelling-insensitive form of a unit: ``EUR``, ``Eur`` and ``eur`` are one unit."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", unit).casefold())


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


def format_time(moment: datetime) -> str:
    """Return ``moment`` as RFC 3339 UTC with ``Z`` and whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- shapes of stored fields (the body schemas of ledger/rules/ are made of them) ----------


def is_int(value: Any) -> bool:
    """A whole number from 0 to 2^53 - 1 (never a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT


def is_text(required: bool = True) -> Callable[[Any], bool]:
    """A check of text within the length limit (non-blank when ``required``)."""

    def check(value: Any) -> bool:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            return False
        return bool(value.strip()) or not required

    return check


def is_seq(value: Any) -> bool:
    """A seq: a whole number from 1."""
    return is_int(value) and value >= 1


def is_decimal(value: Any) -> bool:
    """A canonical positive decimal string."""
    return isinstance(value, str) and bool(DECIMAL_RE.match(value)) and Decimal(value) > 0


def is_date(value: Any) -> bool:
    """A real calendar date written ``YYYY-MM-DD``."""
    try:
        return isinstance(value, str) and normalise_date(value) == value
    except UsageError:
        return False


def is_hash(value: Any) -> bool:
    """A SHA-256 in lower-case hex."""
    return isinstance(value, str) and bool(HASH_RE.match(value))


def is_handle(value: Any) -> bool:
    """A party handle (or a signer label)."""
    return isinstance(value, str) and bool(HANDLE_RE.match(value))


def is_public_key(value: Any) -> bool:
    """An OpenSSH Ed25519 public key line."""
    return isinstance(value, str) and bool(PUBLIC_KEY_RE.match(value))


def is_public_key_or_null(value: Any) -> bool:
    """A public key line or null."""
    return value is None or is_public_key(value)


def is_policy(allow_any: bool) -> Callable[[Any], bool]:
    """A check of an approval (``allow_any``) or close policy."""

    def check(value: Any) -> bool:
        if value == "all" or (allow_any and value == "any"):
            return True
        return isinstance(value, str) and bool(re.fullmatch(r"[1-9][0-9]{0,3}", value))

    return check


def is_handles(value: Any) -> bool:
    """A sorted list of distinct handles."""
    return (
        isinstance(value, list)
        and all(is_handle(item) for item in value)
        and value == sorted(set(value))
    )


def is_members(value: Any) -> bool:
    """A proposal's seats: sorted, distinct, each pinned, invited or open."""
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        if not isinstance(item, dict) or set(item) not in ({"handle", "key"}, MEMBER_KEYS):
            return False
        if not is_handle(item["handle"]):
            return False
        if item["key"] is not None and not is_fingerprint(item["key"]):
            return False
        # An invite protects an unpinned seat: a fingerprint only where the key is null.
        invite = item.get("invite")
        if invite is not None and (item["key"] is not None or not is_fingerprint(invite)):
            return False
    handles = [item["handle"] for item in value]
    return handles == sorted(set(handles))


MEMBER_KEYS = frozenset({"handle", "key", "invite"})
OUTCOMES = ("upheld", "dismissed")  # of a dispute resolution
SIGNATURE_RE = re.compile(r"^[A-Za-z0-9+/]{86}==\Z")


def is_fingerprint(value: Any) -> bool:
    """An OpenSSH SHA256 key fingerprint."""
    return isinstance(value, str) and bool(FINGERPRINT_RE.match(value))


def is_invite_proof(value: Any) -> bool:
    """An invite proof's shape: the invite key and its signature."""
    return (
        isinstance(value, dict)
        and set(value) == {"public_key", "signature"}
        and is_public_key(value["public_key"])
        and isinstance(value["signature"], str)
        and bool(SIGNATURE_RE.match(value["signature"]))
    )


def is_evidence(value: Any) -> bool:
    """A deliverable's evidence files: name, SHA-256 and size each."""
    if not isinstance(value, list):
        return False
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "sha256", "size"}:
            return False
        if not is_text()(item["name"]) or "/" in item["name"] or not is_hash(item["sha256"]):
            return False
        if not is_int(item["size"]):
            return False
    return True


def is_changes(value: Any) -> bool:
    """An amendment's changes: some of title, weight and due."""
    if not isinstance(value, dict) or not value or not set(value) <= {"title", "weight", "due"}:
        return False
    checks = {"title": is_text(), "weight": is_decimal, "due": is_date}
    return all(checks[name](item) for name, item in value.items())


def is_time(value: str) -> bool:
    """A real time (the pattern already fixed the shape)."""
    try:
        datetime.fromisoformat(value[:-1])  # the pattern already fixed the shape
    except ValueError:
        return False
    return True


# --- bounds (raise RuleViolationError: an entry within them is what any party can hold) -----

MEMBERS_HINT = (
    f"a project has at most {MAX_MEMBERS} members, the proposer included: "
    "propose a smaller collaboration"
)
ENTRY_SIZE_HINT = (
    f"shorten its texts: an entry holds at most {MAX_ENTRY_BYTES >> 10} KiB of canonical JSON "
    "(UTF-8, where a character outside ASCII takes 2 to 4 bytes)"
)


def text_size(text: str) -> int:
    """The length in bytes of ``text`` in UTF-8 (the size of an entry's canonical JSON)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


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
