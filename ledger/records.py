"""What the ledger returns: receipts of writes and rows of queries (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


@dataclass(frozen=True)
class AppendOutcome:
    """What ``Ledger.append_signed`` did: stored the entries, or found them stored."""

    stored: bool
    duplicate: bool
    state: ProjectState


@dataclass(frozen=True)
class Receipt:
    """What a write recorded: enough to find and check the entry later."""

    project: str
    seq: int
    type: str
    hash: str
    by: str
    key: str
    at: str
    status: str
    attempts: int = 1
    closes: tuple[int, int] | None = None  # close.signed: (signatures on the head, needed)
    # What a decision or signature was about (see ledger/subjects.py), or None.
    subject: dict[str, Any] | None = field(default=None, compare=False)
    # The label of the signer (person) of the party that signed, as the trail shows it.
    signer: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the receipt as JSON-ready data."""
        return {
            "project": self.project,
            "seq": self.seq,
            "type": self.type,
            "hash": self.hash,
            "by": self.by,
            "signer": self.signer,
            "key": self.key,
            "at": self.at,
            "project_status": self.status,
            **(
                {"close_signatures": self.closes[0], "close_needed": self.closes[1]}
                if self.closes
                else {}
            ),
            **({"subject": dict(self.subject)} if self.subject is not None else {}),
        }


@dataclass(frozen=True)
class RawEntry:
    """A stored row as the store gives it, before any check."""

    text: str
    sig: str
    hash: str
    received_at: datetime


@dataclass(frozen=True)
class StoredEntry:
    """A signed entry as the store holds it, with the store's own receive time."""

    entry: SignedEntry
    received_at: datetime


@dataclass(frozen=True)
class ProjectSummary:
    """One line about a project, for listings."""

    slug: str
    title: str
    status: str
    members: tuple[str, ...]
    entries: int
    head: str
