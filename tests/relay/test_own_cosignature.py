"""Before cosigning, a party checks the relay's copy of its own latest cosignature.

A restored home keeps no checkpoints; the relay holds the party's latest cosigned note. It
counts only when it verifies with the pinned relay key and the party's own key, and the
relay's new checkpoint must extend it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import rules
from relay.confirm import own_cosignature
from relay.merkle import leaf_hash, root
from relay.note import Checkpoint, cosign, origin_for, parse_checkpoint, parse_note, sign_note
from relay.remotes import Remote, RemoteStore
from relay.sync import ForkError, Pulled
from tests.conftest import make_signer
from tests.relay.test_local_root import _Ledger

SLUG = "no-whopper-day"
HASHES = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(10)]
ORIGIN = origin_for(HASHES[0])
RELAY = Ed25519PrivateKey.from_private_bytes(bytes([201]) * 32)
OTHER_RELAY = Ed25519PrivateKey.from_private_bytes(bytes([202]) * 32)
ACME = make_signer("acme")


def _tree(hashes: list[str], size: int) -> bytes:
    return root([leaf_hash(bytes.fromhex(h)) for h in hashes[:size]])


def _note(size: int, *, hashes: list[str] = HASHES, relay: Any = RELAY) -> str:
    text = Checkpoint(ORIGIN, size, _tree(hashes, size)).text()
    return sign_note(text, name=ORIGIN, private_key=relay).encode().decode("utf-8")


def _cosigned(note: str, signer: Any = ACME) -> str:
    signed = cosign(parse_note(note), name="acme", private_key=signer.private_key, timestamp=7)
    return signed.encode().decode("utf-8")


class _Client:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def cosignatures(self, slug: str) -> list[dict[str, Any]]:
        return self.rows


def _pulled(size: int) -> Pulled:
    note = _note(size)
    return Pulled(SLUG, note, parse_checkpoint(parse_note(note).text), 0, created=False)


ALICE = make_signer("acme", "veggie")  # a colleague at acme, with a key of her own


class _Replica(_Ledger):
    """The fake verified log, and a verified state where acme has two current signers."""

    def verified_state(self, slug: str) -> rules.ProjectState:
        state = rules.new_state(slug)
        member = rules.Member("acme", None, status=rules.JOINED)
        for label, person in (("acme", ACME), ("alice", ALICE)):
            member.signers[label] = rules.SignerSeat(
                label, person.fingerprint, person.public_key_line, 1
            )
        state.members["acme"] = member
        return state


def _check(rows: list[dict[str, Any]], pulled_size: int, local: int = 10) -> tuple[int, Any]:
    store = RemoteStore("x", memory=True)
    remote = Remote("hub", "http://127.0.0.1:1", _key_line(RELAY))
    ledger: Any = _Replica(HASHES[:local])
    size = own_cosignature(ledger, _Client(rows), remote, store, _pulled(pulled_size), signer=ACME)
    return size, store


def _key_line(key: Any) -> str:
    from ledger import ed25519

    return ed25519.public_key_line(key.public_key())


def test_a_restored_home_gets_its_cosigned_checkpoint_back_from_the_relay() -> None:
    rows = [{"party": "acme", "note": _cosigned(_note(6))}]
    size, store = _check(rows, pulled_size=8)

    assert size == 6
    kept = store.kept("hub", SLUG)
    assert [(k.size, k.cosigned, k.conflict) for k in kept] == [(6, True, False)]


def test_a_relay_now_showing_a_smaller_tree_than_the_party_cosigned_is_a_fork() -> None:
    rows = [{"party": "acme", "note": _cosigned(_note(8))}]
    with pytest.raises(ForkError) as caught:
        _check(rows, pulled_size=6)

    assert "cosigned a larger tree of size 8" in caught.value.message
    assert caught.value.evidence[0].startswith(ORIGIN)


def test_a_cosigned_tree_that_is_not_this_replicas_is_a_fork() -> None:
    other = [hashlib.sha256(b"x" + h.encode()).hexdigest() for h in HASHES]
    other[0] = HASHES[0]
    rows = [{"party": "acme", "note": _cosigned(_note(5, hashes=other))}]
    with pytest.raises(ForkError, match="another tree of size 5"):
        _check(rows, pulled_size=8)


@pytest.mark.parametrize(
    "row",
    [
        {"party": "acme", "note": _cosigned(_note(8, relay=OTHER_RELAY))},  # not the pinned relay
        {"party": "acme", "note": _cosigned(_note(8), signer=make_signer("burgerco"))},  # not ours
        {"party": "burgerco", "note": _cosigned(_note(8))},  # filed under another party
        {"party": "acme", "note": _note(8)},  # no cosignature at all
        {"party": "acme", "note": 42},
        {"party": "acme"},
    ],
)
def test_a_cosignature_that_does_not_verify_proves_nothing(row: dict[str, Any]) -> None:
    size, store = _check([row], pulled_size=6)

    assert size == 0
    assert store.kept("hub", SLUG) == []


def test_the_largest_of_the_partys_cosignatures_counts() -> None:
    rows = [{"party": "acme", "note": _cosigned(_note(n))} for n in (3, 7, 5)]
    size, _ = _check(rows, pulled_size=9)

    assert size == 7


def test_a_cosignature_a_colleague_made_for_the_party_counts_too() -> None:
    rows = [{"party": "acme", "note": _cosigned(_note(8), signer=ALICE)}]
    with pytest.raises(ForkError, match="cosigned a larger tree of size 8"):
        _check(rows, pulled_size=6)
