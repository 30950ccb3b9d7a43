"""``relay.receipts.check_receipt``: a receipt must prove the relay holds exactly that entry.

The receipts are built as the relay builds them (``relay.wire.receipt``, a checkpoint signed
with the relay key), then broken one part at a time. A replica (an in-memory ledger) holds the
entries before the one written; nothing is kept unless everything verifies.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.entry import SignedEntry
from ledger.errors import VerificationError
from ledger.keys import Signer
from relay.keys import RelayKey
from relay.merkle import Frontier, inclusion_proof, leaf_hash, root
from relay.note import Checkpoint, origin_for, sign_note
from relay.receipts import check_receipt
from relay.remotes import Remote, RemoteStore
from relay.sync import ForkError
from relay.wire import TreeView, receipt

SLUG = "no-whopper-day"
URL = "http://relay.test"
WHERE = f"the relay at {URL} sent a receipt for seq 4 of '{SLUG}' that"


@pytest.fixture
def key(tmp_path: Path) -> RelayKey:
    return RelayKey(private_key=Ed25519PrivateKey.from_private_bytes(bytes(32)), path=tmp_path)


@pytest.fixture
def log(partner: Ledger, signers: dict[str, Signer], kit: Any) -> list[SignedEntry]:
    """Five entries of the project (seq 1..5), signed as the CLI signs them."""
    return list(kit.started(partner, signers, statements=3))


@pytest.fixture
def replica(log: list[SignedEntry]) -> Iterator[Ledger]:
    """A replica holding seqs 1..3: seq 4 is the entry being written."""
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ledger.append_signed(SLUG, log[:3])
    yield ledger
    ledger.close()


@pytest.fixture
def store() -> Iterator[RemoteStore]:
    found = RemoteStore("memory", memory=True)
    yield found
    found.close()


def remote(key: RelayKey) -> Remote:
    return Remote("hub", URL, key.public_key_line)


def leaves_of(entries: list[SignedEntry]) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(e.hash)) for e in entries]


def note_for(key: Any, leaves: list[bytes], *, origin: str, extensions: tuple = ()) -> str:
    checkpoint = Checkpoint(origin, len(leaves), root(leaves), extensions)
    private = key.private_key if isinstance(key, RelayKey) else key
    return sign_note(checkpoint.text(), name=origin, private_key=private).encode().decode()


def made(key: RelayKey, log: list[SignedEntry], size: int, seq: int = 4) -> dict[str, Any]:
    """The relay's receipt of entry ``seq`` for its tree of the first ``size`` entries."""
    leaves = leaves_of(log[:size])
    origin = origin_for(log[0].hash)
    view = TreeView(size=size, leaf=leaves.__getitem__)
    note = note_for(key, leaves, origin=origin)
    return receipt(SLUG, [log[seq - 1]], note=note, root=root(leaves), view=view)


def check(
    replica: Ledger, key: RelayKey, store: RemoteStore, entry: SignedEntry, body: Any
) -> None:
    check_receipt(replica, remote(key), store, SLUG, entry, body)


@pytest.mark.parametrize("size", [4, 5])
def test_a_receipt_that_proves_the_entry_after_this_replica_is_kept(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry], size: int
) -> None:
    body = made(key, log, size)  # 201: the tree ends at it; 200: a later tree holds it

    check(replica, key, store, log[3], body)

    [kept] = store.receipts("hub", SLUG)
    assert (kept.seq, kept.hash, kept.size) == (4, log[3].hash, size)
    assert kept.note == body["receipt"]["checkpoint"]
    assert json.loads(kept.proof) == body["receipt"]["inclusion"][0]["proof"]
    assert [(k.size, k.root) for k in store.kept("hub", SLUG)] == [
        (size, root(leaves_of(log[:size])).hex())
    ]


def test_the_proposal_s_receipt_is_checked_under_its_own_origin(
    key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    empty = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    body = made(key, log, 1, seq=1)

    check_receipt(empty, remote(key), store, SLUG, log[0], body)

    assert [r.seq for r in store.receipts("hub", SLUG)] == [1]


def _set(path: tuple, value: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        target = body["receipt"]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize("answer", [{}, {"receipt": []}, {"receipt": "ok"}, {"error": "x"}])
def test_an_answer_without_a_receipt_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry], answer: Any
) -> None:
    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], answer)

    assert info.value.message == f"{WHERE} is not a receipt"
    assert store.receipts("hub", SLUG) == []


NOT_THE_ENTRY = [
    pytest.param(lambda b: b["receipt"].clear(), id="an empty receipt"),
    pytest.param(_set(("project",), "other"), id="another project"),
    pytest.param(_set(("seq",), [3, 3]), id="another seq"),
    pytest.param(_set(("seq",), [4, 5]), id="a range"),
    pytest.param(_set(("hashes",), ["0" * 64]), id="another hash"),
    pytest.param(_set(("checkpoint",), None), id="no checkpoint"),
    pytest.param(_set(("inclusion",), []), id="no inclusion"),
    pytest.param(_set(("inclusion", 0, "seq"), 3), id="inclusion of another seq"),
    pytest.param(_set(("inclusion", 0, "seq"), True), id="inclusion seq not an int"),
    pytest.param(_set(("inclusion", 0, "proof"), "AAAA"), id="proof not a list"),
    pytest.param(_set(("inclusion", 0, "proof"), [1]), id="proof of numbers"),
    pytest.param(_set(("inclusion", 0, "proof"), ["A" * 44] * 65), id="proof too long"),
]


