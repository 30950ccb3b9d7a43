"""Field formats and body schemas of entry format v1.

Every value in an entry is a string, an integer, a list, an object or null; there are no
floats. Quantities are canonical decimal strings, dates ``YYYY-MM-DD``, times RFC 3339 UTC
with ``Z``. ``check_entry`` enforces the envelope and the body of each type exactly: a
missing key, an extra key or a value of the wrong shape is refused.
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
from ledger.errors import LedgerError, RuleViolationError, UsageError, VerificationError

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
# The fields of an entry body that hold numbers, by entry type (path of keys to the field).
NUMBER_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "pledge.made": (("weight",),),
    "pledge.amended": (("changes", "weight"),),
    "deliverable.submitted": (("quantity",),),
    "value.proposed": (("worth",),),
}


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


def _excess_message(what: str, excess: tuple[str, int]) -> str:
    where, count = excess
    limit = MAX_WHOLE_DIGITS if where == "before" else MAX_FRACTION_DIGITS
    return f"{what} has {count} digits {where} the point; accord records at most {limit}"


def check_numbers(kind: str, body: dict[str, Any]) -> None:
    """Check every number of an entry body (already of format v1's shape) against the bound.

    A rule of the format that the rules apply to every entry, appended or replayed; the
    arithmetic of the rules and of every projection relies on it.

    Raises:
        RuleViolationError: a weight, quantity or worth has more than
            :data:`MAX_WHOLE_DIGITS` digits before the point or more than
            :data:`MAX_FRACTION_DIGITS` after it.
    """
    for path in NUMBER_FIELDS.get(kind, ()):
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str):
            continue
        excess = number_excess(value)
        if excess is not None:
            what = f"the {path[-1]} of {ENTRY_NOUNS.get(kind, 'an entry')}"
            raise RuleViolationError(
                _excess_message(what, excess),
                hint=f"numbers in entries have {NUMBER_FORM} (docs/format.md, Numbers)",
            )


# An English noun, with its article, for each entry type (for messages).
ENTRY_NOUNS = {
    "project.proposed": "the project proposal",
    "member.joined": "a join",
    "member.declined": "a declined invitation",
    "key.rotated": "a key rotation",
    "key.revoked": "a key revocation",
    "signer.added": "an added signer",
    "signer.removed": "a removed signer",
    "pledge.made": "a pledge",
    "pledge.amended": "an amendment",
    "pledge.withdrawn": "a withdrawal",
    "deliverable.submitted": "a deliverable",
    "approval.given": "an approval",
    "approval.refused": "a rejection",
    "statement.proposed": "a statement",
    "statement.signed": "a statement signature",
    "statement.revised": "a statement revision",
    "close.signed": "a close signature",
    "value.proposed": "a value proposal",
    "pledge.closed-short": "a close-short proposal",
    "dispute.opened": "a dispute",
    "resolution.signed": "a dispute resolution",
    "project.cancelled": "a cancellation",
}

ENVELOPE_KEYS = frozenset({"v", "project", "seq", "prev", "type", "by", "key", "at", "body"})


# --- user-facing normalisation (raises UsageError: exit code "usage") -------------------


def entry_noun(kind: str) -> str:
    """An English noun with its article for an entry type, for messages ("an approval").

    Also names the verifier's placeholders for rows it could not apply ("a damaged entry",
    "a refused deliverable").
    """
    if kind in ENTRY_NOUNS:
        return ENTRY_NOUNS[kind]
    if kind.startswith("refused "):
        noun = ENTRY_NOUNS.get(kind.removeprefix("refused "))
        return f"a refused {noun.split(' ', 1)[1]}" if noun else "a refused entry"
    if kind == "damaged":
        return "a damaged entry"
    return "an entry of an unknown type"


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
        raise UsageError(_excess_message(what, excess), hint=_bound_hint(number, what, excess))
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


# --- stored-entry checks (raise VerificationError: exit code "verification") -------------


def _fail(message: str, seq: int | None) -> VerificationError:
    return VerificationError(message, seq=seq)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT


def _text(required: bool = True) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            return False
        return bool(value.strip()) or not required

    return check


def _seq_ref(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _decimal(value: Any) -> bool:
    return isinstance(value, str) and bool(DECIMAL_RE.match(value)) and Decimal(value) > 0


def _date(value: Any) -> bool:
    try:
        return isinstance(value, str) and normalise_date(value) == value
    except UsageError:
        return False


def _hash(value: Any) -> bool:
    return isinstance(value, str) and bool(HASH_RE.match(value))


def _handle(value: Any) -> bool:
    return isinstance(value, str) and bool(HANDLE_RE.match(value))


def _public_key(value: Any) -> bool:
    return isinstance(value, str) and bool(PUBLIC_KEY_RE.match(value))


def _public_key_or_null(value: Any) -> bool:
    return value is None or _public_key(value)


def _policy(allow_any: bool) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if value == "all" or (allow_any and value == "any"):
            return True
        return isinstance(value, str) and bool(re.fullmatch(r"[1-9][0-9]{0,3}", value))

    return check


def _handles(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(_handle(item) for item in value)
        and value == sorted(set(value))
    )


def _members(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        if not isinstance(item, dict) or set(item) not in ({"handle", "key"}, MEMBER_KEYS):
            return False
        if not _handle(item["handle"]):
            return False
        if item["key"] is not None and not _fingerprint(item["key"]):
            return False
        # An invite protects an unpinned seat: a fingerprint only where the key is null.
        invite = item.get("invite")
        if invite is not None and (item["key"] is not None or not _fingerprint(invite)):
            return False
    handles = [item["handle"] for item in value]
    return handles == sorted(set(handles))


MEMBER_KEYS = frozenset({"handle", "key", "invite"})
OUTCOMES = ("upheld", "dismissed")  # of a dispute resolution
SIGNATURE_RE = re.compile(r"^[A-Za-z0-9+/]{86}==\Z")


def _fingerprint(value: Any) -> bool:
    return isinstance(value, str) and bool(FINGERPRINT_RE.match(value))


def _invite_proof(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"public_key", "signature"}
        and _public_key(value["public_key"])
        and isinstance(value["signature"], str)
        and bool(SIGNATURE_RE.match(value["signature"]))
    )


def _evidence(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "sha256", "size"}:
            return False
        if not _text()(item["name"]) or "/" in item["name"] or not _hash(item["sha256"]):
            return False
        if not _is_int(item["size"]):
            return False
    return True


def _changes(value: Any) -> bool:
    if not isinstance(value, dict) or not value or not set(value) <= {"title", "weight", "due"}:
        return False
    checks = {"title": _text(), "weight": _decimal, "due": _date}
    return all(checks[name](item) for name, item in value.items())


BODY_SCHEMAS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "project.proposed": {
        "title": _text(),
        "purpose": _text(required=False),
        "members": _members,
        "approval": _policy(allow_any=True),
        "close": _policy(allow_any=False),
        "public_key": _public_key,
    },
    "member.joined": {"terms": _hash, "public_key": _public_key},
    "member.declined": {"terms": _hash, "public_key": _public_key, "reason": _text()},
    "key.rotated": {"public_key": _public_key},
    "key.revoked": {
        "fingerprint": lambda v: isinstance(v, str) and bool(FINGERPRINT_RE.match(v)),
        "reason": _text(),
        "replacement": _public_key_or_null,
    },
    "signer.added": {"label": _handle, "public_key": _public_key},
    "signer.removed": {"label": _handle, "reason": _text()},
    "pledge.made": {
        "title": _text(),
        "weight": _decimal,
        "unit": is_unit,
        "due": _date,
        "beneficiaries": lambda v: _handles(v) and bool(v),
    },
    "pledge.amended": {"pledge": _seq_ref, "changes": _changes, "reason": _text()},
    "pledge.withdrawn": {"pledge": _seq_ref, "reason": _text()},
    "deliverable.submitted": {
        "pledge": _seq_ref,
        "summary": _text(),
        "quantity": _decimal,
        "evidence": _evidence,
    },
    "approval.given": {"target": _seq_ref, "target_hash": _hash, "comment": _text(False)},
    "approval.refused": {"target": _seq_ref, "target_hash": _hash, "reason": _text()},
    "statement.proposed": {"title": _text(), "text": _text()},
    "statement.signed": {"statement": _seq_ref, "version": _seq_ref, "text_hash": _hash},
    "statement.revised": {"statement": _seq_ref, "text": _text(), "reason": _text()},
    "close.signed": {"head": _hash, "head_seq": _seq_ref},
    "value.proposed": {"unit": is_unit, "worth": _decimal, "in": is_unit, "reason": _text()},
    "pledge.closed-short": {"pledge": _seq_ref, "reason": _text()},
    "dispute.opened": {"target": _seq_ref, "deliverable": _seq_ref, "reason": _text()},
    "resolution.signed": {
        "dispute": _seq_ref,
        "outcome": lambda v: v in OUTCOMES,
        "reason": _text(),
    },
    "project.cancelled": {"reason": _text()},
}

ENTRY_TYPES = tuple(BODY_SCHEMAS)

# Keys a body may carry or leave out; an entry without them keeps its earlier meaning.
OPTIONAL_BODY_KEYS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "member.joined": {"invite_proof": _invite_proof},
    "member.declined": {"invite_proof": _invite_proof},
}


def check_entry(data: dict[str, Any]) -> None:
    """Check the envelope and the body of a parsed entry against format v1.

    Raises:
        VerificationError: a key is missing or extra, or a value has the wrong shape.
    """
    seq = data.get("seq") if _is_int(data.get("seq")) else None
    if set(data) != ENVELOPE_KEYS:
        missing = sorted(ENVELOPE_KEYS - set(data))
        extra = sorted(set(data) - ENVELOPE_KEYS)
        raise _fail(f"entry envelope is malformed (missing {missing}, extra {extra})", seq)
    envelope_checks: dict[str, Callable[[Any], bool]] = {
        "v": lambda v: type(v) is int and v == VERSION,
        "project": lambda v: isinstance(v, str) and bool(SLUG_RE.match(v)),
        "seq": _seq_ref,
        "prev": _hash,
        "type": lambda v: v in BODY_SCHEMAS,
        "by": _handle,
        "key": lambda v: isinstance(v, str) and bool(FINGERPRINT_RE.match(v)),
        "at": lambda v: isinstance(v, str) and bool(TIME_RE.match(v)) and _valid_time(v),
        "body": lambda v: isinstance(v, dict),
    }
    for name, check in envelope_checks.items():
        if not check(data[name]):
            raise _fail(f"entry field {name!r} is malformed", seq)
    schema = BODY_SCHEMAS[data["type"]]
    optional = OPTIONAL_BODY_KEYS.get(data["type"], {})
    body = data["body"]
    if not set(schema) <= set(body) <= set(schema) | set(optional):
        missing = sorted(set(schema) - set(body))
        extra = sorted(set(body) - set(schema) - set(optional))
        raise _fail(f"{data['type']} body is malformed (missing {missing}, extra {extra})", seq)
    for name, check in (*schema.items(), *optional.items()):
        if name in body and not check(body[name]):
            raise _fail(f"{data['type']} body field {name!r} is malformed", seq)


def _valid_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value[:-1])  # the pattern already fixed the shape
    except ValueError:
        return False
    return True


# --- bounds (raise RuleViolationError: an entry within them is what any party can hold) -----

# The list in each body that grows with what its signer chose: its key, how long it may be,
# what its items are called, and the hint of a refusal.
LIST_BOUNDS: dict[str, tuple[str, int, str, str]] = {
    "project.proposed": (
        "members",
        MAX_MEMBERS,
        "members",
        f"a project has at most {MAX_MEMBERS} members, the proposer included: "
        "propose a smaller collaboration",
    ),
    "pledge.made": (
        "beneficiaries",
        MAX_MEMBERS - 1,
        "beneficiaries",
        f"a pledge's beneficiaries are the other members, at most {MAX_MEMBERS - 1}",
    ),
    "deliverable.submitted": (
        "evidence",
        MAX_EVIDENCE,
        "evidence files",
        f"a deliverable records at most {MAX_EVIDENCE} evidence files: put the files in "
        "an archive and give that",
    ),
}
ENTRY_SIZE_HINT = (
    f"shorten its texts: an entry holds at most {MAX_ENTRY_BYTES >> 10} KiB of canonical JSON "
    "(UTF-8, where a character outside ASCII takes 2 to 4 bytes)"
)


def text_size(text: str) -> int:
    """The length in bytes of ``text`` in UTF-8 (the size of an entry's canonical JSON)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def check_bounds(data: dict[str, Any], size: int) -> None:
    """Check an entry against the bounds of format v1: its size and its lists.

    ``size`` is the length in bytes of the entry's canonical JSON, the text that is signed
    (:func:`text_size`). The bounds are :data:`MAX_ENTRY_BYTES` and :data:`LIST_BOUNDS`.

    Raises:
        RuleViolationError: the entry is larger than :data:`MAX_ENTRY_BYTES`, or a list in
            its body is longer than its bound.
    """
    kind = data.get("type")
    noun = entry_noun(kind).split(" ", 1)[1] if isinstance(kind, str) else "entry"
    seq = data.get("seq") if _is_int(data.get("seq")) else None
    if size > MAX_ENTRY_BYTES:
        raise RuleViolationError(
            f"the {noun} takes {size:,} bytes, more than the {MAX_ENTRY_BYTES:,} bytes an "
            "entry may hold",
            seq=seq,
            hint=ENTRY_SIZE_HINT,
        )
    bound = LIST_BOUNDS.get(kind) if isinstance(kind, str) else None
    body = data.get("body")
    if bound is not None and isinstance(body, dict):
        name, most, word, hint = bound
        items = body.get(name)
        if isinstance(items, list) and len(items) > most:
            raise RuleViolationError(
                f"the {noun} lists {len(items)} {word}, more than the {most} it may list",
                seq=seq,
                hint=hint,
            )


def check_member_count(count: int) -> None:
    """Check the number of members a proposal would list, the proposer included.

    Raises:
        UsageError: more than :data:`MAX_MEMBERS`.
    """
    if count > MAX_MEMBERS:
        raise UsageError(
            f"the project proposal would list {count} members, more than the {MAX_MEMBERS} "
            "a project may have",
            hint=LIST_BOUNDS["project.proposed"][3],
        )
