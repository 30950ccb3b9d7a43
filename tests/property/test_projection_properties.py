"""Properties of the read side under random valid histories.

A history is three members (acme proposes, burgerco and veggie join) followed by random
pledges (units from a small set), partial deliveries of random positive quantities,
approvals, rejections and withdrawals, each made valid against the current state. Then:

* per unit, pledged and approved shares each sum to exactly 1 whenever the unit's total is
  positive, and every ratio lies in [0, 1];
* a Replay advanced incrementally equals one rebuilt from scratch;
* ``Replay.build`` with ``AsOf(seq=N)`` equals the fold of the first N entries, for every N.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger import rules
from ledger.application import Ledger
from ledger.keys import Signer
from projections.contributions import contributions
from projections.obligations import STATUSES, obligations
from projections.replay import AsOf, Replay

SLUG = "props"
MEMBERS = ("acme", "burgerco", "veggie")
UNITS = ("hours", "eur", "posts")
DUES = ("2026-11-20", "2026-11-22", "2026-11-25", "2026-12-01")
TODAYS = (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 26), date(2026, 12, 5))


class Clock:
    """Claims 2026-11-22T10:00:00Z plus one minute per entry."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


SIGNERS = {
    handle: Signer(
        handle=handle,
        key_name=handle,
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([i + 1]) * 32),
    )
    for i, handle in enumerate(MEMBERS)
}


@dataclass(frozen=True)
class Action:
    """One step, made valid by :func:`perform` (picks are taken modulo what exists)."""

    kind: str
    party: int
    pick: int
    unit: str
    amount: str | None
    due: str
    to_all: bool
    approve: bool


quantities = st.one_of(
    st.integers(min_value=1, max_value=60).map(str),
    st.tuples(st.integers(0, 20), st.integers(1, 9)).map(lambda p: f"{p[0]}.{p[1]}"),
)
actions = st.builds(
    Action,
    kind=st.sampled_from(
        ["pledge", "pledge", "deliver", "deliver", "decide", "decide", "withdraw"]
    ),
    party=st.integers(0, 2),
    pick=st.integers(0, 50),
    unit=st.sampled_from(UNITS),
    amount=st.none() | quantities,  # None: deliver what remains (pledge 10)
    due=st.sampled_from(DUES),
    to_all=st.booleans(),
    approve=st.sampled_from([True, True, True, False]),
)
histories = st.tuples(st.sampled_from(["all", "any"]), st.lists(actions, min_size=6, max_size=24))


