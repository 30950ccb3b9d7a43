"""RFC 6962 Merkle trees against the transparency-dev and RFC 6962 vectors, plus properties.

Vectors: ``tests/vectors/transparency-dev-merkle`` (196 inclusion and consistency probes) and
``tests/vectors/rfc6962`` (hashes of the classic 8-leaf tree); see ``tests/vectors/README.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay import merkle
from relay.merkle import Frontier, ProofError

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"
RFC6962 = json.loads((VECTORS / "rfc6962" / "rfc6962_tree_hashes.json").read_text("utf-8"))
LEAVES = [bytes.fromhex(h) for h in RFC6962["leaf_inputs_hex"]]
LEAF_HASHES = [merkle.leaf_hash(data) for data in LEAVES]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _cases(kind: str) -> list[Any]:
    files = sorted((TESTDATA / kind).rglob("*.json"))
    return [
        pytest.param(json.loads(f.read_text("utf-8")), id=str(f.relative_to(TESTDATA / kind)))
        for f in files
    ]


INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(n)]


def _naive_root(hashes: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 section 2.1, recursively."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(_naive_root(hashes[:k]), _naive_root(hashes[k:]))


# --- transparency-dev vectors -----------------------------------------------------------------


def test_the_vector_set_holds_98_inclusion_and_98_consistency_probes() -> None:
    assert (len(INCLUSION), len(CONSISTENCY)) == (98, 98)


@pytest.mark.parametrize("case", INCLUSION)
def test_every_inclusion_vector_gets_its_expected_verdict(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", CONSISTENCY)
def test_every_consistency_vector_gets_its_expected_verdict(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


@pytest.mark.parametrize("vector", [c for c in INCLUSION if c.values[0]["desc"] == "happy path"])
def test_generated_inclusion_proofs_equal_the_happy_path_vectors(vector: dict[str, Any]) -> None:
    size = vector["treeSize"]
    if size > len(LEAF_HASHES) or _b64(vector["leafHash"]) not in LEAF_HASHES:
        pytest.skip("not built from the 8 RFC 6962 leaves")
    proof = merkle.inclusion_proof(vector["leafIdx"], LEAF_HASHES[:size])
    assert proof == [_b64(p) for p in vector["proof"] or []]


@pytest.mark.parametrize("vector", [c for c in CONSISTENCY if c.values[0]["desc"] == "happy path"])
def test_generated_consistency_proofs_equal_the_happy_path_vectors(
    vector: dict[str, Any],
) -> None:
    proof = merkle.consistency_proof(vector["size1"], LEAF_HASHES[: vector["size2"]])
    assert proof == [_b64(p) for p in vector["proof"] or []]


# --- RFC 6962 hashes and roots ------------------------------------------------------------------


def test_the_hasher_matches_the_rfc6962_hasher_vectors() -> None:
    vectors = RFC6962["hasher_vectors"]
    empty_root, empty_leaf, leaf, node = vectors.values()  # in the file's order
    assert merkle.EMPTY_ROOT.hex() == empty_root["want"]
    assert merkle.leaf_hash(bytes.fromhex(empty_leaf["input_hex"])).hex() == empty_leaf["want"]
    assert merkle.leaf_hash(bytes.fromhex(leaf["input_hex"])).hex() == leaf["want"]
    left, right = bytes.fromhex(node["left_hex"]), bytes.fromhex(node["right_hex"])
    assert merkle.node_hash(left, right).hex() == node["want"]


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_the_first_n_rfc6962_leaves_matches_the_vector(size: int) -> None:
    expected = RFC6962["root_hash_by_tree_size"][str(size)]
    assert merkle.root(LEAF_HASHES[:size]).hex() == expected
    assert Frontier.from_leaves(LEAF_HASHES[:size]).root().hex() == expected


def test_perfect_subtree_hashes_match_the_vector_at_every_level() -> None:
    for height, level in enumerate(RFC6962["node_hashes_by_level"]):
        span = 1 << height
        for i, expected in enumerate(level):
            assert merkle.root(LEAF_HASHES[i * span : (i + 1) * span]).hex() == expected


def test_every_proof_over_the_rfc6962_tree_verifies_against_its_roots() -> None:
    roots = {int(k): bytes.fromhex(v) for k, v in RFC6962["root_hash_by_tree_size"].items()}
    for size in range(1, 9):
        for index in range(size):
            proof = merkle.inclusion_proof(index, LEAF_HASHES[:size])
            merkle.verify_inclusion(index, size, LEAF_HASHES[index], proof, roots[size])
        for size1 in range(1, size + 1):
            proof = merkle.consistency_proof(size1, LEAF_HASHES[:size])
            merkle.verify_consistency(size1, size, proof, roots[size1], roots[size])


# --- properties -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=300))
def test_the_compact_range_gives_the_same_root_as_the_full_tree(size: int) -> None:
    leaves = _leaves(size)
    frontier = Frontier.from_leaves(leaves)
    assert frontier.root() == merkle.root(leaves) == _naive_root(leaves)
    assert len(frontier.hashes) == size.bit_count()


@given(st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=6))
def test_appending_in_batches_gives_the_same_frontier_as_appending_at_once(
    batches: list[int],
) -> None:
    leaves = _leaves(sum(batches))
    frontier, done = Frontier.empty(), 0
    for count in batches:
        frontier = frontier.extend(leaves[done : done + count])
        done += count
        assert frontier.root() == _naive_root(leaves[:done])
    assert frontier == Frontier.from_leaves(leaves)


@given(st.data())
def test_generated_inclusion_proofs_verify_and_a_flipped_bit_is_refused(data: Any) -> None:
    size = data.draw(st.integers(min_value=1, max_value=200))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves = _leaves(size)
    tree_root = merkle.root(leaves)
    proof = merkle.inclusion_proof(index, leaves)
    merkle.verify_inclusion(index, size, leaves[index], proof, tree_root)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof]
        bad[which] = bytes([bad[which][0] ^ 1]) + bad[which][1:]
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaves[index], bad, tree_root)


@given(st.data())
def test_generated_consistency_proofs_verify_and_a_flipped_bit_is_refused(data: Any) -> None:
    size2 = data.draw(st.integers(min_value=1, max_value=200))
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    leaves = _leaves(size2)
    root1, root2 = merkle.root(leaves[:size1]), merkle.root(leaves)
    proof = merkle.consistency_proof(size1, leaves)
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof]
        bad[which] = bad[which][:-1] + bytes([bad[which][-1] ^ 0x80])
        with pytest.raises(ProofError):
            merkle.verify_consistency(size1, size2, bad, root1, root2)


# --- refusals ---------------------------------------------------------------------------------


def test_proofs_for_an_index_outside_the_tree_are_refused() -> None:
    with pytest.raises(ProofError):
        merkle.inclusion_proof(8, LEAF_HASHES)
    with pytest.raises(ProofError):
        merkle.inclusion_proof(-1, LEAF_HASHES)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(0, 0, LEAF_HASHES[0], [], merkle.EMPTY_ROOT)


def test_a_consistency_proof_from_the_empty_tree_or_to_a_smaller_tree_is_refused() -> None:
    with pytest.raises(ProofError):
        merkle.consistency_proof(0, LEAF_HASHES)
    with pytest.raises(ProofError):
        merkle.consistency_proof(9, LEAF_HASHES)
    assert merkle.consistency_proof(8, LEAF_HASHES) == []


def test_hashes_that_are_not_32_bytes_are_refused() -> None:
    with pytest.raises(ProofError):
        merkle.root([b"short"])
    with pytest.raises(ProofError):
        merkle.verify_inclusion(0, 2, LEAF_HASHES[0], [b"x" * 31], merkle.EMPTY_ROOT)
    with pytest.raises(ProofError):
        Frontier(size=1, hashes=(b"x",))


def test_a_frontier_with_the_wrong_number_of_hashes_is_refused() -> None:
    with pytest.raises(ProofError):
        Frontier(size=3, hashes=(LEAF_HASHES[0],))
    with pytest.raises(ProofError):
        Frontier(size=-1, hashes=())


def test_the_empty_frontier_has_the_empty_root() -> None:
    assert Frontier.empty().root() == hashlib.sha256(b"").digest() == merkle.root([])
