"""The close report's view model: everything the templates show, computed once, as text.

:func:`report_view` turns the report data (:class:`projections.report.ReportData`, schema
``accord/close-report/v1``) into frozen dataclasses whose fields are the strings the report
prints: numbers, percentages, dates and "who decided" sentences are all formatted here (the
chart geometry in :mod:`commands.charts`), so the Markdown and HTML templates only lay them
out and escape them for their medium. Text a partner signed stays raw here; escaping is the
templates' job.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.charts import (
    PALETTE,
    STATUS_COLOURS,
    DeliveryChart,
    ShareChart,
    delivery_chart,
    hidden_count,
    share_chart,
)
from commands.figures import ContributionView, contribution_view, overall_sentence, ratio_percent
from ledger.numbers import amount_text, decimal_text
from projections.decisions import PledgeReports
from projections.replay import TimelineRow
from projections.views import signed_by

if TYPE_CHECKING:
    from projections.decisions import (
        Approval,
        DecisionReport,
        DeliverableReport,
        DisputeReport,
        PledgeReport,
    )
    from projections.report import DatedValue, PartyReport, ReportData
    from projections.statements import StatementDetail

TIMELINE_SHOWN = 500  # the most recent entries the Markdown and HTML reports list
DELIVERABLES_SHOWN = 20  # the most recent deliverables listed under each pledge
# The link of file INDEX (1-based) of deliverable SEQ, signed as NAME (commands.evidence_files).
Linker = Callable[[int, int, str], str]
PLEDGES_SHOWN = 500  # the most recent pledges the Markdown and HTML reports detail


@dataclass(frozen=True)
class Party:
    """A member: its handle, status, seat, signers (current and removed), keys and colour."""

    handle: str
    status: str
    seat: str
    signers: str
    removed: str
    keys: str
    colour: str


@dataclass(frozen=True)
class AgreedValue:
    """A value proposal: what one unit is worth in the reference unit, and who agreed."""

    seq: str
    at: str
    unit: str
    worth: str
    reference: str
    by: str
    reason: str
    status: str
    decided_by: str


@dataclass(frozen=True)
class Evidence:
    """A file recorded with a deliverable."""

    name: str
    size: str
    sha256: str
    link: str = ""  # issue 16: the party's checked local copy, relative to the report


@dataclass(frozen=True)
class Deliverable:
    """A deliverable of a pledge, with the decision on it."""

    seq: str
    at: str
    by: str
    quantity: str
    summary: str
    status: str
    decided_by: str
    evidence: tuple[Evidence, ...]
    evidence_text: str


@dataclass(frozen=True)
class Amendment:
    """A requested change of a pledge (or a close-short proposal), with the decision on it."""

    label: str
    seq: str
    changes: str
    reason: str
    status: str
    decided_by: str


@dataclass(frozen=True)
class Pledge:
    """A pledge with its figures, deliverables and amendments."""

    seq: str
    title: str
    party: str
    to: str
    weight: str
    unit: str
    due: str
    delivered: str
    approved: str
    status: str
    late: str
    short: str
    deliverables: tuple[Deliverable, ...]
    amendments: tuple[Amendment, ...]
    deliverables_hidden: str


@dataclass(frozen=True)
class OpenObligation:
    """A pledge neither fulfilled nor withdrawn."""

    seq: str
    party: str
    title: str
    progress: str
    due: str
    status: str
    days_late: str


@dataclass(frozen=True)
class Statement:
    """A shared-responsibility statement, its text as lines and who signed it."""

    seq: str
    title: str
    version: str
    status: str
    lines: tuple[str, ...]
    signed_by: str
    waiting_for: str


@dataclass(frozen=True)
class TimelineEntry:
    """One entry of the log."""

    seq: str
    at: str
    party: str
    type: str
    summary: str


@dataclass(frozen=True)
class CloseSignature:
    """A close signature on the final head."""

    party: str
    seq: str
    key: str
    hash: str
    signature: str


@dataclass(frozen=True)
class ReportView:
    """Everything the close report shows, formatted."""

    kind: str
    heading: str
    interim: bool
    slug: str
    title: str
    purpose: str
    status: str
    proposer: str
    approval: str
    close_policy: str
    terms_hash: str
    as_of_seq: str
    as_of_at: str
    entries: str
    head: str
    final_head_seq: str
    final_head: str
    closed: str
    parties: tuple[Party, ...]
    threshold: str
    contributions: tuple[ContributionView, ...]
    overall: str
    values: tuple[AgreedValue, ...]
    share_chart: ShareChart
    status_colours: tuple[tuple[str, str], ...]
    delivery_chart: DeliveryChart
    pledges: tuple[Pledge, ...]
    pledges_hidden: str
    open_heading: str
    open_obligations: tuple[OpenObligation, ...]
    statements: tuple[Statement, ...]
    timeline: tuple[TimelineEntry, ...]
    timeline_hidden: str
    signatures: tuple[CloseSignature, ...]


def _seat(party: PartyReport) -> str:
    """How the seat was offered: pinned to a key, or unpinned with an invite key."""
    if party.pinned:
        return f"pinned to {party.pinned}"
    if party.invite:
        return f"invite {party.invite}"
    return "unpinned"


def report_view(data: ReportData, links: Linker | None = None) -> ReportView:
    """Compute the view model of the report ``data`` (a pure function of it).

    ``links`` gives the link of the party's local copy of file ``index`` (1-based) of
    deliverable ``seq``, signed as ``name``.
    """
    project, close, as_of = data.project, data.close, data.as_of
    colours = {p.handle: PALETTE[i % len(PALETTE)] for i, p in enumerate(data.parties)}
    is_close = data.kind == "close"
    timeline = data.timeline
    return ReportView(
        kind=data.kind,
        heading=f"{'Close' if is_close else 'Interim'} report: {project.title} ({project.slug})",
        interim=not is_close,
        slug=project.slug,
        title=project.title,
        purpose=project.purpose or "(none given)",
        status=project.status,
        proposer=project.proposer,
        approval=project.approval,
        close_policy=project.close,
        terms_hash=project.terms_hash,
        as_of_seq=str(as_of.seq),
        as_of_at=as_of.at,
        entries=str(close.entries),
        head=close.head,
        final_head_seq=str(close.final_head_seq),
        final_head=close.final_head,
        closed=f"yes, at seq {close.closed_seq}" if close.closed else "no",
        parties=tuple(
            Party(
                handle=p.handle,
                status=p.status,
                seat=_seat(p),
                signers=", ".join(f"{x.label}: {x.key}" for x in p.signers) or "(none)",
                removed=", ".join(f"{x.label} (seq {x.removed_seq})" for x in p.removed_signers)
                or "-",
                keys=", ".join(p.keys) or "-",
                colour=colours[p.handle],
            )
            for p in data.parties
        ),
        threshold=ratio_percent(data.contributions.threshold),
        contributions=tuple(contribution_view(r) for r in data.contributions.rows),
        overall=overall_sentence(data.contributions, data.values),
        values=tuple(_value(v) for v in data.values),
        share_chart=share_chart(data.contributions.rows, colours),
        status_colours=tuple(STATUS_COLOURS.items()),
        delivery_chart=delivery_chart(
            [p.handle for p in data.parties],
            data.deliveries,
            TimelineRow.of(timeline[0]),
            TimelineRow.of(timeline[-1]),
        ),
        pledges=tuple(_pledge(p, links) for p in recent_pledges(data.pledges)),
        pledges_hidden=hidden_count(len(data.pledges), PLEDGES_SHOWN),
        open_heading="Obligations open at close" if is_close else "Open obligations",
        open_obligations=tuple(
            OpenObligation(
                seq=str(o.seq),
                party=o.party,
                title=o.title,
                progress=f"{decimal_text(o.approved)} / {decimal_text(o.weight)} {o.unit}",
                due=o.due.isoformat(),
                status=o.status,
                days_late=str(o.days_late),
            )
            for o in data.open_obligations
        ),
        statements=tuple(_statement(s) for s in data.statements),
        timeline=tuple(
            TimelineEntry(
                seq=str(t.seq),
                at=t.at,
                party=signed_by(t.party, t.signer),
                type=t.type,
                summary=t.summary,
            )
            for t in map(TimelineRow.of, timeline[-TIMELINE_SHOWN:])
        ),
        timeline_hidden=hidden_count(len(timeline), TIMELINE_SHOWN),
        signatures=tuple(
            CloseSignature(
                party=signed_by(c.party, c.signer),
                seq=str(c.seq),
                key=c.key,
                hash=c.hash,
                signature=c.signature,
            )
            for c in close.signatures
        ),
    )


def recent_pledges(pledges: Collection[PledgeReport]) -> tuple[PledgeReport, ...]:
    """The :data:`PLEDGES_SHOWN` most recent pledges (all of them are in the JSON)."""
    if isinstance(pledges, PledgeReports):  # each with the deliverables shown only
        return pledges.last(PLEDGES_SHOWN, deliverables=DELIVERABLES_SHOWN)
    return tuple(pledges)[-PLEDGES_SHOWN:]


def _days_late(days: int) -> str:
    """``1 day late``, ``3 days late``, or nothing when not late."""
    return f"{days} day{'s' if days != 1 else ''} late" if days else ""


def _value(item: DatedValue) -> AgreedValue:
    parts = []
    if item.approved_by:
        parts.append(
            "approved by " + ", ".join(f"{a.party} (seq {a.seq})" for a in item.approved_by)
        )
    if item.refused_by:
        r = item.refused_by
        parts.append(f"refused by {r.party} (seq {r.seq}): {r.reason}")
    decided = "; ".join(parts)
    if item.status == "replaced":
        decided += f"; replaced at seq {item.replaced_seq}"
    elif item.status == "superseded":
        decided = f"superseded by the proposal at seq {item.decided_seq}"
    elif item.status == "pending":
        decided += ("; " if decided else "") + "waiting for " + ", ".join(item.waiting_for)
    return AgreedValue(
        seq=str(item.seq),
        at=item.at,
        unit=item.unit,
        worth=decimal_text(item.worth),
        reference=item.reference,
        by=item.by,
        reason=item.reason,
        status=item.status,
        decided_by=decided,
    )


def _at(party: str, signer: str, seq: int) -> str:
    """``acme (seq 12)``, or ``acme (alice, seq 12)`` when another signer of acme signed it."""
    who = f"{signer}, " if signer and signer != party else ""
    return f"{party} ({who}seq {seq})"


def _approval(item: Approval) -> str:
    return _at(item.party, item.signer, item.seq)


def _decided_by(item: DecisionReport, disputes: tuple[DisputeReport, ...] = ()) -> str:
    parts = []
    if item.approved_by:
        parts.append("approved by " + ", ".join(_approval(a) for a in item.approved_by))
    if item.refused_by:
        r = item.refused_by
        parts.append(f"refused by {_approval(r)}: {r.reason}")
    parts.extend(_dispute_text(d) for d in disputes)
    return "; ".join(parts)


def _dispute_text(dispute: DisputeReport) -> str:
    """``disputed by veggie (seq 27): reason; upheld at seq 30 (acme, veggie)``."""
    text = f"disputed by {_at(dispute.by, dispute.signer, dispute.seq)}: {dispute.reason}"
    if dispute.status != "open":
        return (
            f"{text}; {dispute.status} at seq {dispute.resolved_seq} ({', '.join(dispute.parties)})"
        )
    signed = ", ".join(f"{v.party} {v.outcome}" for v in dispute.signed)
    return f"{text}; open" + (f" (signed: {signed})" if signed else "")


def _deliverable(item: DeliverableReport, party: str, links: Linker | None) -> Deliverable:
    evidence = tuple(
        Evidence(
            name=e.name,
            size=str(e.size),
            sha256=e.sha256,
            link=links(item.seq, n, e.name) if links is not None else "",
        )
        for n, e in enumerate(item.evidence, start=1)
    )
    return Deliverable(
        seq=str(item.seq),
        at=item.at,
        by=signed_by(party, item.signer),
        quantity=decimal_text(item.quantity),
        summary=item.summary,
        status=item.shown_status,
        decided_by=_decided_by(item, item.disputes),
        evidence=evidence,
        evidence_text="; ".join(
            f"{e.name} ({e.size} B, sha256 {e.sha256})"
            + (f", local copy {e.link}" if e.link else "")
            for e in evidence
        )
        or "-",
    )


def _short(pledge: PledgeReport) -> str:
    """How short a pledge closed short fell: ``closed short at seq 34 ...`` ('' otherwise)."""
    owed = pledge.obligation
    if owed.short is None:
        return ""
    return (
        f"closed short at seq {pledge.closed_short_seq} with {decimal_text(owed.approved)} of "
        f"{decimal_text(owed.weight)} {owed.unit} approved: "
        f"{amount_text(decimal_text(owed.short), owed.unit)} short"
    )


def _pledge(pledge: PledgeReport, links: Linker | None) -> Pledge:
    owed = pledge.obligation
    return Pledge(
        seq=str(owed.seq),
        title=owed.title,
        party=signed_by(owed.party, pledge.signer),
        to=", ".join(owed.beneficiaries),
        weight=decimal_text(owed.weight),
        unit=owed.unit,
        due=owed.due.isoformat(),
        delivered=decimal_text(owed.delivered),
        approved=decimal_text(owed.approved),
        status=owed.status,
        late=_days_late(owed.days_late),
        short=_short(pledge),
        deliverables=tuple(
            _deliverable(d, owed.party, links) for d in pledge.deliverables[-DELIVERABLES_SHOWN:]
        ),
        deliverables_hidden=hidden_count(
            len(pledge.deliverables) + pledge.earlier_deliverables, DELIVERABLES_SHOWN
        ),
        amendments=tuple(
            Amendment(
                label="Amendment",
                seq=str(a.seq),
                changes=", ".join(f"{k} {v}" for k, v in a.changes),
                reason=a.reason,
                status=a.status,
                decided_by=_decided_by(a),
            )
            for a in pledge.amendments
        )
        + tuple(
            Amendment(
                label="Close-short proposal",
                seq=str(c.seq),
                changes="end with what was approved",
                reason=c.reason,
                status=c.status,
                decided_by=_decided_by(c),
            )
            for c in pledge.short_closes
        ),
    )


def _statement(item: StatementDetail) -> Statement:
    signed = ", ".join(f"{x.party} (seq {x.seq})" for x in item.signatures) or "nobody"
    return Statement(
        seq=str(item.seq),
        title=item.title,
        version=str(item.version),
        status=item.status,
        lines=tuple(item.text.splitlines()),
        signed_by=signed,
        waiting_for=", ".join(item.waiting_for),
    )
