"""RFC 6962 / RFC 9162 Merkle trees: hashes, roots, inclusion and consistency proofs.

Pure functions over 32-byte SHA-256 hashes; no I/O. The relay's tree has one leaf per entry
and the leaf data is the 32-byte entry hash (so a leaf hash is ``leaf_hash(entry_hash)``).

* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``, and the
  root of the empty tree is ``SHA-256("")`` (RFC 9162 section 2.1.1).
* Proofs are lists of hashes ordered from the leaf (or the smaller tree) upwards, exactly as in
  RFC 9162 sections 2.1.3 and 2.1.4 and as ``transparency-dev/merkle`` produces them.
* Verification follows the semantics encoded by the ``transparency-dev/merkle`` test vectors,
  which are stricter than a naive reading of RFC 9162: a consistency proof *from* size 0 is an
  error (even to size 0), equal sizes need an empty proof and equal roots, and
  ``index >= size`` is an error. Every failure raises :class:`ProofError`; nothing returns a bool.
* :class:`Frontier` is the compact range ``[0, n)``: the O(log n) roots of the perfect subtrees
  that make up a tree of ``n`` leaves. Appending ``k`` leaves costs O(k + log n) hashes and the
  root costs O(log n), so a relay never needs every leaf to sign a new checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle proof, tree size, index or hash is invalid."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (MTH) of a tree with these leaf hashes.

    The empty tree's root is ``SHA-256("")``. Costs ``len(leaf_hashes) - 1`` node hashes.

    Raises:
        ProofError: a leaf hash is not 32 bytes.
    """
    return Frontier.empty().extend(leaf_hashes).root()


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``leaf_hashes``.

    This is RFC 6962's ``PATH(m, D[n])``, ordered from the leaf's sibling up to the root's
    child. Costs O(n) hashes.

    Raises:
        ProofError: ``index`` is not in ``[0, len(leaf_hashes))`` or a hash is not 32 bytes.
    """
    size = len(leaf_hashes)
    _check_index(index, size)
    _check_hashes(leaf_hashes, "leaf hash")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(_range_root(leaf_hashes, start + k, end))
            end = start + k
        else:
            proof.append(_range_root(leaf_hashes, start, start + k))
            start += k
    proof.reverse()
    return proof


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from the tree's first ``size1`` leaves to all of them.

    This is RFC 6962's ``PROOF(m, D[n])``, ordered from the lowest level upwards. Equal sizes
    give an empty proof.

    Raises:
        ProofError: ``size1`` is 0 (a proof from the empty tree is meaningless) or larger than
            the tree, or a hash is not 32 bytes.
    """
    size2 = len(leaf_hashes)
    _check_sizes(size1, size2)
    _check_hashes(leaf_hashes, "leaf hash")
    proof: list[bytes] = []
    start, end, whole = 0, size2, True
    m = size1
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_range_root(leaf_hashes, start + k, end))
            end = start + k
        else:
            proof.append(_range_root(leaf_hashes, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(_range_root(leaf_hashes, start, end))
    proof.reverse()
    return proof


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``proof`` implies for leaf hash ``leaf`` at ``index`` of ``size``.

    Raises:
        ProofError: ``index >= size``, a hash is not 32 bytes, or the proof has the wrong length.
    """
    _check_index(index, size)
    _check_hash(leaf, "leaf hash")
    _check_hashes(proof, "proof hash")
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, expected {inner + border}")
    result = _chain_inner(leaf, proof[:inner], index)
    return _chain_border_right(result, proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that leaf hash ``leaf`` is at ``index`` in the tree of ``size`` with this root.

    Raises:
        ProofError: the proof is malformed or does not lead to ``expected_root``.
    """
    if root_from_inclusion_proof(index, size, leaf, proof) != expected_root:
        raise ProofError(f"inclusion proof for leaf {index} of {size} does not match the root")


def verify_inclusion_after(
    frontier: Frontier, leaf: bytes, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that the tree of ``size`` with this root holds ``frontier``'s leaves, then ``leaf``.

    ``proof`` is the inclusion proof of ``leaf`` at index ``frontier.size``. Its left siblings
    are the roots of the perfect subtrees covering ``[0, index)``, which is what a frontier of
    ``index`` leaves holds: when they are equal, the tree's first ``index`` leaves are those
    the frontier was built from and ``leaf`` comes right after them (an append receipt that
    proves both the entry and the history before it).

    Raises:
        ProofError: the proof is malformed, does not lead to ``expected_root``, or the tree's
            leaves before ``index`` are not the frontier's.
    """
    index = frontier.size
    verify_inclusion(index, size, leaf, proof, expected_root)
    inner, _ = _decompose(index, size)
    left = [proof[level] for level in range(inner) if (index >> level) & 1]
    left.extend(proof[inner:])
    if left != list(reversed(frontier.hashes)):
        raise ProofError(f"the tree of size {size} does not hold the {index} leaves before it")


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Return the root of size ``size2`` implied by ``proof`` and the smaller tree's root.

    Also checks that the proof's nodes rebuild ``root1``.

    Raises:
        ProofError: ``size1`` is 0 or above ``size2``, equal sizes come with a proof, the proof
            has the wrong length or a hash is not 32 bytes, or it does not rebuild ``root1``.
    """
    _check_sizes(size1, size2)
    if size1 == size2:
        if proof:
            raise ProofError("equal tree sizes need an empty consistency proof")
        return root1
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hash(root1, "first root")
    _check_hashes(proof, "proof hash")
    inner, border = _decompose(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    inner -= shift
    seed, rest = proof[0], list(proof[1:])
    perfect = size1 == 1 << shift
    if perfect:  # the smaller tree is one perfect subtree: its root is the seed
        seed, rest = root1, list(proof)
    if len(rest) != inner + border:
        want = inner + border + (0 if perfect else 1)
        raise ProofError(f"consistency proof has {len(proof)} hashes, expected {want}")
    mask = (size1 - 1) >> shift
    if not perfect:
        rebuilt = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
        if rebuilt != root1:
            raise ProofError(f"consistency proof does not rebuild the root of size {size1}")
    return _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1``/``root1``.

    Raises:
        ProofError: the proof is malformed or the two trees are not consistent.
    """
    if root_from_consistency_proof(size1, size2, proof, root1) != root2:
        raise ProofError(f"trees of size {size1} and {size2} are not consistent")


@dataclass(frozen=True)
class Frontier:
    """The compact range ``[0, size)``: roots of the perfect subtrees covering the tree.

    ``hashes`` holds one root per set bit of ``size``, from the largest (leftmost) subtree to
    the smallest, so ``len(hashes) == size.bit_count()``. The value is immutable:
    :meth:`extend` returns a new frontier.

    Attributes:
        size: the number of leaves covered.
        hashes: the perfect subtree roots, left to right.
    """

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ProofError("frontier size must be a non-negative integer")
        if len(self.hashes) != self.size.bit_count():
            raise ProofError(
                f"frontier of size {self.size} needs {self.size.bit_count()} hashes, "
                f"got {len(self.hashes)}"
            )
        _check_hashes(self.hashes, "frontier hash")

    @classmethod
    def empty(cls) -> Frontier:
        """Return the frontier of the empty tree."""
        return cls(size=0, hashes=())

    @classmethod
    def from_leaves(cls, leaf_hashes: Iterable[bytes]) -> Frontier:
        """Return the frontier of a tree with these leaf hashes.

        Raises:
            ProofError: a leaf hash is not 32 bytes.
        """
        return cls.empty().extend(leaf_hashes)

    def extend(self, leaf_hashes: Iterable[bytes]) -> Frontier:
        """Return the frontier after appending these leaf hashes, in order.

        Raises:
            ProofError: a leaf hash is not 32 bytes.
        """
        size = self.size
        stack = list(self.hashes)
        for leaf in leaf_hashes:
            _check_hash(leaf, "leaf hash")
            node = leaf
            bit = 0
            while (size >> bit) & 1:  # merge equal-sized perfect subtrees, right to left
                node = node_hash(stack.pop(), node)
                bit += 1
            stack.append(node)
            size += 1
        return Frontier(size=size, hashes=tuple(stack))

    def root(self) -> bytes:
        """Return the Merkle tree hash of the covered tree (``SHA-256("")`` when empty)."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result


def _range_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return Frontier.empty().extend(leaf_hashes[start:end]).root()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Split the inclusion path of ``index`` in ``size`` into inner and border lengths."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if (index >> i) & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _check_int(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer")


def _check_index(index: int, size: int) -> None:
    _check_int(index, "leaf index")
    _check_int(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")


def _check_sizes(size1: int, size2: int) -> None:
    _check_int(size1, "first tree size")
    _check_int(size2, "second tree size")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than second tree size {size2}")


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not {HASH_SIZE} bytes")


def _check_hashes(values: Iterable[bytes], what: str) -> None:
    for value in values:
        _check_hash(value, what)
