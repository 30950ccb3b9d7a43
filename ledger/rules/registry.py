"""Every entry type of format v1: the rule families, each declaring its own types.

Importing this module imports every family, so :data:`TYPES` is complete; read the table
from here (``ledger/rules/types.py`` holds the record and the table being filled).
"""

from __future__ import annotations

from ledger.rules import (
    approvals,
    disputes,
    membership,
    pledges,
    signers,
    statements,
    types,
    values,
)
from ledger.rules.types import EntryType

FAMILIES = (membership, signers, pledges, approvals, statements, values, disputes)

# Every declared type, in format v1's order (docs/format.md, ``accord trail --type``).
TYPES: dict[str, EntryType] = {
    t.kind: t for t in sorted(types.TYPES.values(), key=lambda t: t.position)
}

__all__ = ["FAMILIES", "TYPES", "EntryType"]
