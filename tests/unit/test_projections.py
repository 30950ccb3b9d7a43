"""The read side on one hand-computed collaboration: obligations, contributions, statements,
the audit trail (also over a tampered SQLite row) and time travel.

The ``memory_ledger`` clock claims 2026-11-22T10:00:00Z plus one minute per entry, so every
entry of the main scenario is claimed on 2026-11-22 (seq n at 10:n minutes); due dates
around that day give late, overdue and on-time pledges. Every expected number below was
worked out by hand from the scenario, not copied from the code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import entry as entry_mod
from ledger import rules, storage
from ledger.application import Evidence, Ledger
from ledger.errors import NotFoundError, UsageError, VerificationError
from ledger.keys import Signer
from projections import audit
from projections.contributions import Contribution, contributions, ratio_text
from projections.obligations import Obligation, obligations
from projections.replay import AsOf, Replay
from projections.statements import statement_detail, statement_rows

SLUG = "joint-campaign"
TODAY = date(2026, 11, 22)
EVIDENCE = Evidence(name="designs.pdf", sha256=hashlib.sha256(b"designs").hexdigest(), size=2048)
V1 = "We did it together."
V2 = "We did it together, all three of us."


def build_campaign(ledger: Ledger, signers: dict[str, Signer]) -> None:
    """The main scenario: 39 entries, all claimed on 2026-11-22 (seq n at 10:n).

    | seq | entry                                                                  |
    |-----|------------------------------------------------------------------------|
    | 1-3 | acme proposes (approval all, close all); burgerco and veggie join      |
    | 4   | acme pledges "Campaign design" 40 hours to burgerco, due 2026-11-21    |
    | 5   | acme pledges "Media budget" 1000 eur to burgerco+veggie, due 11-30     |
    | 6   | burgerco pledges "Launch posts" 10 posts to acme, due 2026-11-22       |
    | 7   | burgerco pledges "Brand review" 5 hours to acme, due 2026-11-25        |
    | 8   | veggie pledges "Recipe video" 20 hours to acme, due 2026-11-20         |
    | 9   | veggie pledges "Flyers" 50 posts to acme, due 2026-12-01               |
    | 10  | acme pledges "Press copy" 8 hours to veggie, due 2026-12-10            |
    | 11  | acme delivers 25 hours on 4; 12 burgerco approves                      |
    | 13  | acme delivers 15 hours on 4 (evidence); 14 burgerco approves: 1 day late|
    | 15  | acme delivers 400 eur on 5; 16 burgerco and 17 veggie approve          |
    | 18  | acme delivers 100 eur on 5 (awaits a decision)                         |
    | 19  | burgerco delivers 10 posts on 6; 20 acme approves: fulfilled on time   |
    | 21  | burgerco withdraws 7                                                   |
    | 22  | veggie delivers 20 hours on 8; 23 acme rejects it                      |
    | 24  | veggie delivers 4 posts on 9; 25 acme approves                         |
    | 26  | veggie asks to amend 9 to 60 posts (stays pending)                     |
    | 27  | acme asks to amend 10 to 12 hours; 28 veggie approves                  |
    | 29  | burgerco approves 18 (one of two approvals needed: still pending)      |
    | 30  | acme proposes statement "Joint statement"; 31 burgerco, 32 acme sign   |
    | 33  | veggie revises 30 (signatures void); 34 burgerco signs version 2       |
    | 35  | veggie proposes statement "Thanks"; 36 acme, 37 burgerco, 38 veggie sign|
    | 39  | acme signs the close (one of three)                                    |
    """
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    ledger.propose_project(
        SLUG, title="Joint campaign", purpose="Three brands, one message",
        members={"burgerco": None, "veggie": None}, approval="all", close="all", signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)

    def pledge(signer: Signer, title: str, weight: str, unit: str, due: str, to: list[str] | None):
        return ledger.add_pledge(
            SLUG, title=title, weight=weight, unit=unit, due=due, beneficiaries=to, signer=signer
        ).seq

    assert pledge(acme, "Campaign design", "40", "hours", "2026-11-21", ["burgerco"]) == 4
    assert pledge(acme, "Media budget", "1000", "eur", "2026-11-30", None) == 5
    assert pledge(burgerco, "Launch posts", "10", "posts", "2026-11-22", ["acme"]) == 6
    assert pledge(burgerco, "Brand review", "5", "hours", "2026-11-25", ["acme"]) == 7
    assert pledge(veggie, "Recipe video", "20", "hours", "2026-11-20", ["acme"]) == 8
    assert pledge(veggie, "Flyers", "50", "posts", "2026-12-01", ["acme"]) == 9
    assert pledge(acme, "Press copy", "8", "hours", "2026-12-10", ["veggie"]) == 10

    def deliver(signer: Signer, on: int, quantity: str, summary: str, evidence=()) -> int:
        return ledger.deliver(
            SLUG, on, summary=summary, quantity=quantity, evidence=list(evidence), signer=signer
        ).seq

    def approve(signer: Signer, target: int, comment: str = "") -> int:
        return ledger.approve(SLUG, target, comment=comment, signer=signer).seq

    assert deliver(acme, 4, "25", "First designs") == 11
    assert approve(burgerco, 11) == 12
    assert deliver(acme, 4, "15", "Final designs", [EVIDENCE]) == 13
    assert approve(burgerco, 13, "Looks great") == 14
    assert deliver(acme, 5, "400", "Radio spots") == 15
    assert approve(burgerco, 15) == 16
    assert approve(veggie, 15) == 17
    assert deliver(acme, 5, "100", "Posters") == 18
    assert deliver(burgerco, 6, "10", "Ten posts") == 19
    assert approve(acme, 19) == 20
    assert (
        ledger.withdraw_pledge(SLUG, 7, reason="Covered by the agency", signer=burgerco).seq == 21
    )
    assert deliver(veggie, 8, "20", "The video") == 22
    assert ledger.reject(SLUG, 22, reason="Wrong format", signer=acme).seq == 23
    assert deliver(veggie, 9, "4", "First flyers") == 24
    assert approve(acme, 24) == 25
    amend = ledger.amend_pledge(
        SLUG, 9, title=None, weight="60", due=None, reason="Two more towns", signer=veggie
    )
    assert amend.seq == 26
    amend = ledger.amend_pledge(
        SLUG, 10, title=None, weight="12", due=None, reason="Longer copy", signer=acme
    )
    assert amend.seq == 27
    assert approve(veggie, 27) == 28
    assert approve(burgerco, 18) == 29
    assert ledger.propose_statement(SLUG, title="Joint statement", text=V1, signer=acme).seq == 30
    assert ledger.sign_statement(SLUG, 30, signer=burgerco).seq == 31
    assert ledger.sign_statement(SLUG, 30, signer=acme).seq == 32
    revised = ledger.revise_statement(SLUG, 30, text=V2, reason="Name everyone", signer=veggie)
    assert revised.seq == 33
    assert ledger.sign_statement(SLUG, 30, signer=burgerco).seq == 34
    assert (
        ledger.propose_statement(SLUG, title="Thanks", text="Thank you.", signer=veggie).seq == 35
    )
    for seq, party in ((36, "acme"), (37, "burgerco"), (38, "veggie")):
        assert ledger.sign_statement(SLUG, 35, signer=signers[party]).seq == seq
    assert ledger.sign_close(SLUG, signer=acme, accept_open=[5, 8, 9, 10]).seq == 39


@pytest.fixture
def campaign(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    build_campaign(memory_ledger, signers)
    return memory_ledger


@pytest.fixture
def replay(campaign: Ledger) -> Replay:
    return Replay.build(campaign, SLUG)


def ob(seq, party, to, title, weight, unit, delivered, approved, due, status, late, done=None):
    return Obligation(
        seq=seq, party=party, beneficiaries=tuple(to), title=title, weight=Decimal(weight),
        unit=unit, delivered=Decimal(delivered), approved=Decimal(approved),
        due=date.fromisoformat(due), status=status, days_late=late,
        fulfilled_on=date.fromisoformat(done) if done else None,
    )  # fmt: skip


OBLIGATIONS_ON_22 = [
    ob(4, "acme", ["burgerco"], "Campaign design", "40", "hours", "40", "40", "2026-11-21",
       "fulfilled", 1, "2026-11-22"),
    ob(5, "acme", ["burgerco", "veggie"], "Media budget", "1000", "eur", "500", "400",
       "2026-11-30", "submitted", 0),
    ob(6, "burgerco", ["acme"], "Launch posts", "10", "posts", "10", "10", "2026-11-22",
       "fulfilled", 0, "2026-11-22"),
    ob(7, "burgerco", ["acme"], "Brand review", "5", "hours", "0", "0", "2026-11-25",
       "withdrawn", 0),
    ob(8, "veggie", ["acme"], "Recipe video", "20", "hours", "0", "0", "2026-11-20",
       "overdue", 2),
    ob(9, "veggie", ["acme"], "Flyers", "50", "posts", "4", "4", "2026-12-01",
       "amended-pending", 0),
    ob(10, "acme", ["veggie"], "Press copy", "12", "hours", "0", "0", "2026-12-10", "open", 0),
]  # fmt: skip


# --- obligations ---------------------------------------------------------------------------


def test_every_pledge_is_an_obligation_with_its_status_and_days_late(replay: Replay) -> None:
    assert obligations(replay, TODAY) == OBLIGATIONS_ON_22


def test_a_pledge_fulfilled_after_its_due_date_is_fulfilled_and_counts_days_late(
    replay: Replay,
) -> None:
    row = obligations(replay, TODAY)[0]
    assert (row.seq, row.status, row.days_late, row.fulfilled_on) == (
        4, "fulfilled", 1, date(2026, 11, 22),
    )  # fmt: skip


def test_an_accepted_amendment_changes_the_weight_and_a_pending_one_does_not(
    replay: Replay,
) -> None:
    rows = {r.seq: r for r in obligations(replay, TODAY)}
    assert (rows[10].weight, rows[10].status) == (Decimal(12), "open")
    assert (rows[9].weight, rows[9].status) == (Decimal(50), "amended-pending")


def test_a_rejected_delivery_counts_neither_as_delivered_nor_approved(replay: Replay) -> None:
    row = obligations(replay, TODAY)[4]
    assert (row.seq, row.delivered, row.approved) == (8, Decimal(0), Decimal(0))


def test_overdue_takes_precedence_over_a_pending_amendment_or_delivery(replay: Replay) -> None:
    later = {r.seq: (r.status, r.days_late) for r in obligations(replay, date(2026, 12, 2))}
    assert later == {
        4: ("fulfilled", 1),
        5: ("overdue", 2),
        6: ("fulfilled", 0),
        7: ("withdrawn", 0),
        8: ("overdue", 12),
        9: ("overdue", 1),
        10: ("open", 0),
    }


def test_nothing_is_overdue_on_its_due_date(replay: Replay) -> None:
    rows = {r.seq: r.status for r in obligations(replay, date(2026, 11, 20))}
    assert rows[8] == "open"  # rejected delivery: nothing awaits a decision


def test_obligations_filter_by_party_made_by_or_owed_to(replay: Replay) -> None:
    assert [r.seq for r in obligations(replay, TODAY, party="veggie")] == [5, 8, 9, 10]
    assert [r.seq for r in obligations(replay, TODAY, party="burgerco")] == [4, 5, 6, 7]
    assert [r.seq for r in obligations(replay, TODAY, party="mallory")] == []


def test_obligations_filter_by_status(replay: Replay) -> None:
    by_status = {
        status: [r.seq for r in obligations(replay, TODAY, status=status)]
        for status in ("open", "submitted", "fulfilled", "overdue", "withdrawn", "amended-pending")
    }
    assert by_status == {
        "open": [10],
        "submitted": [5],
        "fulfilled": [4, 6],
        "overdue": [8],
        "withdrawn": [7],
        "amended-pending": [9],
    }


def test_within_keeps_unfinished_pledges_due_by_the_horizon_including_overdue_ones(
    replay: Replay,
) -> None:
    within = {n: [r.seq for r in obligations(replay, TODAY, within=n)] for n in (0, 7, 8, 9, 18)}
    assert within == {0: [8], 7: [8], 8: [5, 8], 9: [5, 8, 9], 18: [5, 8, 9, 10]}


def test_filters_combine(replay: Replay) -> None:
    rows = obligations(replay, TODAY, party="veggie", status="overdue", within=30)
    assert [r.seq for r in rows] == [8]


def test_an_obligation_row_holds_decimal_strings_and_iso_dates(replay: Replay) -> None:
    assert obligations(replay, TODAY)[1].as_row() == {
        "seq": 5,
        "party": "acme",
        "to": ["burgerco", "veggie"],
        "title": "Media budget",
        "weight": "1000",
        "unit": "eur",
        "delivered": "500",
        "approved": "400",
        "due": "2026-11-30",
        "status": "submitted",
        "days_late": 0,
        "short": None,
    }


# --- contributions -------------------------------------------------------------------------


def co(party, unit, pledged, delivered, approved, pshare, ashare, fulfil, on_time, guest, peers):
    return Contribution(
        party=party, unit=unit, pledged=Decimal(pledged), delivered=Decimal(delivered),
        approved=Decimal(approved), pledged_share=pshare, approved_share=ashare,
        fulfilment=fulfil, on_time=on_time, guest_star=guest, peers=peers,
    )  # fmt: skip


F = Fraction
# peers: the parties working in the unit. acme alone in eur; burgerco's only hours pledge
# (7) was withdrawn with nothing delivered, so hours compare acme and veggie; posts compare
# burgerco and veggie.
CONTRIBUTIONS_ON_22 = [
    co("acme", "eur", "1000", "500", "400", F(1), F(1), F(2, 5), None, False, 1),
    co("acme", "hours", "52", "40", "40", F(13, 18), F(1), F(10, 13), F(0), False, 2),
    co("burgerco", "hours", "0", "0", "0", F(0), F(0), None, None, False, 2),
    co("veggie", "hours", "20", "0", "0", F(5, 18), F(0), F(0), F(0), False, 2),
    co("burgerco", "posts", "10", "10", "10", F(1, 6), F(5, 7), F(1), F(1), False, 2),
    co("veggie", "posts", "50", "4", "4", F(5, 6), F(2, 7), F(2, 25), None, False, 2),
]


def test_contributions_are_exact_fractions_per_party_and_unit(replay: Replay) -> None:
    assert contributions(replay, TODAY) == CONTRIBUTIONS_ON_22


def test_shares_of_each_unit_sum_to_one(replay: Replay) -> None:
    rows = contributions(replay, TODAY)
    for unit in ("eur", "hours", "posts"):
        assert sum(r.pledged_share for r in rows if r.unit == unit) == 1
        assert sum(r.approved_share for r in rows if r.unit == unit) == 1


def test_on_time_counts_pledges_due_by_today_or_fulfilled(replay: Replay) -> None:
    later = {(r.party, r.unit): r.on_time for r in contributions(replay, date(2026, 12, 2))}
    # acme hours: 4 late, 10 not due yet; acme eur: 5 due and unfulfilled; veggie posts: 9 due.
    assert later[("acme", "hours")] == 0
    assert later[("acme", "eur")] == 0
    assert later[("veggie", "posts")] == 0
    assert later[("burgerco", "posts")] == 1


def test_a_contribution_row_rounds_ratios_to_four_decimals(replay: Replay) -> None:
    rows = [r.as_row() for r in contributions(replay, TODAY)]
    assert rows[1] == {
        "party": "acme",
        "unit": "hours",
        "pledged": "52",
        "delivered": "40",
        "approved": "40",
        "disputed": "0",
        "short": "0",
        "pledged_share": "0.7222",
        "approved_share": "1.0000",
        "fulfilment": "0.7692",
        "on_time": "0.0000",
        "guest_star": False,
        "peers": 2,
        "valued": None,
    }
    assert rows[5]["pledged_share"] == "0.8333"
    assert rows[5]["approved_share"] == "0.2857"
    assert rows[5]["fulfilment"] == "0.0800"
    assert rows[5]["on_time"] is None
    assert rows[2]["fulfilment"] is None


def test_ratio_text_rounds_half_to_even() -> None:
    assert ratio_text(Fraction(1, 8), 2) == "0.12"
    assert ratio_text(Fraction(3, 8), 2) == "0.38"
    assert ratio_text(Fraction(2, 3)) == "0.6667"
    assert ratio_text(None) is None


def test_the_threshold_decides_who_is_a_guest_star(replay: Replay) -> None:
    # veggie works in hours (0 approved) and posts (2/7 of the approved posts); two parties
    # work in each, so an equal share there is 1/2. acme is alone in eur: never below.
    def flagged(threshold: Fraction) -> set[str]:
        rows = contributions(replay, TODAY, threshold=threshold)
        return {r.party for r in rows if r.guest_star}

    assert flagged(Fraction(1, 2)) == set()  # bar 1/4 < 2/7
    assert flagged(Fraction(9, 10)) == {"veggie"}  # bar 9/20 > 2/7
    assert flagged(Fraction(4, 7)) == set()  # bar exactly 2/7: not below it
    assert flagged(Fraction(3, 5)) == {"veggie"}  # bar 3/10 > 2/7
    assert flagged(Fraction(1)) == {"veggie"}  # burgerco's 5/7 of the posts is not below 1/2
    assert flagged(Fraction(0)) == set()


def test_a_guest_star_is_flagged_on_every_one_of_its_rows(replay: Replay) -> None:
    rows = contributions(replay, TODAY, threshold=Fraction(9, 10))
    assert [(r.party, r.unit, r.guest_star) for r in rows] == [
        ("acme", "eur", False),
        ("acme", "hours", False),
        ("burgerco", "hours", False),
        ("veggie", "hours", True),
        ("burgerco", "posts", False),
        ("veggie", "posts", True),
    ]


@pytest.fixture
def lopsided(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """acme (1) with burgerco (2) and veggie (3); acme pledges 10 hours to burgerco (4),
    veggie pledges 5 hours to acme (5); burgerco pledges nothing."""
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    memory_ledger.propose_project(
        "lopsided", title="Lopsided", purpose="", members={"burgerco": None, "veggie": None},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    memory_ledger.join_project("lopsided", signer=burgerco)
    memory_ledger.join_project("lopsided", signer=veggie)
    memory_ledger.add_pledge(
        "lopsided", title="Work", weight="10", unit="hours", due="2026-12-01",
        beneficiaries=["burgerco"], signer=acme,
    )  # fmt: skip
    memory_ledger.add_pledge(
        "lopsided", title="Help", weight="5", unit="hours", due="2026-12-01",
        beneficiaries=["acme"], signer=veggie,
    )  # fmt: skip
    return memory_ledger


def test_nobody_is_a_guest_star_before_anything_is_approved(lopsided: Ledger) -> None:
    rows = contributions(Replay.build(lopsided, "lopsided"), TODAY)
    assert [(r.party, r.unit, r.guest_star) for r in rows] == [
        ("acme", "hours", False),
        ("veggie", "hours", False),
        ("burgerco", "-", False),
    ]


def test_a_party_that_pledged_but_had_nothing_approved_is_a_guest_star(
    lopsided: Ledger, signers: dict[str, Signer]
) -> None:
    lopsided.deliver(
        "lopsided", 4, summary="Done", quantity="10", evidence=[], signer=signers["acme"]
    )
    lopsided.approve("lopsided", 6, comment="", signer=signers["burgerco"])
    rows = contributions(Replay.build(lopsided, "lopsided"), TODAY)
    assert rows == [
        co("acme", "hours", "10", "10", "10", F(2, 3), F(1), F(1), F(1), False, 2),
        co("veggie", "hours", "5", "0", "0", F(1, 3), F(0), F(0), None, True, 2),
        co("burgerco", "-", "0", "0", "0", None, None, None, None, True, None),
    ]


def test_a_member_without_pledges_gets_a_row_with_unit_dash(lopsided: Ledger) -> None:
    row = contributions(Replay.build(lopsided, "lopsided"), TODAY)[-1]
    assert row.as_row() == {
        "party": "burgerco",
        "unit": "-",
        "pledged": "0",
        "delivered": "0",
        "approved": "0",
        "disputed": "0",
        "short": "0",
        "pledged_share": None,
        "approved_share": None,
        "fulfilment": None,
        "on_time": None,
        "guest_star": False,
        "peers": None,
        "valued": None,
    }


# --- statements ----------------------------------------------------------------------------


def test_statements_are_in_force_when_every_member_signed_the_current_version(
    replay: Replay,
) -> None:
    assert [r.as_row() for r in statement_rows(replay.state)] == [
        {
            "seq": 30,
            "title": "Joint statement",
            "by": "acme",
            "version": 2,
            "signed_by": ["burgerco"],
            "waiting_for": ["acme", "veggie"],
            "status": "pending",
        },
        {
            "seq": 35,
            "title": "Thanks",
            "by": "veggie",
            "version": 1,
            "signed_by": ["acme", "burgerco", "veggie"],
            "waiting_for": [],
            "status": "in force",
        },
    ]


def test_a_revision_voids_earlier_signatures_and_is_kept_in_the_history(
    replay: Replay,
) -> None:
    detail = statement_detail(replay.state, 30).as_row()
    assert detail["text"] == V2
    assert detail["signatures"] == [{"party": "burgerco", "seq": 34}]
    assert detail["revisions"] == [
        {"version": 1, "seq": 30, "text_hash": hashlib.sha256(V1.encode()).hexdigest()},
        {"version": 2, "seq": 33, "text_hash": hashlib.sha256(V2.encode()).hexdigest()},
    ]


def test_before_the_revision_the_statement_had_two_signatures(campaign: Ledger) -> None:
    state = Replay.build(campaign, SLUG, AsOf(seq=32)).state
    assert [r.as_row() for r in statement_rows(state)] == [
        {
            "seq": 30,
            "title": "Joint statement",
            "by": "acme",
            "version": 1,
            "signed_by": ["acme", "burgerco"],
            "waiting_for": ["veggie"],
            "status": "pending",
        }
    ]


def test_statement_detail_of_a_seq_that_is_no_statement_is_not_found(replay: Replay) -> None:
    from ledger.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no statement at seq 4"):
        statement_detail(replay.state, 4)


# --- audit trail ---------------------------------------------------------------------------

RECEIVED = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")


def test_the_trail_lists_every_entry_with_claimed_time_signer_key_hash_and_verdict(
    campaign: Ledger, signers: dict[str, Signer]
) -> None:
    rows = audit.trail(campaign, SLUG)
    hashes = [s.entry.hash for s in campaign.read_entries(SLUG)]
    assert [r.seq for r in rows] == list(range(1, 40))
    assert [r.at for r in rows] == [f"2026-11-22T10:{n:02d}:00Z" for n in range(1, 40)]
    assert [r.hash for r in rows] == hashes
    assert {r.verdict for r in rows} == {"ok"}
    assert all(RECEIVED.match(r.received_at) for r in rows)
    assert all(r.key == signers[r.party].fingerprint for r in rows)


def test_each_entry_type_has_a_one_line_summary(campaign: Ledger) -> None:
    summaries = {r.seq: (r.party, r.type, r.summary) for r in audit.trail(campaign, SLUG)}
    assert summaries[1] == (
        "acme", "project.proposed",
        'proposed "Joint campaign" to burgerco, veggie (approval all, close all)',
    )  # fmt: skip
    assert summaries[2] == ("burgerco", "member.joined", "joined, accepting the terms")
    assert summaries[4] == (
        "acme", "pledge.made", 'pledged "Campaign design": 40 hours to burgerco, due 2026-11-21'
    )  # fmt: skip
    assert summaries[5][2] == (
        'pledged "Media budget": 1000 eur to burgerco, veggie, due 2026-11-30'
    )
    assert summaries[11] == (
        "acme", "deliverable.submitted", 'delivered 25 hours on pledge 4: "First designs"'
    )  # fmt: skip
    assert summaries[13][2] == 'delivered 15 hours on pledge 4: "Final designs", 1 evidence file'
    assert summaries[12] == ("burgerco", "approval.given", "approved seq 11")
    assert summaries[14][2] == "approved seq 13: Looks great"
    assert summaries[21] == (
        "burgerco", "pledge.withdrawn", "withdrew pledge 7: Covered by the agency"
    )  # fmt: skip
    assert summaries[23] == ("acme", "approval.refused", "rejected seq 22: Wrong format")
    assert summaries[26] == (
        "veggie", "pledge.amended", "asked to amend pledge 9 (weight 60): Two more towns"
    )  # fmt: skip
    assert summaries[30] == ("acme", "statement.proposed", 'proposed statement "Joint statement"')
    assert summaries[31] == ("burgerco", "statement.signed", "signed statement 30 version 1")
    assert summaries[33] == ("veggie", "statement.revised", "revised statement 30: Name everyone")
    assert summaries[34][2] == "signed statement 30 version 2"
    assert summaries[39] == ("acme", "close.signed", "signed the close at head seq 38")


def test_key_and_membership_entries_have_summaries_too(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco, mallory = signers["acme"], signers["burgerco"], signers["mallory"]
    acme2 = Signer("acme", "acme-2", Ed25519PrivateKey.from_private_bytes(bytes([21]) * 32))
    burgerco2 = Signer(
        "burgerco", "burgerco-2", Ed25519PrivateKey.from_private_bytes(bytes([22]) * 32)
    )
    slug = "keys"
    memory_ledger.propose_project(
        slug, title="Keys", purpose="", members={"burgerco": None, "mallory": None},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    memory_ledger.join_project(slug, signer=burgerco)
    memory_ledger.decline_project(slug, reason="No budget", signer=mallory)
    memory_ledger.rotate_key(slug, new_public_key=acme2.public_key_line, signer=acme)
    memory_ledger.revoke_key(
        slug, burgerco.fingerprint, reason="Laptop stolen",
        replacement=burgerco2.public_key_line, signer=burgerco,
    )  # fmt: skip
    memory_ledger.revoke_key(
        slug, acme2.fingerprint, reason="Leaving", replacement=None, signer=acme2
    )
    rows = [(r.seq, r.party, r.key, r.type, r.summary) for r in audit.trail(memory_ledger, slug)]
    assert rows == [
        (1, "acme", acme.fingerprint, "project.proposed",
         'proposed "Keys" to burgerco, mallory (approval all, close all)'),
        (2, "burgerco", burgerco.fingerprint, "member.joined", "joined, accepting the terms"),
        (3, "mallory", mallory.fingerprint, "member.declined", "declined: No budget"),
        (4, "acme", acme.fingerprint, "key.rotated", f"rotated to key {acme2.fingerprint}"),
        (5, "burgerco", burgerco.fingerprint, "key.revoked",
         f"revoked key {burgerco.fingerprint}: Laptop stolen; now signs with "
         f"{burgerco2.fingerprint}"),
        (6, "acme", acme2.fingerprint, "key.revoked",
         f"revoked key {acme2.fingerprint}: Leaving"),
    ]  # fmt: skip


def test_the_trail_filters_by_party_and_by_type(campaign: Ledger) -> None:
    assert [r.seq for r in audit.trail(campaign, SLUG, party="veggie")] == [
        3, 8, 9, 17, 22, 24, 26, 28, 33, 35, 38,
    ]  # fmt: skip
    assert [r.seq for r in audit.trail(campaign, SLUG, kind="approval.given")] == [
        12, 14, 16, 17, 20, 25, 28, 29,
    ]  # fmt: skip
    assert [r.seq for r in audit.trail(campaign, SLUG, party="acme", kind="approval.given")] == [
        20, 25,
    ]  # fmt: skip
    assert audit.trail(campaign, SLUG, party="mallory") == []


def test_the_trail_can_be_cut_by_seq_or_by_day(campaign: Ledger) -> None:
    assert [r.seq for r in audit.trail(campaign, SLUG, as_of=AsOf(seq=5))] == [1, 2, 3, 4, 5]
    assert audit.trail(campaign, SLUG, as_of=AsOf(day=date(2026, 11, 21))) == []
    assert len(audit.trail(campaign, SLUG, as_of=AsOf(day=TODAY))) == 39


def test_a_trail_row_as_json_has_every_field(campaign: Ledger) -> None:
    row = audit.trail(campaign, SLUG)[11].as_row()
    assert list(row) == [
        "seq", "at", "received_at", "party", "signer", "key", "type", "summary", "hash",
        "verdict",
    ]  # fmt: skip
    assert (row["seq"], row["at"], row["type"], row["verdict"]) == (
        12, "2026-11-22T10:12:00Z", "approval.given", "ok",
    )  # fmt: skip
    assert (row["party"], row["signer"]) == ("burgerco", "burgerco")  # the first signer's label


# --- a tampered SQLite row -----------------------------------------------------------------


def _sqlite_campaign(path: Path, signers: dict[str, Signer]) -> None:
    ledger = storage.open_ledger(str(path), create=True)
    try:
        acme, burgerco = signers["acme"], signers["burgerco"]
        ledger.propose_project(
            "tamper", title="Tamper", purpose="", members={"burgerco": None},
            approval="all", close="all", signer=acme,
        )  # fmt: skip
        ledger.join_project("tamper", signer=burgerco)
        for title in ("First", "Second", "Third"):
            ledger.add_pledge(
                "tamper", title=title, weight="5", unit="hours", due="2026-12-01",
                beneficiaries=None, signer=acme,
            )  # fmt: skip
    finally:
        ledger.close()


def _tamper(path: Path, version: int, *, rehash: bool) -> None:
    """Change the title in stored event ``version``; optionally recompute its stored hash."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables == ["stored_events", "stored_snapshots"]
        (blob,) = db.execute(
            "SELECT state FROM stored_events WHERE originator_version = ?", (version,)
        ).fetchone()
        state = json.loads(blob)
        data = json.loads(state["entry"])
        data["body"]["title"] = "Rewritten by hand"
        canonical = entry_mod.canonical_bytes(data)
        state["entry"] = canonical.decode("utf-8")
        if rehash:
            state["hash"] = entry_mod.entry_hash(canonical, base64.b64decode(state["sig"]))
        new = json.dumps(state, separators=(",", ":")).encode("utf-8")
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_version = ?", (new, version)
        )


