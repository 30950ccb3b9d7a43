"""The audit trail: every entry with its times, signer, key, a one-line summary and a verdict.

The trail shows the entries this party verified: the project is brought up to date through
the verified state first (a store that contradicts it fails the command), and each row is
checked to be the entry verified at its seq. ``accord verify`` is the audit that lists every
problem of a damaged log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError
from ledger.summaries import summary
from projections.views import signed_by

__all__ = ["OK", "TrailRow", "signed_by", "trail"]

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.rules import ProjectState
    from projections.replay import AsOf

OK = "ok"


@dataclass(frozen=True)
class TrailRow:
    """One entry of the audit trail."""

    seq: int | None
    at: str
    received_at: str
    party: str
    signer: str
    key: str
    type: str
    summary: str
    hash: str
    verdict: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "seq": self.seq,
            "at": self.at,
            "received_at": self.received_at,
            "party": self.party,
            "signer": self.signer,
            "key": self.key,
            "type": self.type,
            "summary": self.summary,
            "hash": self.hash,
            "verdict": self.verdict,
        }


def trail(
    ledger: Ledger,
    slug: str,
    *,
    as_of: AsOf | None = None,
    party: str | None = None,
    kind: str | None = None,
) -> list[TrailRow]:
    """Every verified entry of ``slug`` in seq order, optionally filtered.

    The project is first brought up to date through the verified state, so a store that
    contradicts what this party verified fails here; every row shown is then checked to be
    the entry verified at its seq.

    Raises:
        ProjectNotFoundError: no such project.
        VerificationError: the store contradicts what this party verified.
    """
    state = ledger.verified_state(slug)
    rows: list[TrailRow] = []
    for stored in ledger.verified_entries(slug, upto=state.seq):
        item = stored.entry
        received = stored.received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        row = _trail_row(item.data, received, _summary(item.data, state), item.hash, OK)
        row = replace(row, signer=state.labels.get(row.key, ""))
        if as_of is not None and not _included(row, as_of):
            break
        if party is not None and row.party != party:
            continue
        if kind is not None and row.type != kind:
            continue
        rows.append(row)
    return rows


def _included(row: TrailRow, as_of: AsOf) -> bool:
    if as_of.seq is not None:
        return row.seq is not None and row.seq <= as_of.seq
    if as_of.day is not None:
        return row.at[:10] <= as_of.day.isoformat()
    return True


def _trail_row(
    data: dict[str, Any], received: str, text: str, digest: str, verdict: str
) -> TrailRow:
    seq = data.get("seq")
    return TrailRow(
        seq=seq if isinstance(seq, int) else None,
        at=str(data.get("at", "")),
        received_at=received,
        party=str(data.get("by", "")),
        signer="",
        key=str(data.get("key", "")),
        type=str(data.get("type", "")),
        summary=text,
        hash=digest,
        verdict=verdict,
    )


def _summary(data: dict[str, Any], state: ProjectState) -> str:
    if not data:
        return "(unreadable entry)"
    try:
        return summary(data, state)
    except (KeyError, TypeError, LedgerError):
        return "(malformed body)"
