"""A pledge's history as the close report shows it: deliverables, amendments, disputes.

Frozen records of every decision on a pledge (who approved or refused it, at which seq, and
which signer of the party signed), each with its JSON (``as_row()``), for
:func:`projections.report.report_data`. The pledge's figures and status are its
:class:`~projections.obligations.Obligation`, computed once by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.lazymap import PAGE, LazyMap, peek
from ledger.numbers import decimal_text
from projections.obligations import pledge_seqs

if TYPE_CHECKING:
    from decimal import Decimal

    from projections.obligations import Obligation
    from projections.replay import Replay


@dataclass(frozen=True)
class Approval:
    """A party's approval (or signed dispute outcome) at a seq, and who signed it."""

    party: str
    seq: int
    signer: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {"party": self.party, "seq": self.seq, "signer": self.signer}


@dataclass(frozen=True)
class Refusal(Approval):
    """The refusal that decided a decision, with its reason."""

    reason: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {**super().as_row(), "reason": self.reason}


@dataclass(frozen=True)
class Vote(Approval):
    """A party's signed outcome of a dispute."""

    outcome: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "party": self.party,
            "outcome": self.outcome,
            "seq": self.seq,
            "signer": self.signer,
        }


@dataclass(frozen=True)
class DecisionReport:
    """What every decision shows: its seq, claimed time, signer, status and who decided."""

    seq: int
    at: str
    signer: str
    status: str
    approved_by: tuple[Approval, ...]
    refused_by: Refusal | None
    decided_seq: int | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "seq": self.seq,
            "at": self.at,
            "signer": self.signer,
            "status": self.status,
            "approved_by": [a.as_row() for a in self.approved_by],
            "refused_by": self.refused_by.as_row() if self.refused_by else None,
            "decided_seq": self.decided_seq,
        }


@dataclass(frozen=True)
class DisputeReport:
    """A dispute of the decision on a deliverable, with the outcomes signed so far."""

    seq: int
    by: str
    signer: str
    target: int
    about: str
    reason: str
    parties: tuple[str, ...]
    signed: tuple[Vote, ...]
    status: str
    resolved_seq: int | None

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "seq": self.seq, "by": self.by, "signer": self.signer, "target": self.target,
            "about": self.about, "reason": self.reason, "parties": list(self.parties),
            "signed": [v.as_row() for v in self.signed], "status": self.status,
            "resolved_seq": self.resolved_seq,
        }  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """A file recorded with a deliverable: name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DeliverableReport(DecisionReport):
    """A deliverable of a pledge, with the decision on it and its disputes."""

    summary: str
    quantity: Decimal
    evidence: tuple[Evidence, ...]
    disputes: tuple[DisputeReport, ...]

    @property
    def shown_status(self) -> str:
        """Its status, ``disputed`` while a dispute on its decision is open."""
        disputes = self.disputes
        return "disputed" if disputes and disputes[-1].status == "open" else self.status

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            **super().as_row(),
            "summary": self.summary,
            "quantity": decimal_text(self.quantity),
            "evidence": [
                {"name": e.name, "sha256": e.sha256, "size": e.size} for e in self.evidence
            ],
            "disputes": [d.as_row() for d in self.disputes],
        }


@dataclass(frozen=True)
class AmendmentReport(DecisionReport):
    """A requested change of a pledge (field, new value, by field name) and its reason."""

    changes: tuple[tuple[str, str], ...]
    reason: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {**super().as_row(), "changes": dict(self.changes), "reason": self.reason}


@dataclass(frozen=True)
class ShortCloseReport(DecisionReport):
    """A proposal to close a pledge short, and its reason."""

    reason: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {**super().as_row(), "reason": self.reason}


@dataclass(frozen=True)
class PledgeReport:
    """A pledge: its obligation, with its deliverables, amendments and short-close proposals."""

    obligation: Obligation
    hash: str
    signer: str
    deliverables: tuple[DeliverableReport, ...]
    amendments: tuple[AmendmentReport, ...]
    withdrawn_seq: int | None
    disputed: Decimal
    short_closes: tuple[ShortCloseReport, ...]
    closed_short_seq: int | None
    # Shown shortened (PledgeReports.last): how many earlier deliverables were left out.
    earlier_deliverables: int = 0

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record: the obligation's row and the rest.

        Raises:
            ValueError: the record was shortened for display (it lacks deliverables).
        """
        if self.earlier_deliverables:
            raise ValueError("a pledge record shortened for display has no JSON")
        return {
            **self.obligation.as_row(),
            "hash": self.hash,
            "signer": self.signer,
            "deliverables": [d.as_row() for d in self.deliverables],
            "amendments": [a.as_row() for a in self.amendments],
            "withdrawn_seq": self.withdrawn_seq,
            "disputed": decimal_text(self.disputed),
            "short_closes": [c.as_row() for c in self.short_closes],
            "closed_short_seq": self.closed_short_seq,
        }


