"""C2SP tlog-tiles: tile paths, which tiles exist, tile contents and entry bundles.

Pure functions; the server supplies the leaves through a callable. A tile at level ``L`` and
index ``N`` holds up to 256 hashes; hash ``i`` is the Merkle tree hash of the leaves
``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``. Level 0 tiles hold leaf hashes. A partial
tile (the right-most at each level) has width ``W`` in 1..255 and is served at ``.p/<W>``.

accord's leaves are 32-byte entry hashes, so the entry bundle at ``tile/entries/<N>`` holds
each leaf as ``0x00 0x20`` (uint16 big-endian length 32) followed by the 32-byte entry hash,
and hashes (``leaf_hash``) to the level 0 tile. Full signed entries do not fit the 64 KiB limit
of a bundle item and are served at a separate URL, as tlog-tiles allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relay.merkle import HASH_SIZE, leaf_hash, root

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

TILE_WIDTH = 256
MAX_LEVEL = 63
MAX_TREE_SIZE = (1 << 63) - 1
MAX_ENTRY_SIZE = 0xFFFF
_MAX_INDEX = MAX_TREE_SIZE // TILE_WIDTH  # no tile of a valid tree has a larger index
_PATH = re.compile(  # _MAX_INDEX has 17 digits: at most 6 groups
    r"tile/(?P<level>0|[1-9][0-9]?|entries)/"
    r"(?P<index>(?:x[0-9]{3}/){0,5}[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?\Z"
)


class TileError(ValueError):
    """A tile path, tile, entry bundle or tile source is invalid."""


@dataclass(frozen=True)
class Tile:
    """A tile (or, with ``entries``, an entry bundle) at a level, index and width.

    Attributes:
        level: 0..63 (always 0 for an entry bundle).
        index: the tile's index within its level.
        width: the number of hashes (or entries), 1..256; 256 is a full tile.
        entries: True for the entry bundle ``tile/entries/<N>`` instead of a hash tile.
    """

    level: int
    index: int
    width: int = TILE_WIDTH
    entries: bool = False

    def __post_init__(self) -> None:
        for value in (self.level, self.index, self.width):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TileError("tile level, index and width are integers")
        if not 0 <= self.level <= MAX_LEVEL or (self.entries and self.level != 0):
            raise TileError(f"tile level must be in [0, {MAX_LEVEL}] (0 for entry bundles)")
        if not 0 <= self.index <= _MAX_INDEX:
            raise TileError(f"tile index must be in [0, {_MAX_INDEX}]")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"tile width must be in [1, {TILE_WIDTH}]")

    @property
    def is_partial(self) -> bool:
        """True when the tile holds fewer than 256 hashes."""
        return self.width < TILE_WIDTH

    @property
    def start(self) -> int:
        """The index of the first leaf the tile covers."""
        return self.index << (8 * (self.level + 1))

    @property
    def end(self) -> int:
        """One past the index of the last leaf the tile covers."""
        return self.start + (self.width << (8 * self.level))

    def path(self) -> str:
        """Return the tile's path, e.g. ``tile/0/x001/x234/067.p/8`` or ``tile/entries/000``."""
        level = "entries" if self.entries else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"


def encode_index(index: int) -> str:
    """Encode a tile index as 3-digit path elements, all but the last prefixed with ``x``.

    Raises:
        TileError: the index is negative.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise TileError("tile index must be a non-negative integer")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (no prefix, no slash).

    Only the canonical encoding is accepted: no leading zeros in ``L`` or ``W``, no ``x000``
    leading group, ``W`` in 1..255, ``L`` in 0..63 and an index no valid tree can exceed.

    Raises:
        TileError: the path is not a canonical tile path.
    """
    if not isinstance(path, str) or len(path) > 64:
        raise TileError("not a tile path")
    match = _PATH.match(path)
    if match is None:
        raise TileError("not a tile path")
    entries = match["level"] == "entries"
    try:
        tile = Tile(
            level=0 if entries else int(match["level"]),
            index=int(match["index"].replace("x", "").replace("/", "")),
            width=int(match["width"]) if match["width"] else TILE_WIDTH,
            entries=entries,
        )
    except TileError:
        raise TileError("not a tile path") from None
    if tile.path() != path or (match["width"] and not tile.is_partial):
        raise TileError("not a canonical tile path")
    return tile


def tile_for(level: int, index: int, size: int, *, entries: bool = False) -> Tile | None:
    """Return the tile at ``level``/``index`` as it exists for a tree of ``size``, or None.

    The tile is full when the tree covers all of it, partial (of the width the tree covers)
    when it is the right-most tile at its level, and None when the tree does not reach it.

    Raises:
        TileError: the level, index or size is out of range.
    """
    _check_size(size)
    Tile(level=level, index=index, entries=entries)  # validates level and index
    width = (size >> (8 * level)) - index * TILE_WIDTH
    if width <= 0:
        return None
    return Tile(level=level, index=index, width=min(width, TILE_WIDTH), entries=entries)


def check_tile(tile: Tile, size: int) -> None:
    """Check that ``tile`` (full, or partial of its width) can be served for a tree of ``size``.

    A partial tile of width ``W`` is servable when the tree covers at least ``W`` hashes of
    it (its hashes never change once covered); a full tile when it is complete.

    Raises:
        TileError: the tree of ``size`` does not cover the tile.
    """
    existing = tile_for(tile.level, tile.index, size, entries=tile.entries)
    if existing is None or existing.width < tile.width:
        raise TileError(f"{tile.path()} does not exist in a tree of size {size}")


