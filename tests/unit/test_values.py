"""Agreed values across units: the rules of value.proposed and the overall shares.

Every figure is computed by hand in the test's docstring or comments. The ledger runs on the
in-memory store; the last part calls ``rules.apply`` on hand-built entries, as an auditor's
replay or a relay would.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from ledger import codec, entry, rules
from ledger.application import Ledger
from ledger.errors import (
    AlreadyDecidedError,
    LedgerError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.rules.schema import check_entry
from ledger.summaries import summary
from projections.contributions import (
    Contribution,
    apportion,
    contributions,
    fraction_decimal,
)
from projections.replay import Replay
from projections.values import value_rows

SLUG = "fair-values"
DUE = "2026-12-01"
TODAY = date(2026, 11, 30)


def hashes(ledger: Ledger) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(SLUG)]


def refused(
    ledger: Ledger, error: type[LedgerError], message: str, action: Any, hint: str | None = None
) -> LedgerError:
    """``action`` raises exactly ``error`` with ``message`` and records nothing."""
    before = hashes(ledger)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    if hint is not None:
        assert info.value.hint == hint
    assert hashes(ledger) == before
    return info.value


def start(ledger: Ledger, signers: dict[str, Signer], *invited: str) -> None:
    ledger.propose_project(
        SLUG, title="Fair", purpose="", members=dict.fromkeys(invited), approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    for handle in invited:
        ledger.join_project(SLUG, signer=signers[handle])


def pledge_done(ledger: Ledger, signers: dict[str, Signer], by: str, weight: str, unit: str) -> int:
    """Pledge, deliver in full and have every beneficiary approve; return the pledge's seq."""
    seq = ledger.add_pledge(
        SLUG, title=f"{weight} {unit}", weight=weight, unit=unit, due=DUE, beneficiaries=None,
        signer=signers[by],
    ).seq  # fmt: skip
    delivered = ledger.deliver(
        SLUG, seq, summary="done", quantity=None, evidence=[], signer=signers[by]
    ).seq
    for handle in ledger.get_state(SLUG).pledges[seq].beneficiaries:
        ledger.approve(SLUG, delivered, comment="", signer=signers[handle])
    return seq


def value(
    ledger: Ledger, signers: dict[str, Signer], by: str, unit: str, worth: str, ref: str = "EUR"
) -> int:
    return ledger.propose_value(
        SLUG, unit=unit, worth=worth, reference=ref, reason="Day rate / 8", signer=signers[by]
    ).seq


def overall(ledger: Ledger) -> list[Contribution]:
    rows = contributions(Replay.build(ledger, SLUG), TODAY)
    return [r for r in rows if r.unit.startswith("overall ")]


