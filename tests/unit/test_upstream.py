"""Writes through an upstream: a lost answer is resent as the same entry, never re-signed."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import DeadlineExceededError, StorageUnavailableError
from ledger.keys import Signer

SLUG = "no-whopper-day"


class FlakyRelay:
    """An upstream (a second ledger) that stores an entry but loses the first ``drops`` answers."""

    def __init__(self, drops: int) -> None:
        self.store = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.drops = drops
        self.sent: list[str] = []

    def pull(self, ledger: Ledger, slug: str, *, signer: Signer) -> None:
        if self.store.rows.last(slug) is None:
            return
        have = ledger.count_rows(slug)
        theirs = [s.entry for s in self.store.read_entries(slug)]
        if len(theirs) > have:
            ledger.append_signed(slug, theirs[have:])

    def submit(self, ledger: Ledger, slug: str, entry: Any) -> None:
        self.sent.append(entry.hash)
        self.store.append_signed(slug, [entry])  # stored (or already held) ...
        if self.drops:
            self.drops -= 1
            raise StorageUnavailableError("the relay did not answer")  # ... answer lost


def ledger_with(relay: FlakyRelay) -> Ledger:
    return Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, upstream=relay)


def test_a_lost_answer_resends_the_same_entry_and_records_it_once(
    signers: dict[str, Signer],
) -> None:
    relay = FlakyRelay(drops=2)
    local = ledger_with(relay)
    receipt = local.propose_project(
        SLUG, title="T", purpose="", members={"burgerco": None}, approval="all", close="all",
        signer=signers["acme"],
    )  # fmt: skip
    assert relay.sent == [receipt.hash] * 3  # the same signed entry, sent three times
    assert [s.entry.hash for s in local.read_entries(SLUG)] == [receipt.hash]
    assert [s.entry.hash for s in relay.store.read_entries(SLUG)] == [receipt.hash]


def test_a_relay_that_never_answers_says_the_entry_may_be_recorded(
    signers: dict[str, Signer],
) -> None:
    relay = FlakyRelay(drops=5)
    local = ledger_with(relay)
    with pytest.raises(StorageUnavailableError) as info:
        local.propose_project(
            SLUG, title="T", purpose="", members={"burgerco": None}, approval="all",
            close="all", signer=signers["acme"],
        )  # fmt: skip
    assert info.value.message == "the relay did not answer; the relay may hold seq 1 already"
    assert info.value.hint == (
        f"run `accord sync {SLUG}` to see whether it was recorded before trying again"
    )
    assert local.rows.last(SLUG) is None  # nothing recorded locally


class StallingRelay(FlakyRelay):
    """An upstream whose answers never come before the command's deadline."""

    def submit(self, ledger: Ledger, slug: str, entry: Any) -> None:
        self.sent.append(entry.hash)
        raise DeadlineExceededError("the relay did not answer in time", hint="give it longer")


def test_a_passed_deadline_is_not_retried_and_says_the_entry_may_be_recorded(
    signers: dict[str, Signer],
) -> None:
    relay = StallingRelay(drops=0)
    local = ledger_with(relay)
    with pytest.raises(DeadlineExceededError) as info:
        local.propose_project(
            SLUG, title="T", purpose="", members={"burgerco": None}, approval="all",
            close="all", signer=signers["acme"],
        )  # fmt: skip
    assert len(relay.sent) == 1  # sent once: the deadline bounds the whole command
    assert info.value.message == (
        "the relay did not answer in time; the relay may hold seq 1 already"
    )
    assert info.value.hint == (
        f"run `accord sync {SLUG}` to see whether it was recorded before trying again; give it "
        "longer"
    )
    assert local.rows.last(SLUG) is None
