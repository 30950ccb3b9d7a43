"""Fair judgements (ADR 0012): like with like, not valued, closed short, the close guard.

The ``memory_ledger`` clock claims 2026-11-22T10:00:00Z plus one minute per entry, so every
entry below is claimed on 2026-11-22. Every figure was worked out by hand from the story in
each fixture's docstring; each assertion here fails on the rules before ADR 0012.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from commands.output import render_object
from commands.report_view import report_view
from commands.reporting import render_markdown
from ledger.application import Ledger
from ledger.errors import ConflictError, RuleViolationError, UsageError
from ledger.keys import Signer
from ledger.rules.guards import OpenPledgesError
from projections.contributions import contributions
from projections.obligations import obligations
from projections.replay import Replay
from projections.report import report_data

SLUG = "fair-share"
TODAY = date(2026, 11, 22)


def start(ledger: Ledger, signers: dict[str, Signer]) -> None:
    """1 acme proposes (approval any, close all), 2 burgerco and 3 veggie join."""
    ledger.propose_project(
        SLUG, title="Fair share", purpose="", members={"burgerco": None, "veggie": None},
        approval="any", close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])
    ledger.join_project(SLUG, signer=signers["veggie"])


def pledge(ledger: Ledger, signer: Signer, title: str, weight: str, unit: str, due: str) -> int:
    to = ["burgerco"] if signer.handle == "acme" else ["acme"]
    return ledger.add_pledge(
        SLUG, title=title, weight=weight, unit=unit, due=due, beneficiaries=to, signer=signer
    ).seq


def deliver(ledger: Ledger, signer: Signer, on: int, quantity: str) -> int:
    return ledger.deliver(
        SLUG, on, summary="Done", quantity=quantity, evidence=[], signer=signer
    ).seq


def approve(ledger: Ledger, signer: Signer, target: int) -> int:
    return ledger.approve(SLUG, target, comment="", signer=signer).seq


def hashes(ledger: Ledger) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(SLUG)]


def rows(ledger: Ledger) -> dict[tuple[str, str], Any]:
    return {(r.party, r.unit): r for r in contributions(Replay.build(ledger, SLUG), TODAY)}


@pytest.fixture
def ngo(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """The issue's story: an NGO that did all it promised, in units nobody valued.

    4 acme pledges 30 hours (due 12-01); 5 burgerco pledges 12000 EUR (due 11-22);
    6 veggie pledges 10 posts and 7 one press release (due 12-01).
    8 acme delivers 30 hours, 9 burgerco approves; 10 burgerco delivers 9000 EUR, 11 acme
    approves; 12 burgerco proposes to close pledge 5 short, 13 acme approves;
    14 veggie delivers 10 posts, 15 acme approves; 16 veggie delivers the press release,
    17 acme approves; 18 burgerco proposes 1 hours = 100 EUR, 19 acme and 20 veggie approve.
    """
    ledger = memory_ledger
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(ledger, signers)
    assert pledge(ledger, acme, "Design", "30", "hours", "2026-12-01") == 4
    assert pledge(ledger, burgerco, "Media", "12000", "EUR", "2026-11-22") == 5
    assert pledge(ledger, veggie, "Posts", "10", "posts", "2026-12-01") == 6
    assert pledge(ledger, veggie, "Press release", "1", "releases", "2026-12-01") == 7
    approve(ledger, burgerco, deliver(ledger, acme, 4, "30"))  # 8, 9
    approve(ledger, acme, deliver(ledger, burgerco, 5, "9000"))  # 10, 11
    short = ledger.close_pledge_short(SLUG, 5, reason="Budget cut", signer=burgerco).seq
    assert approve(ledger, acme, short) == 13
    approve(ledger, acme, deliver(ledger, veggie, 6, "10"))  # 14, 15
    approve(ledger, acme, deliver(ledger, veggie, 7, "1"))  # 16, 17
    value = ledger.propose_value(
        SLUG, unit="hours", worth="100", reference="EUR", reason="Rate", signer=burgerco
    ).seq
    approve(ledger, acme, value)  # 19
    assert approve(ledger, veggie, value) == 20
    return ledger


# --- a pledge closed short keeps its weight and shows its shortfall ----------------------------


def test_a_pledge_closed_short_shows_its_weight_what_was_approved_and_the_shortfall(
    ngo: Ledger,
) -> None:
    [media] = [o for o in obligations(Replay.build(ngo, SLUG), TODAY) if o.seq == 5]
    assert media.as_row() | {"to": None} == {
        "seq": 5, "party": "burgerco", "to": None, "title": "Media", "weight": "12000",
        "unit": "EUR", "delivered": "9000", "approved": "9000", "due": "2026-11-22",
        "status": "closed-short", "days_late": 0, "short": "3000",
    }  # fmt: skip
    eur = rows(ngo)[("burgerco", "EUR")]
    # pledged 12000 (never 9000), approved 9000, short 3000: fulfilment 3/4, not 100%;
    # closed short on its due day: on time.
    assert (eur.pledged, eur.approved, eur.short) == (12000, 9000, 3000)
    assert (eur.fulfilment, eur.on_time) == (Fraction(3, 4), Fraction(1))
    assert eur.as_row()["fulfilment"] == "0.7500"


def test_the_report_says_how_short_a_pledge_was_closed(ngo: Ledger) -> None:
    data = report_data(Replay.build(ngo, SLUG))
    media = next(p for p in data.as_row()["pledges"] if p["seq"] == 5)
    assert (media["weight"], media["approved"], media["short"]) == ("12000", "9000", "3000")
    view = next(p for p in report_view(data).pledges if p.seq == "5")
    assert view.short == "closed short at seq 13 with 9000 of 12000 EUR approved: 3000 EUR short"
    markdown = render_markdown(data)
    assert (
        "burgerco to acme: 12000 EUR, due 2026-11-22. Delivered 9000, approved 9000. Status: "
        "**closed-short** (closed short at seq 13 with 9000 of 12000 EUR approved: 3000 EUR "
        "short).\n"
    ) in markdown


# --- like with like -----------------------------------------------------------------------------


def test_a_party_alone_in_its_unit_is_not_compared_there_and_marks_nobody(ngo: Ledger) -> None:
    found = rows(ngo)
    per_unit = {k: (r.peers, r.guest_star) for k, r in found.items() if r.valued is None}
    assert per_unit == {
        ("burgerco", "EUR"): (1, False),
        ("acme", "hours"): (1, False),
        ("veggie", "posts"): (1, False),
        ("veggie", "releases"): (1, False),
    }
    data = report_data(Replay.build(ngo, SLUG))
    shown = {
        (c.party, c.unit): (c.pledged_share, c.approved_share)
        for c in report_view(data).contributions
    }
    assert shown[("veggie", "posts")] == ("alone", "alone")  # not a "100% share"


def test_a_party_whose_work_has_no_agreed_value_is_not_valued_overall(ngo: Ledger) -> None:
    found = rows(ngo)
    veggie = found[("veggie", "overall EUR")]
    assert (veggie.valued, veggie.approved_share, veggie.guest_star) == ("none", None, False)
    assert veggie.as_row() == {
        "party": "veggie", "unit": "overall EUR", "pledged": None, "delivered": None,
        "approved": None, "disputed": None, "short": None, "pledged_share": None,
        "approved_share": None, "fulfilment": None, "on_time": None, "guest_star": False,
        "peers": 2, "valued": "none",
    }  # fmt: skip
    # Shares among the two valued parties: acme 30 h x 100 = 3000 EUR, burgerco 12000
    # pledged (3000 of it short) and 9000 approved. An equal share is 1/2, the bar 1/4:
    # acme's approved 3000/12000 is exactly 1/4, not below it.
    acme, burgerco = found[("acme", "overall EUR")], found[("burgerco", "overall EUR")]
    assert (acme.pledged_share, burgerco.pledged_share) == (Fraction(1, 5), Fraction(4, 5))
    assert (acme.approved_share, burgerco.approved_share) == (Fraction(1, 4), Fraction(3, 4))
    assert (burgerco.short, burgerco.fulfilment) == (Decimal(3000), Fraction(3, 4))
    assert (acme.guest_star, burgerco.guest_star, acme.peers) == (False, False, 2)
    assert (acme.valued, burgerco.valued) == ("all", "all")
    markdown = render_markdown(report_data(Replay.build(ngo, SLUG)))
    assert (
        "| veggie   | overall EUR | \\-      | \\-        | \\-       | \\-       | \\-    | not "
        "valued    | not valued     | n/a        | n/a     | not valued |\n"
    ) in markdown
    assert "Their shares compare the 2 parties with work of an agreed value (not valued: " in (
        markdown
    )


def test_partly_valued_work_is_not_held_against_its_party_overall(
    ngo: Ledger, signers: dict[str, Signer]
) -> None:
    """21 veggie pledges 2 hours, 22 delivers 1, 23 acme approves. Overall approved: acme
    3000, burgerco 9000, veggie 100 (1/121, below 1/6), but most of veggie's approved work
    (posts, releases) has no agreed value: partly valued, not a guest star. Per unit, veggie
    has 1/31 of the hours (below 1/4) yet carried posts alone: not a guest star either."""
    veggie = signers["veggie"]
    assert pledge(ngo, veggie, "Workshop", "2", "hours", "2026-12-01") == 21
    approve(ngo, signers["acme"], deliver(ngo, veggie, 21, "1"))  # 22, 23
    found = rows(ngo)
    overall = found[("veggie", "overall EUR")]
    assert (overall.valued, overall.approved, overall.approved_share) == (
        "partly", Decimal(100), Fraction(1, 121),
    )  # fmt: skip
    assert (overall.guest_star, overall.peers) == (False, 3)
    shown = [
        found[(p, "overall EUR")].as_row()["approved_share"] for p in ("acme", "burgerco", "veggie")
    ]
    assert shown == ["0.2480", "0.7440", "0.0080"]  # 247+743+8, the two missing to acme, burgerco
    hours = found[("veggie", "hours")]
    assert (hours.approved_share, hours.peers, hours.guest_star) == (Fraction(1, 31), 2, False)


@pytest.fixture
def lopsided(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """4 acme pledges 30 hours, 5 burgerco 10 hours, 6 veggie 5 posts. 7 acme delivers 30,
    8 burgerco approves; 9 burgerco delivers 8, 10 acme approves; 11 veggie delivers 5 posts
    (awaiting acme's decision)."""
    ledger = memory_ledger
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(ledger, signers)
    pledge(ledger, acme, "Design", "30", "hours", "2026-12-01")
    pledge(ledger, burgerco, "Review", "10", "hours", "2026-12-01")
    pledge(ledger, veggie, "Posts", "5", "posts", "2026-12-01")
    approve(ledger, burgerco, deliver(ledger, acme, 4, "30"))
    approve(ledger, acme, deliver(ledger, burgerco, 5, "8"))
    assert deliver(ledger, veggie, 6, "5") == 11
    return ledger


def test_units_a_party_does_not_work_in_never_count_against_it(lopsided: Ledger) -> None:
    # veggie works only in posts, where nothing is approved yet: not judged. Before ADR 0012
    # its 0% of the approved hours (which it never pledged) made it a guest star.
    found = rows(lopsided)
    assert found[("veggie", "posts")].guest_star is False
    assert found[("veggie", "posts")].peers == 1


def test_an_equal_share_is_among_the_parties_working_in_the_unit(lopsided: Ledger) -> None:
    # hours: acme 30 and burgerco 8 approved; two parties work there, an equal share is 1/2
    # and the bar 1/4: burgerco's 8/38 is below it (against 1/3 members, 1/6, it was not).
    found = rows(lopsided)
    burgerco = found[("burgerco", "hours")]
    assert (burgerco.approved_share, burgerco.peers, burgerco.guest_star) == (
        Fraction(4, 19), 2, True,
    )  # fmt: skip
    at_two_fifths = {
        (r.party, r.unit): r.guest_star
        for r in contributions(Replay.build(lopsided, SLUG), TODAY, threshold=Fraction(2, 5))
    }
    assert at_two_fifths[("burgerco", "hours")] is False  # bar 1/5 < 4/19


def test_a_member_with_no_work_is_a_guest_star_once_anything_is_approved(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], "Design", "3", "hours", "2026-12-01")  # 4
    assert [r.guest_star for r in rows(memory_ledger).values()] == [False, False, False]
    approve(memory_ledger, signers["burgerco"], deliver(memory_ledger, signers["acme"], 4, "3"))
    found = rows(memory_ledger)
    assert {k: (r.guest_star, r.peers) for k, r in found.items()} == {
        ("acme", "hours"): (False, 1),
        ("burgerco", "-"): (True, None),
        ("veggie", "-"): (True, None),
    }
    zero = contributions(Replay.build(memory_ledger, SLUG), TODAY, threshold=Fraction(0))
    assert not any(r.guest_star for r in zero)


