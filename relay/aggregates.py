"""The relay's own aggregates, stored beside the projects in the same event table.

* :class:`RelayLog`, one per project: every checkpoint the relay signed for it, each event
  holding the tree size, the root, the whole signed note and the Merkle frontier (the compact
  range ``[0, size)``), so the next checkpoint costs O(k log n) for k new entries. It is saved
  in the same transaction as the entries it covers (``Ledger.append_signed(..., also=[log])``),
  and its version is a compare-and-swap: two relay processes can never both sign a tree of
  the same version, so they never sign inconsistent trees.
* :class:`RelayCosigner`, one per (project, member): that member's latest cosignature.

Ids are :func:`relay_stream_id` of the slug (and handle) the first event names. Importing
this module (``relay/__init__.py`` does) registers the classes and their stream ids with
``ledger.rows``, so stored records may name them and ``scan_projects`` skips exactly these
streams; ``ledger`` never names them. Events only assign state; every check happens before
(in ``relay/store.py``). They are loaded by ``ledger/loader.py`` (``Ledger.loader``): a
stored name is compared, never imported, a damaged record is a ``StoreDamagedError`` (503),
and a snapshot that does not check out against the events is logged and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import ConflictError
from ledger.rows import SideStreams, register_side_streams, register_topics
from relay.merkle import EMPTY_ROOT, Frontier

if TYPE_CHECKING:
    from uuid import UUID

SNAPSHOT_INTERVAL = 100


def relay_stream_id(slug: str, handle: str | None = None) -> UUID:
    """The id of the relay's checkpoint stream of ``slug`` (or of ``handle``'s cosignatures).

    ``uuid5(NAMESPACE_URL, "accord:relay-log:" + slug)``, and for a member's cosignatures
    ``uuid5(NAMESPACE_URL, "accord:relay-cosigner:" + slug + "/" + handle)``: never a project id.
    """
    if handle is None:
        return uuid5(NAMESPACE_URL, f"accord:relay-log:{slug}")
    return uuid5(NAMESPACE_URL, f"accord:relay-cosigner:{slug}/{handle}")


class RelayLog(Aggregate):
    """The checkpoints the relay signed for one project, latest last."""

    TOPIC = "accord:RelayLog"
    # What a stored snapshot must hold (``ledger/loader.py``); every ``Signed`` sets the rest.
    SHAPE: ClassVar[dict[str, Any]] = {
        "slug": str,
        "origin": str,
        "size": int,
        "root": str,
        "note": str,
        "frontier": list[str],
    }
    FIXED: ClassVar[tuple[str, ...]] = ("slug", "origin")

    class Event(Aggregate.Event):
        """Base of the relay log's events."""

        TOPIC = "accord:RelayLog.Event"

    class Started(Event, Aggregate.Created):
        """The relay began to sign checkpoints for a project (of this origin)."""

        TOPIC = "accord:RelayLog.Started"
        slug: str
        origin: str

    class Signed(Event):
        """The relay signed a checkpoint: size, root (hex), the note, the frontier (hex)."""

        TOPIC = "accord:RelayLog.Signed"
        size: int
        root: str
        note: str
        frontier: list[str]

    class Snapshot(Aggregate.Snapshot):  # type: ignore[valid-type,misc]
        """The latest checkpoint, so loading the log skips its history."""

        TOPIC = "accord:RelayLog.Snapshot"

    @staticmethod
    def create_id(slug: str, **_: object) -> UUID:
        """The stream id of the project's relay log (see :func:`relay_stream_id`)."""
        return relay_stream_id(slug)

    @event(Started)
    def __init__(self, slug: str, origin: str) -> None:
        self.slug = slug
        self.origin = origin
        self.size = 0
        self.root = EMPTY_ROOT.hex()
        self.note = ""
        self.frontier: list[str] = []

    def tree(self) -> Frontier:
        """The frontier of the latest signed tree, as stored (check it before trusting it)."""
        return Frontier(size=self.size, hashes=tuple(bytes.fromhex(h) for h in self.frontier))

    def sign(self, *, frontier: Frontier, note: str) -> None:
        """Record a newly signed checkpoint over ``frontier``; never a smaller tree.

        Raises:
            ConflictError: the tree is smaller than the one signed last.
        """
        if frontier.size < self.size:
            raise ConflictError(
                f"refusing to sign a tree of {frontier.size} entries after one of {self.size}"
            )
        self._signed(
            size=frontier.size,
            root=frontier.root().hex(),
            note=note,
            frontier=[h.hex() for h in frontier.hashes],
        )

    @event(Signed)
    def _signed(self, size: int, root: str, note: str, frontier: list[str]) -> None:
        self.size = size
        self.root = root
        self.note = note
        self.frontier = list(frontier)


