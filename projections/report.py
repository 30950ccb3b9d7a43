"""The close report's content: a pure function of a project's log.

``report_data`` gathers everything the report shows into one frozen :class:`ReportData`
whose ``as_row()`` is the JSON of schema ``accord/close-report/v1`` (documented in
docs/report.md). It reads only signed entry data, never the store's receive times or the wall
clock, so the same log always gives the same report: "today" is the claimed date of the head
entry. Each pledge's obligation is computed once and shared by ``pledges`` and
``open_obligations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.format import decimal_text
from projections.contributions import DEFAULT_THRESHOLD, Contribution, contributions, ratio_text
from projections.obligations import FINISHED, Obligation, obligation
from projections.statements import StatementDetail, statement_detail
from projections.values import ValueRow, value_rows
from projections.views import RemovedSigner, SignerRow, removed_signer_rows, signer_rows

if TYPE_CHECKING:
    from decimal import Decimal
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

    def as_row(self) -> dict[str, Any]:
        """JSON-ready record: the obligation's row and the rest."""
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

    ``timeline`` holds the log's rows (JSON-ready dicts, as :meth:`Replay.timeline` reads
    them): a list, or a :class:`~projections.replay.Timeline` read a page at a time.
    """

    kind: str  # "close" or "interim"
    project: ProjectTerms
    as_of: ReportPoint
    parties: tuple[PartyReport, ...]
    pledges: tuple[PledgeReport, ...]
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
            "pledges": [p.as_row() for p in self.pledges],
            "open_obligations": [o.as_row() for o in self.open_obligations],
            "contributions": self.contributions.as_row(),
            "values": [v.as_row() for v in self.values],
            "statements": [s.as_row() for s in self.statements],
            "timeline": self.timeline,
            "close": self.close.as_row(),
        }


def report_today(replay: Replay) -> date:
    """The report's "today": the claimed date of the head entry."""
    return replay.at(replay.position).date()


def report_data(
    replay: Replay, *, threshold: Fraction = DEFAULT_THRESHOLD, stream_timeline: bool = False
) -> ReportData:
    """Everything the close report holds.

    With ``stream_timeline`` the timeline is a :class:`~projections.replay.Timeline` read
    from the ledger a page at a time (for writing a long report while the ledger is open);
    otherwise it is a list.
    """
    state = replay.state
    today = report_today(replay)
    head = replay.entry(replay.position)
    owed = {seq: obligation(replay, p, today) for seq, p in state.pledges.items()}
    timeline = replay.timeline()
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
        pledges=_pledges(replay, owed),
        open_obligations=tuple(o for o in owed.values() if o.status not in FINISHED),
        contributions=ContributionsReport(
            threshold=threshold,
            rows=tuple(contributions(replay, today, threshold=threshold)),
            reference=rules.reference_unit(state) if rules.agreed_values(state) else None,
        ),
        values=_values(replay),
        statements=tuple(statement_detail(state, seq) for seq in state.statements),
        timeline=timeline if stream_timeline else list(timeline),
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


class _Decisions:
    """Builds the decision records of a report from the claimed times and signer labels."""

    def __init__(self, replay: Replay) -> None:
        self.state = replay.state
        self.times = replay.claimed_times()
        self.labels = replay.signer_labels() if self.state.pledges else {}

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

    def pledge(self, pledge: rules.Pledge, owed: Obligation) -> PledgeReport:
        """The record of ``pledge``, whose obligation is ``owed``."""
        decisions = self.state.decisions
        deliverables = [decisions[s] for s in pledge.deliverables]
        amendments = [decisions[s] for s in pledge.amendments]
        short_closes = [decisions[s] for s in pledge.short_closes]
        return PledgeReport(
            obligation=owed,
            hash=pledge.hash,
            signer=self.labels.get(pledge.seq, ""),
            deliverables=tuple(
                DeliverableReport(
                    **self.common(item),
                    summary=item.summary,
                    quantity=item.quantity,
                    evidence=tuple(Evidence(n, h, size) for n, h, size in item.evidence),
                    disputes=tuple(self.dispute(d) for d in item.disputes),
                )
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
        )


def _pledges(replay: Replay, owed: dict[int, Obligation]) -> tuple[PledgeReport, ...]:
    decisions = _Decisions(replay)
    return tuple(decisions.pledge(p, owed[seq]) for seq, p in replay.state.pledges.items())


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
