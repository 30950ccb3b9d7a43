"""The rules of a collaboration, story by story and rule by rule.

Every expectation is computed by hand: which seq an entry lands on, what the state holds
after it, and for every refusal the exact error class, the exact message, and a stored
stream that is unchanged (the same entry hashes before and after).

The first part drives the ``Ledger`` on the in-memory store; the last part calls
``rules.apply`` directly with hand-built signed entries.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import entry, rules
from ledger.application import Ledger, Receipt
from ledger.errors import (
    AlreadyDecidedError,
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    SignatureInvalidError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer

SLUG = "no-whopper-day"
DUE = "2026-12-01"


# --- helpers ---------------------------------------------------------------------------------


def fresh_signer(handle: str, seed: int) -> Signer:
    """A second (third...) key for ``handle``; seeds 1-4 are the fixture's parties."""
    return Signer(
        handle=handle,
        key_name=f"{handle}-{seed}",
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32),
    )


def quantity(state: rules.ProjectState, seq: int) -> Decimal:
    """The quantity of the deliverable at ``seq``."""
    decision = state.decisions[seq]
    assert isinstance(decision, rules.Deliverable)
    return decision.quantity


def hashes(ledger: Ledger, slug: str = SLUG) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(slug)]


def refused(
    ledger: Ledger,
    error: type[LedgerError],
    message: str,
    action: Callable[[], Any],
    slug: str = SLUG,
) -> LedgerError:
    """Run ``action``, insist it raises exactly ``error`` with ``message``, and that the
    stored stream did not change."""
    before = hashes(ledger, slug)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    assert str(info.value) == message
    assert hashes(ledger, slug) == before
    return info.value


def propose(
    ledger: Ledger,
    signers: dict[str, Signer],
    *,
    invited: tuple[str, ...] = ("burgerco", "veggie"),
    pins: dict[str, str] | None = None,
    approval: str = "all",
    close: str = "all",
    slug: str = SLUG,
) -> Receipt:
    members: dict[str, str | None] = {handle: None for handle in invited}
    members.update(pins or {})
    return ledger.propose_project(
        slug,
        title="No Whopper Day",
        purpose="A joint campaign",
        members=members,
        approval=approval,
        close=close,
        signer=signers["acme"],
    )


def start(
    ledger: Ledger,
    signers: dict[str, Signer],
    *,
    invited: tuple[str, ...] = ("burgerco", "veggie"),
    approval: str = "all",
    close: str = "all",
) -> None:
    """Propose with acme and let every invitee join: the project is active at seq 1 + joins."""
    propose(ledger, signers, invited=invited, approval=approval, close=close)
    for handle in invited:
        ledger.join_project(SLUG, signer=signers[handle])


def pledge(
    ledger: Ledger,
    signer: Signer,
    *,
    weight: str = "30",
    unit: str = "hours",
    beneficiaries: list[str] | None = None,
    title: str = "Campaign video",
) -> Receipt:
    return ledger.add_pledge(
        SLUG,
        title=title,
        weight=weight,
        unit=unit,
        due=DUE,
        beneficiaries=beneficiaries,
        signer=signer,
    )


def deliver(ledger: Ledger, signer: Signer, on: int, quantity: str | None) -> Receipt:
    return ledger.deliver(
        SLUG, on, summary="Work done", quantity=quantity, evidence=[], signer=signer
    )


def approve(ledger: Ledger, signer: Signer, target: int) -> Receipt:
    return ledger.approve(SLUG, target, comment="", signer=signer)


def close(ledger: Ledger, signer: Signer) -> Receipt:
    """Sign the close, accepting every pledge still open: these tests are about the rules;
    the open-pledges guard of the command (ADR 0012) is tested in test_close_guard.py."""
    return ledger.sign_close(SLUG, signer=signer, accept_open=ledger.get_state(SLUG).pledges)


# --- the whole lifecycle ---------------------------------------------------------------------


