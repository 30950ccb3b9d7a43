"""The exact shape and the bounds of an entry, by its type's declaration (``types.py``).

``check_entry`` enforces the envelope and the body of each type exactly: a missing key, an
extra key or a value of the wrong shape is refused. ``check_bounds`` and ``check_numbers``
are the bounds of format v1 (docs/format.md "Bounds", "Numbers") that the rules apply to every
entry. The tables at the end are read-only views of the declarations, by type.
"""

from __future__ import annotations

from typing import Any

from ledger import format as fmt
from ledger import numbers
from ledger.errors import RuleViolationError, VerificationError
from ledger.rules.registry import TYPES
from ledger.rules.types import Check, ListBound, entry_noun


def check_entry(data: dict[str, Any]) -> None:
    """Check the envelope and the body of a parsed entry against format v1.

    Raises:
        VerificationError: a key is missing or extra, or a value has the wrong shape.
    """
    seq = data.get("seq") if fmt.is_int(data.get("seq")) else None
    if set(data) != fmt.ENVELOPE_KEYS:
        missing = sorted(fmt.ENVELOPE_KEYS - set(data))
        extra = sorted(set(data) - fmt.ENVELOPE_KEYS)
        raise VerificationError(
            f"entry envelope is malformed (missing {missing}, extra {extra})", seq=seq
        )
    envelope_checks: dict[str, Check] = {
        "v": lambda v: type(v) is int and v == fmt.VERSION,
        "project": lambda v: isinstance(v, str) and bool(fmt.SLUG_RE.match(v)),
        "seq": fmt.is_seq,
        "prev": fmt.is_hash,
        "type": lambda v: v in TYPES,
        "by": fmt.is_handle,
        "key": fmt.is_fingerprint,
        "at": lambda v: isinstance(v, str) and bool(fmt.TIME_RE.match(v)) and fmt.is_time(v),
        "body": lambda v: isinstance(v, dict),
    }
    for name, check in envelope_checks.items():
        if not check(data[name]):
            raise VerificationError(f"entry field {name!r} is malformed", seq=seq)
    declared = TYPES[data["type"]]
    schema, optional = declared.schema, declared.optional
    body = data["body"]
    if not set(schema) <= set(body) <= set(schema) | set(optional):
        missing = sorted(set(schema) - set(body))
        extra = sorted(set(body) - set(schema) - set(optional))
        raise VerificationError(
            f"{data['type']} body is malformed (missing {missing}, extra {extra})", seq=seq
        )
    for name, check in (*schema.items(), *optional.items()):
        if name in body and not check(body[name]):
            raise VerificationError(f"{data['type']} body field {name!r} is malformed", seq=seq)


def check_numbers(kind: str, body: dict[str, Any]) -> None:
    """Check every number of an entry body (already of format v1's shape) against the bound.

    A rule of the format that the rules apply to every entry, appended or replayed; the
    arithmetic of the rules and of every projection relies on it.

    Raises:
        RuleViolationError: a weight, quantity or worth has more than
            :data:`~ledger.numbers.MAX_WHOLE_DIGITS` digits before the point or more than
            :data:`~ledger.numbers.MAX_FRACTION_DIGITS` after it.
    """
    declared = TYPES.get(kind)
    for path in declared.numbers if declared is not None else ():
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str):
            continue
        excess = numbers.number_excess(value)
        if excess is not None:
            what = f"the {path[-1]} of {entry_noun(kind)}"
            raise RuleViolationError(
                numbers.excess_message(what, excess),
                hint=f"numbers in entries have {numbers.NUMBER_FORM} (docs/format.md, Numbers)",
            )


def check_bounds(data: dict[str, Any], size: int) -> None:
    """Check an entry against the bounds of format v1: its size and its lists.

    ``size`` is the length in bytes of the entry's canonical JSON, the text that is signed
    (:func:`ledger.format.text_size`). The bounds are :data:`ledger.format.MAX_ENTRY_BYTES`
    and each type's ``list_bound``.

    Raises:
        RuleViolationError: the entry is larger than an entry may be, or a list in its body
            is longer than its bound.
    """
    kind = data.get("type")
    noun = entry_noun(kind).split(" ", 1)[1] if isinstance(kind, str) else "entry"
    seq = data.get("seq") if fmt.is_int(data.get("seq")) else None
    if size > fmt.MAX_ENTRY_BYTES:
        raise RuleViolationError(
            f"the {noun} takes {size:,} bytes, more than the {fmt.MAX_ENTRY_BYTES:,} bytes an "
            "entry may hold",
            seq=seq,
            hint=fmt.ENTRY_SIZE_HINT,
        )
    declared = TYPES.get(kind) if isinstance(kind, str) else None
    bound = declared.list_bound if declared is not None else None
    body = data.get("body")
    if bound is not None and isinstance(body, dict):
        items = body.get(bound.key)
        if isinstance(items, list) and len(items) > bound.most:
            raise RuleViolationError(
                f"the {noun} lists {len(items)} {bound.word}, more than the {bound.most} it "
                "may list",
                seq=seq,
                hint=bound.hint,
            )


# Read-only views of the declarations, by type (for tests and documentation).
ENTRY_TYPES = tuple(TYPES)
ENTRY_NOUNS = {kind: t.noun for kind, t in TYPES.items()}
BODY_SCHEMAS = {kind: dict(t.schema) for kind, t in TYPES.items()}
OPTIONAL_BODY_KEYS = {kind: dict(t.optional) for kind, t in TYPES.items() if t.optional}
NUMBER_FIELDS = {kind: t.numbers for kind, t in TYPES.items() if t.numbers}
LIST_BOUNDS: dict[str, ListBound] = {
    kind: t.list_bound for kind, t in TYPES.items() if t.list_bound is not None
}