def new_tiles(old_size: int, new_size: int) -> Iterator[Tile]:
    """Yield the hash tiles that a tree of ``new_size`` has and one of ``old_size`` lacks.

    ``new_tiles(0, size)`` yields every tile of the tree: the full ones and the partial
    right-most one at each level, level by level. Entry bundles match the level 0 tiles.

    Raises:
        TileError: a size is out of range or ``old_size > new_size``.
    """
    _check_size(old_size)
    _check_size(new_size)
    if old_size > new_size:
        raise TileError("the old tree size is larger than the new one")
    level = 0
    while new_size >> (8 * level):
        old_n, new_n = old_size >> (8 * level), new_size >> (8 * level)
        if old_n != new_n:
            for index in range(old_n >> 8, new_n >> 8):
                yield Tile(level=level, index=index)
            width = new_n & 0xFF
            if width:
                yield Tile(level=level, index=new_n >> 8, width=width)
        level += 1


def tile_bytes(tile: Tile, leaf_hashes: Callable[[int, int], Sequence[bytes]]) -> bytes:
    """Compute a hash tile's contents: ``width`` concatenated 32-byte hashes.

    ``leaf_hashes(start, end)`` must return the RFC 6962 leaf hashes of leaves
    ``[start, end)``. A level ``L`` tile reads ``width * 256**L`` leaf hashes and hashes
    them, so a server computes higher levels rarely and should cache the (immutable) result.

    Raises:
        TileError: ``tile`` is an entry bundle, or the source returned the wrong number of
            hashes or a hash that is not 32 bytes.
    """
    if tile.entries:
        raise TileError("an entry bundle holds entries, not hashes: use entry_bundle_bytes")
    leaves = _read(leaf_hashes, tile.start, tile.end)
    if any(len(h) != HASH_SIZE for h in leaves):
        raise TileError("the leaf source returned a hash that is not 32 bytes")
    span = 1 << (8 * tile.level)
    if span == 1:
        return b"".join(leaves)
    return b"".join(root(leaves[i : i + span]) for i in range(0, len(leaves), span))


def entry_bundle_bytes(tile: Tile, leaf_data: Callable[[int, int], Sequence[bytes]]) -> bytes:
    """Compute an entry bundle: each leaf's data with a uint16 big-endian length prefix.

    For accord, ``leaf_data(start, end)`` returns the 32-byte entry hashes of entries
    ``[start, end)`` (0-based; entry ``seq`` is leaf ``seq - 1``).

    Raises:
        TileError: ``tile`` is not an entry bundle, or the source returned the wrong number of
            leaves or one longer than 65,535 bytes.
    """
    if not tile.entries:
        raise TileError("a hash tile holds hashes, not entries: use tile_bytes")
    return encode_entry_bundle(_read(leaf_data, tile.start, tile.end))


def encode_entry_bundle(leaves: Sequence[bytes]) -> bytes:
    """Return the entry bundle encoding of ``leaves`` (uint16 big-endian length prefixes).

    Raises:
        TileError: there are more than 256 leaves or one is longer than 65,535 bytes.
    """
    if len(leaves) > TILE_WIDTH:
        raise TileError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    out = bytearray()
    for data in leaves:
        if len(data) > MAX_ENTRY_SIZE:
            raise TileError(f"an entry bundle item is at most {MAX_ENTRY_SIZE} bytes")
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


def parse_entry_bundle(data: bytes, *, width: int = TILE_WIDTH) -> list[bytes]:
    """Split an entry bundle into its leaves, insisting on exactly ``width`` of them.

    Raises:
        TileError: the bundle is truncated, holds trailing bytes or the wrong number of leaves.
    """
    leaves: list[bytes] = []
    offset = 0
    while offset < len(data) and len(leaves) < width:
        if offset + 2 > len(data):
            raise TileError("entry bundle is truncated in a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise TileError("entry bundle is truncated in an entry")
        leaves.append(bytes(data[offset : offset + length]))
        offset += length
    if offset != len(data) or len(leaves) != width:
        raise TileError(f"entry bundle does not hold exactly {width} entries")
    return leaves


def parse_tile_bytes(data: bytes, *, width: int = TILE_WIDTH) -> list[bytes]:
    """Split hash tile contents into ``width`` 32-byte hashes.

    Raises:
        TileError: the data is not exactly ``width * 32`` bytes.
    """
    if len(data) != width * HASH_SIZE:
        raise TileError(f"a tile of width {width} is {width * HASH_SIZE} bytes")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def verify_entry_bundle(bundle: bytes, level0_tile: bytes) -> list[bytes]:
    """Check that each bundle entry hashes to the matching level 0 tile hash; return entries.

    Raises:
        TileError: the bundle or the tile is malformed, or an entry does not match its hash.
    """
    width = len(level0_tile) // HASH_SIZE
    if not 1 <= width <= TILE_WIDTH:
        raise TileError("a level 0 tile holds 1 to 256 hashes")
    hashes = parse_tile_bytes(level0_tile, width=width)
    leaves = parse_entry_bundle(bundle, width=len(hashes))
    for i, (data, expected) in enumerate(zip(leaves, hashes, strict=True)):
        if leaf_hash(data) != expected:
            raise TileError(f"entry {i} of the bundle does not match the level 0 tile")
    return leaves


def _read(source: Callable[[int, int], Sequence[bytes]], start: int, end: int) -> list[bytes]:
    items = list(source(start, end))
    if len(items) != end - start or not all(isinstance(i, bytes) for i in items):
        raise TileError(f"the leaf source did not return {end - start} byte strings")
    return items


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise TileError(f"tree size must be in [0, {MAX_TREE_SIZE}]")
