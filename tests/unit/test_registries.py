"""Every layer's table of per-type pieces covers exactly the entry types ledger/rules/ declares."""

from __future__ import annotations

from commands.receipts import SUBJECT_LINES
from ledger.rules import TYPES
from projections.entry_view import VIEWS


def test_every_layer_registry_covers_exactly_the_declared_entry_types() -> None:
    declared = set(TYPES)
    assert set(VIEWS) == declared  # projections: an entry shown in full
    assert set(SUBJECT_LINES) == declared  # commands: a receipt's line
    # A receipt has a line exactly where the ledger describes a subject for it.
    assert {k for k, line in SUBJECT_LINES.items() if line is not None} == {
        k for k, t in TYPES.items() if t.subject is not None
    }


def test_every_declared_entry_type_has_a_body_builder_and_a_unique_position() -> None:
    assert all(t.build is not None for t in TYPES.values())
    assert sorted(t.position for t in TYPES.values()) == list(range(1, len(TYPES) + 1))
