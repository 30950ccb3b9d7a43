"""The client's Merkle root of its verified log: kept frontiers, extended, never trusted blindly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relay.merkle import leaf_hash, root
from relay.remotes import FRONTIERS_KEPT, RemoteStore
from relay.sync import local_root

SLUG = "no-whopper-day"


@dataclass
class _Item:
    hash: str


class _Verified:
    """The two reads local_root makes of a home's verified log."""

    def __init__(self, hashes: list[str]) -> None:
        self.hashes = hashes
        self.read = 0  # hashes read by log_hashes

    def log_entry(self, slug: str, seq: int) -> _Item | None:
        return _Item(self.hashes[seq - 1]) if 1 <= seq <= len(self.hashes) else None

    def log_hashes(self, slug: str, *, upto: int, after: int = 0) -> Iterator[tuple[int, str]]:
        for seq in range(after + 1, min(upto, len(self.hashes)) + 1):
            self.read += 1
            yield seq, self.hashes[seq - 1]


class _Ledger:
    def __init__(self, hashes: list[str]) -> None:
        self.verified = _Verified(hashes)


def _hashes(n: int, tag: str = "") -> list[str]:
    return [hashlib.sha256(f"{tag}{i}".encode()).hexdigest() for i in range(n)]


def _expected(hashes: list[str], size: int) -> bytes:
    return root([leaf_hash(bytes.fromhex(h)) for h in hashes[:size]])


def test_a_later_root_reads_only_the_entries_after_the_kept_frontier() -> None:
    ledger: Any = _Ledger(_hashes(1000))
    store = RemoteStore("x", memory=True)

    assert local_root(ledger, SLUG, 900, store) == _expected(ledger.verified.hashes, 900)
    assert ledger.verified.read == 900
    assert local_root(ledger, SLUG, 1000, store) == _expected(ledger.verified.hashes, 1000)
    assert ledger.verified.read == 1000  # 100 more, not 1000 more
    assert local_root(ledger, SLUG, 900, store) == _expected(ledger.verified.hashes, 900)
    assert ledger.verified.read == 1000  # a size kept before costs nothing


def test_a_frontier_whose_head_this_home_no_longer_has_is_not_used() -> None:
    ledger: Any = _Ledger(_hashes(50))
    store = RemoteStore("x", memory=True)
    local_root(ledger, SLUG, 40, store)
    ledger.verified.hashes = _hashes(50, tag="other history ")  # forgotten and re-verified

    assert local_root(ledger, SLUG, 50, store) == _expected(ledger.verified.hashes, 50)


def test_a_damaged_kept_frontier_is_ignored() -> None:
    ledger: Any = _Ledger(_hashes(50))
    store = RemoteStore("x", memory=True)
    store.keep_frontier(SLUG, 40, ledger.verified.hashes[39], "zz,00")

    assert local_root(ledger, SLUG, 50, store) == _expected(ledger.verified.hashes, 50)


def test_only_the_latest_frontiers_are_kept() -> None:
    ledger: Any = _Ledger(_hashes(100))
    store = RemoteStore("x", memory=True)
    for size in range(1, 41):
        local_root(ledger, SLUG, size, store)

    sizes = [size for size, _, _ in store.frontiers(SLUG, upto=100)]
    assert sizes == list(range(40, 40 - FRONTIERS_KEPT, -1))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=70),
    sizes=st.lists(st.integers(min_value=1, max_value=70), min_size=1, max_size=12),
)
def test_any_sequence_of_sizes_gives_the_root_of_each_prefix(n: int, sizes: list[int]) -> None:
    ledger: Any = _Ledger(_hashes(n))
    store = RemoteStore("x", memory=True)
    for size in sizes:
        size = min(size, n)
        assert local_root(ledger, SLUG, size, store) == _expected(ledger.verified.hashes, size)


def test_a_damaged_frontier_whose_head_still_matches_never_makes_a_fork() -> None:
    from relay.sync import differs

    ledger: Any = _Ledger(_hashes(60))
    store = RemoteStore("x", memory=True)
    local_root(ledger, SLUG, 40, store)
    [(size, head, subtrees)] = store.frontiers(SLUG, upto=40)
    damaged = ("0" if subtrees[0] != "0" else "1") + subtrees[1:]  # one hex digit changed
    store.keep_frontier(SLUG, size, head, damaged)
    honest = _expected(ledger.verified.hashes, 50)
    assert local_root(ledger, SLUG, 50, store) != honest  # the damage alone would mislead

    assert differs(ledger, SLUG, 50, store, honest) is False
    assert store.frontiers(SLUG, upto=60) == []  # dropped, recomputed when needed
    assert local_root(ledger, SLUG, 60, store) == _expected(ledger.verified.hashes, 60)
    assert differs(ledger, SLUG, 50, store, b"\x00" * 32) is True
