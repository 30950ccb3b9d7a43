"""The close report's content: a pure function of a project's log.

``report_data`` gathers everything the report shows into one frozen :class:`ReportData`
whose ``as_row()`` is the JSON of schema ``accord/close-report/v1`` (documented in
docs/report.md). It reads only signed entry data, never the store's receive times or the wall
clock, so the same log always gives the same report: "today" is the claimed date of the head
entry. Each pledge's obligation is computed once and shared by ``pledges`` and
``open_obligations``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger import rules
from projections.contributions import DEFAULT_THRESHOLD, Contribution, contributions, ratio_text
from projections.decisions import Delivery, PledgeReport, pledge_reports
from projections.obligations import Obligation, obligation, obligations
from projections.statements import StatementDetail, statement_detail
from projections.values import ValueRow, value_rows
from projections.views import RemovedSigner, SignerRow, removed_signer_rows, signer_rows

if TYPE_CHECKING:
    from fractions import Fraction

    from projections.replay import Replay

SCHEMA = "accord/close-report/v1"


@dataclass(frozen=True)
class ProjectTerms:
    """The project's terms and status, as the report states them."""

    slug: str
    title: str
    purpose: str
    status: str
    proposer: str
    approval: str
    close: str
    terms_hash: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "slug": self.slug, "title": self.title, "purpose": self.purpose,
            "status": self.status, "proposer": self.proposer, "approval": self.approval,
            "close": self.close, "terms_hash": self.terms_hash,
        }  # fmt: skip


@dataclass(frozen=True)
class ReportPoint:
    """The point of the log the report stands at: its head seq, claimed time and day."""

    seq: int
    at: str
    day: date

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {"seq": self.seq, "at": self.at, "day": self.day.isoformat()}


@dataclass(frozen=True)
class PartyReport:
    """A member with its signers, keys and seat."""

    handle: str
    status: str
    signers: tuple[SignerRow, ...]
    removed_signers: tuple[RemovedSigner, ...]
    keys: tuple[str, ...]
    revoked: tuple[str, ...]
    pinned: str | None
    invite: str | None
    joined_seq: int | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "handle": self.handle,
            "status": self.status,
            "signers": [s.as_row() for s in self.signers],
            "removed_signers": [s.as_row() for s in self.removed_signers],
            "keys": list(self.keys),
            "revoked": list(self.revoked),
            "pinned": self.pinned,
            "invite": self.invite,
            "joined_seq": self.joined_seq,
        }


@dataclass(frozen=True)
class ContributionsReport:
    """The contribution rows, the guest-star threshold and the reference unit (if any)."""

    threshold: Fraction
    rows: tuple[Contribution, ...]
    reference: str | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record (ratios rounded to 4 places)."""
        return {
            "threshold": ratio_text(self.threshold, 4),
            "rows": [c.as_row() for c in self.rows],
            "reference": self.reference,
        }


@dataclass(frozen=True)
class DatedValue(ValueRow):
    """A value proposal with the claimed time of its entry."""

    at: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {**super().as_row(), "at": self.at}


@dataclass(frozen=True)
class CloseSignature:
    """A party's close signature on the final head."""

    party: str
    signer: str
    seq: int
    key: str
    hash: str
    signature: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "party": self.party, "signer": self.signer, "seq": self.seq, "key": self.key,
            "hash": self.hash, "signature": self.signature,
        }  # fmt: skip


@dataclass(frozen=True)
class CloseReport:
    """Whether and how the project closed: heads, policy and the close signatures."""

    closed: bool
    closed_seq: int | None
    final_head: str
    final_head_seq: int | None
    head: str
    entries: int
    policy: str
    signatures: tuple[CloseSignature, ...]

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "closed": self.closed, "closed_seq": self.closed_seq, "final_head": self.final_head,
            "final_head_seq": self.final_head_seq, "head": self.head, "entries": self.entries,
            "policy": self.policy, "signatures": [s.as_row() for s in self.signatures],
        }  # fmt: skip


