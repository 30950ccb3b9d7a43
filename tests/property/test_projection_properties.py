"""Properties of the read side under random valid histories.

A history is three members (acme proposes, burgerco and veggie join) followed by random
pledges (units from a small set), partial deliveries of random positive quantities,
approvals, rejections, withdrawals, disputes of decisions, resolutions and proposals to close
a pledge short (ADR 0009), each made valid against the current state. Then:

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
from hypothesis import event, given
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
        [
            "pledge",
            "pledge",
            "deliver",
            "deliver",
            "decide",
            "decide",
            "withdraw",
            "dispute",
            "dispute",
            "resolve",
            "resolve",
            "resolve",
            "close-short",
        ]
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
# Histories that dispute and close short often: each starts with accepted work to dispute
# (see ``seed_disputes``) and draws mostly deliveries, decisions, disputes and resolutions.
dispute_actions = st.builds(
    Action,
    kind=st.sampled_from(
        [
            "deliver",
            "decide",
            "decide",
            "dispute",
            "dispute",
            "resolve",
            "resolve",
            "resolve",
            "resolve",
            "close-short",
            "pledge",
            "withdraw",
        ]
    ),
    party=st.integers(0, 2),
    pick=st.integers(0, 50),
    unit=st.sampled_from(UNITS),
    amount=st.none() | quantities,
    due=st.sampled_from(DUES),
    to_all=st.booleans(),
    approve=st.booleans(),
)
dispute_histories = st.tuples(
    st.sampled_from(["all", "any"]), st.lists(dispute_actions, min_size=4, max_size=20)
)


def seed_disputes(ledger: Ledger) -> None:
    """Accepted and rejected work to dispute: acme pledges 10 hours to burgerco (seq 4),
    delivers 4 (5), burgerco approves (6); delivers 3 (7), burgerco rejects (8); veggie
    pledges 5 eur to acme and burgerco (9), delivers 5 (10), acme approves (11)."""
    acme, burgerco, veggie = SIGNERS["acme"], SIGNERS["burgerco"], SIGNERS["veggie"]
    add = ledger.add_pledge
    add(SLUG, title="Work", weight="10", unit="hours", due="2026-12-01",
        beneficiaries=["burgerco"], signer=acme)  # fmt: skip
    ledger.deliver(SLUG, 4, summary="Part", quantity="4", evidence=[], signer=acme)
    ledger.approve(SLUG, 5, comment="", signer=burgerco)
    ledger.deliver(SLUG, 4, summary="More", quantity="3", evidence=[], signer=acme)
    ledger.reject(SLUG, 7, reason="Not yet", signer=burgerco)
    add(SLUG, title="Cash", weight="5", unit="eur", due="2026-11-22", beneficiaries=None,
        signer=veggie)  # fmt: skip
    ledger.deliver(SLUG, 9, summary="Paid", quantity="5", evidence=[], signer=veggie)
    ledger.approve(SLUG, 10, comment="", signer=acme)


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
    live = [p for p in state.pledges.values() if p.status == "open" and p.pending_close is None]
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
    return perform_dispute(ledger, state, action)


def perform_dispute(ledger: Ledger, state: rules.ProjectState, action: Action) -> bool:
    """The actions of ADR 0009: dispute, resolve, close-short (made valid, or False)."""
    if action.kind == "dispute":
        options = []
        for d in state.decisions.values():
            if not isinstance(d, rules.Deliverable) or d.dispute is not None:
                continue
            pledge = state.pledges[d.pledge]
            concerned = (pledge.by, *pledge.beneficiaries)
            if d.status == rules.ACCEPTED:
                options += [(d.seq, h) for h in concerned if h != d.by]
                options += [(s, h) for a, s in d.approvals.items() for h in concerned if h != a]
            elif (
                d.refusal is not None
                and pledge.status != rules.CLOSED_SHORT
                and pledge.pending_close is None
            ):
                options += [(d.refusal[1], h) for h in concerned if h != d.refusal[0]]
        if not options:
            return False
        target, handle = sorted(options)[action.pick % len(options)]
        ledger.open_dispute(SLUG, target, reason="Not right", signer=SIGNERS[handle])
        event("opened a dispute")
        return True
    if action.kind == "resolve" and state.open_disputes:
        numbers = sorted(state.open_disputes)
        dispute = state.disputes[numbers[action.pick % len(numbers)]]
        outcome = "dismissed" if action.approve else "upheld"
        # Mostly a party that has not signed follows the first signature, so that disputes
        # get settled; a party that signed this outcome already signs the other.
        waiting = [p for p in dispute.parties if p not in dispute.votes]
        party = (waiting or list(dispute.parties))[action.party % len(waiting or dispute.parties)]
        if dispute.votes and waiting and action.pick % 4:
            outcome = next(iter(dispute.votes.values()))[0]
        if dispute.votes.get(party, ("", 0))[0] == outcome:
            outcome = "upheld" if outcome == "dismissed" else "dismissed"
        ledger.resolve_dispute(
            SLUG, dispute.seq, outcome=outcome, reason="Settled", signer=SIGNERS[party]
        )
        event(f"dispute {ledger.get_state(SLUG).disputes[dispute.seq].status}")
        return True
    if action.kind == "close-short":
        fits = [
            p
            for p in state.pledges.values()
            if p.status == "open"
            and p.pending_close is None
            and p.pending_amendment is None
            and p.pending == 0
            and p.seq not in state.open_disputes.values()
            and p.approved < p.weight
        ]
        if not fits:
            return False
        pledge = fits[action.pick % len(fits)]
        ledger.close_pledge_short(SLUG, pledge.seq, reason="Enough", signer=SIGNERS[pledge.by])
        event("proposed to close a pledge short")
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
        # Overall, a party none of whose work has an agreed value is not valued: no share,
        # and the shares of the others add up to 1 (ADR 0012).
        not_valued = [r for r in in_unit if r.valued == "none"]
        assert all(r.pledged_share is r.approved_share is None for r in not_valued)
        assert all(r.approved == r.pledged == 0 and not r.guest_star for r in not_valued)
        in_unit = [r for r in in_unit if r.valued != "none"]
        if not_valued:
            assert all(r.peers == len(in_unit) for r in in_unit)
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


@given(dispute_histories)
def test_random_disputes_and_close_shorts_replay_to_the_same_state_and_views(history) -> None:
    approval, steps = history
    ledger = start(approval)
    try:
        seed_disputes(ledger)
        for action in steps:
            if perform(ledger, action):
                for today in TODAYS:
                    check_shares(Replay.build(ledger, SLUG), today)
        stored = list(ledger.read_entries(SLUG))
        folded = Replay.empty(SLUG)
        folded.extend(stored)
        assert rules.replay(SLUG, [s.entry for s in stored]) == folded.state
        assert folded.state == ledger.get_state(SLUG)
        assert rows_of(folded) == rows_of(Replay.build(ledger, SLUG))
        for pledge in folded.state.pledges.values():
            row = next(o for o in obligations(folded, TODAYS[-1]) if o.seq == pledge.seq)
            if pledge.status == rules.CLOSED_SHORT:
                assert row.status == "closed-short"
            elif pledge.seq in folded.state.open_disputes.values():
                assert row.status in ("withdrawn", "fulfilled", "disputed")
    finally:
        ledger.close()