def _reads_after_tampering(tmp_path: Path, signers: dict[str, Signer], *, rehash: bool):
    path = tmp_path / "accord.db"
    _sqlite_campaign(path, signers)
    _tamper(path, 4, rehash=rehash)
    ledger = storage.open_ledger(str(path))
    try:
        # The state this home verified is still what the views show (the head checks out),
        # and every read that would show the edited row refuses it.
        assert Replay.build(ledger, "tamper").state.pledges[4].title != "Rewritten by hand"
        with pytest.raises(VerificationError) as trail_error:
            audit.trail(ledger, "tamper")
        with pytest.raises(VerificationError) as replay_error:
            Replay.build(ledger, "tamper", AsOf(seq=4))
    finally:
        ledger.close()
    fresh = tmp_path / "fresh-home"
    with pytest.MonkeyPatch.context() as patch:  # a home that never verified it: a full check
        patch.setenv("ACCORD_HOME", str(fresh))
        ledger = storage.open_ledger(str(path))
        try:
            with pytest.raises(VerificationError) as full_error:
                Replay.build(ledger, "tamper")
        finally:
            ledger.close()
    return replay_error.value, trail_error.value, full_error.value


def test_a_hand_edited_entry_fails_every_read_at_its_own_seq(
    tmp_path: Path, signers: dict[str, Signer]
) -> None:
    replay_error, trail_error, full_error = _reads_after_tampering(tmp_path, signers, rehash=False)
    altered = "seq 4 of 'tamper' in the store differs from the one this home verified "
    assert (trail_error.message, trail_error.seq) == (altered + "(altered below the head)", 4)
    assert (replay_error.message, replay_error.seq) == (altered + "(altered below the head)", 4)
    expected = ("stored hash does not match the entry bytes", 4)
    assert (full_error.message, full_error.seq) == expected


