"""The close report's view model: everything the templates show, computed once, as text.

:func:`report_view` turns the report data (``projections.report.report_data``, schema
``accord/close-report/v1``) into frozen dataclasses whose fields are the strings the report
prints: numbers, percentages, dates, "who decided" sentences and chart coordinates are all
formatted here, so the Markdown and HTML templates only lay them out and escape them for
their medium. Text a partner signed stays raw here; escaping is the templates' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from ledger.numbers import amount_text
from projections.views import signed_by

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
STATUS_COLOURS = {
    "accepted": "#2ca02c", "rejected": "#d62728", "pending": "#9e9e9e", "disputed": "#ff7f0e",
}  # fmt: skip
NO_COLOUR = "#999"
CHART_WIDTH = 760
SHARE_LEFT, SHARE_BAR, SHARE_ROW = 110, 600, 62
LABEL_MIN_WIDTH = 60
SHARE_BARS = ((0, "pledged_share", "pledged"), (26, "approved_share", "approved"))
DELIVERY_LEFT, DELIVERY_RIGHT, DELIVERY_LANE = 110, 30, 34


TIMELINE_SHOWN = 500  # the most recent entries the Markdown and HTML reports list
DELIVERABLES_SHOWN = 20  # the most recent deliverables listed under each pledge
CHART_POINTS = 1000  # the most recent deliveries the chart draws


def _hidden(total: int, shown: int) -> str:
    """How many items are left out of a list cut to its ``shown`` most recent ('' if none)."""
    return f"{total - shown:,}" if total > shown else ""


def percent(value: str | None) -> str:
    """Show a ratio string ("0.3333") as a percentage ("33.3%"), or n/a."""
    if value is None:
        return "n/a"
    tenths = round(Fraction(value) * 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def shown_share(value: str | None, row: dict[str, Any]) -> str:
    """A share of a contribution row for people (ADR 0012).

    ``not valued`` on the overall row of a party none of whose work has an agreed value,
    ``alone`` for the one party working in a unit (its whole, which compares it with
    nobody), else the percentage (or n/a).
    """
    if row.get("valued") == "none":
        return "not valued"
    if value is not None and row.get("peers") == 1 and Fraction(value) == 1:
        return "alone"
    return percent(value)


def judgement(row: dict[str, Any]) -> str:
    """The guest-star column in words: guest star, not valued, partly valued, or ''."""
    if row["guest_star"]:
        return "guest star"
    return {"none": "not valued", "partly": "partly valued"}.get(row.get("valued") or "", "")


def _amount(value: str | None) -> str:
    return "-" if value is None else value


def _coordinate(value: Fraction | float) -> str:
    return f"{float(value):.2f}"


def _label(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


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
class Contribution:
    """One row of the contributions table (per party and unit)."""

    party: str
    unit: str
    pledged: str
    delivered: str
    approved: str
    disputed: str
    short: str
    pledged_share: str
    approved_share: str
    fulfilment: str
    on_time: str
    guest_star: bool
    judgement: str  # "guest star", "not valued", "partly valued" or "no"


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
class Segment:
    """One party's part of a share bar, with its label when the part is wide enough."""

    party: str
    share: str
    x: str
    width: str
    colour: str
    label_x: str | None


@dataclass(frozen=True)
class Bar:
    """The pledged or the approved bar of one unit."""

    label: str
    y: str
    label_y: str
    text_y: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class UnitBars:
    """The two bars (pledged, approved) of one unit."""

    unit: str
    label_y: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class ShareChart:
    """The SVG of pledged and approved shares per unit."""

    width: str
    height: str
    left: str
    bar_width: str
    label_x: str
    units: tuple[UnitBars, ...]


@dataclass(frozen=True)
class Lane:
    """One party's row of the delivery chart."""

    party: str
    y: str
    label_y: str


@dataclass(frozen=True)
class Point:
    """One deliverable on the delivery chart."""

    x: str
    y: str
    colour: str
    seq: str
    party: str
    quantity: str
    unit: str
    pledge: str
    status: str