class _Decisions:
    """Builds the decision records of a report from the claimed times and signer labels."""

    def __init__(self, replay: Replay, times: Mapping[int, str] | None = None) -> None:
        self.state = replay.state
        self.times = replay.claimed_times() if times is None else times
        self.labels = replay.signer_labels() if pledge_seqs(self.state) else {}

    def common(self, item: rules.Decision) -> dict[str, Any]:
        """The fields every :class:`DecisionReport` has, as keyword arguments."""
        labels, refusal = self.labels, item.refusal
        return {
            "seq": item.seq,
            "at": self.times[item.seq],
            "signer": labels.get(item.seq, ""),
            "status": item.status,
            "approved_by": tuple(
                Approval(p, s, labels.get(s, "")) for p, s in sorted(item.approvals.items())
            ),
            "refused_by": Refusal(refusal[0], refusal[1], labels.get(refusal[1], ""), refusal[2])
            if refusal
            else None,
            "decided_seq": item.decided_seq,
        }

    def dispute(self, seq: int) -> DisputeReport:
        """The record of the dispute at ``seq``."""
        dispute, labels = self.state.disputes[seq], self.labels
        return DisputeReport(
            seq=dispute.seq,
            by=dispute.by,
            signer=labels.get(dispute.seq, ""),
            target=dispute.target,
            about=dispute.about,
            reason=dispute.reason,
            parties=tuple(dispute.parties),
            signed=tuple(
                Vote(party=party, seq=at, signer=labels.get(at, ""), outcome=outcome)
                for party, (outcome, at) in sorted(dispute.votes.items())
            ),
            status=dispute.status,
            resolved_seq=dispute.resolved_seq,
        )

    def deliverable(self, item: rules.Deliverable) -> DeliverableReport:
        """The record of the deliverable ``item``."""
        return DeliverableReport(
            **self.common(item),
            summary=item.summary,
            quantity=item.quantity,
            evidence=tuple(Evidence(n, h, size) for n, h, size in item.evidence),
            disputes=tuple(self.dispute(d) for d in item.disputes),
        )

    def pledge(
        self,
        pledge: rules.Pledge,
        owed: Obligation,
        decisions: Mapping[int, rules.Decision] | None = None,
        recent: int | None = None,
    ) -> PledgeReport:
        """The record of ``pledge``, whose obligation is ``owed``.

        ``decisions``: its decisions, read already (default: the state's); ``recent``: keep
        only its ``recent`` most recent deliverables (a record for display only).
        """
        decisions = self.state.decisions if decisions is None else decisions
        kept = _recent(pledge.deliverables, recent)
        deliverables = [decisions[s] for s in kept]
        amendments = [decisions[s] for s in pledge.amendments]
        short_closes = [decisions[s] for s in pledge.short_closes]
        return PledgeReport(
            obligation=owed,
            hash=pledge.hash,
            signer=self.labels.get(pledge.seq, ""),
            deliverables=tuple(
                self.deliverable(item)
                for item in deliverables
                if isinstance(item, rules.Deliverable)
            ),
            amendments=tuple(
                AmendmentReport(
                    **self.common(item),
                    changes=tuple(sorted(item.changes.items())),
                    reason=item.reason,
                )
                for item in amendments
                if isinstance(item, rules.Amendment)
            ),
            withdrawn_seq=pledge.withdrawn_seq,
            disputed=pledge.disputed,
            short_closes=tuple(
                ShortCloseReport(**self.common(item), reason=item.reason)
                for item in short_closes
                if isinstance(item, rules.ShortClose)
            ),
            closed_short_seq=pledge.closed_short_seq,
            earlier_deliverables=len(pledge.deliverables) - len(kept),
        )