@pytest.fixture
def pair(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """acme gave 10 hours (seq 3) and paid 500 EUR (seq 6); burgerco paid 300 EUR (seq 9).

    Seqs: 1 propose, 2 join, then 3-5, 6-8, 9-11: a pledge, its delivery and approval each.
    """
    start(memory_ledger, signers, "burgerco")
    pledge_done(memory_ledger, signers, "acme", "10", "hours")
    pledge_done(memory_ledger, signers, "acme", "500", "EUR")
    pledge_done(memory_ledger, signers, "burgerco", "300", "EUR")
    return memory_ledger


# --- the hand-computed overall shares --------------------------------------------------------


def test_ten_hours_at_80_eur_plus_500_eur_against_300_eur_gives_exact_shares(
    pair: Ledger, signers: dict[str, Signer]
) -> None:
    """acme: 10 h x 80 + 500 = 1300 EUR; burgerco: 300 EUR; total 1600. Shares 13/16 and
    3/16 exactly (0.8125 and 0.1875). Shown to a tenth of a percent: 812 + 187 = 999
    thousandths, both remainders are one half, the tie goes to acme (alphabetical): 81.3%
    and 18.7%. burgerco is below half a fair share (3/16 < 1/4): a guest star overall, though
    not in EUR, where its share is 3/8."""
    assert value(pair, signers, "acme", "hours", "80") == 12
    assert overall(pair) == []  # pending: no overall rows yet
    pair.approve(SLUG, 12, comment="", signer=signers["burgerco"])  # 13
    rows = overall(pair)
    assert [(r.party, r.unit, r.pledged, r.delivered, r.approved) for r in rows] == [
        ("acme", "overall EUR", Decimal(1300), Decimal(1300), Decimal(1300)),
        ("burgerco", "overall EUR", Decimal(300), Decimal(300), Decimal(300)),
    ]
    assert [r.approved_share for r in rows] == [Fraction(13, 16), Fraction(3, 16)]
    assert sum(r.approved_share or 0 for r in rows) == 1
    assert [r.fulfilment for r in rows] == [Fraction(1), Fraction(1)]
    assert [r.on_time for r in rows] == [None, None]
    assert [r.guest_star for r in rows] == [False, True]
    assert [r.as_row()["approved_share"] for r in rows] == ["0.8130", "0.1870"]
    every = contributions(Replay.build(pair, SLUG), TODAY)
    eur = [(r.party, r.approved_share, r.guest_star) for r in every if r.unit == "EUR"]
    assert eur == [("acme", Fraction(5, 8), False), ("burgerco", Fraction(3, 8), False)]


def test_units_without_an_agreed_value_are_left_out_of_the_overall(
    pair: Ledger, signers: dict[str, Signer]
) -> None:
    """posts have no value: burgerco's 7 posts count in the posts row only."""
    pledge_done(pair, signers, "burgerco", "7", "posts")  # 12-14
    value(pair, signers, "burgerco", "hours", "80")  # 15
    pair.approve(SLUG, 15, comment="", signer=signers["acme"])  # 16
    rows = overall(pair)
    assert [(r.party, r.approved) for r in rows] == [
        ("acme", Decimal(1300)),
        ("burgerco", Decimal(300)),
    ]


def test_a_fractional_worth_is_multiplied_exactly(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    """2.5 days at 333.33 EUR = 833.325 EUR exactly; against 0.675 EUR: 833.325 / 834 =
    0.99919..., 0.675 / 834 = 0.00080...; shown 99.9% and 0.1% (remainders .19 and .80)."""
    start(memory_ledger, signers, "burgerco")
    pledge_done(memory_ledger, signers, "acme", "2.5", "days")  # 3-5
    pledge_done(memory_ledger, signers, "burgerco", "0.675", "EUR")  # 6-8
    value(memory_ledger, signers, "acme", "days", "333.33")  # 9
    memory_ledger.approve(SLUG, 9, comment="", signer=signers["burgerco"])
    rows = overall(memory_ledger)
    assert [r.approved for r in rows] == [Decimal("833.325"), Decimal("0.675")]
    assert [r.approved_share for r in rows] == [
        Fraction(833325, 834000),
        Fraction(675, 834000),
    ]
    assert [r.as_row()["approved_share"] for r in rows] == ["0.9990", "0.0010"]
    assert [r.as_row()["approved"] for r in rows] == ["833.325", "0.675"]


def test_three_equal_parties_are_shown_with_shares_that_add_up_to_one(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    """1/3 each: 333 thousandths each leave one missing; the tie goes to acme."""
    start(memory_ledger, signers, "burgerco", "veggie")
    pledge_done(memory_ledger, signers, "acme", "1", "hours")
    pledge_done(memory_ledger, signers, "burgerco", "80", "EUR")
    pledge_done(memory_ledger, signers, "veggie", "1", "hours")
    seq = value(memory_ledger, signers, "veggie", "hours", "80")
    memory_ledger.approve(SLUG, seq, comment="", signer=signers["acme"])
    memory_ledger.approve(SLUG, seq, comment="", signer=signers["burgerco"])
    rows = overall(memory_ledger)
    assert [r.approved_share for r in rows] == [Fraction(1, 3)] * 3
    shown = [r.as_row()["approved_share"] for r in rows]
    assert shown == ["0.3340", "0.3330", "0.3330"]
    assert sum(Decimal(s) for s in shown) == 1
    assert [r.guest_star for r in rows] == [False, False, False]


def test_a_member_without_pledges_gets_an_overall_row_of_zero(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, "burgerco", "veggie")
    pledge_done(memory_ledger, signers, "acme", "2", "hours")  # 4-7
    pledge_done(memory_ledger, signers, "burgerco", "40", "EUR")  # 8-11: 2 h at 80 = 160
    seq = value(memory_ledger, signers, "acme", "hours", "80")
    memory_ledger.approve(SLUG, seq, comment="", signer=signers["burgerco"])
    memory_ledger.approve(SLUG, seq, comment="", signer=signers["veggie"])
    rows = overall(memory_ledger)
    assert [(r.party, r.approved, r.approved_share, r.guest_star) for r in rows] == [
        ("acme", Decimal(160), Fraction(160, 200), False),
        ("burgerco", Decimal(40), Fraction(40, 200), False),  # 1/5 >= 1/6
        ("veggie", Decimal(0), Fraction(0), True),
    ]


def test_nothing_approved_in_valued_units_gives_no_share_and_no_guest_star(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers, "burgerco")
    memory_ledger.add_pledge(
        SLUG, title="t", weight="5", unit="hours", due=DUE, beneficiaries=None,
        signer=signers["acme"],
    )  # fmt: skip
    seq = value(memory_ledger, signers, "acme", "hours", "80")
    memory_ledger.approve(SLUG, seq, comment="", signer=signers["burgerco"])
    rows = overall(memory_ledger)
    assert [(r.party, r.pledged, r.approved_share, r.guest_star) for r in rows] == [
        ("acme", Decimal(400), None, False),
        ("burgerco", Decimal(0), None, False),
    ]
    assert [r.as_row()["approved_share"] for r in rows] == [None, None]


# --- agreeing: every other joined member approves ---------------------------------------------


@pytest.fixture
def trio(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    """Three members, active at seq 3; no pledges."""
    start(memory_ledger, signers, "burgerco", "veggie")
    return memory_ledger


def test_a_value_takes_effect_when_every_other_member_approved_it(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    receipt = trio.propose_value(
        SLUG, unit="hours", worth="80", reference="EUR", reason="rate", signer=signers["acme"]
    )
    assert (receipt.seq, receipt.type) == (4, "value.proposed")
    assert receipt.subject == {
        "target": 4, "target_type": "value", "party": "acme", "unit": "hours", "worth": "80",
        "in": "EUR", "status": "pending", "approvals": 0, "approvals_needed": 2,
    }  # fmt: skip
    first = trio.approve(SLUG, 4, comment="", signer=signers["burgerco"])
    assert first.subject is not None
    assert (first.subject["status"], first.subject["approvals"]) == ("pending", 1)
    assert rules.agreed_values(trio.get_state(SLUG)) == {}
    second = trio.approve(SLUG, 4, comment="ok", signer=signers["veggie"])
    assert second.subject is not None
    assert (second.subject["status"], second.subject["approvals"]) == ("accepted", 2)
    state = trio.get_state(SLUG)
    proposal = state.values[4]
    assert (proposal.status, proposal.decided_seq) == (rules.ACCEPTED, 6)
    assert proposal.approvals == {"burgerco": 5, "veggie": 6}
    assert rules.agreed_values(state) == {"hours": proposal}
    assert rules.reference_unit(state) == "EUR"
    assert state.units == {"hours": "hours", "eur": "EUR"}
    assert [r.as_row() for r in value_rows(state)] == [
        {
            "seq": 4, "unit": "hours", "worth": "80", "in": "EUR", "by": "acme",
            "reason": "rate", "status": "agreed",
            "approved_by": [{"party": "burgerco", "seq": 5}, {"party": "veggie", "seq": 6}],
            "refused_by": None, "waiting_for": [], "decided_seq": 6, "replaced_seq": None,
        }
    ]  # fmt: skip


def test_a_later_agreed_value_replaces_the_earlier_one(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")  # 4
    trio.approve(SLUG, 4, comment="", signer=signers["burgerco"])  # 5
    trio.approve(SLUG, 4, comment="", signer=signers["veggie"])  # 6
    value(trio, signers, "veggie", "hours", "90.50")  # 7
    state = trio.get_state(SLUG)
    assert rules.agreed_values(state)["hours"].seq == 4  # still in force while 7 is pending
    assert state.values[7].worth == Decimal("90.5")
    trio.approve(SLUG, 7, comment="", signer=signers["acme"])  # 8
    trio.approve(SLUG, 7, comment="", signer=signers["burgerco"])  # 9
    state = trio.get_state(SLUG)
    assert rules.agreed_values(state)["hours"].seq == 7
    assert (state.values[4].status, state.values[4].replaced_seq) == (rules.ACCEPTED, 9)
    assert [r.status for r in value_rows(state)] == ["replaced", "agreed"]


def test_a_newer_proposal_for_a_unit_supersedes_a_pending_one(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")  # 4
    trio.approve(SLUG, 4, comment="", signer=signers["burgerco"])  # 5
    value(trio, signers, "burgerco", "hours", "75")  # 6
    state = trio.get_state(SLUG)
    assert (state.values[4].status, state.values[4].decided_seq) == (rules.VOID, 6)
    assert value_rows(state)[0].status == "superseded"
    refused(
        trio,
        AlreadyDecidedError,
        "value proposal seq 4 is already superseded by a newer proposal for its unit "
        "(seq 6, by burgerco at 2026-11-22T10:06:00Z)",
        lambda: trio.approve(SLUG, 4, comment="", signer=signers["veggie"]),
        hint=f"`accord show {SLUG} 6` shows it in full; "
        f"`accord project values {SLUG}` lists the values and proposals",
    )


def test_a_refusal_rejects_a_value_proposal(trio: Ledger, signers: dict[str, Signer]) -> None:
    value(trio, signers, "acme", "hours", "80")  # 4
    receipt = trio.reject(SLUG, 4, reason="Too high", signer=signers["veggie"])  # 5
    assert receipt.subject is not None and receipt.subject["status"] == "rejected"
    state = trio.get_state(SLUG)
    assert state.values[4].refusal == ("veggie", 5, "Too high")
    assert rules.reference_unit(state) is None
    refused(
        trio,
        AlreadyDecidedError,
        "value proposal seq 4 is already rejected (seq 5, by veggie at 2026-11-22T10:05:00Z)",
        lambda: trio.approve(SLUG, 4, comment="", signer=signers["burgerco"]),
    )
    # With nothing in force or pending, another reference unit may be chosen.
    assert value(trio, signers, "acme", "EUR", "0.5", ref="hours") == 6


def test_the_proposer_cannot_approve_or_reject_its_own_value(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")
    message = "'acme' cannot approve or reject its own value proposal (seq 4)"
    hint = "proposing a value counts as agreeing to it; the other members decide"
    refused(
        trio,
        RuleViolationError,
        message,
        lambda: trio.approve(SLUG, 4, comment="", signer=signers["acme"]),
        hint=hint,
    )
    refused(
        trio,
        RuleViolationError,
        message,
        lambda: trio.reject(SLUG, 4, reason="no", signer=signers["acme"]),
    )


def test_a_member_cannot_approve_a_value_twice(trio: Ledger, signers: dict[str, Signer]) -> None:
    value(trio, signers, "acme", "hours", "80")
    trio.approve(SLUG, 4, comment="", signer=signers["burgerco"])
    refused(
        trio,
        AlreadyDecidedError,
        "'burgerco' already approved seq 4 (seq 5, by burgerco at 2026-11-22T10:05:00Z)",
        lambda: trio.approve(SLUG, 4, comment="", signer=signers["burgerco"]),
    )


def test_every_value_of_a_project_is_in_one_reference_unit(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")  # 4, pending: EUR is the reference
    refused(
        trio,
        RuleViolationError,
        f"values in project {SLUG!r} are agreed in EUR, not in USD",
        lambda: value(trio, signers, "burgerco", "days", "640", ref="USD"),
        hint="give the value in EUR (one reference unit per project)",
    )
    refused(
        trio,
        RuleViolationError,
        f"values in project {SLUG!r} are agreed in EUR, not in hours",
        lambda: value(trio, signers, "burgerco", "EUR", "0.0125", ref="hours"),
    )


def test_the_same_worth_as_the_value_in_force_is_refused(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")
    trio.approve(SLUG, 4, comment="", signer=signers["burgerco"])
    trio.approve(SLUG, 4, comment="", signer=signers["veggie"])
    refused(
        trio,
        RuleViolationError,
        "hours is already agreed at 80 EUR (seq 4)",
        lambda: value(trio, signers, "veggie", "hours", "80.0"),
        hint="propose a different worth to replace it",
    )


def test_a_unit_cannot_be_valued_in_itself(trio: Ledger, signers: dict[str, Signer]) -> None:
    refused(
        trio,
        UsageError,
        "a unit is worth 1 of itself: 'eur' cannot be valued in 'EUR'",
        lambda: value(trio, signers, "acme", "eur", "1", ref="EUR"),
    )


def test_value_units_follow_the_one_spelling_per_unit_rule(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    trio.add_pledge(
        SLUG, title="t", weight="5", unit="eur", due=DUE, beneficiaries=None,
        signer=signers["acme"],
    )  # fmt: skip
    refused(
        trio,
        UsageError,
        f"unit 'EUR' is spelled 'eur' in project {SLUG!r}; two spellings would split its "
        "contributions",
        lambda: value(trio, signers, "acme", "hours", "80", ref="EUR"),
        hint="write the unit as eur",
    )
    value(trio, signers, "acme", "Hours", "80", ref="eur")  # 5: fixes the spelling Hours
    refused(
        trio,
        UsageError,
        f"unit 'hours' is spelled 'Hours' in project {SLUG!r}; two spellings would split "
        "its contributions",
        lambda: trio.add_pledge(
            SLUG, title="t", weight="5", unit="hours", due=DUE, beneficiaries=None,
            signer=signers["burgerco"],
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("worth", "message"),
    [
        ("0", "worth must be greater than zero, not '0'"),
        ("-80", "worth must be greater than zero, not '-80'"),
        ("eighty", "worth 'eighty' is not a number"),
        ("1" * 41, "worth has 41 digits before the point; accord records at most 18"),
        ("0.0000000000001", "worth has 13 digits after the point; accord records at most 12"),
        ("8e1", "worth '8e1' is not a number"),
    ],
)
def test_a_bad_worth_is_refused_before_signing(
    trio: Ledger, signers: dict[str, Signer], worth: str, message: str
) -> None:
    refused(trio, UsageError, message, lambda: value(trio, signers, "acme", "hours", worth))


def test_a_value_needs_an_active_project(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    memory_ledger.propose_project(
        SLUG, title="Fair", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    refused(
        memory_ledger,
        RuleViolationError,
        f"project {SLUG!r} is not active yet: waiting for burgerco to join",
        lambda: value(memory_ledger, signers, "acme", "hours", "80"),
    )


def test_the_trail_summarises_a_value_proposal(trio: Ledger, signers: dict[str, Signer]) -> None:
    value(trio, signers, "acme", "hours", "80")
    stored = list(trio.read_entries(SLUG))[-1].entry
    assert summary(stored.data) == "proposed 1 hour = 80 EUR: Day rate / 8"


def test_the_verified_state_keeps_value_proposals(trio: Ledger, signers: dict[str, Signer]) -> None:
    value(trio, signers, "acme", "hours", "80")
    trio.reject(SLUG, 4, reason="Too high", signer=signers["burgerco"])
    value(trio, signers, "burgerco", "hours", "70")
    trio.approve(SLUG, 6, comment="", signer=signers["acme"])
    state = trio.get_state(SLUG)
    for proposal in state.values.values():
        assert codec.decode(rules.ValueProposal, codec.encode(proposal)) == proposal
    replayed = rules.replay(SLUG, (s.entry for s in trio.read_entries(SLUG)))
    assert replayed.values == state.values


# --- rules.apply on hand-built entries (what verify, import and a relay run) ------------------


def build(state: rules.ProjectState, signer: Signer, kind: str, body: dict[str, Any]) -> Any:
    data = {
        "v": 1, "project": state.slug, "seq": state.seq + 1, "prev": state.head, "type": kind,
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T12:00:00Z",
        "body": body,
    }  # fmt: skip
    return entry.sign(data, signer.private_key)


def refused_by_apply(
    state: rules.ProjectState, item: Any, error: type[LedgerError], message: str
) -> None:
    before = copy.deepcopy(state)
    with pytest.raises(error) as info:
        rules.apply(state, item)
    assert type(info.value) is error
    assert info.value.message == message
    assert state == before


def test_apply_refuses_a_value_of_a_unit_in_itself(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    state = trio.get_state(SLUG)
    body = {"unit": "EUR", "worth": "1", "in": "eur", "reason": "r"}
    refused_by_apply(
        state,
        build(state, signers["acme"], "value.proposed", body),
        RuleViolationError,
        "a unit is worth 1 of itself: 'EUR' cannot be valued in 'eur'",
    )


@pytest.mark.parametrize(
    ("field", "bad"),
    [("worth", "0"), ("worth", "-1"), ("worth", "1e3"), ("worth", "1.50"), ("worth", 80),
     ("unit", "two words"), ("in", ""), ("reason", " ")],
)  # fmt: skip
def test_apply_refuses_a_malformed_value_body(
    trio: Ledger, signers: dict[str, Signer], field: str, bad: Any
) -> None:
    state = trio.get_state(SLUG)
    body = {"unit": "hours", "worth": "80", "in": "EUR", "reason": "r", field: bad}
    item = build(state, signers["acme"], "value.proposed", body)
    with pytest.raises(VerificationError) as info:
        check_entry(item.data)
    assert info.value.message == f"value.proposed body field {field!r} is malformed"
    refused_by_apply(
        state, item, VerificationError, f"value.proposed body field {field!r} is malformed"
    )


@pytest.mark.parametrize(
    ("worth", "message"),
    [
        ("1" * 41, "the worth of a value proposal has 41 digits before the point; accord "
         "records at most 18"),
        ("0." + "0" * 37 + "1", "the worth of a value proposal has 38 digits after the point; "
         "accord records at most 12"),
    ],
)  # fmt: skip
def test_apply_refuses_a_worth_beyond_the_bound_as_a_rule_violation(
    trio: Ledger, signers: dict[str, Signer], worth: str, message: str
) -> None:
    state = trio.get_state(SLUG)
    body = {"unit": "hours", "worth": worth, "in": "EUR", "reason": "r"}
    item = build(state, signers["acme"], "value.proposed", body)
    check_entry(item.data)  # the shape of format v1; the bound is a rule
    refused_by_apply(state, item, RuleViolationError, message)


def test_apply_refuses_an_approval_of_a_value_with_the_wrong_hash(
    trio: Ledger, signers: dict[str, Signer]
) -> None:
    value(trio, signers, "acme", "hours", "80")
    state = trio.get_state(SLUG)
    body = {"target": 4, "target_hash": "b" * 64, "comment": ""}
    refused_by_apply(
        state,
        build(state, signers["burgerco"], "approval.given", body),
        RuleViolationError,
        "the target hash does not match the hash of seq 4",
    )


# --- the display rounding ---------------------------------------------------------------------


def test_apportion_gives_the_missing_places_to_the_largest_remainders() -> None:
    shares = {"a": Fraction(2, 3), "b": Fraction(1, 6), "c": Fraction(1, 6)}
    # 666.67 + 166.67 + 166.67: floors 666 + 166 + 166 = 998; remainders .67 each, by name
    assert apportion(shares, 3) == {
        "a": Fraction(667, 1000),
        "b": Fraction(167, 1000),
        "c": Fraction(166, 1000),
    }
    assert apportion({"a": None, "b": None}, 3) == {"a": None, "b": None}
    assert apportion({"a": Fraction(1), "b": Fraction(0)}, 3) == {"a": 1, "b": 0}


def test_fraction_decimal_is_exact_and_refuses_a_repeating_decimal() -> None:
    assert fraction_decimal(Fraction(833325, 1000)) == Decimal("833.325")
    assert fraction_decimal(Fraction(1, 8)) == Decimal("0.125")
    assert fraction_decimal(Fraction(0)) == Decimal(0)
    with pytest.raises(ValueError, match="no finite decimal"):
        fraction_decimal(Fraction(1, 3))