def test_a_collaboration_goes_from_proposal_to_close(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    ledger = memory_ledger
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]

    # Propose; the project waits until every invitee has joined.
    receipt = propose(ledger, signers)
    assert (receipt.seq, receipt.type, receipt.status) == (1, "project.proposed", "proposed")
    state = ledger.get_state(SLUG)
    assert state.waiting_for() == ["burgerco", "veggie"]
    assert state.joined() == ["acme"]
    assert state.proposer == "acme"
    assert state.terms == receipt.hash

    receipt = ledger.join_project(SLUG, signer=burgerco)
    assert (receipt.seq, receipt.status) == (2, "proposed")
    receipt = ledger.join_project(SLUG, signer=veggie)
    assert (receipt.seq, receipt.status) == (3, "active")
    state = ledger.get_state(SLUG)
    assert state.joined() == ["acme", "burgerco", "veggie"]
    assert state.members["veggie"].joined_seq == 3
    assert state.members["veggie"].current_keys() == {veggie.fingerprint: veggie.public_key_line}
    assert state.labels[veggie.fingerprint] == "veggie"

    # Pledges in different units; by default the beneficiaries are the other members.
    assert pledge(ledger, acme, weight="30", unit="hours").seq == 4
    assert pledge(ledger, burgerco, weight="5000", unit="eur", title="Media budget").seq == 5
    assert pledge(ledger, veggie, weight="12", unit="posts", title="Social posts").seq == 6
    state = ledger.get_state(SLUG)
    assert state.pledges[4].beneficiaries == ("burgerco", "veggie")
    assert state.pledges[5].beneficiaries == ("acme", "veggie")
    assert (state.pledges[5].weight, state.pledges[5].unit) == (Decimal(5000), "eur")
    assert (state.pledges[6].weight, state.pledges[6].unit) == (Decimal(12), "posts")

    # Two partial deliveries, each approved by both beneficiaries (policy "all").
    assert deliver(ledger, acme, 4, "10").seq == 7
    assert deliver(ledger, acme, 4, "12.5").seq == 8
    assert approve(ledger, burgerco, 7).status == "active"  # seq 9: 1 of 2
    assert ledger.get_state(SLUG).decisions[7].status == rules.PENDING
    approve(ledger, veggie, 7)  # seq 10
    approve(ledger, burgerco, 8)  # seq 11
    approve(ledger, veggie, 8)  # seq 12
    state = ledger.get_state(SLUG)
    assert state.decisions[7].status == rules.ACCEPTED
    assert state.decisions[7].approvals == {"burgerco": 9, "veggie": 10}
    assert state.decisions[7].decided_seq == 10
    assert state.decisions[8].decided_seq == 12
    assert sum(quantity(state, s) for s in state.pledges[4].deliverables) == Decimal("22.5")

    # The rest is delivered, rejected, and delivered again.
    receipt = deliver(ledger, acme, 4, None)
    assert receipt.seq == 13
    assert quantity(ledger.get_state(SLUG), 13) == Decimal("7.5")
    ledger.reject(SLUG, 13, reason="the director's cut is missing", signer=veggie)  # seq 14
    state = ledger.get_state(SLUG)
    assert state.decisions[13].status == rules.REJECTED
    assert state.decisions[13].decided_seq == 14
    assert state.decisions[13].refusal == ("veggie", 14, "the director's cut is missing")
    assert deliver(ledger, acme, 4, None).seq == 15
    assert quantity(ledger.get_state(SLUG), 15) == Decimal("7.5")
    approve(ledger, burgerco, 15)  # seq 16
    approve(ledger, veggie, 15)  # seq 17
    state = ledger.get_state(SLUG)
    assert state.pledges[4].deliverables == [7, 8, 13, 15]
    assert sum(
        quantity(state, s)
        for s in state.pledges[4].deliverables
        if state.decisions[s].status == rules.ACCEPTED
    ) == Decimal(30)

    # A statement, signed, revised (voiding the signatures), and signed by everyone.
    receipt = ledger.propose_statement(
        SLUG, title="Joint statement", text="We did it together.", signer=burgerco
    )
    assert receipt.seq == 18
    ledger.sign_statement(SLUG, 18, signer=acme)  # seq 19
    ledger.sign_statement(SLUG, 18, signer=veggie)  # seq 20
    assert ledger.get_state(SLUG).statements[18].signatures == {"acme": 19, "veggie": 20}
    ledger.revise_statement(
        SLUG, 18, text="We did it together, on time.", reason="add timing", signer=burgerco
    )  # seq 21
    statement = ledger.get_state(SLUG).statements[18]
    assert (statement.version, statement.signatures) == (2, {})
    assert statement.texts == ["We did it together.", "We did it together, on time."]
    assert statement.revisions == [18, 21]
    for handle in ("acme", "burgerco", "veggie"):
        ledger.sign_statement(SLUG, 18, signer=signers[handle])  # seqs 22, 23, 24
    statement = ledger.get_state(SLUG).statements[18]
    assert statement.signatures == {"acme": 22, "burgerco": 23, "veggie": 24}

    # Close: every member signs the final head (seq 24).
    assert close(ledger, acme).status == "active"  # seq 25
    assert close(ledger, burgerco).status == "active"  # seq 26
    receipt = close(ledger, veggie)  # seq 27
    assert (receipt.seq, receipt.status) == (27, "closed")
    state = ledger.get_state(SLUG)
    assert (state.status, state.closed_seq) == (rules.CLOSED, 27)
    assert (state.final_head_seq, state.seq) == (24, 27)
    assert state.close_signatures == {"acme": 25, "burgerco": 26, "veggie": 27}
    assert [stored.entry.seq for stored in ledger.read_entries(SLUG)] == list(range(1, 28))

    # Nothing can be appended after close.
    refused(
        ledger,
        RuleViolationError,
        "project 'no-whopper-day' is closed (seq 27); nothing more can be added",
        lambda: pledge(ledger, acme),
    )


def test_a_project_is_active_once_every_invitee_has_joined_or_declined(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    receipt = memory_ledger.decline_project(SLUG, reason="no budget", signer=signers["veggie"])
    assert (receipt.seq, receipt.type, receipt.status) == (3, "member.declined", "active")
    state = memory_ledger.get_state(SLUG)
    assert state.members["veggie"].status == rules.DECLINED
    assert state.joined() == ["acme", "burgerco"]
    assert pledge(memory_ledger, signers["acme"]).seq == 4
    assert memory_ledger.get_state(SLUG).pledges[4].beneficiaries == ("burgerco",)


def test_a_project_every_invitee_declined_is_abandoned_and_refuses_everything(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["burgerco"])
    receipt = memory_ledger.decline_project(SLUG, reason="no", signer=signers["veggie"])
    assert receipt.status == rules.ABANDONED
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was abandoned: every invitee declined",
        lambda: memory_ledger.propose_statement(SLUG, title="S", text="T", signer=signers["acme"]),
    )


def test_pledging_on_an_abandoned_project_names_the_abandonment(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    """The default beneficiaries (the other joined members) are none here; the abandonment is
    named before any entry is built, not a malformed-entry VerificationError."""
    propose(memory_ledger, signers)
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["burgerco"])
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["veggie"])
    assert memory_ledger.get_state(SLUG).status == rules.ABANDONED
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' was abandoned: every invitee declined",
        lambda: pledge(memory_ledger, signers["acme"]),
    )


# --- approval policies -----------------------------------------------------------------------


