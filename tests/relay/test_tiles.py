"""C2SP tlog-tiles: paths, which tiles exist, tile contents and entry bundles."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay import merkle, tiles
from relay.tiles import Tile, TileError

ENTRY_HASHES = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(70_000)]
LEAF_HASHES = [merkle.leaf_hash(h) for h in ENTRY_HASHES]


def _leaf_hashes(start: int, end: int) -> Sequence[bytes]:
    return LEAF_HASHES[start:end]


def _entry_hashes(start: int, end: int) -> Sequence[bytes]:
    return ENTRY_HASHES[start:end]


# --- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(level=0, index=0), "tile/0/000"),
        (Tile(level=0, index=1234067), "tile/0/x001/x234/067"),
        (Tile(level=4, index=1234067, width=1), "tile/4/x001/x234/067.p/1"),
        (Tile(level=63, index=1000), "tile/63/x001/000"),
        (Tile(level=0, index=5, width=255, entries=True), "tile/entries/005.p/255"),
        (Tile(level=0, index=999, entries=True), "tile/entries/999"),
    ],
)
def test_tile_paths_follow_the_spec_encoding(tile: Tile, path: str) -> None:
    assert tile.path() == path
    assert tiles.parse_tile_path(path) == tile


@given(
    st.integers(min_value=0, max_value=tiles.MAX_LEVEL),
    st.integers(min_value=0, max_value=tiles.MAX_TREE_SIZE // 256),
    st.integers(min_value=1, max_value=256),
    st.booleans(),
)
def test_every_tile_path_parses_back_to_its_tile(
    level: int, index: int, width: int, entries: bool
) -> None:
    tile = Tile(level=0 if entries else level, index=index, width=width, entries=entries)
    assert tiles.parse_tile_path(tile.path()) == tile


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/0",
        "tile/0/",
        "/tile/0/000",
        "tile/0/000/",
        "tile/0/0",
        "tile/0/0000",
        "tile/0/1234",
        "tile/0/x000/005",
        "tile/0/x1/005",
        "tile/0/001/005",
        "tile/0/x001/x002",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/+1/000",
        "tile/data/000",
        "tile/entries/000.p/0",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/300",
        "tile/0/000.p/007",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/1/",
        "tile/0/0\u0661\u0662",
        "tile/0/../000",
        "tile/0/x001/./000",
        "tile\\0\\000",
        "tile/0/000\n",
        "TILE/0/000",
        "tile/0/" + "x999/" * 6 + "999",
        "tile/0/" + "x001/" * 40 + "000",
    ],
)
def test_a_hostile_tile_path_is_refused(path: str) -> None:
    with pytest.raises(TileError):
        tiles.parse_tile_path(path)


def test_tiles_with_an_out_of_range_level_index_or_width_cannot_be_built() -> None:
    for kwargs in (
        {"level": 64, "index": 0},
        {"level": -1, "index": 0},
        {"level": 0, "index": -1},
        {"level": 0, "index": 0, "width": 0},
        {"level": 0, "index": 0, "width": 257},
        {"level": 1, "index": 0, "entries": True},
    ):
        with pytest.raises(TileError):
            Tile(**kwargs)  # type: ignore[arg-type]


# --- which tiles exist ----------------------------------------------------------------------


def test_a_tree_of_70000_has_the_tiles_the_spec_lists() -> None:
    got = list(tiles.new_tiles(0, 70_000))
    full0 = [t for t in got if t.level == 0 and not t.is_partial]
    assert len(full0) == 273
    partial = {(t.level, t.index, t.width) for t in got if t.is_partial}
    assert partial == {(0, 273, 112), (1, 1, 17), (2, 0, 1)}
    assert [t for t in got if t.level == 1 and not t.is_partial] == [Tile(level=1, index=0)]
    assert len(got) == 273 + 1 + 1 + 1 + 1


def test_a_tree_of_256_has_one_full_tile_and_a_level_1_tile_of_width_1() -> None:
    assert list(tiles.new_tiles(0, 256)) == [Tile(0, 0), Tile(1, 0, width=1)]
    assert list(tiles.new_tiles(0, 0)) == []


@given(st.integers(min_value=0, max_value=3_000), st.integers(min_value=0, max_value=3_000))
def test_new_tiles_are_the_tiles_of_the_new_tree_that_the_old_one_lacks(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    before, after = set(tiles.new_tiles(0, old)), set(tiles.new_tiles(0, new))
    assert set(tiles.new_tiles(old, new)) == after - before
    for tile in after:
        assert tiles.tile_for(tile.level, tile.index, new) == tile
        tiles.check_tile(tile, new)


def test_a_tile_the_tree_does_not_cover_is_not_served() -> None:
    assert tiles.tile_for(0, 1, 256) is None
    assert tiles.tile_for(0, 0, 10) == Tile(0, 0, width=10)
    tiles.check_tile(Tile(0, 0, width=5), 10)  # an older partial stays servable
    for tile, size in ((Tile(0, 0), 255), (Tile(0, 0, width=11), 10), (Tile(1, 0, width=1), 255)):
        with pytest.raises(TileError):
            tiles.check_tile(tile, size)
    with pytest.raises(TileError):
        list(tiles.new_tiles(5, 4))


# --- contents -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 255, 256, 257, 1_000, 65_536, 70_000])
def test_tile_contents_match_direct_hashing(size: int) -> None:
    for tile in tiles.new_tiles(0, size):
        data = tiles.tile_bytes(tile, _leaf_hashes)
        hashes = tiles.parse_tile_bytes(data, width=tile.width)
        span = 256**tile.level
        for i in (0, tile.width - 1):
            first = (tile.index * 256 + i) * span
            assert hashes[i] == merkle.root(LEAF_HASHES[first : first + span])


def test_the_tiles_of_a_tree_rebuild_its_root() -> None:
    size = 70_000
    level0 = [tiles.tile_bytes(t, _leaf_hashes) for t in tiles.new_tiles(0, size) if t.level == 0]
    leaves = [h for data in level0 for h in tiles.parse_tile_bytes(data, width=len(data) // 32)]
    assert merkle.root(leaves) == merkle.root(LEAF_HASHES[:size])
    level1_full = tiles.tile_bytes(Tile(1, 0), _leaf_hashes)
    assert merkle.root(tiles.parse_tile_bytes(level1_full)) == merkle.root(LEAF_HASHES[:65_536])


def test_entry_bundles_hold_length_prefixed_entry_hashes_matching_the_level_0_tile() -> None:
    bundle_tile = Tile(level=0, index=1, width=10, entries=True)
    bundle = tiles.entry_bundle_bytes(bundle_tile, _entry_hashes)
    assert bundle[:34] == b"\x00\x20" + ENTRY_HASHES[256]
    assert len(bundle) == 10 * 34
    level0 = tiles.tile_bytes(Tile(level=0, index=1, width=10), _leaf_hashes)
    assert tiles.verify_entry_bundle(bundle, level0) == ENTRY_HASHES[256:266]


def test_an_entry_bundle_that_does_not_match_its_tile_is_refused() -> None:
    level0 = tiles.tile_bytes(Tile(level=0, index=0, width=3), _leaf_hashes)
    good = tiles.encode_entry_bundle(ENTRY_HASHES[:3])
    for bad in (
        tiles.encode_entry_bundle([ENTRY_HASHES[0], ENTRY_HASHES[2], ENTRY_HASHES[1]]),
        tiles.encode_entry_bundle(ENTRY_HASHES[:2]),
        good + b"\x00",
        good[:-1],
        good + tiles.encode_entry_bundle([b""]),
    ):
        with pytest.raises(TileError):
            tiles.verify_entry_bundle(bad, level0)


def test_entry_bundles_round_trip_any_leaves_up_to_65535_bytes() -> None:
    leaves = [b"", b"x", b"y" * 0xFFFF]
    assert tiles.parse_entry_bundle(tiles.encode_entry_bundle(leaves), width=3) == leaves
    with pytest.raises(TileError):
        tiles.encode_entry_bundle([b"z" * 0x10000])


def test_a_leaf_source_returning_the_wrong_hashes_is_refused() -> None:
    with pytest.raises(TileError):
        tiles.tile_bytes(Tile(0, 0, width=4), lambda start, end: LEAF_HASHES[start : end - 1])
    with pytest.raises(TileError):
        tiles.tile_bytes(Tile(0, 0, width=2), lambda start, end: [b"short"] * (end - start))
    with pytest.raises(TileError):
        tiles.tile_bytes(Tile(0, 0, entries=True), _leaf_hashes)
    with pytest.raises(TileError):
        tiles.entry_bundle_bytes(Tile(0, 0), _entry_hashes)
    with pytest.raises(TileError):
        tiles.parse_tile_bytes(b"x" * 33, width=1)