def test_a_hand_edited_entry_with_a_recomputed_hash_fails_its_signature(
    tmp_path: Path, signers: dict[str, Signer]
) -> None:
    _replay_error, trail_error, full_error = _reads_after_tampering(tmp_path, signers, rehash=True)
    assert trail_error.seq == 4
    expected = (f"signature does not verify with key {signers['acme'].fingerprint}", 4)
    assert (full_error.message, full_error.seq) == expected


# --- time travel ---------------------------------------------------------------------------


def test_as_of_seq_equals_a_replay_of_the_first_n_entries(campaign: Ledger) -> None:
    stored = list(campaign.read_entries(SLUG))
    for n in (1, 3, 4, 14, 26, 33, 39):
        cut = Replay.build(campaign, SLUG, AsOf(seq=n))
        prefix = Replay.empty(SLUG)
        prefix.extend(stored[:n])
        assert cut.position == n
        assert cut.state == prefix.state == rules.replay(SLUG, [s.entry for s in stored[:n]])
        assert obligations(cut, TODAY) == obligations(prefix, TODAY)
        assert contributions(cut, TODAY) == contributions(prefix, TODAY)


def test_as_of_seq_beyond_the_head_is_the_whole_log(campaign: Ledger) -> None:
    assert Replay.build(campaign, SLUG, AsOf(seq=1000)).position == 39