@dataclass(frozen=True)
class DeliveryChart:
    """The SVG timeline of deliveries, one lane per party, by seq."""

    width: str
    height: str
    left: str
    right: str
    label_x: str
    lanes: tuple[Lane, ...]
    axis_y: str
    axis_label_y: str
    first: str
    last_seq: str
    last: str
    points: tuple[Point, ...]
    hidden: str


@dataclass(frozen=True)
class Evidence:
    """A file recorded with a deliverable."""

    name: str
    size: str
    sha256: str


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
    contributions: tuple[Contribution, ...]
    overall: str
    values: tuple[AgreedValue, ...]
    share_chart: ShareChart
    status_colours: tuple[tuple[str, str], ...]
    delivery_chart: DeliveryChart
    pledges: tuple[Pledge, ...]
    open_heading: str
    open_obligations: tuple[OpenObligation, ...]
    statements: tuple[Statement, ...]
    timeline: tuple[TimelineEntry, ...]
    timeline_hidden: str
    signatures: tuple[CloseSignature, ...]


def _seat(party: dict[str, Any]) -> str:
    """How the seat was offered: pinned to a key, or unpinned with an invite key."""
    if party.get("pinned"):
        return f"pinned to {party['pinned']}"
    if party.get("invite"):
        return f"invite {party['invite']}"
    return "unpinned"


def report_view(data: dict[str, Any]) -> ReportView:
    """Compute the view model of the report ``data`` (a pure function of it)."""
    project, close, as_of = data["project"], data["close"], data["as_of"]
    colours = {p["handle"]: PALETTE[i % len(PALETTE)] for i, p in enumerate(data["parties"])}
    is_close = data["kind"] == "close"
    return ReportView(
        kind=data["kind"],
        heading=f"{'Close' if is_close else 'Interim'} report: {project['title']} "
        f"({project['slug']})",
        interim=not is_close,
        slug=project["slug"],
        title=project["title"],
        purpose=project["purpose"] or "(none given)",
        status=project["status"],
        proposer=project["proposer"],
        approval=project["approval"],
        close_policy=project["close"],
        terms_hash=project["terms_hash"],
        as_of_seq=str(as_of["seq"]),
        as_of_at=as_of["at"],
        entries=str(close["entries"]),
        head=close["head"],
        final_head_seq=str(close["final_head_seq"]),
        final_head=close["final_head"],
        closed=f"yes, at seq {close['closed_seq']}" if close["closed"] else "no",
        parties=tuple(
            Party(
                handle=p["handle"],
                status=p["status"],
                seat=_seat(p),
                signers=", ".join(f"{x['label']}: {x['key']}" for x in p["signers"]) or "(none)",
                removed=", ".join(
                    f"{x['label']} (seq {x['removed_seq']})" for x in p["removed_signers"]
                )
                or "-",
                keys=", ".join(p["keys"]) or "-",
                colour=colours[p["handle"]],
            )
            for p in data["parties"]
        ),
        threshold=percent(data["contributions"]["threshold"]),
        contributions=tuple(_contribution(r) for r in data["contributions"]["rows"]),
        overall=_overall(data),
        values=tuple(_value(v) for v in data["values"]),
        share_chart=_share_chart(data["contributions"]["rows"], colours),
        status_colours=tuple(STATUS_COLOURS.items()),
        delivery_chart=_delivery_chart(data),
        pledges=tuple(_pledge(p) for p in data["pledges"]),
        open_heading="Obligations open at close" if is_close else "Open obligations",
        open_obligations=tuple(
            OpenObligation(
                seq=str(o["seq"]),
                party=o["party"],
                title=o["title"],
                progress=f"{o['approved']} / {o['weight']} {o['unit']}",
                due=o["due"],
                status=o["status"],
                days_late=str(o["days_late"]),
            )
            for o in data["open_obligations"]
        ),
        statements=tuple(_statement(s) for s in data["statements"]),
        timeline=tuple(
            TimelineEntry(
                seq=str(t["seq"]),
                at=t["at"],
                party=signed_by(t["party"], t["signer"]),
                type=t["type"],
                summary=t["summary"],
            )
            for t in data["timeline"][-TIMELINE_SHOWN:]
        ),
        timeline_hidden=_hidden(len(data["timeline"]), TIMELINE_SHOWN),
        signatures=tuple(
            CloseSignature(
                party=signed_by(c["party"], c["signer"]),
                seq=str(c["seq"]),
                key=c["key"],
                hash=c["hash"],
                signature=c["signature"],
            )
            for c in close["signatures"]
        ),
    )


