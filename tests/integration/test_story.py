"""One collaboration, told as a story, on the in-memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import pytest

from ledger import rules
from ledger.application import Evidence, Ledger
from ledger.errors import RuleViolationError
from ledger.rules.guards import OpenPledgesError

HEAD = "d75d15cfe2e9e0ced63e799cdde8a8d02c9bfa745414e00842eba304e55c8459"


def test_a_joint_campaign_from_proposal_to_close(ledger: Ledger, signers, tmp_path) -> None:
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    slug = "no-whopper-day"

    # Acme proposes; veggie's key is pinned by fingerprint.
    receipt = ledger.propose_project(
        slug,
        title="No Whopper Day",
        purpose="A joint campaign",
        members={"burgerco": None, "veggie": veggie.fingerprint},
        approval="all",
        close="all",
        signer=acme,
    )
    assert (receipt.seq, receipt.type, receipt.status) == (1, "project.proposed", "proposed")
    assert ledger.join_project(slug, signer=burgerco).status == "proposed"
    assert ledger.join_project(slug, signer=veggie).status == "active"

    # Pledges in three units.
    hours = ledger.add_pledge(
        slug, title="Design", weight="40", unit="hours", due="2026-12-06",
        beneficiaries=None, signer=acme,
    )  # fmt: skip
    euros = ledger.add_pledge(
        slug, title="Media", weight="20000", unit="eur", due="2026-12-13",
        beneficiaries=None, signer=burgerco,
    )  # fmt: skip
    posts = ledger.add_pledge(
        slug, title="Posts", weight="12", unit="posts", due="2026-12-02",
        beneficiaries=["acme"], signer=veggie,
    )  # fmt: skip
    assert (hours.seq, euros.seq, posts.seq) == (4, 5, 6)

    # A delivery with evidence, approved by both beneficiaries.
    evidence = tmp_path / "posters.txt"
    evidence.write_bytes(b"posters\n")
    delivered = ledger.deliver(
        slug, 4, summary="Posters", quantity="25",
        evidence=[Evidence.of_file(evidence)], signer=acme,
    )  # fmt: skip
    ledger.approve(slug, delivered.seq, comment="good", signer=burgerco)
    ledger.approve(slug, delivered.seq, comment="", signer=veggie)

    # A rejection and a redelivery of veggie's posts; only acme is a beneficiary.
    first = ledger.deliver(slug, 6, summary="6 posts", quantity="6", evidence=[], signer=veggie)
    with pytest.raises(RuleViolationError, match="not a beneficiary of pledge 6"):
        ledger.approve(slug, first.seq, comment="", signer=burgerco)
    ledger.reject(slug, first.seq, reason="old logo", signer=acme)
    second = ledger.deliver(slug, 6, summary="6 posts", quantity="6", evidence=[], signer=veggie)
    ledger.approve(slug, second.seq, comment="", signer=acme)

    # An amendment that takes effect only when both beneficiaries approve.
    amended = ledger.amend_pledge(
        slug, 5, title=None, weight="15000", due=None, reason="budget cut", signer=burgerco
    )
    ledger.approve(slug, amended.seq, comment="", signer=acme)
    assert str(ledger.get_state(slug).pledges[5].weight) == "20000"
    ledger.approve(slug, amended.seq, comment="", signer=veggie)
    assert str(ledger.get_state(slug).pledges[5].weight) == "15000"

    # A statement everyone signs, then the close.
    statement = ledger.propose_statement(
        slug, title="Joint", text="We stand together.", signer=acme
    )
    for party in (acme, burgerco, veggie):
        ledger.sign_statement(slug, statement.seq, signer=party)
    # Three pledges are still open: each closer says it closes over them, by seq.
    head = ledger.get_state(slug).seq
    with pytest.raises(OpenPledgesError) as refused:
        ledger.sign_close(slug, signer=acme)
    assert (refused.value.pledges, ledger.get_state(slug).seq) == ([4, 5, 6], head)
    receipts = [
        ledger.sign_close(slug, signer=party, accept_open=[4, 5, 6])
        for party in (acme, burgerco, veggie)
    ]
    assert [r.status for r in receipts] == ["active", "active", "closed"]

    state = ledger.get_state(slug)
    assert state.status == rules.CLOSED
    assert state.seq == receipts[-1].seq == 23
    assert sorted(state.statements[statement.seq].signatures) == ["acme", "burgerco", "veggie"]
    accepted = [d for d in state.decisions.values() if d.status == rules.ACCEPTED]
    assert [d.seq for d in accepted] == [7, 12, 14]
    with pytest.raises(RuleViolationError, match="is closed"):
        ledger.add_pledge(
            slug, title="Late", weight="1", unit="hours", due="2026-12-31",
            beneficiaries=None, signer=acme,
        )  # fmt: skip
    stored = list(ledger.read_entries(slug))
    assert [s.entry.seq for s in stored] == list(range(1, 24))
    assert stored[-1].entry.hash == state.head
    # Fixed keys and a fixed clock: every store holds the very same bytes.
    assert state.head == HEAD
    assert ledger.list_slugs() == [slug]
