"""What one relay process remembers between requests: checked frontiers, tiles, invitations.

:class:`TrustCache` is shared by the worker threads of a process (thread-safe). It holds, per
project, the largest relay-log frontier this process checked against the verified entries
(so a checkpoint is checked from scratch once per project, then incrementally), the tiles
``relay/reads.py`` computed (immutable: an LRU of :data:`TILE_CACHE`), and the index of
pinned invitations (``relay/invitations.py``). Nothing in it is ever written to the store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relay.invitations import InvitationIndex

if TYPE_CHECKING:
    from relay.merkle import Frontier

TILE_CACHE = 2048  # tiles (at most 8 KiB each) kept in memory by relay/reads.py


@dataclass(frozen=True)
class Trusted:
    """A relay log frontier this process checked against the verified entries."""

    genesis: str
    frontier: Frontier


class TrustCache:
    """What this process checked of each project's relay log, and its tiles (thread-safe).

    It also holds the process's index of pinned invitations (``relay/invitations.py``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees: dict[str, Trusted] = {}
        self._tiles: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.invitations = InvitationIndex()

    def get(self, slug: str) -> Trusted | None:
        """The largest checked frontier of ``slug``, if any."""
        with self._lock:
            return self._trees.get(slug)

    def put(self, slug: str, trusted: Trusted) -> None:
        """Remember a checked frontier (a smaller one never replaces a larger one)."""
        with self._lock:
            known = self._trees.get(slug)
            if (
                known is None
                or known.genesis != trusted.genesis
                or known.frontier.size <= (trusted.frontier.size)
            ):
                self._trees[slug] = trusted

    def tile(self, key: tuple[Any, ...]) -> bytes | None:
        """A cached tile."""
        with self._lock:
            data = self._tiles.get(key)
            if data is not None:
                self._tiles.move_to_end(key)
            return data

    def put_tile(self, key: tuple[Any, ...], data: bytes) -> None:
        """Cache a tile, dropping the least recently used beyond :data:`TILE_CACHE`."""
        with self._lock:
            self._tiles[key] = data
            while len(self._tiles) > TILE_CACHE:
                self._tiles.popitem(last=False)