@dataclass(frozen=True)
class ReportData:
    """Everything the close report holds.

    ``timeline`` holds the log's rows as JSON, as :meth:`Replay.timeline` reads them (typed
    by :meth:`TimelineRow.of <projections.replay.TimelineRow.of>`): a list, or a
    :class:`~projections.replay.Timeline` read a page at a time, streamed into the JSON.
    """

    kind: str  # "close" or "interim"
    project: ProjectTerms
    as_of: ReportPoint
    parties: tuple[PartyReport, ...]
    pledges: Collection[PledgeReport]  # a tuple, or PledgeReports read a page at a time
    deliveries: tuple[Delivery, ...]  # the most recent deliverables: the delivery chart
    open_obligations: tuple[Obligation, ...]
    contributions: ContributionsReport
    values: tuple[DatedValue, ...]
    statements: tuple[StatementDetail, ...]
    timeline: Sequence[dict[str, Any]]
    close: CloseReport
    schema: str = SCHEMA

    def as_row(self) -> dict[str, Any]:
        """The report's JSON (schema ``accord/close-report/v1``); the timeline is not copied."""
        return {
            "schema": self.schema,
            "kind": self.kind,
            "project": self.project.as_row(),
            "as_of": self.as_of.as_row(),
            "parties": [p.as_row() for p in self.parties],
            "pledges": Rows(self.pledges),
            "open_obligations": [o.as_row() for o in self.open_obligations],
            "contributions": self.contributions.as_row(),
            "values": [v.as_row() for v in self.values],
            "statements": [s.as_row() for s in self.statements],
            "timeline": self.timeline,
            "close": self.close.as_row(),
        }


RECENT_DELIVERIES = 1000  # the deliverables the report's delivery chart draws, most recent


class Rows(Collection[dict[str, Any]]):
    """The JSON rows (``as_row()``) of a collection of records, made as they are read."""

    def __init__(self, items: Collection[Any]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (item.as_row() for item in self._items)

    def __contains__(self, row: object) -> bool:
        return any(row == mine for mine in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Iterable) and not isinstance(other, str | dict):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def report_today(replay: Replay) -> date:
    """The report's "today": the claimed date of the head entry."""
    return replay.at(replay.position).date()


def report_data(
    replay: Replay, *, threshold: Fraction = DEFAULT_THRESHOLD, stream: bool = False
) -> ReportData:
    """Everything the close report holds.

    With ``stream`` the timeline is a :class:`~projections.replay.Timeline` and the pledges
    are :class:`~projections.decisions.PledgeReports`, both read from the ledger a page at a
    time while it is open (for writing a long report); otherwise they are a list and a
    tuple, read now.
    """
    state = replay.state
    today = report_today(replay)
    head = replay.entry(replay.position)
    timeline = replay.timeline()
    times = replay.claimed_times()
    pledges = pledge_reports(
        replay, lambda pledge: obligation(replay, pledge, today, times=times), times
    )
    return ReportData(
        kind="close" if state.status == rules.CLOSED else "interim",
        project=ProjectTerms(
            slug=state.slug,
            title=state.title,
            purpose=state.purpose,
            status=state.status,
            proposer=state.proposer,
            approval=state.approval,
            close=state.close_policy,
            terms_hash=state.terms,
        ),
        as_of=ReportPoint(seq=state.seq, at=str(head.data["at"]), day=today),
        parties=_parties(replay),
        pledges=pledges if stream else tuple(pledges),
        deliveries=pledges.recent_deliveries(RECENT_DELIVERIES),
        open_obligations=tuple(obligations(replay, today, unfinished=True)),
        contributions=ContributionsReport(
            threshold=threshold,
            rows=tuple(contributions(replay, today, threshold=threshold)),
            reference=rules.reference_unit(state) if rules.agreed_values(state) else None,
        ),
        values=_values(replay),
        statements=tuple(statement_detail(state, seq) for seq in state.statements),
        timeline=timeline if stream else list(timeline),
        close=_close(replay),
    )


def _parties(replay: Replay) -> tuple[PartyReport, ...]:
    state = replay.state
    return tuple(
        PartyReport(
            handle=m.handle,
            status=m.status,
            signers=signer_rows(m),
            removed_signers=removed_signer_rows(state, m),
            keys=tuple(m.keys),
            revoked=tuple(sorted(k for k in m.keys if k in state.revoked)),
            pinned=m.pinned,
            invite=m.invite,
            joined_seq=m.joined_seq,
        )
        for m in sorted(state.members.values(), key=lambda m: m.handle)
    )


def _values(replay: Replay) -> tuple[DatedValue, ...]:
    times = replay.claimed_times() if replay.state.values else {}
    return tuple(DatedValue(**vars(row), at=times[row.seq]) for row in value_rows(replay.state))


def _close(replay: Replay) -> CloseReport:
    state = replay.state
    signatures = []
    for party, seq in sorted(state.close_signatures.items()):
        entry = replay.entry(seq)
        signatures.append(
            CloseSignature(
                party=party,
                signer=state.labels.get(entry.key, ""),
                seq=seq,
                key=entry.key,
                hash=entry.hash,
                signature=entry.sig,
            )
        )
    return CloseReport(
        closed=state.status == rules.CLOSED,
        closed_seq=state.closed_seq,
        final_head=state.final_head,
        final_head_seq=state.final_head_seq,
        head=state.head,
        entries=state.seq,
        policy=state.close_policy,
        signatures=tuple(signatures),
    )