def test_time_travel_shows_a_pledge_before_its_delivery(campaign: Ledger) -> None:
    cut = Replay.build(campaign, SLUG, AsOf(seq=11))
    assert obligations(cut, TODAY)[0] == ob(
        4, "acme", ["burgerco"], "Campaign design", "40", "hours", "25", "0", "2026-11-21",
        "overdue", 1,
    )  # fmt: skip


class DayClock:
    """Claims 2026-11-20T09:00Z, then one minute later per call; ``skip`` jumps days."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def skip(self, days: int) -> None:
        self.now += timedelta(days=days)


def test_as_of_a_day_keeps_the_entries_claimed_up_to_the_end_of_that_day(
    signers: dict[str, Signer],
) -> None:
    clock = DayClock()
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    acme, burgerco = signers["acme"], signers["burgerco"]
    ledger.propose_project(
        "days", title="Days", purpose="", members={"burgerco": None},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    ledger.join_project("days", signer=burgerco)  # seq 2, 2026-11-20
    clock.skip(1)
    ledger.add_pledge(
        "days", title="Work", weight="3", unit="hours", due="2026-11-21",
        beneficiaries=None, signer=acme,
    )  # fmt: skip  # seq 3, 2026-11-21
    ledger.deliver("days", 3, summary="Done", quantity=None, evidence=[], signer=acme)  # 4
    clock.skip(2)
    ledger.approve("days", 4, comment="", signer=burgerco)  # seq 5, 2026-11-23
    try:
        positions = {
            day: Replay.build(ledger, "days", AsOf(day=date(2026, 11, day))).position
            for day in (20, 21, 22, 23)
        }
        assert positions == {20: 2, 21: 4, 22: 4, 23: 5}
        with pytest.raises(NotFoundError, match="had no entries yet on 2026-11-19"):
            Replay.build(ledger, "days", AsOf(day=date(2026, 11, 19)))
        cut = Replay.build(ledger, "days", AsOf(day=date(2026, 11, 22)))
        stored = list(ledger.read_entries("days"))
        prefix = Replay.empty("days")
        prefix.extend(stored[:4])
        assert cut.state == prefix.state
        today = cut.today(AsOf(day=date(2026, 11, 22)), date(2030, 1, 1))
        assert today == date(2026, 11, 22)
        # delivered in full on its due day, awaiting the approval: not overdue for acme
        assert [(r.status, r.days_late) for r in obligations(cut, today)] == [("submitted", 0)]
        done = Replay.build(ledger, "days")
        assert [(r.status, r.days_late) for r in obligations(done, date(2026, 11, 23))] == [
            ("fulfilled", 2)
        ]
        by_seq = Replay.build(ledger, "days", AsOf(seq=3))
        assert by_seq.today(AsOf(seq=3), date(2030, 1, 1)) == date(2026, 11, 21)
        assert by_seq.today(AsOf(), date(2030, 1, 1)) == date(2030, 1, 1)
        assert by_seq.today(None, date(2030, 1, 1)) == date(2030, 1, 1)
    finally:
        ledger.close()


def test_an_incrementally_advanced_replay_equals_a_rebuilt_one(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    build_campaign(memory_ledger, signers)
    stored = list(memory_ledger.read_entries(SLUG))
    incremental = Replay.empty(SLUG)
    positions = []
    for n in range(1, len(stored) + 1):
        incremental.extend(stored[:n])  # the prefix seen so far; earlier entries are skipped
        positions.append(incremental.position)
    assert positions == list(range(1, 40))
    rebuilt = Replay.build(memory_ledger, SLUG)
    assert incremental.state == rebuilt.state
    assert incremental.entries == list(rebuilt.iter_entries())
    caught_up = Replay.build(memory_ledger, SLUG, AsOf(seq=20))
    caught_up.catch_up(memory_ledger)
    assert caught_up.state == rebuilt.state
    assert obligations(caught_up, TODAY) == obligations(rebuilt, TODAY) == OBLIGATIONS_ON_22


def test_as_of_parses_a_date_or_a_seq() -> None:
    assert AsOf.parse("2026-11-22", None) == AsOf(day=date(2026, 11, 22))
    assert AsOf.parse(None, 3) == AsOf(seq=3)
    assert AsOf.parse(None, None).is_now
    assert not AsOf.parse(None, 1).is_now


@pytest.mark.parametrize(
    ("day", "seq", "message"),
    [
        ("2026-11-22", 3, "give --as-of or --as-of-seq, not both"),
        ("2026-13-01", None, "--as-of '2026-13-01' is not a date"),
        ("2026-02-30", None, "--as-of '2026-02-30' is not a date"),
        ("yesterday", None, "--as-of 'yesterday' is not a date"),
        ("2026-11-2", None, "--as-of '2026-11-2' is not a date"),
        (None, 0, "--as-of-seq must be 1 or more, not 0"),
        (None, -4, "--as-of-seq must be 1 or more, not -4"),
    ],
)
def test_as_of_refuses_both_a_bad_date_and_a_seq_below_one(day, seq, message) -> None:
    with pytest.raises(UsageError) as info:
        AsOf.parse(day, seq)
    assert info.value.message == message
