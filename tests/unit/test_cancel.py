"""Cancelling a proposal: ``project.cancelled``, by the proposer, while the project is proposed.

The rules decide (``ledger/rules/``): only the proposer, only while some invitee has
neither joined nor declined; nothing can follow a cancellation. Every refusal is checked by
class and exact message and leaves the stream (or the state) unchanged.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ledger import entry, rules, storage
from ledger.application import Ledger
from ledger.errors import LedgerError, RuleViolationError, UsageError, VerificationError
from ledger.keys import Signer
from ledger.rules.schema import check_entry
from ledger.summaries import summary
from projections.replay import AsOf, Replay
from projections.todo import todo

SLUG = "no-whopper-day"


def hashes(ledger: Ledger) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(SLUG)]


def propose(ledger: Ledger, signers: dict[str, Signer]) -> None:
    """acme proposes SLUG to burgerco and veggie, both pinned."""
    ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="",
        members={h: signers[h].fingerprint for h in ("burgerco", "veggie")},
        approval="all",
        close="all",
        signer=signers["acme"],
    )


def refused(ledger: Ledger, error: type[LedgerError], message: str, action: Any) -> LedgerError:
    before = hashes(ledger)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    assert hashes(ledger) == before
    return info.value


def build(state: rules.ProjectState, signer: Signer, kind: str, body: Any) -> entry.SignedEntry:
    data = {
        "v": 1,
        "project": state.slug,
        "seq": state.seq + 1,
        "prev": state.head,
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": "2026-11-22T12:00:00Z",
        "body": body,
    }
    return entry.sign(data, signer.private_key)


def test_the_proposer_cancels_a_proposal_and_nothing_can_follow(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    receipt = memory_ledger.cancel_project(SLUG, reason="Wrong partners", signer=signers["acme"])
    assert (receipt.seq, receipt.type, receipt.status) == (3, "project.cancelled", "cancelled")
    assert receipt.subject == {"project_title": "No Whopper Day", "waiting": ["veggie"]}
    state = memory_ledger.verified_state(SLUG)
    assert (state.status, state.cancelled_seq, state.closed_seq) == ("cancelled", 3, None)
    error = refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was cancelled by its proposer (seq 3); nothing more can be added",
        lambda: memory_ledger.join_project(SLUG, signer=signers["veggie"]),
    )
    assert error.hint == "ask the proposer for a new proposal"
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was cancelled by its proposer (seq 3); nothing more can be added",
        lambda: memory_ledger.cancel_project(SLUG, reason="again", signer=signers["acme"]),
    )
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was cancelled by its proposer (seq 3); nothing more can be added",
        lambda: memory_ledger.rotate_key(
            SLUG, new_public_key=signers["mallory"].public_key_line, signer=signers["burgerco"]
        ),
    )


def test_only_the_proposer_cancels(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    error = refused(
        memory_ledger,
        RuleViolationError,
        "only the proposer ('acme') can cancel project 'no-whopper-day'",
        lambda: memory_ledger.cancel_project(SLUG, reason="x", signer=signers["burgerco"]),
    )
    assert error.hint == "ask acme to cancel it, or decline the invitation"
    # An invitee who has not joined is not a member: refused before the handler.
    refused(
        memory_ledger,
        RuleViolationError,
        "'veggie' is not a member of project 'no-whopper-day' (invited but has not joined)",
        lambda: memory_ledger.cancel_project(SLUG, reason="x", signer=signers["veggie"]),
    )


def test_an_active_project_cannot_be_cancelled(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    memory_ledger.join_project(SLUG, signer=signers["veggie"])
    error = refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' is active: only a proposal still waiting for its invitees can "
        "be cancelled",
        lambda: memory_ledger.cancel_project(SLUG, reason="x", signer=signers["acme"]),
    )
    assert error.hint == "end an active project with `accord close no-whopper-day`"


def test_an_abandoned_project_cannot_be_cancelled(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["burgerco"])
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["veggie"])
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was abandoned: every invitee declined",
        lambda: memory_ledger.cancel_project(SLUG, reason="x", signer=signers["acme"]),
    )


def test_an_empty_reason_is_a_usage_error(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    refused(
        memory_ledger,
        UsageError,
        "the reason must not be empty",
        lambda: memory_ledger.cancel_project(SLUG, reason="  ", signer=signers["acme"]),
    )


def test_a_stored_cancellation_by_another_member_fails_replay(signers: dict[str, Signer]) -> None:
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    propose(ledger, signers)
    ledger.join_project(SLUG, signer=signers["burgerco"])
    state = ledger.verified_state(SLUG)
    forged = build(state, signers["burgerco"], "project.cancelled", {"reason": "mine now"})
    before = copy.deepcopy(state)
    with pytest.raises(RuleViolationError) as info:
        rules.apply(state, forged)
    assert info.value.message == "only the proposer ('acme') can cancel project 'no-whopper-day'"
    assert info.value.seq == 3
    assert state == before
    ledger.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "project.cancelled body is malformed (missing ['reason'], extra [])"),
        ({"reason": ""}, "project.cancelled body field 'reason' is malformed"),
        (
            {"reason": "x", "why": "y"},
            "project.cancelled body is malformed (missing [], extra ['why'])",
        ),
        ({"reason": 1}, "project.cancelled body field 'reason' is malformed"),
    ],
)  # fmt: skip
def test_the_body_is_exactly_a_reason(body: Any, message: str) -> None:
    data = {
        "v": 1, "project": SLUG, "seq": 3, "prev": "0" * 64, "type": "project.cancelled",
        "by": "acme", "key": "SHA256:" + "A" * 43, "at": "2026-11-22T12:00:00Z", "body": body,
    }  # fmt: skip
    with pytest.raises(VerificationError) as info:
        check_entry(data)
    assert info.value.message == message


def test_summary_and_todo_after_a_cancellation(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    replay = Replay.build(memory_ledger, SLUG, AsOf())
    from datetime import date

    assert [r.waiting for r in todo(replay, "veggie", date(2026, 11, 22), 14)] == ["join"]
    memory_ledger.cancel_project(SLUG, reason="Wrong partners", signer=signers["acme"])
    replay = Replay.build(memory_ledger, SLUG, AsOf())
    assert todo(replay, "veggie", date(2026, 11, 22), 14) == []
    assert todo(replay, "acme", date(2026, 11, 22), 14) == []
    last = memory_ledger.log_entry(SLUG, 2)
    assert last.summary == "cancelled the proposal: Wrong partners"
    stored = next(s.entry for s in memory_ledger.read_entries(SLUG) if s.entry.seq == 2)
    assert summary(stored.data) == "cancelled the proposal: Wrong partners"


def test_the_verified_state_keeps_the_cancellation(
    tmp_path: Path, signers: dict[str, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "accord.db")
    monkeypatch.setenv("ACCORD_HOME", str(tmp_path / "home"))
    ledger = storage.open_ledger(url, create=True)
    propose(ledger, signers)
    ledger.cancel_project(SLUG, reason="Wrong partners", signer=signers["acme"])
    ledger.close()
    again = storage.open_ledger(url)
    loaded = again.verified.load(SLUG)
    assert loaded is not None
    assert (loaded.status, loaded.cancelled_seq) == ("cancelled", 2)
    again.close()