def start(approval: str) -> Ledger:
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=Clock())
    ledger.propose_project(
        SLUG, title="Props", purpose="", members={"burgerco": None, "veggie": None},
        approval=approval, close="all", signer=SIGNERS["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=SIGNERS["burgerco"])
    ledger.join_project(SLUG, signer=SIGNERS["veggie"])
    return ledger


def perform(ledger: Ledger, action: Action) -> bool:
    """Carry out ``action`` as a valid command; return False when nothing fits it."""
    state = ledger.get_state(SLUG)
    live = [p for p in state.pledges.values() if p.status != "withdrawn"]
    if action.kind == "pledge":
        party = MEMBERS[action.party]
        others = [h for h in MEMBERS if h != party]
        ledger.add_pledge(
            SLUG, title="Work", weight=action.amount or "10", unit=action.unit, due=action.due,
            beneficiaries=None if action.to_all else [others[action.pick % 2]],
            signer=SIGNERS[party],
        )  # fmt: skip
        return True
    if action.kind == "deliver" and live:
        pledge = live[action.pick % len(live)]
        claimed = sum(
            state.decisions[s].quantity  # type: ignore[attr-defined]
            for s in pledge.deliverables
            if state.decisions[s].status in (rules.PENDING, rules.ACCEPTED)
        )
        quantity = action.amount if action.amount or claimed < pledge.weight else "1"
        ledger.deliver(
            SLUG, pledge.seq, summary="Part", quantity=quantity, evidence=[],
            signer=SIGNERS[pledge.by],
        )  # fmt: skip
        return True
    if action.kind == "withdraw" and live:
        pledge = live[action.pick % len(live)]
        ledger.withdraw_pledge(SLUG, pledge.seq, reason="Changed plans", signer=SIGNERS[pledge.by])
        return True
    if action.kind == "decide":
        pending = [
            d
            for d in state.decisions.values()
            if d.status == rules.PENDING and state.pledges[d.pledge].status != "withdrawn"
        ]
        if not pending:
            return False
        decision = pending[action.pick % len(pending)]
        deciders = [
            h for h in state.pledges[decision.pledge].beneficiaries if h not in decision.approvals
        ]
        decider = SIGNERS[deciders[action.party % len(deciders)]]
        if action.approve:
            ledger.approve(SLUG, decision.seq, comment="", signer=decider)
        else:
            ledger.reject(SLUG, decision.seq, reason="Not yet", signer=decider)
        return True
    return False


def rows_of(replay: Replay) -> list[object]:
    """Everything the read views derive, at several "today"s."""
    return [
        (obligations(replay, today), contributions(replay, today, threshold=Fraction(1, 2)))
        for today in TODAYS
    ]


def check_shares(replay: Replay, today: date) -> None:
    rows = contributions(replay, today)
    for unit in {r.unit for r in rows} - {"-"}:
        in_unit = [r for r in rows if r.unit == unit]
        for total, share in (("pledged", "pledged_share"), ("approved", "approved_share")):
            amount = sum(getattr(r, total) for r in in_unit)
            shares = [getattr(r, share) for r in in_unit]
            if amount > 0:
                assert all(isinstance(s, Fraction) and 0 <= s <= 1 for s in shares)
                assert sum(shares) == 1
            else:
                assert shares == [None] * len(in_unit)
    for row in rows:
        assert row.on_time is None or 0 <= row.on_time <= 1
        assert row.fulfilment is None or row.fulfilment >= 0
        assert 0 <= row.approved <= row.delivered


@given(histories)
def test_shares_of_each_unit_sum_to_exactly_one_and_lie_between_zero_and_one(history) -> None:
    approval, steps = history
    ledger = start(approval)
    try:
        for action in steps:
            if perform(ledger, action):
                replay = Replay.build(ledger, SLUG)
                for today in TODAYS:
                    check_shares(replay, today)
        replay = Replay.build(ledger, SLUG)
        for row in obligations(replay, TODAYS[-1]):
            assert row.status in STATUSES
            assert row.days_late >= 0
    finally:
        ledger.close()


@given(histories, st.fractions(0, 1), st.fractions(0, 1))
def test_a_higher_threshold_never_clears_a_guest_star(history, low, high) -> None:
    approval, steps = history
    low, high = sorted((low, high))
    ledger = start(approval)
    try:
        for action in steps:
            perform(ledger, action)
        replay = Replay.build(ledger, SLUG)
        flagged = {
            t: {r.party for r in contributions(replay, TODAYS[1], threshold=t) if r.guest_star}
            for t in (low, high)
        }
        assert flagged[low] <= flagged[high]
    finally:
        ledger.close()


@given(histories)
def test_a_replay_advanced_incrementally_equals_one_rebuilt_from_scratch(history) -> None:
    approval, steps = history
    ledger = start(approval)
    try:
        caught_up = Replay.build(ledger, SLUG)
        for action in steps:
            if perform(ledger, action):
                caught_up.catch_up(ledger)
                assert caught_up.position == ledger.get_state(SLUG).seq
        stored = list(ledger.read_entries(SLUG))
        extended = Replay.empty(SLUG)
        for n in range(1, len(stored) + 1):
            extended.extend(stored[:n])
        rebuilt = Replay.build(ledger, SLUG)
        assert caught_up.state == extended.state == rebuilt.state == ledger.get_state(SLUG)
        assert list(caught_up.iter_entries()) == extended.entries == list(rebuilt.iter_entries())
        assert rows_of(caught_up) == rows_of(extended) == rows_of(rebuilt)
    finally:
        ledger.close()


@given(histories)
def test_as_of_seq_n_equals_the_fold_of_the_first_n_entries_for_every_n(history) -> None:
    approval, steps = history
    ledger = start(approval)
    try:
        for action in steps:
            perform(ledger, action)
        stored = list(ledger.read_entries(SLUG))
        for n in range(1, len(stored) + 1):
            cut = Replay.build(ledger, SLUG, AsOf(seq=n))
            prefix = Replay.empty(SLUG)
            prefix.extend(stored[:n])
            assert cut.position == n
            assert cut.state == prefix.state == rules.replay(SLUG, [s.entry for s in stored[:n]])
            assert rows_of(cut) == rows_of(prefix)
    finally:
        ledger.close()
