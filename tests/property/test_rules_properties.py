"""Properties of the rules under random commands.

* A state machine drives random *valid* commands by acme, burgerco and veggie on an
  in-memory ledger; after every step the stored stream has no gaps, every ``prev`` links,
  and replaying it gives the ledger's state and the state folded entry by entry.
* Parties add and remove signers (people) and sign with them; every current key is one
  labelled signer of one party, and no party loses its last signer.
* Random, mostly invalid, commands are either recorded (one new entry) or refused with a
  ``LedgerError`` that leaves the stored stream exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from ledger_strategies import (
    MEMBERS,
    SLUG,
    Command,
    approval_policies,
    build_story,
    check_stream,
    close_policies,
    commands,
    hashes,
    memory_ledger,
    party_signers,
    positive_decimals,
    run_command,
    signer_for,
    texts,
    units,
)

from ledger import numbers, rules
from ledger.application import Receipt
from ledger.errors import KeyNotValidError, LedgerError, RuleViolationError, UsageError
from ledger.rules import guards
from ledger.rules.guards import OpenPledgesError

members = st.sampled_from(MEMBERS)


class LedgerStory(RuleBasedStateMachine):
    """Random valid commands on one project; the model is the incrementally folded state."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = memory_ledger()
        self.signers = party_signers()
        self.next_seed = 10
        self.folded = rules.new_state(SLUG)
        self.seen = 0

    def teardown(self) -> None:
        self.ledger.close()

    # --- bookkeeping -------------------------------------------------------------------------

    def attempt(self, call: Callable[[], Receipt]) -> Receipt | None:
        """Run a valid command: recorded while the project is active, refused once closed."""
        if self.folded.status != rules.CLOSED:
            receipt = call()
            self.record(receipt)
            return receipt
        before = hashes(self.ledger)
        with pytest.raises(RuleViolationError) as info:
            call()
        assert info.value.message == (
            f"project {SLUG!r} is closed (seq {self.folded.closed_seq}); nothing more can be added"
        )
        assert hashes(self.ledger) == before
        event("refused after close")
        return None

    def record(self, receipt: Receipt) -> None:
        """Fold the one new stored entry into the model; it must be the receipt's entry."""
        new = list(self.ledger.read_entries(SLUG))[self.seen :]
        assert [stored.entry.hash for stored in new] == [receipt.hash]
        assert new[0].entry.seq == receipt.seq == self.folded.seq + 1
        rules.apply(self.folded, new[0].entry)
        self.seen += 1
        assert receipt.status == self.folded.status
        event(f"recorded {receipt.type}")

    def open_pledges(self) -> list[rules.Pledge]:
        return [p for p in self.folded.pledges.values() if p.status == "open"]

    # --- setup -------------------------------------------------------------------------------

    @initialize(
        approval=approval_policies,
        close=close_policies,
        weights=st.tuples(positive_decimals, positive_decimals, positive_decimals),
        unit=units,
    )
    def propose_join_and_pledge(
        self, approval: str, close: str, weights: tuple[str, str, str], unit: str
    ) -> None:
        self.record(
            self.ledger.propose_project(
                SLUG,
                title="Random collaboration",
                purpose="",
                members={"burgerco": None, "veggie": None},
                approval=approval,
                close=close,
                signer=self.signers["acme"],
            )
        )
        for handle in ("burgerco", "veggie"):
            self.record(self.ledger.join_project(SLUG, signer=self.signers[handle]))
        assert self.folded.status == rules.ACTIVE
        for handle, weight in zip(MEMBERS, weights, strict=True):
            self.record(
                self.ledger.add_pledge(
                    SLUG,
                    title="Opening pledge",
                    weight=weight,
                    unit=unit,
                    due="2026-12-01",
                    beneficiaries=None,
                    signer=self.signers[handle],
                )
            )

    # --- commands ----------------------------------------------------------------------------
    # Every command is valid while the project is active; once it is closed, ``attempt``
    # insists on the refusal instead.

    @rule(party=members, weight=positive_decimals, unit=units, data=st.data())
    def pledge(self, party: str, weight: str, unit: str, data: st.DataObject) -> None:
        others = [h for h in self.folded.joined() if h != party]
        chosen = data.draw(st.none() | st.lists(st.sampled_from(others), min_size=1, unique=True))
        receipt = self.attempt(
            lambda: self.ledger.add_pledge(
                SLUG,
                title="Pledge",
                weight=weight,
                unit=unit,
                due="2026-12-01",
                beneficiaries=chosen,
                signer=self.signers[party],
            )
        )
        if receipt is not None:
            made = self.folded.pledges[receipt.seq]
            assert made.weight == Decimal(weight)
            assert made.beneficiaries == tuple(sorted(chosen or others))

    @rule(quantity=st.none() | positive_decimals, data=st.data())
    def deliver(self, quantity: str | None, data: st.DataObject) -> None:
        options = sorted(p.seq for p in self.open_pledges() if p.pending_close is None)
        if not options:
            return
        item = self.folded.pledges[data.draw(st.sampled_from(options))]
        claimed = sum(
            (
                d.quantity
                for s in item.deliverables
                if isinstance(d := self.folded.decisions[s], rules.Deliverable)
                and d.status in (rules.PENDING, rules.ACCEPTED)
            ),
            Decimal(0),
        )
        remaining = item.weight - claimed

        def call() -> Receipt:
            return self.ledger.deliver(
                SLUG,
                item.seq,
                summary="Done",
                quantity=quantity,
                evidence=[],
                signer=self.signers[item.by],
            )

        if quantity is None and remaining <= 0 and self.folded.status != rules.CLOSED:
            before = hashes(self.ledger)
            with pytest.raises(UsageError) as info:
                call()
            assert info.value.message == f"pledge {item.seq} has no undelivered weight left"
            assert hashes(self.ledger) == before
            return
        receipt = self.attempt(call)
        if receipt is not None:
            expected = Decimal(quantity) if quantity is not None else remaining
            made = self.folded.decisions[receipt.seq]
            assert isinstance(made, rules.Deliverable)
            assert made.quantity == expected

    def decision_options(self) -> list[tuple[int, str]]:
        options = []
        for decision in self.folded.decisions.values():
            if decision.status != rules.PENDING:
                continue
            for handle in self.folded.pledges[decision.pledge].beneficiaries:
                if handle != decision.by and handle not in decision.approvals:
                    options.append((decision.seq, handle))
        return sorted(options)

    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        options = self.decision_options()
        if not options:
            return
        target, handle = data.draw(st.sampled_from(options))
        receipt = self.attempt(
            lambda: self.ledger.approve(SLUG, target, comment="", signer=self.signers[handle])
        )
        if receipt is not None:
            assert self.folded.decisions[target].approvals[handle] == receipt.seq

    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        options = self.decision_options()
        if not options:
            return
        target, handle = data.draw(st.sampled_from(options))
        receipt = self.attempt(
            lambda: self.ledger.reject(SLUG, target, reason="not yet", signer=self.signers[handle])
        )
        if receipt is not None:
            decision = self.folded.decisions[target]
            assert (decision.status, decision.refusal) == (
                rules.REJECTED,
                (handle, receipt.seq, "not yet"),
            )

    @rule(weight=positive_decimals, data=st.data())
    def amend(self, weight: str, data: st.DataObject) -> None:
        options = sorted(
            p.seq
            for p in self.open_pledges()
            if p.pending_amendment is None and p.pending_close is None
        )
        if not options:
            return
        item = self.folded.pledges[data.draw(st.sampled_from(options))]
        if Decimal(weight) == item.weight:
            weight = numbers.decimal_text(item.weight + 1)
        before = (item.title, item.weight, item.due)
        receipt = self.attempt(
            lambda: self.ledger.amend_pledge(
                SLUG,
                item.seq,
                title=None,
                weight=weight,
                due=None,
                reason="scope",
                signer=self.signers[item.by],
            )
        )
        if receipt is not None:
            assert (item.title, item.weight, item.due) == before  # not until approved
            assert item.pending_amendment == receipt.seq

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        options = sorted(p.seq for p in self.open_pledges())
        if not options:
            return
        item = self.folded.pledges[data.draw(st.sampled_from(options))]
        pending = item.pending_amendment
        receipt = self.attempt(
            lambda: self.ledger.withdraw_pledge(
                SLUG, item.seq, reason="cannot", signer=self.signers[item.by]
            )
        )
        if receipt is not None:
            assert (item.status, item.withdrawn_seq, item.pending_amendment) == (
                "withdrawn",
                receipt.seq,
                None,
            )
            if pending is not None:
                assert self.folded.decisions[pending].status == rules.VOID

    @rule(data=st.data())
    def dispute(self, data: st.DataObject) -> None:
        options = []
        for decision in self.folded.decisions.values():
            if not isinstance(decision, rules.Deliverable) or decision.dispute is not None:
                continue
            pledge = self.folded.pledges[decision.pledge]
            concerned = (pledge.by, *pledge.beneficiaries)
            if decision.status == rules.ACCEPTED:
                options += [(decision.seq, h) for h in concerned if h != decision.by]
                options += [
                    (seq, h) for a, seq in decision.approvals.items() for h in concerned if h != a
                ]
            if (
                decision.status == rules.REJECTED
                and decision.refusal is not None
                and pledge.status != rules.CLOSED_SHORT
                and pledge.pending_close is None
            ):
                options += [(decision.refusal[1], h) for h in concerned if h != decision.refusal[0]]
        if not options:
            return
        target, handle = data.draw(st.sampled_from(sorted(options)))
        receipt = self.attempt(
            lambda: self.ledger.open_dispute(
                SLUG, target, reason="wrong", signer=self.signers[handle]
            )
        )
        if receipt is not None:
            opened = self.folded.disputes[receipt.seq]
            assert (opened.status, opened.target, opened.by) == (rules.OPEN, target, handle)
            assert self.folded.open_disputes[receipt.seq] == opened.pledge

    @rule(data=st.data(), outcome=st.sampled_from(["upheld", "dismissed"]))
    def resolve(self, data: st.DataObject, outcome: str) -> None:
        options = sorted(
            (number, handle)
            for number in self.folded.open_disputes
            for handle in self.folded.disputes[number].parties
            if self.folded.disputes[number].votes.get(handle, ("", 0))[0] != outcome
        )
        if not options:
            return
        number, handle = data.draw(st.sampled_from(options))
        receipt = self.attempt(
            lambda: self.ledger.resolve_dispute(
                SLUG, number, outcome=outcome, reason="settled", signer=self.signers[handle]
            )
        )
        if receipt is not None:
            settled = self.folded.disputes[number]
            assert settled.votes[handle] == (outcome, receipt.seq)
            agreed = all(settled.votes.get(p, ("", 0))[0] == outcome for p in settled.parties)
            assert (settled.status == outcome) == agreed

    @rule(data=st.data())
    def close_short(self, data: st.DataObject) -> None:
        options = sorted(
            p.seq
            for p in self.open_pledges()
            if p.pending_close is None
            and p.pending_amendment is None
            and p.pending == 0
            and p.seq not in self.folded.open_disputes.values()
            and p.approved < p.weight
        )
        if not options:
            return
        item = self.folded.pledges[data.draw(st.sampled_from(options))]
        receipt = self.attempt(
            lambda: self.ledger.close_pledge_short(
                SLUG, item.seq, reason="enough", signer=self.signers[item.by]
            )
        )
        if receipt is not None:
            assert item.pending_close == receipt.seq

    @rule(party=members, text=texts)
    def propose_statement(self, party: str, text: str) -> None:
        self.attempt(
            lambda: self.ledger.propose_statement(
                SLUG, title="Statement", text=text, signer=self.signers[party]
            )
        )

    @rule(data=st.data())
    def sign_statement(self, data: st.DataObject) -> None:
        options = sorted(
            (statement.seq, handle)
            for statement in self.folded.statements.values()
            for handle in self.folded.joined()
            if handle not in statement.signatures
        )
        if not options:
            return
        target, handle = data.draw(st.sampled_from(options))
        receipt = self.attempt(
            lambda: self.ledger.sign_statement(SLUG, target, signer=self.signers[handle])
        )
        if receipt is not None:
            assert self.folded.statements[target].signatures[handle] == receipt.seq

    @rule(party=members, data=st.data())
    def revise_statement(self, party: str, data: st.DataObject) -> None:
        options = sorted(self.folded.statements)
        if not options:
            return
        statement = self.folded.statements[data.draw(st.sampled_from(options))]
        version = statement.version
        receipt = self.attempt(
            lambda: self.ledger.revise_statement(
                SLUG,
                statement.seq,
                text=f"{statement.texts[0]} (revision {version})",
                reason="wording",
                signer=self.signers[party],
            )
        )
        if receipt is not None:
            assert (statement.version, statement.signatures) == (version + 1, {})

    @rule(data=st.data())
    def sign_close(self, data: st.DataObject) -> None:
        if self.folded.seq < 12:  # let some history happen first (no precondition: no filter)
            return
        options = [h for h in self.folded.joined() if h not in self.folded.close_signatures]
        handle = data.draw(st.sampled_from(options or self.folded.joined()))
        head_seq = self.folded.final_head_seq
        if self.folded.open_disputes and self.folded.status != rules.CLOSED:
            before = hashes(self.ledger)
            with pytest.raises(RuleViolationError) as info:
                self.ledger.sign_close(SLUG, signer=self.signers[handle])
            first = min(self.folded.open_disputes)
            assert info.value.message == (
                f"dispute {first} is open; a project with an open dispute cannot close"
            )
            assert hashes(self.ledger) == before
            event("close refused: a dispute is open")
            return
        signer = self.signers[handle]
        still_open = [p.seq for p in guards.open_pledges(self.folded)]
        can_sign = self.folded.members[handle].signer_for(signer.fingerprint) is not None
        if (
            still_open
            and self.folded.status == rules.ACTIVE
            and can_sign
            and handle not in self.folded.close_signatures
        ):
            # The command's guard (ADR 0012): refused, listing them, until they are accepted.
            before = hashes(self.ledger)
            with pytest.raises(OpenPledgesError) as refusal:
                self.ledger.sign_close(SLUG, signer=signer, accept_open=still_open[1:])
            assert refusal.value.pledges == still_open[:1]
            assert hashes(self.ledger) == before
            event("close refused: a pledge is open")
        receipt = self.attempt(
            lambda: self.ledger.sign_close(SLUG, signer=signer, accept_open=still_open)
        )
        if receipt is not None:
            assert self.folded.final_head_seq == head_seq
            assert self.folded.close_signatures[handle] == receipt.seq

    @rule(party=members)
    def rotate_key(self, party: str) -> None:
        old = self.signers[party]
        new = signer_for(party, self.next_seed)
        self.next_seed += 1
        receipt = self.attempt(
            lambda: self.ledger.rotate_key(SLUG, new_public_key=new.public_key_line, signer=old)
        )
        if receipt is None:
            return
        self.signers[party] = new
        before = hashes(self.ledger)
        with pytest.raises(KeyNotValidError) as info:
            self.ledger.propose_statement(SLUG, title="S", text="T", signer=old)
        assert info.value.message == f"key {old.fingerprint} was replaced by a newer key"
        assert hashes(self.ledger) == before

    @rule(party=members, switch=st.booleans())
    def add_signer(self, party: str, switch: bool) -> None:
        new = signer_for(party, self.next_seed)
        label = f"person-{self.next_seed}"
        self.next_seed += 1
        receipt = self.attempt(
            lambda: self.ledger.add_signer(
                SLUG, label=label, public_key=new.public_key_line, signer=self.signers[party]
            )
        )
        if receipt is None:
            return
        assert self.folded.members[party].signers[label].key == new.fingerprint
        if switch:  # from now on the party's entries are signed by the new person
            self.signers[party] = new

    @rule(party=members, data=st.data())
    def remove_signer(self, party: str, data: st.DataObject) -> None:
        member = self.folded.members[party]
        using = self.signers[party].fingerprint
        others = sorted(label for label, s in member.signers.items() if s.key != using)
        if not others:
            if self.folded.status == rules.CLOSED:
                return
            [own] = member.signers
            before = hashes(self.ledger)
            with pytest.raises(RuleViolationError) as info:
                self.ledger.remove_signer(SLUG, label=own, reason="r", signer=self.signers[party])
            assert info.value.message == (
                f"{own!r} is the last signer of {party!r}; a party cannot remove its last signer"
            )
            assert hashes(self.ledger) == before
            event("refused removing the last signer")
            return
        label = data.draw(st.sampled_from(others))
        key = member.signers[label].key
        receipt = self.attempt(
            lambda: self.ledger.remove_signer(
                SLUG, label=label, reason="left", signer=self.signers[party]
            )
        )
        if receipt is not None:
            assert self.folded.removed[key] == receipt.seq
            assert label not in self.folded.members[party].signers

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def every_current_key_is_one_labelled_signer_of_one_party(self) -> None:
        seats = [
            (handle, s.label, s.key)
            for handle, m in self.folded.members.items()
            for s in m.signers.values()
        ]
        keys = [key for _, _, key in seats]
        assert len(keys) == len(set(keys))
        for handle, label, key in seats:
            assert self.folded.labels[key] == label
            assert key in self.folded.members[handle].keys
            assert key not in self.folded.removed and key not in self.folded.revoked
        for handle in self.folded.joined():
            assert self.folded.members[handle].signers  # nobody removes its last signer
            assert self.signers[handle].fingerprint in self.folded.members[handle].current_keys()

    @invariant()
    def the_stream_replays_to_the_ledgers_state_and_the_folded_one(self) -> None:
        if self.folded.seq == 0:
            return
        assert check_stream(self.ledger) == self.folded
        assert self.folded.seq == self.seen

    @invariant()
    def decisions_agree_with_the_approval_policy(self) -> None:
        for decision in self.folded.decisions.values():
            pledge = self.folded.pledges[decision.pledge]
            needed = self.folded.approvals_needed(pledge)
            assert set(decision.approvals) <= set(pledge.beneficiaries) - {decision.by}
            upheld = isinstance(decision, rules.Deliverable) and any(
                self.folded.disputes[d].status == rules.UPHELD for d in decision.disputes
            )
            if decision.status == rules.ACCEPTED:
                assert len(decision.approvals) >= needed
            elif decision.status == rules.PENDING:
                assert len(decision.approvals) < needed
                assert decision.refusal is None
            elif decision.status == rules.REJECTED:
                assert decision.refusal is not None or upheld
            else:
                assert decision.status == rules.VOID
                assert decision.kind in ("amendment", "close-short")
        for pledge in self.folded.pledges.values():
            for pending in (pledge.pending_amendment, pledge.pending_close):
                assert pending is None or self.folded.decisions[pending].status == rules.PENDING
            if pledge.status == rules.CLOSED_SHORT:
                assert pledge.pending_close is None and pledge.closed_short_seq is not None

    @invariant()
    def disputes_hold_back_exactly_the_disputed_acceptances(self) -> None:
        for pledge in self.folded.pledges.values():
            items = [self.folded.decisions[s] for s in pledge.deliverables]
            accepted = [d for d in items if isinstance(d, rules.Deliverable)]
            held = [d.quantity for d in accepted if d.status == rules.ACCEPTED and d.dispute]
            free = [d.quantity for d in accepted if d.status == rules.ACCEPTED and not d.dispute]
            assert pledge.disputed == sum(held, Decimal(0))
            assert pledge.approved == sum(free, Decimal(0))
            assert sorted(q for _, q in pledge.accepted) == sorted(free)
        for number, pledge_seq in self.folded.open_disputes.items():
            dispute = self.folded.disputes[number]
            assert (dispute.status, dispute.pledge) == (rules.OPEN, pledge_seq)
            assert self.folded.decisions[dispute.deliverable].dispute == number

    @invariant()
    def close_signatures_sign_the_final_head(self) -> None:
        assert all(s > self.folded.final_head_seq for s in self.folded.close_signatures.values())
        if self.folded.status == rules.CLOSED:
            assert len(self.folded.close_signatures) >= self.folded.closes_needed()
            assert self.folded.closed_seq == self.folded.seq


LedgerStory.TestCase.settings = settings(stateful_step_count=15, deadline=None)
TestRandomValidCommandsReplayToTheSameState = LedgerStory.TestCase


@settings(deadline=None)
@given(steps=st.lists(commands, min_size=1, max_size=6))
def test_a_random_command_is_either_recorded_or_refused_without_a_trace(
    steps: list[Command],
) -> None:
    ledger = memory_ledger()
    signers = party_signers()
    try:
        build_story(ledger, signers)
        for command in steps:
            before = hashes(ledger)
            try:
                receipt = run_command(ledger, signers, command)
            except LedgerError as exc:
                event(f"refused {command.kind} with {type(exc).__name__}")
                assert hashes(ledger) == before
            else:
                assert hashes(ledger) == [*before, receipt.hash]
                assert receipt.seq == len(before) + 1
                event(f"recorded {command.kind}")
            check_stream(ledger)
    finally:
        ledger.close()