@dataclass(frozen=True)
class Delivery:
    """A deliverable with the pledge it is on: a point of the report's delivery chart."""

    item: DeliverableReport
    party: str  # the pledge's promisor
    unit: str
    pledge: int


class PledgeReports(Collection[PledgeReport]):
    """Every pledge of the project with its history, in seq order, built a page at a time.

    A long programme has tens of thousands of pledges: each iteration reads
    :data:`PAGE` pledges and their decisions, reports them and lets them go, so the report
    streams them as it streams its timeline. ``last(n)`` reports the most recent ``n`` only.
    """

    def __init__(
        self,
        replay: Replay,
        obligation_of: Callable[[rules.Pledge], Obligation],
        times: Mapping[int, str] | None = None,
    ) -> None:
        self._replay = replay
        self._obligation_of = obligation_of
        self._decisions = _Decisions(replay, times)
        self._seqs = pledge_seqs(replay.state)

    def __len__(self) -> int:
        return len(self._seqs)

    def __contains__(self, item: object) -> bool:
        return any(item == report for report in self)

    def __iter__(self) -> Iterator[PledgeReport]:
        for start in range(0, len(self._seqs), PAGE):
            yield from self._page(self._seqs[start : start + PAGE])

    def last(self, count: int, *, deliverables: int | None = None) -> tuple[PledgeReport, ...]:
        """The ``count`` most recent pledges' records (by seq).

        With ``deliverables``, each record holds its most recent ``deliverables``
        deliverables only (and how many it leaves out): a record to show, not to export.
        """
        recent = self._seqs[-count:] if count > 0 else []
        return tuple(
            report
            for start in range(0, len(recent), PAGE)
            for report in self._page(recent[start : start + PAGE], deliverables)
        )

    def recent_deliveries(self, count: int) -> tuple[Delivery, ...]:
        """The ``count`` most recent deliverables (by seq, oldest first), with their pledges.

        Read from the newest decision backwards, a page at a time: the chart of a project
        of any length reads what it draws.
        """
        state = self._replay.state
        decisions = state.decisions
        seqs = decisions.seqs() if isinstance(decisions, LazyMap) else sorted(decisions)
        found: list[rules.Deliverable] = []
        end = len(seqs)
        while end > 0 and len(found) < count:
            page = seqs[max(end - PAGE, 0) : end]
            end -= len(page)
            read = peek(decisions, page)
            for seq in reversed(page):
                item = read.get(seq)
                if isinstance(item, rules.Deliverable) and len(found) < count:
                    found.append(item)
        found.reverse()
        pledges = peek(state.pledges, {item.pledge for item in found})
        return tuple(
            Delivery(
                item=self._decisions.deliverable(item),
                party=pledges[item.pledge].by,
                unit=pledges[item.pledge].unit,
                pledge=item.pledge,
            )
            for item in found
        )

    def _page(self, seqs: list[int], recent: int | None = None) -> Iterator[PledgeReport]:
        state = self._replay.state
        pledges = peek(state.pledges, seqs)
        wanted = [
            seq
            for pledge in pledges.values()
            for seq in (
                *_recent(pledge.deliverables, recent),
                *pledge.amendments,
                *pledge.short_closes,
            )
        ]
        decisions = peek(state.decisions, wanted)
        for seq in seqs:
            pledge = pledges[seq]
            owed = self._obligation_of(pledge)
            yield self._decisions.pledge(pledge, owed, decisions, recent)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Collection) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _recent(seqs: list[int], count: int | None) -> list[int]:
    """The last ``count`` of ``seqs`` (all of them for None)."""
    if count is None:
        return seqs
    return seqs[-count:] if count > 0 else []


def pledge_reports(
    replay: Replay,
    obligation_of: Callable[[rules.Pledge], Obligation],
    times: Mapping[int, str] | None = None,
) -> PledgeReports:
    """Every pledge of the project with its history (``obligation_of``: its obligation).

    ``times``: the claimed times of the entries by seq, when read already.
    """
    return PledgeReports(replay, obligation_of, times)