def test_approval_policy_all_needs_every_beneficiary(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, approval="all")
    pledge(memory_ledger, signers["acme"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "30")  # seq 5
    approve(memory_ledger, signers["burgerco"], 5)  # seq 6
    state = memory_ledger.get_state(SLUG)
    assert state.approvals_needed(state.pledges[4]) == 2
    assert state.decisions[5].status == rules.PENDING
    approve(memory_ledger, signers["veggie"], 5)  # seq 7
    decision = memory_ledger.get_state(SLUG).decisions[5]
    assert (decision.status, decision.decided_seq) == (rules.ACCEPTED, 7)


def test_approval_policy_any_needs_one_beneficiary(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, approval="any")
    pledge(memory_ledger, signers["acme"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "30")  # seq 5
    approve(memory_ledger, signers["veggie"], 5)  # seq 6
    decision = memory_ledger.get_state(SLUG).decisions[5]
    assert (decision.status, decision.decided_seq, decision.approvals) == (
        rules.ACCEPTED,
        6,
        {"veggie": 6},
    )


def test_approval_policy_n_needs_n_of_the_beneficiaries(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, invited=("burgerco", "mallory", "veggie"), approval="2")
    pledge(memory_ledger, signers["acme"])  # seq 5, three beneficiaries
    deliver(memory_ledger, signers["acme"], 5, "30")  # seq 6
    state = memory_ledger.get_state(SLUG)
    assert state.pledges[5].beneficiaries == ("burgerco", "mallory", "veggie")
    assert state.approvals_needed(state.pledges[5]) == 2
    approve(memory_ledger, signers["mallory"], 6)  # seq 7
    assert memory_ledger.get_state(SLUG).decisions[6].status == rules.PENDING
    approve(memory_ledger, signers["burgerco"], 6)  # seq 8
    decision = memory_ledger.get_state(SLUG).decisions[6]
    assert (decision.status, decision.decided_seq) == (rules.ACCEPTED, 8)
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "deliverable seq 6 is already accepted (seq 8, by burgerco at 2026-11-22T10:08:00Z)",
        lambda: approve(memory_ledger, signers["veggie"], 6),
    )


def test_approval_policy_n_is_capped_at_the_number_of_beneficiaries(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, approval="2")  # two invitees; this pledge has one beneficiary
    pledge(memory_ledger, signers["acme"], beneficiaries=["burgerco"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "1")  # seq 5
    approve(memory_ledger, signers["burgerco"], 5)  # seq 6
    assert memory_ledger.get_state(SLUG).decisions[5].status == rules.ACCEPTED


# --- amendments and withdrawals --------------------------------------------------------------


def amend(ledger: Ledger, signer: Signer, target: int, **changes: str) -> Receipt:
    return ledger.amend_pledge(
        SLUG,
        target,
        title=changes.get("title"),
        weight=changes.get("weight"),
        due=changes.get("due"),
        reason="scope changed",
        signer=signer,
    )


def test_an_amendment_takes_effect_only_when_approved_per_the_policy(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, approval="all")
    pledge(memory_ledger, signers["acme"])  # seq 4
    amend(memory_ledger, signers["acme"], 4, weight="40", due="2026-12-15")  # seq 5
    state = memory_ledger.get_state(SLUG)
    assert (state.pledges[4].weight, state.pledges[4].due) == (Decimal(30), DUE)
    assert state.pledges[4].pending_amendment == 5
    assert state.pledges[4].amendments == [5]
    amendment = state.decisions[5]
    assert isinstance(amendment, rules.Amendment)
    assert amendment.changes == {"weight": "40", "due": "2026-12-15"}

    approve(memory_ledger, signers["burgerco"], 5)  # seq 6: 1 of 2
    state = memory_ledger.get_state(SLUG)
    assert (state.pledges[4].weight, state.pledges[4].pending_amendment) == (Decimal(30), 5)

    approve(memory_ledger, signers["veggie"], 5)  # seq 7
    state = memory_ledger.get_state(SLUG)
    assert (state.pledges[4].weight, state.pledges[4].due) == (Decimal(40), "2026-12-15")
    assert state.pledges[4].title == "Campaign video"
    assert state.pledges[4].pending_amendment is None
    assert (state.decisions[5].status, state.decisions[5].decided_seq) == (rules.ACCEPTED, 7)


def test_a_rejected_amendment_changes_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    before = copy.deepcopy(memory_ledger.get_state(SLUG).pledges[4])
    amend(memory_ledger, signers["acme"], 4, weight="10", title="Short video")  # seq 5
    approve(memory_ledger, signers["veggie"], 5)  # seq 6
    memory_ledger.reject(SLUG, 5, reason="too little", signer=signers["burgerco"])  # seq 7
    state = memory_ledger.get_state(SLUG)
    after = state.pledges[4]
    assert (after.title, after.weight, after.due) == (before.title, before.weight, before.due)
    assert after.pending_amendment is None
    assert state.decisions[5].status == rules.REJECTED
    assert state.decisions[5].refusal == ("burgerco", 7, "too little")
    # With nothing pending any more, a new amendment may be proposed.
    assert amend(memory_ledger, signers["acme"], 4, weight="35").seq == 8


def test_a_withdrawal_voids_the_pending_amendment(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    amend(memory_ledger, signers["acme"], 4, weight="40")  # seq 5
    receipt = memory_ledger.withdraw_pledge(
        SLUG, 4, reason="we cannot make it", signer=signers["acme"]
    )
    assert receipt.seq == 6
    state = memory_ledger.get_state(SLUG)
    assert (state.pledges[4].status, state.pledges[4].withdrawn_seq) == ("withdrawn", 6)
    assert state.pledges[4].pending_amendment is None
    assert state.pledges[4].weight == Decimal(30)
    assert (state.decisions[5].status, state.decisions[5].decided_seq) == (rules.VOID, 6)
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "amendment seq 5 is already void (seq 6, by acme at 2026-11-22T10:06:00Z)",
        lambda: approve(memory_ledger, signers["burgerco"], 5),
    )


def test_a_second_amendment_waits_for_the_pending_one(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    amend(memory_ledger, signers["acme"], 4, weight="40")  # seq 5
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 already has a pending amendment (seq 5)",
        lambda: amend(memory_ledger, signers["acme"], 4, weight="50"),
    )


def test_an_amendment_that_changes_nothing_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], weight="30")  # seq 4
    refused(
        memory_ledger,
        RuleViolationError,
        "the amendment changes nothing in pledge 4",
        lambda: amend(memory_ledger, signers["acme"], 4, weight="30.0", title="Campaign video"),
    )


# --- statements and close --------------------------------------------------------------------


def test_a_statement_revision_voids_the_signatures(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    memory_ledger.propose_statement(SLUG, title="S", text="v1", signer=signers["acme"])  # 4
    memory_ledger.sign_statement(SLUG, 4, signer=signers["acme"])  # seq 5
    memory_ledger.sign_statement(SLUG, 4, signer=signers["burgerco"])  # seq 6
    memory_ledger.revise_statement(SLUG, 4, text="v2", reason="r", signer=signers["veggie"])
    statement = memory_ledger.get_state(SLUG).statements[4]
    assert (statement.version, statement.text, statement.signatures) == (2, "v2", {})
    receipt = memory_ledger.sign_statement(SLUG, 4, signer=signers["acme"])  # seq 8
    assert receipt.seq == 8
    signed = list(memory_ledger.read_entries(SLUG))[-1].entry
    assert signed.body == {"statement": 4, "version": 2, "text_hash": rules.text_hash("v2")}


def test_close_policy_n_closes_after_n_signatures(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, close="2")
    assert memory_ledger.get_state(SLUG).closes_needed() == 2
    assert close(memory_ledger, signers["veggie"]).status == "active"  # seq 4
    receipt = close(memory_ledger, signers["acme"])  # seq 5
    assert (receipt.seq, receipt.status) == (5, "closed")
    state = memory_ledger.get_state(SLUG)
    assert (state.closed_seq, state.final_head_seq) == (5, 3)
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' is closed (seq 5); nothing more can be added",
        lambda: close(memory_ledger, signers["burgerco"]),
    )