def _contribution(row: dict[str, Any]) -> Contribution:
    return Contribution(
        party=row["party"],
        unit=row["unit"],
        pledged=_amount(row["pledged"]),
        delivered=_amount(row["delivered"]),
        approved=_amount(row["approved"]),
        disputed=_amount(row["disputed"]),
        short=_amount(row["short"]),
        pledged_share=shown_share(row["pledged_share"], row),
        approved_share=shown_share(row["approved_share"], row),
        fulfilment=percent(row["fulfilment"]),
        on_time=percent(row["on_time"]),
        guest_star=bool(row["guest_star"]),
        judgement=judgement(row) or "no",
    )


def _days_late(days: int) -> str:
    """``1 day late``, ``3 days late``, or nothing when not late."""
    return f"{days} day{'s' if days != 1 else ''} late" if days else ""


def _overall(data: dict[str, Any]) -> str:
    """The sentence on the overall rows ('' while no value is agreed)."""
    reference = data["contributions"]["reference"]
    if reference is None:
        return ""
    agreed = [v for v in data["values"] if v["status"] == "agreed"]
    worths = "; ".join(f"{amount_text('1', v['unit'])} = {v['worth']} {v['in']}" for v in agreed)
    overall = [r for r in data["contributions"]["rows"] if r["valued"] is not None]
    compared = overall[0]["peers"] if overall else 0
    bar = percent(data["contributions"]["threshold"])
    groups = [
        f"{label}: {', '.join(r['party'] for r in overall if r['valued'] == kind)}"
        for kind, label in (("none", "not valued"), ("partly", "partly valued"))
        if any(r["valued"] == kind for r in overall)
    ]
    return (
        f"The rows of unit overall {reference} add up every party's work in {reference}, "
        f"at the values the members agreed ({worths}; units without an agreed value are "
        f"left out). Their shares compare the {compared} "
        f"{'party' if compared == 1 else 'parties'} with work of an agreed value"
        + (f" ({'; '.join(groups)})" if groups else "")
        + " and are rounded to a tenth of a percent so that they add up to 100%. Overall, "
        f"a party is a guest star when its approved share is below {bar} of an equal "
        "share, unless some of its approved work has no agreed value."
    )


def _value(item: dict[str, Any]) -> AgreedValue:
    decided = _decided_by(item)
    if item["status"] == "replaced":
        decided += f"; replaced at seq {item['replaced_seq']}"
    elif item["status"] == "superseded":
        decided = f"superseded by the proposal at seq {item['decided_seq']}"
    elif item["status"] == "pending":
        decided += ("; " if decided else "") + "waiting for " + ", ".join(item["waiting_for"])
    return AgreedValue(
        seq=str(item["seq"]),
        at=item["at"],
        unit=item["unit"],
        worth=item["worth"],
        reference=item["in"],
        by=item["by"],
        reason=item["reason"],
        status=item["status"],
        decided_by=decided,
    )


def _at(item: dict[str, Any], party: str = "party") -> str:
    """``acme (seq 12)``, or ``acme (alice, seq 12)`` when another signer of acme signed it."""
    signer = item.get("signer", "")
    who = f"{signer}, " if signer and signer != item[party] else ""
    return f"{item[party]} ({who}seq {item['seq']})"


