"""Group commit (relay/commits.py): concurrent appends share a transaction, all or none each."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from relay.commits import GroupCommit


class Conflict(Exception):
    """A version taken (the store's IntegrityError)."""


@dataclass(frozen=True)
class Event:
    originator_id: uuid.UUID
    originator_version: int


class Store:
    """A recorder's ``insert_events``: all or none, versions unique, one notification id each."""

    def __init__(self, delay: float = 0.02) -> None:
        self.lock = threading.Lock()
        self.rows: dict[tuple[uuid.UUID, int], int] = {}
        self.calls: list[int] = []  # events per transaction
        self.delay = delay

    def insert_events(self, stored: list[Event], **kwargs: Any) -> list[int]:
        time.sleep(self.delay)  # the commit: others queue meanwhile
        with self.lock:
            keys = [(e.originator_id, e.originator_version) for e in stored]
            if len(set(keys)) != len(keys) or any(k in self.rows for k in keys):
                raise Conflict
            ids = []
            for k in keys:
                self.rows[k] = len(self.rows) + 1
                ids.append(self.rows[k])
            self.calls.append(len(stored))
            return ids


def run_threads(count: int, work: Any) -> list[Any]:
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def go(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=go, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_appends_of_different_streams_share_transactions() -> None:
    store, commits = Store(), GroupCommit()
    commits.wrap(store)
    streams = [uuid.uuid4() for _ in range(16)]

    def append(n: int) -> Any:  # an entry and its checkpoint: two streams, one append
        return store.insert_events([Event(streams[n], 1), Event(uuid.uuid4(), 1)], tracking=None)

    results = run_threads(16, append)
    assert all(isinstance(r, list) and len(r) == 2 for r in results)
    ids = [i for r in results for i in r]
    assert sorted(ids) == list(range(1, 33))  # each append got its own events' ids
    for n, r in enumerate(results):
        assert store.rows[(streams[n], 1)] == r[0]
    assert len(store.calls) < 16  # fewer transactions than appends
    assert sum(store.calls) == 32


def test_two_appends_of_one_stream_never_share_a_batch_and_the_loser_alone_conflicts() -> None:
    store, commits = Store(), GroupCommit()
    commits.wrap(store)
    same, others = uuid.uuid4(), [uuid.uuid4() for _ in range(6)]

    def append(n: int) -> Any:
        stream = same if n < 2 else others[n - 2]
        return store.insert_events([Event(stream, 1)])

    results = run_threads(8, append)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1  # one of the two appends to the same stream, and no other
    assert isinstance(results[0], Conflict) != isinstance(results[1], Conflict)
    assert all(isinstance(r, list) for r in results[2:])
    assert len(store.rows) == 7


def test_a_failing_batch_stores_nothing_and_each_append_is_tried_alone() -> None:
    store, commits = Store(), GroupCommit()
    commits.wrap(store)
    taken = uuid.uuid4()
    store.rows[(taken, 1)] = 0  # another process stored it
    streams = [taken] + [uuid.uuid4() for _ in range(7)]

    results = run_threads(8, lambda n: store.insert_events([Event(streams[n], 1)]))
    assert isinstance(results[0], Conflict)
    assert all(isinstance(r, list) and len(r) == 1 for r in results[1:])
    assert len(store.rows) == 8


def test_a_lone_append_is_one_transaction_of_its_own() -> None:
    store, commits = Store(delay=0), GroupCommit()
    commits.wrap(store)
    stream = uuid.uuid4()
    assert store.insert_events([Event(stream, 1)]) == [1]
    with pytest.raises(Conflict):
        store.insert_events([Event(stream, 1)])
    assert store.calls == [1]
    assert commits.transactions == 0  # no batch of several appends was needed


# --- on PostgreSQL, through the relay's stores -------------------------------------------------


def _sign(slug: str, signer: Any, seq: int, prev: str, kind: str, body: dict[str, Any]) -> Any:
    from datetime import UTC, datetime

    from ledger import entry as entry_mod
    from ledger import format as fmt

    data = {
        "v": fmt.VERSION,
        "project": slug,
        "seq": seq,
        "prev": prev,
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": fmt.format_time(datetime.now(UTC)),
        "body": body,
    }
    return entry_mod.sign(data, signer.private_key)


def _start(store: Any, slug: str, acme: Any, burgerco: Any) -> tuple[int, str]:
    from ledger import rules

    genesis = _sign(
        slug,
        acme,
        1,
        "0" * 64,
        "project.proposed",
        {
            "title": "Group",
            "purpose": "Group commit.",
            "approval": "all",
            "close": "all",
            "members": [
                {"handle": "acme", "key": acme.fingerprint},
                {"handle": "burgerco", "key": burgerco.fingerprint},
            ],
            "public_key": acme.public_key_line,
        },
    )
    assert store.append(slug, [genesis])[0] == 201
    state = rules.new_state(slug)
    rules.apply(state, genesis, unsafe_skip_signature=True)
    body = {"terms": state.terms, "public_key": burgerco.public_key_line}
    join = _sign(slug, burgerco, 2, genesis.hash, "member.joined", body)
    assert store.append(slug, [join])[0] == 201
    return 2, join.hash


def _statement(slug: str, signer: Any, seq: int, prev: str, title: str) -> Any:
    body = {"title": title, "text": "A statement."}
    return _sign(slug, signer, seq + 1, prev, "statement.proposed", body)


@pytest.mark.postgres
def test_relay_stores_sharing_group_commit_store_every_append_with_its_checkpoint(
    postgres_url: str, tmp_path: Any, signers: dict[str, Any]
) -> None:
    from relay.cache import TrustCache
    from relay.errors import RelayConflictError
    from relay.keys import load_or_create
    from relay.store import open_store

    home = tmp_path / "relay-home"
    key, cache, commits = load_or_create(home), TrustCache(), GroupCommit()

    def opened() -> Any:  # one store per thread, as the relay's workers (SQLite home file)
        return open_store(postgres_url, key=key, home=home, cache=cache, commits=commits)

    open_store(postgres_url, key=key, home=home, cache=cache, create=True).close()
    acme, burgerco = signers["acme"], signers["burgerco"]
    slugs = [f"group-{n}" for n in range(8)]
    with opened() as first:
        heads = {slug: _start(first, slug, acme, burgerco) for slug in slugs}
    rounds = 6
    planned: dict[str, list[Any]] = {}
    for slug in slugs:
        seq, prev = heads[slug]
        planned[slug] = []
        for n in range(rounds):
            item = _statement(slug, acme, seq, prev, f"S{n}")
            planned[slug].append(item)
            seq, prev = item.seq, item.hash
    # the same seq of the last project twice, by two threads: one is stored, one is a 409
    rival = _statement(slugs[-1], burgerco, *heads[slugs[-1]], "rival")

    def work(n: int) -> Any:
        with opened() as store:
            if n == 8:
                return store.append(slugs[-1], [rival])[0]
            return [store.append(slugs[n], [item])[0] for item in planned[slugs[n]]]

    results = run_threads(9, work)
    rival_won = results[8] == 201
    assert results[8] == 201 or isinstance(results[8], RelayConflictError)
    for n in range(7):
        assert results[n] == [201] * rounds
    if rival_won:  # the planned chain of the last project lost its first seq
        assert isinstance(results[7], RelayConflictError)
    else:
        assert results[7] == [201] * rounds
    with open_store(postgres_url, key=key, home=tmp_path / "fresh-home") as fresh:
        for slug in slugs:  # verified from scratch by a store that shares nothing
            state = fresh.state(slug)
            log = fresh.latest(slug)  # checked against the verified entries, note verified
            assert log.size == state.seq
            if slug == slugs[-1] and rival_won:
                assert state.seq == 3
                assert fresh.hashes(slug, 3, 3)[0].hex() == rival.hash
            else:
                assert state.seq == 2 + rounds
                expected = [bytes.fromhex(item.hash) for item in planned[slug]]
                assert fresh.hashes(slug, 3, 2 + rounds) == expected
