"""The ``Project`` aggregate: one project (collaboration), one event stream.

Every stored event carries one signed entry exactly as signed: its canonical text, its
signature and its hash, never re-serialised fields. The aggregate version equals the entry
seq, so two writers racing for the same seq collide in the event store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger import entry as entry_mod
from ledger import rules

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


def project_id(slug: str) -> UUID:
    """Return the stable aggregate id of project ``slug`` (a uuid5 of its natural key)."""
    return uuid5(NAMESPACE_URL, f"accord:project:{slug}")


class Project(Aggregate):
    """A collaboration's stream of signed entries."""

    TOPIC = "accord:Project"

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

    @staticmethod
    def create_id(slug: str, **_: object) -> UUID:
        """Derive the aggregate id from the slug (the store then enforces uniqueness)."""
        return project_id(slug)

    @event(Proposed)
    def __init__(self, slug: str, party: str, entry: str, sig: str, hash: str) -> None:
        self.slug = slug
        self.entries: list[tuple[str, str, str]] = [(entry, sig, hash)]

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

    def state(self) -> ProjectState:
        """Replay the stored entries through the rules, checking every signature.

        Raises:
            LedgerError: a stored entry fails verification (fail closed).
        """
        return rules.replay(self.slug, self.signed_entries())

    def signed_entries(self) -> list[SignedEntry]:
        """Parse the stored entries, insisting on canonical text and matching hashes.

        Raises:
            VerificationError: a stored entry is not canonical or its hash does not match.
        """
        return [entry_mod.load(text, sig, digest) for text, sig, digest in self.entries]

    def append(self, item: SignedEntry, *, state: ProjectState) -> None:
        """Append ``item`` after checking it against ``state`` (the replayed stream).

        Raises:
            LedgerError: the entry breaks a rule (see :func:`ledger.rules.apply`).
        """
        rules.apply(state, item)
        self._record(party=item.by, entry=item.text, sig=item.sig, hash=item.hash)

    @event(EntryRecorded)
    def _record(self, party: str, entry: str, sig: str, hash: str) -> None:
        self.entries.append((entry, sig, hash))
