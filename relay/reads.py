"""What members read: entries as bundle rows, and the tiles of the latest signed tree.

Everything served is checked against the relay's verified state first: a row must hash to
the hash verified at its seq, and tiles are computed from the verified hashes of the tree the
latest checkpoint signs. Reads never sign: entries are served up to the verified head, tiles
up to the latest signed tree. Tiles are immutable, so they are cached (``TrustCache``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger import entry as entry_mod
from ledger.errors import LedgerError
from ledger.format import text_size
from relay import tiles
from relay.errors import RelayStateError
from relay.merkle import root
from relay.wire import MAX_PAGE_BYTES, bundle_line

if TYPE_CHECKING:
    from relay.store import RelayStore


READ_BATCH = 16  # stored rows read at a time for a page (an entry is at most 512 KiB)


class NoSuchTileError(LedgerError):
    """The tile path is not canonical, or the signed tree does not reach the tile (404)."""


def entries(
    store: RelayStore, slug: str, *, after: int, limit: int, budget: int = MAX_PAGE_BYTES
) -> str:
    """Bundle rows of seqs ``after+1..after+limit`` (as far as verified), JSON lines.

    The page also ends before the row that would take it over ``budget`` bytes, but it
    always holds the first row: a page may hold fewer rows than asked although more follow
    (docs/relay.md). Rows are read a few at a time, so a page never reads many rows it
    does not serve.

    Raises:
        NotReadableError: no such project.
        RelayStateError: a stored row differs from the verified one.
    """
    state = store.state(slug)
    upto = min(state.seq, after + limit)
    expected = store.hashes(slug, after + 1, upto)
    lines: list[str] = []
    size = 0
    stored = store.ledger.rows.pages(slug, after=after, upto=upto, batch=READ_BATCH)
    for row, digest in zip(stored, expected, strict=False):  # a short store: checked below
        seq = row.position or 0
        item = (
            None
            if row.damage
            else entry_mod.load_verified(row.text, row.sig, row.hash, digest.hex())
        )
        if item is None or seq != after + len(lines) + 1:
            raise RelayStateError(f"seq {seq} of {slug!r} differs from the verified one")
        line = bundle_line(item.text, item.sig, item.hash)
        length = text_size(line)
        if lines and size + length > budget:
            return "".join(lines)  # the next page starts with this row
        lines.append(line)
        size += length
    if len(lines) != max(0, upto - after):
        raise RelayStateError(f"the store holds fewer entries of {slug!r} than verified")
    return "".join(lines)


def tile(store: RelayStore, slug: str, path: str) -> bytes:
    """The tile (or entry bundle) at ``tile/...`` of the latest signed tree.

    Raises:
        NoSuchTileError: not a canonical tile path, or the tree does not reach it.
    """
    try:
        wanted = tiles.parse_tile_path(path)
    except tiles.TileError:
        raise NoSuchTileError("no such tile") from None
    log = store.latest(slug)
    try:
        tiles.check_tile(wanted, log.size)
    except tiles.TileError:
        raise NoSuchTileError(f"no tile {path} in the tree of {log.size}") from None
    return _tile_bytes(store, slug, store.hashes(slug, 1, 1)[0].hex(), wanted)


def _tile_bytes(store: RelayStore, slug: str, genesis: str, wanted: tiles.Tile) -> bytes:
    key = (slug, genesis, wanted.level, wanted.index, wanted.width, wanted.entries)
    data = store.cache.tile(key)
    if data is not None:
        return data
    if wanted.entries:
        data = tiles.encode_entry_bundle(store.hashes(slug, wanted.start + 1, wanted.end))
    elif wanted.level == 0:
        data = b"".join(store.leaves(slug, wanted.start + 1, wanted.end))
    else:  # each hash is the root of a full tile below: computed (and cached) once
        below = (
            tiles.Tile(level=wanted.level - 1, index=wanted.index * 256 + i)
            for i in range(wanted.width)
        )
        data = b"".join(
            root(tiles.parse_tile_bytes(_tile_bytes(store, slug, genesis, t))) for t in below
        )
    store.cache.put_tile(key, data)
    return data