@pytest.mark.parametrize("change", NOT_THE_ENTRY)
def test_a_receipt_that_does_not_name_exactly_the_entry_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry], change: Any
) -> None:
    body = made(key, log, 4)
    change(body)

    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], body)

    assert info.value.message == f"{WHERE} does not name exactly the entry sent"
    assert info.value.hint == (
        "nothing was recorded here: the relay may not hold the entry; "
        f"`accord sync {SLUG}` shows what it holds (tell your partners if it misbehaves)"
    )
    assert store.receipts("hub", SLUG) == []


@pytest.mark.parametrize("bad", ["AAAA", "not base64!", base64.b64encode(bytes(31)).decode()])
def test_a_malformed_proof_hash_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry], bad: str
) -> None:
    body = made(key, log, 4)
    body["receipt"]["inclusion"][0]["proof"][0] = bad

    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], body)

    assert info.value.message == f"{WHERE} holds a malformed proof"


def test_a_checkpoint_signed_by_another_key_or_for_another_log_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    leaves = leaves_of(log[:4])
    other_key = made(key, log, 4)
    other_key["receipt"]["checkpoint"] = note_for(
        Ed25519PrivateKey.generate(), leaves, origin=origin_for(log[0].hash)
    )
    other_log = made(key, log, 4)
    other_log["receipt"]["checkpoint"] = note_for(key, leaves, origin=origin_for("ab" * 32))

    messages = []
    for body in (other_key, other_log):
        with pytest.raises(VerificationError) as info:
            check(replica, key, store, log[3], body)
        messages.append(info.value.message)

    assert messages == [
        f"{WHERE} does not verify: the relay's checkpoint does not verify with the pinned "
        "relay key: no known key signed the note",
        f"{WHERE} does not verify: the relay's checkpoint is of log "
        f"accord.ledger/{'ab' * 32}, not {origin_for(log[0].hash)}",
    ]
    assert store.receipts("hub", SLUG) == store.kept("hub", SLUG) == []


def test_a_checkpoint_that_does_not_cover_the_entry_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    body = made(key, log, 4)
    body["receipt"]["checkpoint"] = note_for(
        key, leaves_of(log[:3]), origin=origin_for(log[0].hash)
    )

    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], body)

    assert info.value.message == f"{WHERE} holds a checkpoint of size 3, which does not cover it"


def test_a_proof_for_another_leaf_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    body = made(key, log, 5)
    proof = inclusion_proof(4, leaves_of(log[:5]))  # seq 5's
    body["receipt"]["inclusion"][0]["proof"] = [base64.b64encode(h).decode() for h in proof]

    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], body)

    assert info.value.message == (
        f"{WHERE} does not prove it: its inclusion proof does not put this entry right after "
        "this replica's 3 entries in the signed tree of size 5"
    )
    assert store.receipts("hub", SLUG) == store.kept("hub", SLUG) == []


def test_a_tree_holding_the_entry_after_another_history_is_refused(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    """The inclusion proof verifies, but the leaves before the entry are not this replica's."""
    leaves = leaves_of(log[:4])
    leaves[1] = leaf_hash(bytes(32))  # the relay shows this writer another seq 2
    origin = origin_for(log[0].hash)
    proof = inclusion_proof(3, leaves)
    body = {
        "receipt": {
            "project": SLUG, "seq": [4, 4], "hashes": [log[3].hash],
            "checkpoint": note_for(key, leaves, origin=origin),
            "inclusion": [{"seq": 4, "proof": [base64.b64encode(h).decode() for h in proof]}],
        }
    }  # fmt: skip

    with pytest.raises(VerificationError) as info:
        check(replica, key, store, log[3], body)

    assert "does not prove it" in info.value.message
    assert store.receipts("hub", SLUG) == []


def test_a_checkpoint_smaller_than_one_kept_is_a_fork(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    bigger = leaves_of(log[:5])
    note = note_for(key, bigger, origin=origin_for(log[0].hash))
    store.keep("hub", SLUG, size=5, root=root(bigger).hex(), note=note)

    with pytest.raises(ForkError):
        check(replica, key, store, log[3], made(key, log, 4))

    assert store.receipts("hub", SLUG) == []
    assert [(k.size, k.conflict) for k in store.kept("hub", SLUG)] == [(4, True), (5, False)]


def test_a_damaged_kept_frontier_is_computed_again_before_refusing(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    wrong = Frontier.from_leaves([leaf_hash(bytes(32))] * 3)
    store.keep_frontier(SLUG, 3, log[2].hash, ",".join(h.hex() for h in wrong.hashes))

    check(replica, key, store, log[3], made(key, log, 4))

    assert [r.seq for r in store.receipts("hub", SLUG)] == [4]


def test_the_receipt_of_a_resent_entry_keeps_the_first_one(
    replica: Ledger, key: RelayKey, store: RemoteStore, log: list[SignedEntry]
) -> None:
    body = made(key, log, 4)
    again = copy.deepcopy(body)

    check(replica, key, store, log[3], body)
    check(replica, key, store, log[3], again)  # a resend's receipt: the first one stays

    assert len(store.receipts("hub", SLUG)) == 1
