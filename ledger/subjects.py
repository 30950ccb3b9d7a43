"""What a decision or signature was about, so that its receipt names more than a seq.

Approvals, rejections, deliveries, statement signatures and close signatures address their
subject by seq; a receipt that only echoes the seq lets a mistyped number pass unnoticed.
:func:`subject_of` describes the subject from the project's state right after the entry:
the pledge's title, the party whose work was decided, the quantity and unit, the statement's
title, and where the decision stands. Each entry type's subject is declared beside its rules
(``ledger/rules/``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.rules.registry import TYPES

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


def subject_of(state: ProjectState, item: SignedEntry) -> dict[str, Any] | None:
    """Describe what ``item`` decided or signed (``state``: right after it), or None.

    Only for deliveries, approvals, rejections, statement signatures, close signatures,
    value proposals, added or removed signers, close-short proposals, disputes, dispute
    resolutions and cancellations.
    """
    declared = TYPES.get(item.type)
    if declared is None or declared.subject is None:
        return None
    return declared.subject(state, item)