# --- the close guard ----------------------------------------------------------------------------


@pytest.fixture
def open_pledges(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """4 acme pledges "Design" 40 hours; 5 acme delivers 25, 6 burgerco approves; 7 acme
    delivers 5 (awaiting a decision); 8 veggie pledges "Posts" 12 posts; 9 burgerco pledges
    "Media" 100 EUR, 10 delivers it, 11 acme approves (fulfilled)."""
    ledger = memory_ledger
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(ledger, signers)
    pledge(ledger, acme, "Design", "40", "hours", "2026-12-01")
    approve(ledger, burgerco, deliver(ledger, acme, 4, "25"))
    deliver(ledger, acme, 4, "5")
    pledge(ledger, veggie, "Posts", "12", "posts", "2026-12-01")
    pledge(ledger, burgerco, "Media", "100", "EUR", "2026-12-01")
    assert approve(ledger, acme, deliver(ledger, burgerco, 9, "100")) == 11
    return ledger


def test_the_close_is_refused_while_pledges_are_open_listing_them(
    open_pledges: Ledger, signers: dict[str, Signer]
) -> None:
    before = hashes(open_pledges)
    with pytest.raises(OpenPledgesError) as info:
        open_pledges.sign_close(SLUG, signer=signers["burgerco"])
    assert isinstance(info.value, RuleViolationError)  # exit 4
    assert info.value.pledges == [4, 8]
    assert info.value.message == (
        "2 pledges of 'fair-share' are still open: 4 \"Design\" by acme (25 of 40 hours "
        'approved, 5 awaiting a decision); 8 "Posts" by veggie (0 of 12 posts approved)'
    )
    assert info.value.hint == (
        "finish or end them first: `accord pledge close-short fair-share PLEDGE --reason R "
        "--as PROMISOR` (the beneficiaries then approve) or `accord pledge withdraw fair-share "
        "PLEDGE --reason R --as PROMISOR`; or close leaving them open: `accord close fair-share "
        "--accept-open 4,8 --as burgerco`"
    )
    assert hashes(open_pledges) == before
    # Accepting one of them is not enough: the other is named alone, with its own commands.
    with pytest.raises(OpenPledgesError) as info:
        open_pledges.sign_close(SLUG, signer=signers["burgerco"], accept_open=[4, 9])
    assert info.value.message == (
        "1 pledge of 'fair-share' is still open: 8 \"Posts\" by veggie (0 of 12 posts approved)"
    )
    assert info.value.hint == (
        "finish or end it first: `accord pledge close-short fair-share 8 --reason R --as veggie` "
        "(its beneficiaries then approve) or `accord pledge withdraw fair-share 8 --reason R "
        "--as veggie`; or close leaving it open: `accord close fair-share --accept-open 8 --as "
        "burgerco`"
    )
    assert hashes(open_pledges) == before
    receipt = open_pledges.sign_close(SLUG, signer=signers["burgerco"], accept_open=[8, 4])
    assert (receipt.seq, receipt.closes) == (12, (1, 3))


def test_a_seq_that_is_not_a_pledge_cannot_be_accepted(
    open_pledges: Ledger, signers: dict[str, Signer]
) -> None:
    before = hashes(open_pledges)
    for seq in (5, 99):
        with pytest.raises(UsageError) as info:
            open_pledges.sign_close(SLUG, signer=signers["acme"], accept_open=[4, 8, seq])
        assert info.value.message == (
            f"seq {seq} is not a pledge of 'fair-share'; only pledges can be accepted as open"
        )
    assert hashes(open_pledges) == before


def test_the_rules_refusals_keep_their_own_messages(
    open_pledges: Ledger, signers: dict[str, Signer]
) -> None:
    with pytest.raises(RuleViolationError) as info:
        open_pledges.sign_close(SLUG, signer=signers["mallory"])
    assert type(info.value) is RuleViolationError
    assert info.value.message == "'mallory' is not a member of project 'fair-share'"
    open_pledges.sign_close(SLUG, signer=signers["acme"], accept_open=[4, 8])
    with pytest.raises(RuleViolationError) as info:
        open_pledges.sign_close(SLUG, signer=signers["acme"])
    assert info.value.message.startswith(
        "'acme' already signed the close of head seq 11 (seq 12, by acme at "
    )


def test_finished_pledges_need_no_acceptance(
    open_pledges: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    with pytest.raises(OpenPledgesError):
        open_pledges.sign_close(SLUG, signer=veggie)
    approve(open_pledges, burgerco, 7)  # 12: 30 of 40 approved
    short = open_pledges.close_pledge_short(SLUG, 4, reason="Enough", signer=acme).seq  # 13
    approve(open_pledges, burgerco, short)  # 14: closed short
    open_pledges.withdraw_pledge(SLUG, 8, reason="No posts after all", signer=veggie)  # 15
    receipts = [open_pledges.sign_close(SLUG, signer=s) for s in (acme, burgerco, veggie)]
    assert [r.status for r in receipts] == ["active", "active", "closed"]


def test_a_long_list_is_cut_and_the_hint_names_every_seq_it_can(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    seqs = [
        pledge(memory_ledger, signers["veggie"], f"P{i}", "1", "posts", "2026-12-01")
        for i in range(25)
    ]
    with pytest.raises(OpenPledgesError) as info:
        memory_ledger.sign_close(SLUG, signer=signers["acme"])
    assert info.value.pledges == seqs == list(range(4, 29))
    assert info.value.message.startswith("25 pledges of 'fair-share' are still open: 4 \"P0\"")
    assert info.value.message.endswith('; 13 "P9" by veggie (0 of 1 post approved); and 15 more')
    assert info.value.hint.endswith(
        "`accord close fair-share --accept-open 4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,"
        "22,23,... (all 25: `accord obligations fair-share`) --as acme`"
    )
    assert memory_ledger.sign_close(SLUG, signer=signers["acme"], accept_open=seqs).seq == 29


# --- the proposer's signature, for exactly the text it wrote ------------------------------------


def test_signing_a_text_that_was_revised_meanwhile_is_a_conflict(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    memory_ledger.propose_statement(SLUG, title="T", text="Ours.", signer=signers["acme"])  # 4
    memory_ledger.revise_statement(
        SLUG, 4, text="Theirs.", reason="Mine", signer=signers["veggie"]
    )  # 5
    before = hashes(memory_ledger)
    with pytest.raises(ConflictError) as info:
        memory_ledger.sign_statement(SLUG, 4, signer=signers["acme"], expected_text="Ours.")
    assert info.value.message == (
        "statement 4 was revised meanwhile (now version 2); it was not signed"
    )
    assert (
        info.value.hint
        == "read it with `accord statement show fair-share 4` and sign it if you agree"
    )
    assert hashes(memory_ledger) == before
    signed = memory_ledger.sign_statement(SLUG, 4, signer=signers["acme"], expected_text="Theirs.")
    assert signed.subject is not None and signed.subject["version"] == 2


# --- flags in words --------------------------------------------------------------------------


def test_a_record_shows_a_flag_as_yes_or_no(capsys: pytest.CaptureFixture[str]) -> None:
    render_object({"closed": True, "guest_star": False}, output_format="table")
    assert capsys.readouterr().out == "closed      yes\nguest_star  no\n"