def test_a_non_close_entry_between_close_signatures_voids_them(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, close="all")
    close(memory_ledger, signers["acme"])  # seq 4, head seq 3
    close(memory_ledger, signers["burgerco"])  # seq 5, head seq 3
    assert memory_ledger.get_state(SLUG).close_signatures == {"acme": 4, "burgerco": 5}
    pledge(memory_ledger, signers["veggie"])  # seq 6: a new final head
    state = memory_ledger.get_state(SLUG)
    assert (state.close_signatures, state.final_head_seq) == ({}, 6)
    close(memory_ledger, signers["veggie"])  # seq 7
    close(memory_ledger, signers["burgerco"])  # seq 8
    assert memory_ledger.get_state(SLUG).status == rules.ACTIVE
    receipt = close(memory_ledger, signers["acme"])  # seq 9
    assert (receipt.seq, receipt.status) == (9, "closed")
    signed = list(memory_ledger.read_entries(SLUG))[-1].entry
    assert signed.body == {"head": state.final_head, "head_seq": 6}


def test_a_revoked_member_without_a_key_is_not_needed_to_close(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, close="all")
    memory_ledger.revoke_key(
        SLUG,
        signers["veggie"].fingerprint,
        reason="lost",
        replacement=None,
        signer=signers["veggie"],
    )  # seq 4
    assert memory_ledger.get_state(SLUG).closes_needed() == 2
    close(memory_ledger, signers["acme"])  # seq 5
    assert close(memory_ledger, signers["burgerco"]).status == "closed"  # seq 6


def test_a_close_policy_is_capped_at_the_members_who_can_still_sign(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers, close="3")
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])  # seq 2
    memory_ledger.decline_project(SLUG, reason="no", signer=signers["veggie"])  # seq 3
    state = memory_ledger.get_state(SLUG)
    assert state.joined() == ["acme", "burgerco"]
    assert state.closes_needed() == 2  # close policy 3, but only two members can sign
    receipt = close(memory_ledger, signers["acme"])  # seq 4
    assert (receipt.seq, receipt.status) == (4, "active")
    receipt = close(memory_ledger, signers["burgerco"])  # seq 5: every member signed
    assert (receipt.seq, receipt.status) == (5, "closed")
    assert memory_ledger.get_state(SLUG).closed_seq == 5


def test_a_close_policy_below_the_members_is_not_raised(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, close="2")
    assert memory_ledger.get_state(SLUG).closes_needed() == 2
    assert close(memory_ledger, signers["acme"]).status == "active"  # seq 4
    assert close(memory_ledger, signers["veggie"]).status == "closed"  # seq 5


# --- refusals: membership --------------------------------------------------------------------


def test_a_party_that_was_not_invited_cannot_join(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "'mallory' was not invited to project 'no-whopper-day'",
        lambda: memory_ledger.join_project(SLUG, signer=signers["mallory"]),
    )


def test_a_member_cannot_join_twice(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "'burgerco' has already joined project 'no-whopper-day' "
        "(seq 2, by burgerco at 2026-11-22T10:02:00Z)",
        lambda: memory_ledger.join_project(SLUG, signer=signers["burgerco"]),
    )


def test_the_proposer_cannot_join_its_own_project(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "'acme' has already joined project 'no-whopper-day' "
        "(seq 1, by acme at 2026-11-22T10:01:00Z)",
        lambda: memory_ledger.join_project(SLUG, signer=signers["acme"]),
    )