def _decided_by(item: dict[str, Any]) -> str:
    parts = []
    if item["approved_by"]:
        parts.append("approved by " + ", ".join(_at(a) for a in item["approved_by"]))
    if item["refused_by"]:
        r = item["refused_by"]
        parts.append(f"refused by {_at(r)}: {r['reason']}")
    parts.extend(_dispute_text(d) for d in item.get("disputes", ()))
    return "; ".join(parts)


def _dispute_text(dispute: dict[str, Any]) -> str:
    """``disputed by veggie (seq 27): reason; upheld at seq 30 (acme, veggie)``."""
    text = f"disputed by {_at(dispute, 'by')}: {dispute['reason']}"
    if dispute["status"] != "open":
        return (
            f"{text}; {dispute['status']} at seq {dispute['resolved_seq']} "
            f"({', '.join(dispute['parties'])})"
        )
    signed = ", ".join(f"{v['party']} {v['outcome']}" for v in dispute["signed"])
    return f"{text}; open" + (f" (signed: {signed})" if signed else "")


def _shown_status(item: dict[str, Any]) -> str:
    """A deliverable's status, ``disputed`` while a dispute on its decision is open."""
    disputes = item.get("disputes", ())
    return "disputed" if disputes and disputes[-1]["status"] == "open" else item["status"]


def _deliverable(item: dict[str, Any], party: str) -> Deliverable:
    evidence = tuple(
        Evidence(name=e["name"], size=str(e["size"]), sha256=e["sha256"]) for e in item["evidence"]
    )
    return Deliverable(
        seq=str(item["seq"]),
        at=item["at"],
        by=signed_by(party, item.get("signer", "")),
        quantity=item["quantity"],
        summary=item["summary"],
        status=_shown_status(item),
        decided_by=_decided_by(item),
        evidence=evidence,
        evidence_text="; ".join(f"{e.name} ({e.size} B, sha256 {e.sha256})" for e in evidence)
        or "-",
    )


def _short(pledge: dict[str, Any]) -> str:
    """How short a pledge closed short fell: ``closed short at seq 34 ...`` ('' otherwise)."""
    if pledge.get("short") is None:
        return ""
    unit = pledge["unit"]
    return (
        f"closed short at seq {pledge['closed_short_seq']} with {pledge['approved']} of "
        f"{pledge['weight']} {unit} approved: {amount_text(pledge['short'], unit)} short"
    )


def _pledge(pledge: dict[str, Any]) -> Pledge:
    return Pledge(
        seq=str(pledge["seq"]),
        title=pledge["title"],
        party=signed_by(pledge["party"], pledge.get("signer", "")),
        to=", ".join(pledge["to"]),
        weight=pledge["weight"],
        unit=pledge["unit"],
        due=pledge["due"],
        delivered=pledge["delivered"],
        approved=pledge["approved"],
        status=pledge["status"],
        late=_days_late(pledge["days_late"]),
        short=_short(pledge),
        deliverables=tuple(
            _deliverable(d, pledge["party"]) for d in pledge["deliverables"][-DELIVERABLES_SHOWN:]
        ),
        deliverables_hidden=_hidden(len(pledge["deliverables"]), DELIVERABLES_SHOWN),
        amendments=tuple(
            Amendment(
                label="Amendment",
                seq=str(a["seq"]),
                changes=", ".join(f"{k} {v}" for k, v in a["changes"].items()),
                reason=a["reason"],
                status=a["status"],
                decided_by=_decided_by(a),
            )
            for a in pledge["amendments"]
        )
        + tuple(
            Amendment(
                label="Close-short proposal",
                seq=str(c["seq"]),
                changes="end with what was approved",
                reason=c["reason"],
                status=c["status"],
                decided_by=_decided_by(c),
            )
            for c in pledge["short_closes"]
        ),
    )


def _statement(item: dict[str, Any]) -> Statement:
    signed = ", ".join(f"{x['party']} (seq {x['seq']})" for x in item["signatures"]) or "nobody"
    return Statement(
        seq=str(item["seq"]),
        title=item["title"],
        version=str(item["version"]),
        status=item["status"],
        lines=tuple(item["text"].splitlines()),
        signed_by=signed,
        waiting_for=", ".join(item["waiting_for"]),
    )


