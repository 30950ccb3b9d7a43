"""The ``Project`` aggregate: one project (collaboration), one event stream.

Every stored event carries one signed entry exactly as signed: its canonical text, its
signature and its hash, never re-serialised fields. The aggregate version equals the entry
seq, so two writers racing for the same seq collide in the event store (compare-and-swap on
``(project, seq)``).

The aggregate holds only its position (seq and head hash), so a snapshot is a few bytes and
loading the aggregate to append costs the events since the last snapshot, never the history.
The rules state is not the aggregate's: it lives in each party's verified state
(``ledger/state_file.py``), because nothing the shared store holds outside the signed entries,
snapshots included, is trusted. An aggregate loaded from the store (``ledger/loader.py``:
no stored name is ever imported, and a snapshot that does not check out is ignored) is used
only after its version and head are found equal to the verified ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger import rules

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState

SNAPSHOT_INTERVAL = 100


def project_id(slug: str) -> UUID:
    """Return the stable aggregate id of project ``slug`` (a uuid5 of its natural key)."""
    return uuid5(NAMESPACE_URL, f"accord:project:{slug}")


class Project(Aggregate):
    """A collaboration's stream of signed entries."""

    TOPIC = "accord:Project"
    # What a stored snapshot must hold, and which of it only the created event sets
    # (``ledger/loader.py``): the head is set again by every later event.
    SHAPE: ClassVar[dict[str, Any]] = {"slug": str, "head": str}
    FIXED: ClassVar[tuple[str, ...]] = ("slug",)

    class Event(Aggregate.Event):
        """Base of every stored project event; stamps the signing party."""

        TOPIC = "accord:Project.Event"
        party: str
        entry: str
        sig: str
        hash: str

    class Proposed(Event, Aggregate.Created):
        """The first entry (``project.proposed``) created the stream."""

        TOPIC = "accord:Project.Proposed"
        slug: str

    class EntryRecorded(Event):
        """A later entry was appended."""

        TOPIC = "accord:Project.EntryRecorded"

    class Snapshot(Aggregate.Snapshot):  # type: ignore[valid-type,misc]
        """The aggregate's position (seq and head), so loading it skips the history."""

        TOPIC = "accord:Project.Snapshot"

    @staticmethod
    def create_id(slug: str, **_: object) -> UUID:
        """Derive the aggregate id from the slug (the store then enforces uniqueness)."""
        return project_id(slug)

    @event(Proposed)
    def __init__(self, slug: str, party: str, entry: str, sig: str, hash: str) -> None:
        self.slug = slug
        self.head = hash

    @classmethod
    def propose(cls, item: SignedEntry) -> Project:
        """Start a project from its signed ``project.proposed`` entry.

        Raises:
            LedgerError: the entry breaks a rule (see :func:`ledger.rules.apply`).
        """
        rules.apply(rules.new_state(str(item.data["project"])), item)
        return cls(
            slug=str(item.data["project"]),
            party=item.by,
            entry=item.text,
            sig=item.sig,
            hash=item.hash,
        )

    def append(self, item: SignedEntry, *, state: ProjectState) -> None:
        """Append ``item`` after checking it against ``state`` (the verified state).

        ``state`` advances to include the entry.

        Raises:
            LedgerError: the entry breaks a rule (see :func:`ledger.rules.apply`).
        """
        rules.apply(state, item)
        self._record(party=item.by, entry=item.text, sig=item.sig, hash=item.hash)

    def unsafe_append_verified(self, item: SignedEntry) -> None:
        """Append ``item`` without running the rules.

        Only for entries that a full verification has just checked in this order (import);
        the caller guarantees it.
        """
        self._record(party=item.by, entry=item.text, sig=item.sig, hash=item.hash)

    @event(EntryRecorded)
    def _record(self, party: str, entry: str, sig: str, hash: str) -> None:
        self.head = hash
