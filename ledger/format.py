"""Field formats and body schemas of entry format v1.

Every value in an entry is a string, an integer, a list, an object or null; there are no
floats. Quantities are canonical decimal strings, dates ``YYYY-MM-DD``, times RFC 3339 UTC
with ``Z``. ``check_entry`` enforces the envelope and the body of each type exactly: a
missing key, an extra key or a value of the wrong shape is refused.

The bound on numbers and exact arithmetic are in :mod:`ledger.numbers`; normalising what
the user types, before anything is signed, is in :mod:`ledger.normalise`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledger.errors import RuleViolationError, VerificationError

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


# --- nouns, units and times of format v1 ------------------------------------------------


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
    if not (isinstance(value, str) and DATE_RE.fullmatch(value)):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


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
