"""One-line summaries of entries, for the trail, the report and the verified log index.

A summary is a deterministic function of the entry and the project state after it (the only
state it reads, a pledge's unit, never changes), so it is computed once, when the entry is
verified, and kept in the verified log index (``ledger/state_file.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.rules.registry import TYPES
from ledger.state_file import LogEntry

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


def log_entry(item: SignedEntry, state: ProjectState | None) -> LogEntry:
    """The verified log index entry of ``item`` (``state``: the project just after it)."""
    return LogEntry(
        seq=item.seq,
        type=item.type,
        at=str(item.data["at"]),
        hash=item.hash,
        by=item.by,
        summary=summary(item.data, state),
        signer=state.labels.get(item.key, "") if state is not None else "",
    )


def signed_by(party: str, signer: str) -> str:
    """The party and the person who signed for it: ``acme (alice)``.

    A party's first signer is labelled with the party's handle; its entries show the handle
    alone (``acme``), as they did before parties had several signers.
    """
    return party if not signer or signer == party else f"{party} ({signer})"


def summary(data: dict[str, Any], state: ProjectState | None = None) -> str:
    """A one-line human summary of an entry (``state``: the project just before it).

    Each entry type's summary is declared beside its rules (``ledger/rules/``).
    """
    declared = TYPES.get(str(data.get("type")))
    if declared is None:
        return "(unknown entry type)"
    return declared.summary(data, state)
