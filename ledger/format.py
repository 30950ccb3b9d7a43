"""Field formats and body schemas of entry format v1.

Every value in an entry is a string, an integer, a list, an object or null; there are no
floats. Quantities are canonical decimal strings, dates ``YYYY-MM-DD``, times RFC 3339 UTC
with ``Z``. ``check_entry`` enforces the envelope and the body of each type exactly: a
missing key, an extra key or a value of the wrong shape is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.entry import parse_public_key_line
from ledger.errors import LedgerError, UsageError, VerificationError

VERSION = 1
HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
FINGERPRINT_RE = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
PUBLIC_KEY_RE = re.compile(r"^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$")
DECIMAL_RE = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
UNIT_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_TEXT = 100_000
MAX_INT = 2**53 - 1

ENVELOPE_KEYS = frozenset({"v", "project", "seq", "prev", "type", "by", "key", "at", "body"})


# --- user-facing normalisation (raises UsageError: exit code "usage") -------------------


def normalise_handle(value: str, what: str = "handle") -> str:
    """Return ``value`` if it is a valid party handle.

    Raises:
        UsageError: the handle has characters other than a-z, 0-9 and inner hyphens.
    """
    if not HANDLE_RE.match(value):
        raise UsageError(
            f"{what} {value!r} is not valid",
            hint="use 1-32 characters: lower-case letters, digits and inner hyphens (acme-corp)",
        )
    return value


def normalise_slug(value: str) -> str:
    """Return ``value`` if it is a valid project slug.

    Raises:
        UsageError: the slug is not 1-64 lower-case letters, digits and inner hyphens.
    """
    if not SLUG_RE.match(value):
        raise UsageError(
            f"project slug {value!r} is not valid",
            hint="use 1-64 characters: lower-case letters, digits and inner hyphens "
            "(no-whopper-day)",
        )
    return value


def normalise_decimal(value: str, what: str) -> str:
    """Return the canonical decimal string of a positive number given by the user.

    Raises:
        UsageError: the value is not a plain positive decimal number.
    """
    text = value.strip()
    if re.fullmatch(r"-[0-9.]+", text) and re.search(r"[1-9]", text):
        raise UsageError(
            f"{what} must be greater than zero, not {value!r}", hint=f"give a positive {what}"
        )
    if len(text) > 40 or not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", text):
        raise UsageError(
            f"{what} {value!r} is not a number",
            hint=f"give {what} as a plain decimal number such as 12 or 2.5",
        )
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above excludes it
        raise UsageError(f"{what} {value!r} is not a number") from None
    if number <= 0:
        raise UsageError(
            f"{what} must be greater than zero, not {value!r}",
            hint=f"give a positive {what}",
        )
    return decimal_text(number)


def decimal_text(number: Decimal) -> str:
    """Return the canonical text of a non-negative decimal: no exponent, no trailing zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def normalise_date(value: str, what: str = "date") -> str:
    """Return ``value`` if it is a real calendar date written ``YYYY-MM-DD``.

    Raises:
        UsageError: the value is not such a date.
    """
    if DATE_RE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise UsageError(f"{what} {value!r} is not a date", hint="write dates as YYYY-MM-DD")


def normalise_unit(value: str) -> str:
    """Return ``value`` if it is a valid unit name.

    Raises:
        UsageError: the unit is not a short lower-case word.
    """
    if not UNIT_RE.match(value):
        raise UsageError(
            f"unit {value!r} is not valid",
            hint="use a short lower-case word such as hours, eur, posts or videos",
        )
    return value


def check_seq(value: int, what: str) -> int:
    """Return ``value`` if it is a seq (a whole number from 1).

    Raises:
        UsageError: it is not.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{what} {value!r} is not a seq", hint="seqs are whole numbers from 1")
    return value


def check_public_key(line: str) -> str:
    """Return ``line`` if it is a usable OpenSSH Ed25519 public key line.

    Raises:
        UsageError: it is not.
    """
    try:
        parse_public_key_line(line)
    except LedgerError as exc:
        raise UsageError(f"the new key is not usable: {exc.message}") from None
    return line


def required_text(value: str, what: str) -> str:
    """Return ``value`` if it is non-blank text within the length limit.

    Raises:
        UsageError: it is blank or too long.
    """
    if not value or not value.strip():
        raise UsageError(f"the {what} must not be empty", hint=f"give a {what}")
    if len(value) > MAX_TEXT:
        raise UsageError(f"the {what} is longer than {MAX_TEXT} characters")
    return value


def check_policy(value: str, what: str, *, allow_any: bool) -> None:
    """Check an approval or close policy given by the user.

    Raises:
        UsageError: it is not all, any (approval only) or a number from 1.
    """
    allowed = "all, any or a number" if allow_any else "all or a number"
    ok = value == "all" or (allow_any and value == "any") or (value.isdigit() and int(value) >= 1)
    if not ok or (value.isdigit() and str(int(value)) != value):
        raise UsageError(f"{what} policy {value!r} is not valid", hint=f"use {allowed}")


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
        if not isinstance(item, dict) or set(item) != {"handle", "key"}:
            return False
        if not _handle(item["handle"]):
            return False
        if item["key"] is not None and not (
            isinstance(item["key"], str) and FINGERPRINT_RE.match(item["key"])
        ):
            return False
    handles = [item["handle"] for item in value]
    return handles == sorted(set(handles))


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
    "pledge.made": {
        "title": _text(),
        "weight": _decimal,
        "unit": lambda v: isinstance(v, str) and bool(UNIT_RE.match(v)),
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
}

ENTRY_TYPES = tuple(BODY_SCHEMAS)


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
    body = data["body"]
    if set(body) != set(schema):
        missing = sorted(set(schema) - set(body))
        extra = sorted(set(body) - set(schema))
        raise _fail(f"{data['type']} body is malformed (missing {missing}, extra {extra})", seq)
    for name, check in schema.items():
        if not check(body[name]):
            raise _fail(f"{data['type']} body field {name!r} is malformed", seq)


def _valid_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value[:-1])  # the pattern already fixed the shape
    except ValueError:
        return False
    return True