def _share_chart(rows: list[dict[str, Any]], colours: dict[str, str]) -> ShareChart:
    """Pledged and approved shares per unit: one stacked bar pair per unit."""
    rows = [r for r in rows if r["unit"] != "-"]
    units = []
    for index, unit in enumerate(sorted({r["unit"] for r in rows})):
        top = 20 + SHARE_ROW * index
        bars = []
        for offset, field, label in SHARE_BARS:
            x = Fraction(SHARE_LEFT)
            segments = []
            for row in (r for r in rows if r["unit"] == unit):
                share = Fraction(row[field]) if row[field] is not None else Fraction(0)
                width = share * SHARE_BAR
                if width <= 0:
                    continue
                segments.append(
                    Segment(
                        party=row["party"],
                        share=percent(row[field]),
                        x=_coordinate(x),
                        width=_coordinate(width),
                        colour=colours.get(row["party"], NO_COLOUR),
                        label_x=_coordinate(x + width / 2) if width >= LABEL_MIN_WIDTH else None,
                    )
                )
                x += width
            bars.append(
                Bar(
                    label=label,
                    y=str(top + offset),
                    label_y=str(top + offset + 15),
                    text_y=str(top + offset + 14),
                    segments=tuple(segments),
                )
            )
        units.append(UnitBars(unit=unit, label_y=str(top + 22), bars=tuple(bars)))
    return ShareChart(
        width=str(CHART_WIDTH),
        height=str(30 + SHARE_ROW * len(units)),
        left=str(SHARE_LEFT),
        bar_width=str(SHARE_BAR),
        label_x=str(SHARE_LEFT - 6),
        units=tuple(units),
    )


def _delivery_chart(data: dict[str, Any]) -> DeliveryChart:
    """Deliveries by party along the ledger's own order.

    The horizontal axis is the seq, labelled with the claimed times of the first and last
    entries: claimed times may bunch up or even go backwards, seqs do not.
    """
    parties = [p["handle"] for p in data["parties"]]
    first, last = data["timeline"][0], data["timeline"][-1]
    span = max(last["seq"] - 1, 1)
    plot = CHART_WIDTH - DELIVERY_LEFT - DELIVERY_RIGHT
    axis = 20 + DELIVERY_LANE * len(parties)
    every = sorted(
        ((item, pledge) for pledge in data["pledges"] for item in pledge["deliverables"]),
        key=lambda pair: int(pair[0]["seq"]),
    )
    points = tuple(
        Point(
            x=_coordinate(DELIVERY_LEFT + plot * (item["seq"] - 1) / span),
            y=str(20 + DELIVERY_LANE * parties.index(pledge["party"])),
            colour=STATUS_COLOURS.get(_shown_status(item), NO_COLOUR),
            seq=str(item["seq"]),
            party=pledge["party"],
            quantity=item["quantity"],
            unit=pledge["unit"],
            pledge=str(pledge["seq"]),
            status=_shown_status(item),
        )
        for item, pledge in every[-CHART_POINTS:]
    )
    return DeliveryChart(
        width=str(CHART_WIDTH),
        height=str(50 + DELIVERY_LANE * len(parties)),
        left=str(DELIVERY_LEFT),
        right=str(DELIVERY_LEFT + plot),
        label_x=str(DELIVERY_LEFT - 8),
        lanes=tuple(
            Lane(party=p, y=str(20 + DELIVERY_LANE * i), label_y=str(24 + DELIVERY_LANE * i))
            for i, p in enumerate(parties)
        ),
        axis_y=str(axis),
        axis_label_y=str(axis + 16),
        first=_label(first["at"]),
        last_seq=str(last["seq"]),
        last=_label(last["at"]),
        points=points,
        hidden=_hidden(len(every), CHART_POINTS),
    )