def test_a_member_that_declined_cannot_join(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.decline_project(SLUG, reason="no budget", signer=signers["veggie"])
    refused(
        memory_ledger,
        RuleViolationError,
        "'veggie' has already declined project 'no-whopper-day'",
        lambda: memory_ledger.join_project(SLUG, signer=signers["veggie"]),
    )


def test_joining_with_another_key_than_the_pinned_one_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    pinned = signers["veggie"].fingerprint
    propose(memory_ledger, signers, pins={"burgerco": pinned})
    refused(
        memory_ledger,
        KeyNotValidError,
        f"key {signers['burgerco'].fingerprint} of 'burgerco' does not match the "
        f"fingerprint pinned in the proposal ({pinned})",
        lambda: memory_ledger.join_project(SLUG, signer=signers["burgerco"]),
    )


def test_joining_with_the_pinned_key_is_accepted(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers, pins={"burgerco": signers["burgerco"].fingerprint})
    assert memory_ledger.join_project(SLUG, signer=signers["burgerco"]).seq == 2
    assert memory_ledger.get_state(SLUG).members["burgerco"].pinned == (
        signers["burgerco"].fingerprint
    )


def test_joining_with_a_key_another_member_uses_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    impostor = Signer(handle="veggie", key_name="x", private_key=signers["acme"].private_key)
    refused(
        memory_ledger,
        KeyNotValidError,
        f"key {signers['acme'].fingerprint} is already used in this project",
        lambda: memory_ledger.join_project(SLUG, signer=impostor),
    )


def test_a_party_that_is_not_a_member_cannot_sign_anything(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "'mallory' is not a member of project 'no-whopper-day'",
        lambda: pledge(memory_ledger, signers["mallory"]),
    )
    refused(
        memory_ledger,
        RuleViolationError,
        "'mallory' is not a member of project 'no-whopper-day'",
        lambda: close(memory_ledger, signers["mallory"]),
    )


def test_an_invited_member_that_has_not_joined_cannot_pledge(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "'veggie' is not a member of project 'no-whopper-day' (invited but has not joined)",
        lambda: pledge(memory_ledger, signers["veggie"]),
    )


def test_nobody_can_act_before_the_project_is_active(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    message = "project 'no-whopper-day' is not active yet: waiting for veggie to join"
    refused(
        memory_ledger, RuleViolationError, message, lambda: pledge(memory_ledger, signers["acme"])
    )
    refused(
        memory_ledger,
        RuleViolationError,
        message,
        lambda: memory_ledger.propose_statement(
            SLUG, title="S", text="T", signer=signers["burgerco"]
        ),
    )
    refused(
        memory_ledger, RuleViolationError, message, lambda: close(memory_ledger, signers["acme"])
    )


def test_a_project_cannot_be_proposed_twice(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' exists already",
        lambda: propose(memory_ledger, signers),
    )


def test_a_project_needs_a_partner(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    with pytest.raises(RuleViolationError) as info:
        propose(memory_ledger, signers, invited=())
    assert info.value.message == "a collaboration needs at least two members"
    assert memory_ledger.list_slugs() == []


def test_an_approval_policy_larger_than_the_invitees_is_refused_at_propose_time(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    with pytest.raises(UsageError) as info:
        propose(memory_ledger, signers, approval="3")
    assert info.value.message == (
        "approval policy 3 is more than the 2 invited members other than the proposer"
    )
    assert info.value.hint == "use all, any or a number up to 2"
    assert memory_ledger.list_slugs() == []


def test_a_close_policy_larger_than_the_membership_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    with pytest.raises(UsageError) as info:
        propose(memory_ledger, signers, close="4")
    assert info.value.message == "close policy 4 is more than the 3 members"
    assert memory_ledger.list_slugs() == []


# --- refusals: pledges -----------------------------------------------------------------------


def test_a_pledge_cannot_benefit_its_promisor(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "a pledge's beneficiaries are the other members, not its promisor",
        lambda: pledge(memory_ledger, signers["acme"], beneficiaries=["acme", "veggie"]),
    )


def test_a_pledge_to_a_non_member_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        NotFoundError,
        "beneficiary 'mallory' is not a member of project 'no-whopper-day'",
        lambda: pledge(memory_ledger, signers["acme"], beneficiaries=["mallory"]),
    )


def test_a_member_cannot_amend_someone_elses_pledge(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 belongs to 'acme'; only its promisor can amend it",
        lambda: amend(memory_ledger, signers["burgerco"], 4, weight="1"),
    )


def test_a_member_cannot_withdraw_someone_elses_pledge(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 belongs to 'acme'; only its promisor can withdraw it",
        lambda: memory_ledger.withdraw_pledge(SLUG, 4, reason="r", signer=signers["veggie"]),
    )


def test_a_member_cannot_deliver_on_someone_elses_pledge(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 belongs to 'acme'; only its promisor can deliver on it",
        lambda: deliver(memory_ledger, signers["veggie"], 4, "1"),
    )


def test_nobody_can_deliver_on_a_withdrawn_pledge(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    memory_ledger.withdraw_pledge(SLUG, 4, reason="r", signer=signers["acme"])  # seq 5
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 was withdrawn at seq 5",
        lambda: deliver(memory_ledger, signers["acme"], 4, "1"),
    )
    refused(
        memory_ledger,
        RuleViolationError,
        "pledge 4 was withdrawn at seq 5",
        lambda: memory_ledger.withdraw_pledge(SLUG, 4, reason="again", signer=signers["acme"]),
    )


def test_delivering_on_a_seq_that_is_not_a_pledge_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "seq 2 is a join, not a pledge",
        lambda: deliver(memory_ledger, signers["acme"], 2, "1"),
    )
    refused(
        memory_ledger,
        NotFoundError,
        "no entry at seq 42 in project 'no-whopper-day'",
        lambda: deliver(memory_ledger, signers["acme"], 42, None),
    )


# --- refusals: approvals ---------------------------------------------------------------------


@pytest.fixture
def delivered(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """Active project; acme pledged at seq 4 and delivered at seq 5 (policy "all")."""
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])
    deliver(memory_ledger, signers["acme"], 4, "30")
    return memory_ledger


def test_a_member_cannot_approve_its_own_deliverable(
    delivered: Ledger, signers: dict[str, Signer]
) -> None:
    refused(
        delivered,
        RuleViolationError,
        "'acme' cannot approve or reject its own deliverable (seq 5)",
        lambda: approve(delivered, signers["acme"], 5),
    )
    refused(
        delivered,
        RuleViolationError,
        "'acme' cannot approve or reject its own deliverable (seq 5)",
        lambda: delivered.reject(SLUG, 5, reason="bad", signer=signers["acme"]),
    )


def test_a_beneficiary_cannot_approve_twice(delivered: Ledger, signers: dict[str, Signer]) -> None:
    approve(delivered, signers["burgerco"], 5)  # seq 6
    refused(
        delivered,
        AlreadyDecidedError,
        "'burgerco' already approved seq 5 (seq 6, by burgerco at 2026-11-22T10:06:00Z)",
        lambda: approve(delivered, signers["burgerco"], 5),
    )
    refused(
        delivered,
        AlreadyDecidedError,
        "'burgerco' already approved seq 5 (seq 6, by burgerco at 2026-11-22T10:06:00Z)",
        lambda: delivered.reject(SLUG, 5, reason="changed my mind", signer=signers["burgerco"]),
    )


def test_a_member_that_is_not_a_beneficiary_cannot_approve(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], beneficiaries=["burgerco"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "1")  # seq 5
    refused(
        memory_ledger,
        RuleViolationError,
        "'veggie' is not a beneficiary of pledge 4; only its beneficiaries (burgerco) decide on it",
        lambda: approve(memory_ledger, signers["veggie"], 5),
    )


def test_an_accepted_deliverable_cannot_be_approved_again(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, approval="any")
    pledge(memory_ledger, signers["acme"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "1")  # seq 5
    approve(memory_ledger, signers["burgerco"], 5)  # seq 6
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "deliverable seq 5 is already accepted (seq 6, by burgerco at 2026-11-22T10:06:00Z)",
        lambda: approve(memory_ledger, signers["veggie"], 5),
    )
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "deliverable seq 5 is already accepted (seq 6, by burgerco at 2026-11-22T10:06:00Z)",
        lambda: memory_ledger.reject(SLUG, 5, reason="late", signer=signers["veggie"]),
    )


def test_a_rejected_deliverable_cannot_be_approved(
    delivered: Ledger, signers: dict[str, Signer]
) -> None:
    delivered.reject(SLUG, 5, reason="not good enough", signer=signers["veggie"])  # seq 6
    refused(
        delivered,
        AlreadyDecidedError,
        "deliverable seq 5 is already rejected (seq 6, by veggie at 2026-11-22T10:06:00Z)",
        lambda: approve(delivered, signers["burgerco"], 5),
    )


def test_approving_a_pledge_is_refused(delivered: Ledger, signers: dict[str, Signer]) -> None:
    refused(
        delivered,
        RuleViolationError,
        "seq 4 is a pledge, not a deliverable, an amendment, a close-short or a value proposal",
        lambda: approve(delivered, signers["burgerco"], 4),
    )


