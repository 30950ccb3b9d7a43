"""Appending entries signed elsewhere (what a relay does): all or none, idempotent, CAS."""

from __future__ import annotations

import pytest

from ledger.application import Ledger
from ledger.entry import SignedEntry, sign
from ledger.errors import ConflictError, LedgerError
from ledger.keys import Signer

SLUG = "no-whopper-day"


def started(ledger: Ledger, signers: dict[str, Signer]) -> list:
    ledger.propose_project(
        SLUG, title="T", purpose="", members={"burgerco": None}, approval="all", close="all",
        signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])
    ledger.propose_statement(SLUG, title="S", text="x", signer=signers["acme"])
    return [s.entry for s in ledger.read_entries(SLUG)]


def relay() -> Ledger:
    return Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_entries_signed_elsewhere_are_stored_in_order_and_a_resend_is_a_duplicate(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    entries = started(memory_ledger, signers)
    target = relay()
    first = target.append_signed(SLUG, entries[:1])
    assert (first.stored, first.duplicate, first.state.seq) == (True, False, 1)
    rest = target.append_signed(SLUG, entries[1:])
    assert (rest.stored, rest.state.seq, rest.state.head) == (True, 3, entries[-1].hash)
    again = target.append_signed(SLUG, entries[1:])
    assert (again.stored, again.duplicate) == (False, True)
    assert [s.entry.hash for s in target.read_entries(SLUG)] == [e.hash for e in entries]


def test_a_skipping_or_a_taken_seq_is_a_conflict_and_a_bad_entry_stores_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    entries = started(memory_ledger, signers)
    target = relay()
    target.append_signed(SLUG, entries[:1])
    with pytest.raises(ConflictError) as skipping:
        target.append_signed(SLUG, entries[2:])
    assert skipping.value.message == f"seq 3 does not continue the head seq 1 of '{SLUG}'"
    forged = SignedEntry(
        text=entries[1].text, sig=entries[2].sig, hash=entries[1].hash, data=entries[1].data
    )
    with pytest.raises(LedgerError):
        target.append_signed(SLUG, [forged])
    assert target.count_rows(SLUG) == 1
    target.append_signed(SLUG, entries[1:])
    rival_data = {**entries[2].data, "body": {"title": "S", "text": "not x"}}
    rival = sign(rival_data, signers["acme"].private_key)
    with pytest.raises(ConflictError) as taken:
        target.append_signed(SLUG, [rival])
    assert taken.value.message == f"seq 3 of '{SLUG}' is taken by another entry"
    assert [s.entry.hash for s in target.read_entries(SLUG)] == [e.hash for e in entries]
