"""Properties of the verified state under random valid histories (see the projection ones).

* the state a fresh process loads from the home, after any number of incremental catch-ups,
  equals a full replay of the log from entry 1;
* a truncation or a change of the verified head made in the store after a read fails the
  next read and the next write, and the write changes nothing;
* a damaged state file is rebuilt by a full verification, never trusted;
* the running totals per party and unit kept in the home equal the sums over every pledge.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_projection_properties import (
    SIGNERS,
    SLUG,
    TODAYS,
    Action,
    Clock,
    dispute_histories,
    histories,
    perform,
    seed_disputes,
)

from ledger import codec, open_items, rules, storage
from ledger.application import Ledger
from ledger.errors import VerificationError
from ledger.open_items import open_values
from ledger.project import project_id
from ledger.totals import add_up, pledge_facts
from projections.contributions import contributions
from projections.replay import Replay


def open_at(directory: Path) -> Ledger:
    path = directory / "accord.db"
    return Ledger(
        storage.settings(str(path)),
        clock=Clock(),
        source=str(path),
        home=directory / "home",
    )


def begin(directory: Path, approval: str) -> Ledger:
    ledger = open_at(directory)
    ledger.propose_project(
        SLUG, title="Props", purpose="", members={"burgerco": None, "veggie": None},
        approval=approval, close="all", signer=SIGNERS["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=SIGNERS["burgerco"])
    ledger.join_project(SLUG, signer=SIGNERS["veggie"])
    return ledger


def full_replay(ledger: Ledger) -> rules.ProjectState:
    return rules.replay(SLUG, (s.entry for s in ledger.read_entries(SLUG)))


@settings(max_examples=25, deadline=None)
@given(histories)
def test_the_state_a_fresh_process_loads_equals_a_full_replay(history) -> None:
    approval, steps = history
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        writer = begin(directory, approval)
        try:
            for action in steps:
                perform(writer, action)
                fresh = open_at(directory)
                try:
                    loaded = fresh.get_state(SLUG)  # lazily, from the home's state file
                    assert loaded == full_replay(fresh)
                finally:
                    fresh.close()
        finally:
            writer.close()


def delete_from(path: Path, first: int) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version >= ?",
            (project_id(SLUG).hex, first),
        )


@settings(max_examples=15, deadline=None)
@given(histories, st.integers(min_value=1, max_value=30))
def test_a_truncation_after_a_read_fails_the_next_read_and_write(history, cut) -> None:
    approval, steps = history
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ledger = begin(directory, approval)
        try:
            for action in steps:
                perform(ledger, action)
            head = ledger.get_state(SLUG).seq
            first = max(2, head - cut + 1)  # keep the proposal: the project still exists
            delete_from(directory / "accord.db", first)
            with pytest.raises(VerificationError) as info:
                ledger.get_state(SLUG)
            assert info.value.seq == first
            with pytest.raises(VerificationError):
                ledger.propose_statement(SLUG, title="T", text="x", signer=SIGNERS["acme"])
            assert ledger.count_rows(SLUG) == first - 1
        finally:
            ledger.close()


@settings(max_examples=15, deadline=None)
@given(histories, st.binary(min_size=0, max_size=64))
def test_a_damaged_state_file_is_rebuilt_and_equals_a_full_replay(history, garbage) -> None:
    approval, steps = history
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ledger = begin(directory, approval)
        try:
            for action in steps:
                perform(ledger, action)
        finally:
            ledger.close()
        for path in (directory / "home" / "verified").glob("*"):
            path.write_bytes(garbage)
        fresh = open_at(directory)
        try:
            assert fresh.get_state(SLUG) == full_replay(fresh)
        finally:
            fresh.close()


@settings(max_examples=25, deadline=None)
@given(dispute_histories)
def test_disputes_and_close_shorts_load_back_from_the_home_as_a_full_replay(history) -> None:
    for fresh, _ in after_each_step(history):
        loaded = fresh.get_state(SLUG)  # lazily, from the home's state file
        assert loaded == full_replay(fresh)
        assert dict(loaded.disputes) == dict(full_replay(fresh).disputes)


def after_each_step(
    history, before: Callable[[Ledger, Action], None] | None = None
) -> Iterator[tuple[Ledger, Path]]:
    """After each step of a dispute history that was carried out: a fresh process's ledger.

    ``before`` runs before each step (another write of its own).
    """
    approval, steps = history
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        writer = begin(directory, approval)
        try:
            seed_disputes(writer)
            for action in steps:
                if before is not None:
                    before(writer, action)
                if not perform(writer, action):
                    continue
                fresh = open_at(directory)
                try:
                    yield fresh, directory
                finally:
                    fresh.close()
        finally:
            writer.close()


def stored_flags(directory: Path) -> dict[tuple[str, int], int]:
    (path,) = (directory / "home" / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT kind, seq, open FROM items WHERE slug=?", (SLUG,)).fetchall()
    return {(kind, seq): flag for kind, seq, flag in rows}


@settings(max_examples=25, deadline=None)
@given(dispute_histories)
def test_the_open_items_a_fresh_process_reads_are_those_of_a_full_replay(history) -> None:
    """The open flags kept in the home, and the open items read through them, never drift."""
    for fresh, directory in after_each_step(history):
        loaded = fresh.get_state(SLUG)  # lazily, from the home's state file
        replayed = full_replay(fresh)
        flags = stored_flags(directory)
        for kind, (attribute, _) in codec.ITEMS.items():
            expected = [
                item
                for _, item in sorted(getattr(replayed, attribute).items())
                if open_items.is_open(attribute, item, replayed)
            ]
            assert open_values(loaded, attribute) == expected, attribute
            assert open_values(replayed, attribute) == expected, attribute
            for seq, item in getattr(replayed, attribute).items():
                stored = flags[(kind, seq)]
                assert stored == open_items.is_open(attribute, item, replayed)


def amend_some(ledger: Ledger, action: Action) -> None:
    """Now and then, propose a new weight and due day for a live pledge (decided later)."""
    if action.pick % 4:
        return
    state = ledger.get_state(SLUG)
    live = [
        p
        for p in state.pledges.values()
        if p.status == "open" and p.pending_close is None and p.pending_amendment is None
    ]
    if not live:
        return
    pledge = live[action.pick % len(live)]
    weight = action.amount or "3"
    changes = {
        "weight": None if Decimal(weight) == pledge.weight else weight,
        "due": None if action.due == pledge.due else action.due,
    }
    if changes == {"weight": None, "due": None}:
        return  # the rules refuse an amendment that changes nothing
    ledger.amend_pledge(
        SLUG, pledge.seq, title=None, weight=changes["weight"], due=changes["due"],
        reason="Rescoped", signer=SIGNERS[pledge.by],
    )  # fmt: skip


def replay_days(replay: Replay) -> Callable[[int], date]:
    return lambda seq: replay.at(seq).date()


def in_memory(ledger: Ledger) -> Replay:
    replay = Replay.empty(SLUG)
    replay.extend(ledger.read_entries(SLUG))
    return replay


@settings(max_examples=25, deadline=None)
@given(dispute_histories)
def test_the_running_totals_kept_in_the_home_are_those_of_every_pledge_added_up(history) -> None:
    """Per party and unit, the totals kept as pledges change equal a sum over all pledges.

    Amendments (new weights and due days), withdrawals, disputes and closes short move
    pledges between the figures; the contributions read from the kept totals equal those of
    a replay in memory, for every day of the read.
    """
    for fresh, _ in after_each_step(history, before=amend_some):
        state = fresh.get_state(SLUG)
        replay = in_memory(fresh)
        kept = fresh.verified.unit_totals(SLUG, seq=state.seq, head=state.head)
        assert kept is not None
        day_of = replay_days(replay)
        expected = add_up(pledge_facts(p, day_of) for p in replay.state.pledges.values())
        assert kept == expected
        stored = Replay(slug=SLUG, state=state, ledger=fresh)
        for today in TODAYS:
            assert contributions(stored, today) == contributions(replay, today)
