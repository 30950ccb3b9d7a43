"""Disputes and closing a pledge short (ADR 0009), story by story and rule by rule.

The ``memory_ledger`` clock claims 2026-11-22T10:00:00Z plus one minute per entry, so every
entry below is claimed on 2026-11-22 (seq n at 10:n). Every figure was worked out by hand
from the story in the docstring of each fixture; every refusal is checked for its exact
error class and message and for a stored stream left unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from ledger import entry, rules
from ledger.application import Ledger
from ledger.errors import (
    AlreadyDecidedError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.subjects import subject_of
from ledger.summaries import summary
from projections.contributions import contributions
from projections.obligations import obligations
from projections.replay import Replay
from projections.report import report_data

SLUG = "fair"
TODAY = date(2026, 11, 22)


def hashes(ledger: Ledger) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(SLUG)]


def refused(
    ledger: Ledger, error: type[LedgerError], message: str, action: Callable[[], Any]
) -> LedgerError:
    """``action`` raises exactly ``error`` with ``message`` and the stream does not change."""
    before = hashes(ledger)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    assert hashes(ledger) == before
    return info.value


def start(ledger: Ledger, signers: dict[str, Signer], approval: str = "all") -> None:
    """1 acme proposes, 2 burgerco and 3 veggie join."""
    ledger.propose_project(
        SLUG, title="Fair", purpose="", members={"burgerco": None, "veggie": None},
        approval=approval, close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])
    ledger.join_project(SLUG, signer=signers["veggie"])


def pledge(
    ledger: Ledger, signer: Signer, weight: str, to: list[str] | None, due: str = "2026-12-01"
) -> int:
    return ledger.add_pledge(
        SLUG, title="Work", weight=weight, unit="hours", due=due, beneficiaries=to,
        signer=signer,
    ).seq  # fmt: skip


def deliver(ledger: Ledger, signer: Signer, on: int, quantity: str) -> int:
    return ledger.deliver(
        SLUG, on, summary="Done", quantity=quantity, evidence=[], signer=signer
    ).seq


def approve(ledger: Ledger, signer: Signer, target: int) -> int:
    return ledger.approve(SLUG, target, comment="", signer=signer).seq


def dispute(ledger: Ledger, signer: Signer, target: int, reason: str = "Not as agreed") -> int:
    return ledger.open_dispute(SLUG, target, reason=reason, signer=signer).seq


def resolve(ledger: Ledger, signer: Signer, number: int, outcome: str) -> int:
    return ledger.resolve_dispute(
        SLUG, number, outcome=outcome, reason="Looked again", signer=signer
    ).seq


def row(ledger: Ledger, party: str) -> Any:
    """The hours contribution row of ``party`` today."""
    rows = contributions(Replay.build(ledger, SLUG), TODAY)
    return next(r for r in rows if r.party == party and r.unit in ("hours", "-"))


def status(ledger: Ledger, seq: int) -> str:
    found = [o for o in obligations(Replay.build(ledger, SLUG), TODAY) if o.seq == seq]
    return found[0].status


# --- a disputed acceptance, dismissed; another, upheld; a pledge closed short ----------------


@pytest.fixture
def accepted(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """Approval policy all. 4 acme pledges 40 hours to burgerco and veggie (due 12-01);
    5 burgerco pledges 10 hours to acme (due 11-22); 6 acme delivers 30 on 4, accepted by
    7 burgerco and 8 veggie; 9 burgerco delivers 4 on 5, 10 acme approves; 11 burgerco
    delivers 6 on 5, 12 acme approves: pledge 5 is fulfilled."""
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(memory_ledger, signers)
    assert pledge(memory_ledger, acme, "40", None) == 4
    assert pledge(memory_ledger, burgerco, "10", ["acme"], due="2026-11-22") == 5
    assert deliver(memory_ledger, acme, 4, "30") == 6
    approve(memory_ledger, burgerco, 6)
    approve(memory_ledger, veggie, 6)
    assert deliver(memory_ledger, burgerco, 5, "4") == 9
    approve(memory_ledger, acme, 9)
    assert deliver(memory_ledger, burgerco, 5, "6") == 11
    assert approve(memory_ledger, acme, 11) == 12
    return memory_ledger


def test_a_disputed_acceptance_counts_for_nothing_until_it_is_settled(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    assert dispute(accepted, signers["veggie"], 6) == 13
    state = accepted.get_state(SLUG)
    work = state.pledges[4]
    assert (work.approved, work.disputed, work.accepted) == (Decimal(0), Decimal(30), [])
    assert state.open_disputes == {13: 4}
    assert state.disputes[13].parties == ("acme", "veggie")
    assert state.disputes[13].about == "acceptance"
    # hours: acme pledged 40 of 50 (4/5), delivered 30, approved 0 (30 disputed);
    # burgerco approved 10 of 10: all the approved hours. Guest stars: acme, below 1/4 (half
    # an equal share of the two parties working in hours), and veggie (no pledge at all).
    acme, burgerco, veggie = (row(accepted, p) for p in ("acme", "burgerco", "veggie"))
    assert (acme.pledged, acme.delivered, acme.approved, acme.disputed) == (40, 30, 0, 30)
    assert (acme.pledged_share, acme.approved_share, acme.fulfilment) == (
        Fraction(4, 5), Fraction(0), Fraction(0),
    )  # fmt: skip
    assert (burgerco.approved_share, burgerco.disputed) == (Fraction(1), 0)
    assert (acme.guest_star, burgerco.guest_star, veggie.guest_star) == (True, False, True)
    assert acme.as_row()["disputed"] == "30"
    assert status(accepted, 4) == "disputed"
    refused(
        accepted, RuleViolationError,
        "dispute 13 is open; a project with an open dispute cannot close",
        lambda: accepted.sign_close(SLUG, signer=signers["acme"]),
    )  # fmt: skip


def test_a_dispute_is_dismissed_only_when_its_parties_sign_the_same_outcome(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme, veggie = signers["acme"], signers["veggie"]
    dispute(accepted, veggie, 6)  # 13
    resolve(accepted, acme, 13, "dismissed")  # 14
    resolve(accepted, veggie, 13, "upheld")  # 15: they disagree, it stays open
    state = accepted.get_state(SLUG)
    assert state.disputes[13].votes == {"acme": ("dismissed", 14), "veggie": ("upheld", 15)}
    assert (state.disputes[13].status, state.pledges[4].approved) == ("open", 0)
    receipt = accepted.resolve_dispute(
        SLUG, 13, outcome="dismissed", reason="Fine after all", signer=veggie
    )  # 16: veggie changes its mind
    state = accepted.get_state(SLUG)
    assert (state.disputes[13].status, state.disputes[13].resolved_seq) == ("dismissed", 16)
    work = state.pledges[4]
    assert (work.approved, work.disputed, work.accepted) == (30, 0, [(8, Decimal(30))])
    assert state.open_disputes == {}
    assert state.decisions[6].status == rules.ACCEPTED
    assert receipt.subject is not None
    assert (receipt.subject["status"], receipt.subject["deliverable_status"]) == (
        "dismissed", "accepted",
    )  # fmt: skip
    acme_row = row(accepted, "acme")
    assert (acme_row.approved, acme_row.disputed, acme_row.approved_share) == (
        30, 0, Fraction(3, 4),
    )  # fmt: skip
    entry = list(accepted.read_entries(SLUG))[15].entry
    assert summary(entry.data, state) == (
        "signed dismissed on dispute 13: Fine after all (dispute 13 is dismissed)"
    )


def test_an_upheld_dispute_turns_an_acceptance_into_a_rejection(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco = signers["acme"], signers["burgerco"]
    refused(
        accepted, RuleViolationError, "'acme' cannot dispute its own approval (seq 12)",
        lambda: dispute(accepted, acme, 12),
    )  # fmt: skip
    assert dispute(accepted, acme, 11, "Half of it was missing") == 13
    assert accepted.get_state(SLUG).disputes[13].parties == ("acme", "burgerco")
    resolve(accepted, burgerco, 13, "upheld")  # 14
    resolve(accepted, acme, 13, "upheld")  # 15
    state = accepted.get_state(SLUG)
    item = state.decisions[11]
    assert (item.status, item.decided_seq, item.refusal) == (rules.REJECTED, 15, None)
    assert (state.pledges[5].approved, state.pledges[5].accepted) == (4, [(10, Decimal(4))])
    # burgerco: pledged 10, delivered 4 (6 now rejected), approved 4 of 34 hours.
    burgerco_row = row(accepted, "burgerco")
    assert (burgerco_row.delivered, burgerco_row.approved) == (4, 4)
    assert burgerco_row.approved_share == Fraction(4, 34)
    assert status(accepted, 5) == "open"  # due today, no longer fulfilled
    refused(
        accepted, AlreadyDecidedError,
        "dispute 13 was already resolved: upheld (seq 15, by acme at 2026-11-22T10:16:00Z)",
        lambda: resolve(accepted, burgerco, 13, "dismissed"),
    )  # fmt: skip
    refused(
        accepted, RuleViolationError,
        "deliverable 11 is rejected, not accepted; only an accepted deliverable (or an "
        "approval of it) is disputed",
        lambda: dispute(accepted, acme, 11),
    )  # fmt: skip


def test_a_pledge_closed_short_owes_nothing_more_and_counts_what_was_approved(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco = signers["acme"], signers["burgerco"]
    dispute(accepted, acme, 11)  # 13
    resolve(accepted, burgerco, 13, "upheld")  # 14
    resolve(accepted, acme, 13, "upheld")  # 15: pledge 5 has 4 of 10 approved
    receipt = accepted.close_pledge_short(SLUG, 5, reason="The venue shrank", signer=burgerco)
    assert receipt.seq == 16
    assert receipt.subject == {
        "pledge": 5, "pledge_title": "Work", "approved": "4", "weight": "10", "unit": "hours",
        "to": ["acme"],
    }  # fmt: skip
    refused(
        accepted, RuleViolationError,
        "pledge 5 has a pending close-short proposal (seq 16); it cannot be delivered on "
        "meanwhile",
        lambda: deliver(accepted, burgerco, 5, "1"),
    )  # fmt: skip
    assert approve(accepted, acme, 16) == 17
    state = accepted.get_state(SLUG)
    work = state.pledges[5]
    assert (work.status, work.closed_short_seq, work.pending_close) == ("closed-short", 17, None)
    assert state.decisions[16].status == rules.ACCEPTED
    # hours: acme pledged 40, approved 30; burgerco's pledge closed short still counts its
    # weight, 10 pledged, with 4 approved and 6 short (ADR 0012). Pledged 50: 4/5 and 1/5;
    # approved 34: 15/17 and 2/17. Two parties work in hours, an equal share is 1/2:
    # burgerco's 2/17 is below 1/4, a guest star. Fulfilment 4/10. Closed short on 11-22,
    # due 11-22: on time.
    acme_row, burgerco_row = row(accepted, "acme"), row(accepted, "burgerco")
    assert (burgerco_row.pledged, burgerco_row.delivered, burgerco_row.approved) == (10, 4, 4)
    assert (burgerco_row.short, acme_row.short, burgerco_row.peers) == (6, 0, 2)
    assert (acme_row.pledged_share, burgerco_row.pledged_share) == (
        Fraction(4, 5), Fraction(1, 5),
    )  # fmt: skip
    assert (acme_row.approved_share, burgerco_row.approved_share) == (
        Fraction(15, 17), Fraction(2, 17),
    )  # fmt: skip
    assert (burgerco_row.fulfilment, burgerco_row.on_time) == (Fraction(2, 5), Fraction(1))
    assert (acme_row.guest_star, burgerco_row.guest_star) == (False, True)
    assert status(accepted, 5) == "closed-short"
    closed = obligations(Replay.build(accepted, SLUG), TODAY)[1].as_row()
    assert (closed["weight"], closed["approved"], closed["short"]) == ("10", "4", "6")
    replay = Replay.build(accepted, SLUG)
    assert [o.seq for o in obligations(replay, TODAY, within=30)] == [4]
    data = report_data(replay)
    assert [o["seq"] for o in data.as_row()["open_obligations"]] == [4]
    report_pledge = next(p for p in data.as_row()["pledges"] if p["seq"] == 5)
    assert report_pledge["closed_short_seq"] == 17
    assert report_pledge["short_closes"][0]["reason"] == "The venue shrank"
    assert report_pledge["deliverables"][1]["disputes"][0]["status"] == "upheld"
    for action, message in (
        (
            lambda: deliver(accepted, burgerco, 5, "1"),
            "pledge 5 was closed short at seq 17; nothing more is owed or delivered on it",
        ),
        (
            lambda: accepted.withdraw_pledge(SLUG, 5, reason="x", signer=burgerco),
            "pledge 5 was closed short at seq 17; nothing more is owed or delivered on it",
        ),
        (
            lambda: accepted.close_pledge_short(SLUG, 5, reason="x", signer=burgerco),
            "pledge 5 was closed short at seq 17; nothing more is owed or delivered on it",
        ),
    ):
        refused(accepted, RuleViolationError, message, action)


def test_a_rejected_close_short_proposal_leaves_the_pledge_open(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme, veggie = signers["acme"], signers["veggie"]
    assert accepted.close_pledge_short(SLUG, 4, reason="Enough", signer=acme).seq == 13
    approve(accepted, signers["burgerco"], 13)  # 14: 1 of 2 (policy all)
    assert accepted.get_state(SLUG).pledges[4].status == "open"
    accepted.reject(SLUG, 13, reason="We need all 40", signer=veggie)  # 15
    state = accepted.get_state(SLUG)
    assert (state.pledges[4].status, state.pledges[4].pending_close) == ("open", None)
    assert state.decisions[13].status == rules.REJECTED
    assert deliver(accepted, acme, 4, "10") == 16


def test_a_withdrawal_voids_a_pending_close_short_proposal(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    accepted.close_pledge_short(SLUG, 4, reason="Enough", signer=acme)  # 13
    accepted.withdraw_pledge(SLUG, 4, reason="Cancelled", signer=acme)  # 14
    state = accepted.get_state(SLUG)
    assert (state.decisions[13].status, state.decisions[13].decided_seq) == (rules.VOID, 14)
    assert state.pledges[4].pending_close is None


# --- a disputed refusal, upheld: the beneficiaries decide again -------------------------------


@pytest.fixture
def rejected(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """Approval policy all. 4 acme pledges 10 hours to burgerco and veggie; 5 acme delivers
    10; 6 burgerco approves; 7 veggie rejects it."""
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], "10", None)
    deliver(memory_ledger, signers["acme"], 4, "10")
    approve(memory_ledger, signers["burgerco"], 5)
    memory_ledger.reject(SLUG, 5, reason="Wrong colours", signer=signers["veggie"])
    return memory_ledger


def test_an_upheld_dispute_of_a_rejection_sends_the_deliverable_back_to_pending(
    rejected: Ledger, signers: dict[str, Signer]
) -> None:
    acme, veggie = signers["acme"], signers["veggie"]
    assert dispute(rejected, acme, 7, "The colours are the agreed ones") == 8
    state = rejected.get_state(SLUG)
    assert (state.disputes[8].about, state.disputes[8].parties) == ("refusal", ("acme", "veggie"))
    assert status(rejected, 4) == "disputed"
    assert row(rejected, "acme").disputed == 0  # a rejection withholds nothing more
    refused(
        rejected, RuleViolationError, "pledge 4 has an open dispute (seq 8)",
        lambda: rejected.close_pledge_short(SLUG, 4, reason="x", signer=acme),
    )  # fmt: skip
    resolve(rejected, veggie, 8, "upheld")  # 9
    resolve(rejected, acme, 8, "upheld")  # 10
    state = rejected.get_state(SLUG)
    item = state.decisions[5]
    assert (item.status, item.refusal, item.approvals) == (rules.PENDING, None, {"burgerco": 6})
    assert state.pledges[4].pending == 10
    assert status(rejected, 4) == "submitted"
    approve(rejected, veggie, 5)  # 11: burgerco's approval still counts
    state = rejected.get_state(SLUG)
    assert (state.decisions[5].status, state.pledges[4].approved) == (rules.ACCEPTED, 10)
    assert status(rejected, 4) == "fulfilled"


def test_a_dismissed_dispute_of_a_rejection_changes_nothing(
    rejected: Ledger, signers: dict[str, Signer]
) -> None:
    dispute(rejected, signers["acme"], 7)  # 8
    resolve(rejected, signers["veggie"], 8, "dismissed")  # 9
    resolve(rejected, signers["acme"], 8, "dismissed")  # 10
    state = rejected.get_state(SLUG)
    assert (state.decisions[5].status, state.decisions[5].refusal) == (
        rules.REJECTED, ("veggie", 7, "Wrong colours"),
    )  # fmt: skip
    assert status(rejected, 4) == "open"


def test_a_third_party_dispute_needs_the_promisor_too(
    rejected: Ledger, signers: dict[str, Signer]
) -> None:
    burgerco = signers["burgerco"]
    assert dispute(rejected, burgerco, 7) == 8  # burgerco disputes veggie's rejection
    assert rejected.get_state(SLUG).disputes[8].parties == ("acme", "burgerco", "veggie")
    resolve(rejected, burgerco, 8, "upheld")
    receipt = rejected.resolve_dispute(
        SLUG, 8, outcome="upheld", reason="Agreed", signer=signers["veggie"]
    )
    assert receipt.subject is not None
    assert (receipt.subject["status"], receipt.subject["signed"]) == (
        "open", {"burgerco": "upheld", "veggie": "upheld"},
    )  # fmt: skip
    resolve(rejected, signers["acme"], 8, "upheld")
    assert rejected.get_state(SLUG).decisions[5].status == rules.PENDING


# --- refusals ------------------------------------------------------------------------------


def test_what_cannot_be_disputed(rejected: Ledger, signers: dict[str, Signer]) -> None:
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    refused(
        rejected, RuleViolationError,
        "seq 4 is a pledge, not a deliverable, an approval or a rejection",
        lambda: dispute(rejected, burgerco, 4),
    )  # fmt: skip
    refused(
        rejected, NotFoundError, "no entry at seq 99 in project 'fair'",
        lambda: dispute(rejected, burgerco, 99),
    )  # fmt: skip
    refused(
        rejected, RuleViolationError,
        "deliverable 5 is rejected, not accepted; only an accepted deliverable (or an "
        "approval of it) is disputed",
        lambda: dispute(rejected, veggie, 5),
    )  # fmt: skip
    refused(
        rejected, RuleViolationError,
        "deliverable 5 is rejected, not accepted; only an accepted deliverable (or an "
        "approval of it) is disputed",
        lambda: dispute(rejected, veggie, 6),  # burgerco's approval did not accept it
    )  # fmt: skip
    refused(
        rejected, RuleViolationError, "'veggie' cannot dispute its own rejection (seq 7)",
        lambda: dispute(rejected, veggie, 7),
    )  # fmt: skip
    refused(
        rejected, UsageError, "the reason must not be empty",
        lambda: rejected.open_dispute(SLUG, 7, reason=" ", signer=acme),
    )  # fmt: skip
    dispute(rejected, acme, 7)  # 8
    refused(
        rejected, AlreadyDecidedError,
        "deliverable 5 is already disputed "
        "(seq 8, by acme at 2026-11-22T10:13:00Z)",
        lambda: dispute(rejected, burgerco, 7),
    )  # fmt: skip
    pledge(rejected, acme, "5", ["burgerco"])  # 9: veggie is not concerned
    deliver(rejected, acme, 9, "5")  # 10
    approve(rejected, burgerco, 10)  # 11
    refused(
        rejected, RuleViolationError,
        "'veggie' is neither the promisor nor a beneficiary of pledge 9; only they dispute "
        "the decisions on it",
        lambda: dispute(rejected, veggie, 10),
    )  # fmt: skip
    deliver(rejected, acme, 9, "1")  # 12: pending
    refused(
        rejected, RuleViolationError,
        "deliverable 12 is pending, not accepted; only an accepted deliverable (or an "
        "approval of it) is disputed",
        lambda: dispute(rejected, burgerco, 12),
    )  # fmt: skip


def test_an_amendment_is_not_disputed(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], "10", ["burgerco"])  # 4
    memory_ledger.amend_pledge(
        SLUG, 4, title=None, weight="8", due=None, reason="Less", signer=signers["acme"]
    )  # 5
    approve(memory_ledger, signers["burgerco"], 5)  # 6
    refused(
        memory_ledger, RuleViolationError, "seq 5 is an amendment, not a deliverable",
        lambda: dispute(memory_ledger, signers["burgerco"], 6),
    )  # fmt: skip
    refused(
        memory_ledger, RuleViolationError,
        "seq 5 is an amendment, not a deliverable, an approval or a rejection",
        lambda: dispute(memory_ledger, signers["burgerco"], 5),
    )  # fmt: skip


def test_who_resolves_and_how_often(rejected: Ledger, signers: dict[str, Signer]) -> None:
    acme, burgerco = signers["acme"], signers["burgerco"]
    dispute(rejected, acme, 7)  # 8
    refused(
        rejected, RuleViolationError,
        "'burgerco' is not a party to dispute 8; its parties (acme, veggie) resolve it",
        lambda: resolve(rejected, burgerco, 8, "upheld"),
    )  # fmt: skip
    resolve(rejected, acme, 8, "upheld")  # 9
    refused(
        rejected, AlreadyDecidedError,
        "'acme' already signed upheld on dispute 8 "
        "(seq 9, by acme at 2026-11-22T10:10:00Z)",
        lambda: resolve(rejected, acme, 8, "upheld"),
    )  # fmt: skip
    refused(
        rejected, RuleViolationError, "seq 7 is a rejection, not a dispute",
        lambda: resolve(rejected, acme, 7, "upheld"),
    )  # fmt: skip
    refused(
        rejected, UsageError, "outcome 'withdrawn' is not valid",
        lambda: resolve(rejected, acme, 8, "withdrawn"),
    )  # fmt: skip


def test_what_cannot_be_closed_short(accepted: Ledger, signers: dict[str, Signer]) -> None:
    acme, burgerco = signers["acme"], signers["burgerco"]
    refused(
        accepted, RuleViolationError,
        "pledge 4 belongs to 'acme'; only its promisor can close it",
        lambda: accepted.close_pledge_short(SLUG, 4, reason="x", signer=burgerco),
    )  # fmt: skip
    refused(
        accepted, RuleViolationError,
        "pledge 5 is fulfilled (10 of 10 hours approved); there is nothing to close short",
        lambda: accepted.close_pledge_short(SLUG, 5, reason="x", signer=burgerco),
    )  # fmt: skip
    deliver(accepted, acme, 4, "5")  # 13
    refused(
        accepted, RuleViolationError,
        "pledge 4 has deliverables awaiting a decision (seq 13)",
        lambda: accepted.close_pledge_short(SLUG, 4, reason="x", signer=acme),
    )  # fmt: skip
    accepted.reject(SLUG, 13, reason="No", signer=burgerco)  # 14
    accepted.amend_pledge(
        SLUG, 4, title=None, weight="35", due=None, reason="Less", signer=acme
    )  # 15
    refused(
        accepted, RuleViolationError, "pledge 4 has a pending amendment (seq 15)",
        lambda: accepted.close_pledge_short(SLUG, 4, reason="x", signer=acme),
    )  # fmt: skip
    accepted.reject(SLUG, 15, reason="No", signer=burgerco)  # 16
    accepted.close_pledge_short(SLUG, 4, reason="x", signer=acme)  # 17
    refused(
        accepted, RuleViolationError,
        "pledge 4 already has a pending close-short proposal (seq 17)",
        lambda: accepted.close_pledge_short(SLUG, 4, reason="y", signer=acme),
    )  # fmt: skip
    refused(
        accepted, RuleViolationError,
        "pledge 4 has a pending close-short proposal (seq 17); it cannot be amended meanwhile",
        lambda: accepted.amend_pledge(
            SLUG, 4, title=None, weight="30", due=None, reason="x", signer=acme
        ),
    )  # fmt: skip
    refused(
        accepted, RuleViolationError,
        "pledge 4 has a pending close-short proposal (seq 17); the refusals on it stand "
        "meanwhile",
        lambda: dispute(accepted, acme, 14),
    )  # fmt: skip
    refused(
        accepted, NotFoundError, "no entry at seq 40 in project 'fair'",
        lambda: accepted.close_pledge_short(SLUG, 40, reason="x", signer=acme),
    )  # fmt: skip


def test_a_closed_project_accepts_no_dispute(accepted: Ledger, signers: dict[str, Signer]) -> None:
    for handle in ("acme", "burgerco", "veggie"):  # 13-15, leaving pledge 4 open
        accepted.sign_close(SLUG, signer=signers[handle], accept_open=[4])
    refused(
        accepted, RuleViolationError,
        "project 'fair' is closed (seq 15); nothing more can be added",
        lambda: dispute(accepted, signers["veggie"], 6),
    )  # fmt: skip


def test_a_dispute_opened_between_close_signatures_voids_them_and_blocks_the_close(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    accepted.sign_close(SLUG, signer=signers["acme"], accept_open=[4])  # 13
    dispute(accepted, signers["veggie"], 6)  # 14: the final head moves
    state = accepted.get_state(SLUG)
    assert (state.close_signatures, state.final_head_seq) == ({}, 14)
    refused(
        accepted, RuleViolationError,
        "dispute 14 is open; a project with an open dispute cannot close",
        lambda: accepted.sign_close(SLUG, signer=signers["burgerco"]),
    )  # fmt: skip


def test_summaries_and_subjects_name_what_is_disputed(
    rejected: Ledger, signers: dict[str, Signer]
) -> None:
    dispute(rejected, signers["acme"], 7, "Agreed colours")  # 8
    state = rejected.get_state(SLUG)
    entry = list(rejected.read_entries(SLUG))[7].entry
    assert summary(entry.data, state) == (
        "disputed rejection seq 7 of deliverable 5: Agreed colours"
    )
    assert subject_of(state, entry) == {
        "dispute": 8, "about": "refusal", "target": 7, "deliverable": 5, "party": "acme",
        "quantity": "10", "unit": "hours", "pledge": 4, "pledge_title": "Work",
        "parties": ["acme", "veggie"], "signed": {}, "status": "open",
        "deliverable_status": "rejected",
    }  # fmt: skip
    assert entry.body == {"target": 7, "deliverable": 5, "reason": "Agreed colours"}


def test_a_delivery_without_quantity_leaves_out_what_is_disputed(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    dispute(accepted, signers["veggie"], 6)  # 13: 30 of 40 hours disputed
    seq = accepted.deliver(
        SLUG, 4, summary="The rest", quantity=None, evidence=[], signer=signers["acme"]
    ).seq
    item = accepted.get_state(SLUG).decisions[seq]
    assert isinstance(item, rules.Deliverable)
    assert item.quantity == 10  # 40 less the 30 accepted (now disputed)


# --- hand-built (forged) entries: the rules, not the Ledger, refuse them ------------------------


def signed_next(state: rules.ProjectState, signer: Signer, kind: str, body: dict[str, Any]) -> Any:
    data = {
        "v": 1, "project": state.slug, "seq": state.seq + 1, "prev": state.head, "type": kind,
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T12:00:00Z",
        "body": body,
    }  # fmt: skip
    return entry.sign(data, signer.private_key)


def refused_by_rules(
    state: rules.ProjectState, item: Any, error: type[LedgerError], message: str
) -> None:
    before = copy.deepcopy(state)
    with pytest.raises(error) as info:
        rules.apply(state, item)
    assert (type(info.value), info.value.message) == (error, message)
    assert state == before


def test_a_forged_dispute_naming_another_deliverable_is_refused(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    state = copy_of(accepted)
    veggie = signers["veggie"]
    body = {"target": 7, "deliverable": 11, "reason": "x"}  # 7 approved 6, not 11
    refused_by_rules(
        state, signed_next(state, veggie, "dispute.opened", body), RuleViolationError,
        "seq 7 is not the decision that stands on deliverable 11",
    )  # fmt: skip
    body = {"target": 6, "deliverable": 4, "reason": "x"}
    refused_by_rules(
        state, signed_next(state, veggie, "dispute.opened", body), RuleViolationError,
        "seq 4 is a pledge, not a deliverable",
    )  # fmt: skip
    body = {"target": 6, "deliverable": 6}
    refused_by_rules(
        state, signed_next(state, veggie, "dispute.opened", body), VerificationError,
        "dispute.opened body is malformed (missing ['reason'], extra [])",
    )  # fmt: skip
    rules.apply(state, signed_next(state, veggie, "dispute.opened",
                                   {"target": 6, "deliverable": 6, "reason": "x"}))  # fmt: skip
    body = {"dispute": 13, "outcome": "maybe", "reason": "x"}
    refused_by_rules(
        state, signed_next(state, veggie, "resolution.signed", body), VerificationError,
        "resolution.signed body field 'outcome' is malformed",
    )  # fmt: skip
    body = {"pledge": 4, "reason": ""}
    refused_by_rules(
        state, signed_next(state, signers["acme"], "pledge.closed-short", body),
        VerificationError, "pledge.closed-short body field 'reason' is malformed",
    )  # fmt: skip


def copy_of(ledger: Ledger) -> rules.ProjectState:
    """The project's state folded in memory from its entries (free to change)."""
    return rules.replay(SLUG, [s.entry for s in ledger.read_entries(SLUG)])


def test_a_party_without_a_key_is_not_waited_for(
    accepted: Ledger, signers: dict[str, Signer]
) -> None:
    acme, veggie = signers["acme"], signers["veggie"]
    dispute(accepted, veggie, 6)  # 13: parties acme and veggie
    accepted.revoke_key(
        SLUG, acme.fingerprint, reason="Laptop stolen", replacement=None, signer=acme
    )  # 14: acme can sign nothing more
    resolve(accepted, veggie, 13, "upheld")  # 15
    state = accepted.get_state(SLUG)
    assert (state.disputes[13].status, state.decisions[6].status) == ("upheld", rules.REJECTED)
    assert state.pledges[4].approved == 0