def test_approving_a_seq_that_does_not_exist_is_refused(
    delivered: Ledger, signers: dict[str, Signer]
) -> None:
    error = refused(
        delivered,
        NotFoundError,
        "no entry at seq 99 in project 'no-whopper-day'",
        lambda: approve(delivered, signers["burgerco"], 99),
    )
    assert error.seq == 6
    refused(
        delivered,
        NotFoundError,
        "no entry at seq 6 in project 'no-whopper-day'",
        lambda: delivered.reject(SLUG, 6, reason="r", signer=signers["burgerco"]),
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(
    delivered: Ledger, signers: dict[str, Signer], reason: str
) -> None:
    refused(
        delivered,
        UsageError,
        "the reason must not be empty",
        lambda: delivered.reject(SLUG, 5, reason=reason, signer=signers["burgerco"]),
    )


SEQS_HINT = "seqs are whole numbers from 1"


@pytest.mark.parametrize("seq", [0, -1])
def test_approving_seq_zero_or_below_is_a_usage_or_not_found_error(
    delivered: Ledger, signers: dict[str, Signer], seq: int
) -> None:
    error = refused(
        delivered,
        UsageError,
        f"target {seq} is not a seq",
        lambda: approve(delivered, signers["burgerco"], seq),
    )
    assert error.hint == SEQS_HINT


def test_delivering_on_seq_zero_is_a_usage_or_not_found_error(
    delivered: Ledger, signers: dict[str, Signer]
) -> None:
    error = refused(
        delivered,
        UsageError,
        "pledge 0 is not a seq",
        lambda: deliver(delivered, signers["acme"], 0, "1"),
    )
    assert error.hint == SEQS_HINT


@pytest.mark.parametrize(
    ("what", "action"),
    [
        ("target", lambda led, s, n: led.reject(SLUG, n, reason="r", signer=s["burgerco"])),
        ("pledge", lambda led, s, n: deliver(led, s["acme"], n, None)),
        ("pledge", lambda led, s, n: led.amend_pledge(
            SLUG, n, weight="2", due=None, title=None, reason="r", signer=s["acme"])),
        ("pledge", lambda led, s, n: led.withdraw_pledge(SLUG, n, reason="r", signer=s["acme"])),
        ("statement", lambda led, s, n: led.sign_statement(SLUG, n, signer=s["veggie"])),
        ("statement", lambda led, s, n: led.revise_statement(
            SLUG, n, text="v2", reason="r", signer=s["acme"])),
    ],
    ids=["reject", "deliver", "amend", "withdraw", "sign", "revise"],
)  # fmt: skip
@pytest.mark.parametrize("seq", [0, -3])
def test_every_seq_argument_below_one_is_a_usage_error(
    delivered: Ledger,
    signers: dict[str, Signer],
    what: str,
    action: Callable[[Ledger, dict[str, Signer], int], Any],
    seq: int,
) -> None:
    error = refused(
        delivered,
        UsageError,
        f"{what} {seq} is not a seq",
        lambda: action(delivered, signers, seq),
    )
    assert error.hint == SEQS_HINT


# --- refusals: statements and close ----------------------------------------------------------


def test_a_member_cannot_sign_a_statement_twice(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    memory_ledger.propose_statement(SLUG, title="S", text="v1", signer=signers["acme"])  # 4
    memory_ledger.sign_statement(SLUG, 4, signer=signers["veggie"])  # seq 5
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "'veggie' already signed version 1 of statement 4 "
        "(seq 5, by veggie at 2026-11-22T10:05:00Z)",
        lambda: memory_ledger.sign_statement(SLUG, 4, signer=signers["veggie"]),
    )


def test_signing_a_stale_version_of_a_statement_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    memory_ledger.propose_statement(SLUG, title="S", text="v1", signer=signers["acme"])  # 4
    memory_ledger.revise_statement(SLUG, 4, text="v2", reason="r", signer=signers["acme"])  # 5
    # The Ledger always signs the current version; a stale signature has to be built by hand.
    project = memory_ledger._get_project(SLUG)
    state = memory_ledger.get_state(SLUG)
    stale = build(
        state,
        signers["veggie"],
        "statement.signed",
        {
            "statement": 4,
            "version": 1,
            "text_hash": rules.text_hash("v1"),
        },
    )
    refused(
        memory_ledger,
        RuleViolationError,
        "statement 4 is at version 2, not version 1",
        lambda: project.append(stale, state=state),
    )
    wrong_text = build(
        state,
        signers["veggie"],
        "statement.signed",
        {
            "statement": 4,
            "version": 2,
            "text_hash": rules.text_hash("v1"),
        },
    )
    refused(
        memory_ledger,
        RuleViolationError,
        "the signed text hash does not match statement 4",
        lambda: project.append(wrong_text, state=state),
    )


def test_signing_a_seq_that_is_not_a_statement_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        "seq 3 is a join, not a statement",
        lambda: memory_ledger.sign_statement(SLUG, 3, signer=signers["acme"]),
    )