class RelayCosigner(Aggregate):
    """One member's latest cosignature of one project's checkpoints."""

    TOPIC = "accord:RelayCosigner"
    # What a stored snapshot must hold; every ``Cosigned`` sets all but slug and handle.
    SHAPE: ClassVar[dict[str, Any]] = {
        "slug": str,
        "handle": str,
        "key": str,
        "size": int,
        "time": int,
        "note": str,
    }
    FIXED: ClassVar[tuple[str, ...]] = ("slug", "handle")

    class Event(Aggregate.Event):
        """Base of the cosigner's events."""

        TOPIC = "accord:RelayCosigner.Event"

    class Started(Event, Aggregate.Created):
        """The member's first cosignature of the project's checkpoints."""

        TOPIC = "accord:RelayCosigner.Started"
        slug: str
        handle: str

    class Cosigned(Event):
        """A cosignature: the member's key, the tree size, its time and the whole note."""

        TOPIC = "accord:RelayCosigner.Cosigned"
        key: str
        size: int
        time: int
        note: str

    class Snapshot(Aggregate.Snapshot):  # type: ignore[valid-type,misc]
        """The latest cosignature, so loading skips the history."""

        TOPIC = "accord:RelayCosigner.Snapshot"

    @staticmethod
    def create_id(slug: str, handle: str, **_: object) -> UUID:
        """The stream id of ``handle``'s cosignatures of ``slug``."""
        return relay_stream_id(slug, handle)

    @event(Started)
    def __init__(self, slug: str, handle: str) -> None:
        self.slug = slug
        self.handle = handle
        self.key = ""
        self.size = -1
        self.time = -1
        self.note = ""

    def is_newer(self, size: int, time: int) -> bool:
        """True when a cosignature of ``size`` at ``time`` is later than the held one."""
        return (size, time) > (self.size, self.time)

    def cosign(self, *, key: str, size: int, time: int, note: str) -> None:
        """Hold a newer cosignature.

        Raises:
            ConflictError: it is not newer than the held one.
        """
        if not self.is_newer(size, time):
            raise ConflictError("the cosignature is not newer than the held one")
        self._cosigned(key=key, size=size, time=time, note=note)

    @event(Cosigned)
    def _cosigned(self, key: str, size: int, time: int, note: str) -> None:
        self.key = key
        self.size = size
        self.time = time
        self.note = note


CLASSES = (
    RelayLog,
    RelayLog.Started,
    RelayLog.Signed,
    RelayLog.Snapshot,
    RelayCosigner,
    RelayCosigner.Started,
    RelayCosigner.Cosigned,
    RelayCosigner.Snapshot,
)
TOPICS = frozenset(cls.TOPIC for cls in CLASSES)  # stored: renaming one is a migration


def _stream_of(state: dict[str, Any]) -> UUID | None:
    """The id a relay stream must be stored under, from its first record's state."""
    slug, handle = state.get("slug"), state.get("handle")
    if not isinstance(slug, str) or not isinstance(handle, str | None):
        return None
    return relay_stream_id(slug, handle)


register_topics(*CLASSES)  # stored records name them: decoded from this list, never imported
register_side_streams(SideStreams(topics=TOPICS, stream_id=_stream_of))
