"""Drafts and reviews: the write path builds an entry without signing it (a confirmation step).

``Ledger.draft`` runs a write method to the entry it would sign and stops before the key and
the store; ``Ledger.reviewed`` lets a caller refuse the entry a write built before it is
signed. ``accord web`` builds its confirmation pages on both.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import (
    AlreadyDecidedError,
    ConflictError,
    NotFoundError,
    RuleViolationError,
    UsageError,
)
from ledger.keys import Signer
from ledger.rules import ProjectState
from tests.unit.test_application import DUE, SLUG, deliver, hashes, pledge, start


def add_pledge(ledger: Ledger, signer: Signer, title: str = "Campaign video") -> Any:
    return ledger.add_pledge(
        SLUG, title=title, weight="30", unit="hours", due=DUE, beneficiaries=None, signer=signer
    )


def test_a_draft_is_the_unsigned_entry_the_write_would_sign_and_records_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    before = hashes(memory_ledger)

    draft = memory_ledger.draft(lambda: add_pledge(memory_ledger, signers["acme"]))

    assert hashes(memory_ledger) == before
    assert draft.state.seq == 3
    assert draft.state.head == before[-1]
    entry = draft.entry
    assert sorted(entry) == ["at", "body", "by", "key", "prev", "project", "seq", "type", "v"]
    assert (entry["project"], entry["seq"], entry["prev"], entry["type"], entry["by"]) == (
        SLUG,
        4,
        before[-1],
        "pledge.made",
        "acme",
    )
    assert entry["key"] == signers["acme"].fingerprint
    assert entry["body"]["title"] == "Campaign video"
    assert entry["body"]["weight"] == "30"

    receipt = add_pledge(memory_ledger, signers["acme"])
    signed = list(memory_ledger.read_entries(SLUG))[-1].entry
    assert receipt.seq == 4
    assert signed.body == entry["body"]
    assert {k: v for k, v in signed.data.items() if k not in ("at", "sig")} == {
        k: v for k, v in entry.items() if k != "at"
    }


def test_a_draft_of_a_refused_write_raises_what_the_write_raises(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    before = hashes(memory_ledger)
    with pytest.raises(UsageError) as info:
        memory_ledger.draft(lambda: add_pledge(memory_ledger, signers["acme"], title=""))
    assert "title" in info.value.message
    with pytest.raises(RuleViolationError):
        memory_ledger.draft(
            lambda: memory_ledger.approve(SLUG, 3, comment="", signer=signers["acme"])
        )
    assert hashes(memory_ledger) == before


def test_a_draft_meets_every_rule_the_signed_entry_would_meet(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    """The body builders leave some checks to the rules: a draft runs those too."""
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])
    deliver_seq = deliver(memory_ledger, signers["acme"], 4, None).seq
    memory_ledger.approve(SLUG, deliver_seq, comment="", signer=signers["burgerco"])
    before = hashes(memory_ledger)
    with pytest.raises(NotFoundError) as missing:
        memory_ledger.draft(
            lambda: memory_ledger.approve(SLUG, 99, comment="", signer=signers["acme"])
        )
    assert missing.value.message == f"no entry at seq 99 in project {SLUG!r}"
    with pytest.raises(RuleViolationError) as join:
        memory_ledger.draft(
            lambda: memory_ledger.approve(SLUG, 3, comment="", signer=signers["acme"])
        )
    assert join.value.message.startswith("seq 3 is a join, not a deliverable")
    with pytest.raises(AlreadyDecidedError):
        memory_ledger.draft(
            lambda: memory_ledger.approve(SLUG, deliver_seq, comment="", signer=signers["burgerco"])
        )
    draft = memory_ledger.draft(
        lambda: memory_ledger.approve(SLUG, deliver_seq, comment="ok", signer=signers["veggie"])
    )
    assert draft.entry["type"] == "approval.given"
    assert draft.state.seq == len(before)  # the state the draft was checked on is unchanged
    assert hashes(memory_ledger) == before


def test_a_draft_of_a_call_that_writes_nothing_is_a_conflict(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    with pytest.raises(ConflictError) as info:
        memory_ledger.draft(lambda: None)
    assert info.value.message == "nothing was built to sign"


def test_a_review_that_refuses_stops_the_write_before_it_is_signed(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    before = hashes(memory_ledger)
    seen: list[dict[str, Any]] = []

    def refuse(entry: dict[str, Any], state: ProjectState) -> None:
        seen.append(entry)
        raise ConflictError("not what was reviewed", hint="review again")

    with memory_ledger.reviewed(refuse), pytest.raises(ConflictError) as info:
        add_pledge(memory_ledger, signers["acme"])
    assert info.value.message == "not what was reviewed"
    assert hashes(memory_ledger) == before
    assert len(seen) == 1 and "sig" not in seen[0]


def test_a_review_that_passes_sees_exactly_what_is_signed_and_ends_with_its_block(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    seen: list[dict[str, Any]] = []

    def accept(entry: dict[str, Any], state: ProjectState) -> None:
        assert state.seq == entry["seq"] - 1
        seen.append(dict(entry))

    with memory_ledger.reviewed(accept):
        receipt = pledge(memory_ledger, signers["acme"])
    signed = list(memory_ledger.read_entries(SLUG))[-1].entry
    assert receipt.seq == signed.seq == 4
    assert seen == [{k: v for k, v in signed.data.items() if k != "sig"}]

    pledge(memory_ledger, signers["burgerco"])  # outside the block: not reviewed
    assert len(seen) == 1