def test_a_revision_must_change_the_text(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    start(memory_ledger, signers)
    memory_ledger.propose_statement(SLUG, title="S", text="v1", signer=signers["acme"])  # 4
    refused(
        memory_ledger,
        RuleViolationError,
        "the revision does not change the text of statement 4",
        lambda: memory_ledger.revise_statement(
            SLUG, 4, text="v1", reason="r", signer=signers["burgerco"]
        ),
    )


def test_a_member_cannot_close_twice_on_the_same_head(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    close(memory_ledger, signers["acme"])  # seq 4
    refused(
        memory_ledger,
        AlreadyDecidedError,
        "'acme' already signed the close of head seq 3 (seq 4, by acme at 2026-11-22T10:04:00Z)",
        lambda: close(memory_ledger, signers["acme"]),
    )


@pytest.mark.parametrize(
    "action",
    [
        "pledge",
        "deliver",
        "approve",
        "statement",
        "close",
        "rotate",
        "join",
    ],
)
def test_no_entry_of_any_kind_is_accepted_after_close(
    memory_ledger: Ledger, signers: dict[str, Signer], action: str
) -> None:
    start(memory_ledger, signers, close="2")
    pledge(memory_ledger, signers["acme"])  # seq 4
    deliver(memory_ledger, signers["acme"], 4, "1")  # seq 5
    close(memory_ledger, signers["acme"])  # seq 6
    close(memory_ledger, signers["burgerco"])  # seq 7: closed
    actions: dict[str, Callable[[], Any]] = {
        "pledge": lambda: pledge(memory_ledger, signers["veggie"]),
        "deliver": lambda: deliver(memory_ledger, signers["acme"], 4, "1"),
        "approve": lambda: approve(memory_ledger, signers["veggie"], 5),
        "statement": lambda: memory_ledger.propose_statement(
            SLUG, title="S", text="T", signer=signers["veggie"]
        ),
        "close": lambda: close(memory_ledger, signers["veggie"]),
        "rotate": lambda: memory_ledger.rotate_key(
            SLUG,
            new_public_key=fresh_signer("veggie", 9).public_key_line,
            signer=signers["veggie"],
        ),
        "join": lambda: memory_ledger.join_project(SLUG, signer=signers["mallory"]),
    }
    refused(
        memory_ledger,
        RuleViolationError,
        "project 'no-whopper-day' is closed (seq 7); nothing more can be added",
        actions[action],
    )


# --- refusals: keys --------------------------------------------------------------------------


def test_after_rotation_the_old_key_is_refused_and_the_new_one_signs(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    old, new = signers["acme"], fresh_signer("acme", 9)
    receipt = memory_ledger.rotate_key(SLUG, new_public_key=new.public_key_line, signer=old)
    assert (receipt.seq, receipt.type, receipt.key) == (4, "key.rotated", old.fingerprint)
    member = memory_ledger.get_state(SLUG).members["acme"]
    assert member.current_keys() == {new.fingerprint: new.public_key_line}
    assert member.signers["acme"].since_seq == 4  # the seat keeps its label
    assert member.keys == [old.fingerprint, new.fingerprint]
    error = refused(
        memory_ledger,
        KeyNotValidError,
        f"key {old.fingerprint} was replaced by a newer key",
        lambda: pledge(memory_ledger, old),
    )
    assert error.seq == 5
    assert pledge(memory_ledger, new).key == new.fingerprint


def test_a_rotation_cannot_reuse_an_old_key(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    old, new = signers["acme"], fresh_signer("acme", 9)
    memory_ledger.rotate_key(SLUG, new_public_key=new.public_key_line, signer=old)  # seq 4
    # A key used before is a rule violation (exit 4, ADR 0011), with a hint, for the
    # party's own old key and for another party's key alike.
    error = refused(
        memory_ledger,
        RuleViolationError,
        f"key {old.fingerprint} was used in this project before (by 'acme'); a key serves "
        "one signer only",
        lambda: memory_ledger.rotate_key(SLUG, new_public_key=old.public_key_line, signer=new),
    )
    assert (error.seq, error.hint) == (
        5,
        "each person signs with a key of their own: `accord key new NAME`",
    )
    error = refused(
        memory_ledger,
        RuleViolationError,
        f"key {signers['veggie'].fingerprint} was used in this project before (by 'veggie'); "
        "a key serves one signer only",
        lambda: memory_ledger.rotate_key(
            SLUG, new_public_key=signers["veggie"].public_key_line, signer=new
        ),
    )
    assert (error.seq, error.hint) == (
        5,
        "each person signs with a key of their own: `accord key new NAME`",
    )
    error = refused(
        memory_ledger,
        RuleViolationError,
        f"key {signers['burgerco'].fingerprint} was used in this project before (by "
        "'burgerco'); a key serves one signer only",
        lambda: memory_ledger.revoke_key(
            SLUG,
            new.fingerprint,
            reason="leaked",
            replacement=signers["burgerco"].public_key_line,
            signer=new,
        ),
    )
    assert error.hint == "each person signs with a key of their own: `accord key new NAME`"


def test_a_revoked_key_is_refused_with_the_seq_of_its_revocation(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    veggie = signers["veggie"]
    receipt = memory_ledger.revoke_key(
        SLUG, veggie.fingerprint, reason="laptop stolen", replacement=None, signer=veggie
    )
    assert receipt.seq == 4
    state = memory_ledger.get_state(SLUG)
    assert state.revoked == {veggie.fingerprint: 4}
    assert state.members["veggie"].signers == {}
    refused(
        memory_ledger,
        KeyNotValidError,
        f"key {veggie.fingerprint} was revoked at seq 4",
        lambda: pledge(memory_ledger, veggie),
    )


def test_a_revocation_may_name_the_replacement_key(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    veggie, replacement = signers["veggie"], fresh_signer("veggie", 9)
    memory_ledger.revoke_key(
        SLUG,
        veggie.fingerprint,
        reason="laptop stolen",
        replacement=replacement.public_key_line,
        signer=veggie,
    )  # seq 4
    member = memory_ledger.get_state(SLUG).members["veggie"]
    assert member.current_keys() == {replacement.fingerprint: replacement.public_key_line}
    assert list(member.signers) == ["veggie"]
    refused(
        memory_ledger,
        KeyNotValidError,
        f"key {veggie.fingerprint} was revoked at seq 4",
        lambda: pledge(memory_ledger, veggie),
    )
    assert pledge(memory_ledger, replacement).seq == 5


def test_a_member_can_only_revoke_the_key_it_signs_with(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    refused(
        memory_ledger,
        RuleViolationError,
        f"'acme' can only revoke the key it signs with ({signers['acme'].fingerprint})",
        lambda: memory_ledger.revoke_key(
            SLUG,
            signers["burgerco"].fingerprint,
            reason="hostile takeover",
            replacement=None,
            signer=signers["acme"],
        ),
    )


# --- rules.apply on hand-built entries -------------------------------------------------------


def build(
    state: rules.ProjectState,
    signer: Signer,
    kind: str,
    body: dict[str, Any],
    **envelope: Any,
) -> entry.SignedEntry:
    """Sign the next entry after ``state``; ``envelope`` overrides any envelope field, and
    ``private_key`` signs with another key than the signer's."""
    private_key = envelope.pop("private_key", signer.private_key)
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
    data.update(envelope)
    return entry.sign(data, private_key)


def pledge_body(beneficiaries: list[str]) -> dict[str, Any]:
    return {
        "title": "By hand",
        "weight": "3",
        "unit": "hours",
        "due": DUE,
        "beneficiaries": beneficiaries,
    }


@pytest.fixture
def active_state(memory_ledger: Ledger, signers: dict[str, Signer]) -> rules.ProjectState:
    """The state after propose (1), two joins (2, 3), a pledge (4) and a deliverable (5)."""
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])
    deliver(memory_ledger, signers["acme"], 4, "30")
    return memory_ledger.get_state(SLUG)


def refused_by_apply(
    state: rules.ProjectState, item: entry.SignedEntry, error: type[LedgerError], message: str
) -> LedgerError:
    before = copy.deepcopy(state)
    with pytest.raises(error) as info:
        rules.apply(state, item)
    assert type(info.value) is error
    assert info.value.message == message
    assert state == before
    return info.value


def test_apply_advances_the_state_with_a_valid_hand_built_entry(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(active_state, signers["veggie"], "pledge.made", pledge_body(["acme"]))
    result = rules.apply(active_state, item)
    assert result is active_state
    assert (active_state.seq, active_state.head) == (6, item.hash)
    assert (active_state.final_head, active_state.final_head_seq) == (item.hash, 6)
    assert active_state.types[6] == "pledge.made"
    assert active_state.pledges[6].beneficiaries == ("acme",)


def test_apply_refuses_a_wrong_seq(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    for seq in (5, 7):
        item = build(active_state, signers["veggie"], "pledge.made", pledge_body(["acme"]), seq=seq)
        error = refused_by_apply(
            active_state, item, VerificationError, f"expected seq 6, found seq {seq}"
        )
        assert error.seq == seq


def test_apply_refuses_a_wrong_prev(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(
        active_state, signers["veggie"], "pledge.made", pledge_body(["acme"]), prev="f" * 64
    )
    refused_by_apply(
        active_state, item, VerificationError, "prev of seq 6 does not match the hash of seq 5"
    )


def test_apply_refuses_an_entry_of_another_project(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(
        active_state, signers["veggie"], "pledge.made", pledge_body(["acme"]), project="other"
    )
    refused_by_apply(
        active_state,
        item,
        VerificationError,
        "entry belongs to project 'other', not 'no-whopper-day'",
    )


def test_apply_refuses_a_malformed_body(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    body = pledge_body(["acme"])
    del body["unit"]
    item = build(active_state, signers["veggie"], "pledge.made", body)
    refused_by_apply(
        active_state,
        item,
        VerificationError,
        "pledge.made body is malformed (missing ['unit'], extra [])",
    )


def test_apply_refuses_a_stream_that_does_not_start_with_a_proposal(
    signers: dict[str, Signer],
) -> None:
    state = rules.new_state(SLUG)
    item = build(state, signers["acme"], "pledge.made", pledge_body(["burgerco"]))
    assert item.seq == 1
    refused_by_apply(
        state, item, VerificationError, "a stream starts with project.proposed, and only once"
    )


def test_apply_refuses_a_second_proposal(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    body = {
        "title": "Again",
        "purpose": "",
        "members": [
            {"handle": "acme", "key": acme.fingerprint},
            {"handle": "burgerco", "key": None},
        ],
        "approval": "all",
        "close": "all",
        "public_key": acme.public_key_line,
    }
    item = build(active_state, acme, "project.proposed", body)
    refused_by_apply(
        active_state,
        item,
        VerificationError,
        "a stream starts with project.proposed, and only once",
    )


def test_apply_refuses_a_signature_made_with_another_partys_key(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    veggie = signers["veggie"]
    item = build(
        active_state,
        veggie,
        "pledge.made",
        pledge_body(["acme"]),
        private_key=signers["mallory"].private_key,
    )
    refused_by_apply(
        active_state,
        item,
        SignatureInvalidError,
        f"signature of seq 6 does not verify with key {veggie.fingerprint}",
    )


def test_apply_refuses_an_entry_whose_key_is_not_the_members_key(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    mallory = signers["mallory"]
    item = build(
        active_state,
        signers["veggie"],
        "pledge.made",
        pledge_body(["acme"]),
        key=mallory.fingerprint,
        private_key=mallory.private_key,
    )
    refused_by_apply(
        active_state,
        item,
        KeyNotValidError,
        f"key {mallory.fingerprint} is not a current key of 'veggie'",
    )


def test_apply_refuses_a_proposal_whose_key_does_not_match_its_public_key(
    signers: dict[str, Signer],
) -> None:
    acme, mallory = signers["acme"], signers["mallory"]
    body = {
        "title": "T",
        "purpose": "",
        "members": [
            {"handle": "acme", "key": acme.fingerprint},
            {"handle": "burgerco", "key": None},
        ],
        "approval": "all",
        "close": "all",
        "public_key": mallory.public_key_line,
    }
    state = rules.new_state(SLUG)
    item = build(state, acme, "project.proposed", body)
    refused_by_apply(
        state,
        item,
        KeyNotValidError,
        f"entry names key {acme.fingerprint} but carries a different public key",
    )


def test_apply_refuses_a_validly_signed_entry_that_breaks_a_rule(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(
        active_state,
        signers["acme"],
        "approval.given",
        {"target": 5, "target_hash": active_state.decisions[5].hash, "comment": ""},
    )
    error = refused_by_apply(
        active_state,
        item,
        RuleViolationError,
        "'acme' cannot approve or reject its own deliverable (seq 5)",
    )
    assert error.seq == 6


def test_apply_refuses_an_approval_that_names_the_wrong_target_hash(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(
        active_state,
        signers["burgerco"],
        "approval.given",
        {"target": 5, "target_hash": "a" * 64, "comment": ""},
    )
    refused_by_apply(
        active_state,
        item,
        RuleViolationError,
        "the target hash does not match the hash of seq 5",
    )


def test_apply_refuses_a_close_signature_on_a_stale_head(
    active_state: rules.ProjectState, signers: dict[str, Signer]
) -> None:
    item = build(
        active_state,
        signers["burgerco"],
        "close.signed",
        {"head": "b" * 64, "head_seq": 4},
    )
    refused_by_apply(
        active_state,
        item,
        RuleViolationError,
        "the close signature names head seq 4, but the final head is seq 5",
    )


def test_apply_refuses_a_join_that_accepted_other_terms(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose(memory_ledger, signers)
    state = memory_ledger.get_state(SLUG)
    burgerco = signers["burgerco"]
    item = build(
        state,
        burgerco,
        "member.joined",
        {"terms": "c" * 64, "public_key": burgerco.public_key_line},
    )
    refused_by_apply(
        state,
        item,
        RuleViolationError,
        "the joining member accepted different terms (terms hash mismatch)",
    )


def test_replaying_the_stored_entries_gives_the_ledgers_state(
    active_state: rules.ProjectState, memory_ledger: Ledger
) -> None:
    entries = [stored.entry for stored in memory_ledger.read_entries(SLUG)]
    assert rules.replay(SLUG, entries) == active_state
    assert rules.replay(SLUG, entries) == memory_ledger.get_state(SLUG)
    with pytest.raises(VerificationError) as info:
        rules.replay(SLUG, entries[:2] + entries[3:])
    assert info.value.message == "expected seq 3, found seq 4"
