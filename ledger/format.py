"""Field formats of entry format v1.

Every value in an entry is a string, an integer, a list, an object or null; there are no
floats. Quantities are canonical decimal strings, dates ``YYYY-MM-DD``, times RFC 3339 UTC
with ``Z``. The ``is_*`` checks below are the shapes the body schemas are made of; each entry
type declares its schema beside its rules (``ledger/rules/``), and
``ledger.rules.schema.check_entry`` enforces the envelope and the body exactly.

The bound on numbers and exact arithmetic are in :mod:`ledger.numbers`; normalising what
the user types, before anything is signed, is in :mod:`ledger.normalise`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import (
    Decimal,
)
from typing import Any

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
ENVELOPE_KEYS = frozenset({"v", "project", "seq", "prev", "type", "by", "key", "at", "body"})


# --- units and times of format v1 ---------------------------------------------------------


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
    if not (isinstance(value, str) and DATE_RE.fullmatch(value)):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


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
