"""Tiles of the relay's tree (C2SP tlog-tiles) agree with its checkpoints and its entries."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from ledger.keys import Signer
from relay.merkle import leaf_hash, node_hash, root
from relay.tiles import parse_tile_bytes, verify_entry_bundle

SLUG = "no-whopper-day"
TILES = f"/v1/projects/{SLUG}/tile/"


@pytest.fixture
def big(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> list:
    """300 entries: one full level 0 tile, a partial one of 44, a level 1 tile of width 1."""
    log = kit.started(partner, signers, statements=298)
    assert relay.post(log[:1]).status_code == 201
    for start in range(1, len(log), 100):
        answer = relay.post(log[start : start + 100])
        assert answer.status_code == 201, answer.text
    return log


def tile(relay: Any, path: str, signer: Signer) -> bytes:
    answer = relay.get(TILES + path, signer)
    assert answer.status_code == 200, (path, answer.text)
    assert answer.headers["content-type"] == "application/octet-stream"
    return answer.content


def test_the_tiles_rebuild_the_root_of_the_signed_checkpoint(
    relay: Any, kit: Any, big: list, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    size, signed_root = kit.checkpoint_of(
        relay.get(f"/v1/projects/{SLUG}/checkpoint", acme).text, relay.key
    )
    full = parse_tile_bytes(tile(relay, "0/000", acme))
    partial = parse_tile_bytes(tile(relay, "0/001.p/44", acme), width=44)
    level1 = parse_tile_bytes(tile(relay, "1/000.p/1", acme), width=1)

    assert size == 300
    assert full + partial == [leaf_hash(bytes.fromhex(e.hash)) for e in big]
    assert level1 == [root(full)]
    assert node_hash(level1[0], root(partial)) == signed_root == kit.rfc6962_root(big)


def test_entry_bundles_hold_the_entry_hashes_and_match_the_level_0_tiles(
    relay: Any, big: list, signers: dict[str, Signer]
) -> None:
    acme = signers["burgerco"]
    first = verify_entry_bundle(tile(relay, "entries/000", acme), tile(relay, "0/000", acme))
    rest = verify_entry_bundle(
        tile(relay, "entries/001.p/44", acme), tile(relay, "0/001.p/44", acme)
    )
    smaller = tile(relay, "0/001.p/10", acme)

    assert first + rest == [bytes.fromhex(e.hash) for e in big]
    assert smaller == tile(relay, "0/001.p/44", acme)[: 10 * 32]


NOT_THERE = [
    "0/001",  # not full yet
    "0/002.p/1",  # beyond the tree
    "0/001.p/45",  # wider than the tree
    "1/000",
    "2/000.p/1",
    "0/x000/001",  # not canonical
    "0/1",
    "entries/000.p/0",
    "../../../etc/passwd",
    "0/000/%2e%2e/001.p/44",
    "64/000",
    "0/000.p/256",
    "0/" + "x999/" * 30 + "000",
]


def test_a_tile_the_tree_does_not_have_gets_404(
    relay: Any, big: list, signers: dict[str, Signer]
) -> None:
    for path in NOT_THERE:
        answer = relay.get(TILES + path, signers["acme"])
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path
