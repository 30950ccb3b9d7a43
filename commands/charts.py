"""The geometry of the close report's two SVG charts, as strings the templates lay out.

Pure functions of the report data (:class:`projections.report.ReportData`): the share chart
(pledged and approved shares per unit, one stacked bar pair per unit) and the delivery chart
(each deliverable on its party's lane, along the ledger's own order). Coordinates are written
with two decimals, so the same log gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from commands.figures import percent
from ledger.numbers import decimal_text
from projections.contributions import NO_UNIT, ratio_text
from projections.report import RECENT_DELIVERIES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.contributions import Contribution
    from projections.decisions import Delivery
    from projections.replay import TimelineRow

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
STATUS_COLOURS = {
    "accepted": "#2ca02c", "rejected": "#d62728", "pending": "#9e9e9e", "disputed": "#ff7f0e",
}  # fmt: skip
NO_COLOUR = "#999"
CHART_WIDTH = 760
SHARE_LEFT, SHARE_BAR, SHARE_ROW = 110, 600, 62
LABEL_MIN_WIDTH = 60
SHARE_BARS = ((0, 0, "pledged"), (26, 1, "approved"))  # offset, index in shares, label
DELIVERY_LEFT, DELIVERY_RIGHT, DELIVERY_LANE = 110, 30, 34
CHART_POINTS = RECENT_DELIVERIES  # the most recent deliveries the chart draws


def hidden_count(total: int, shown: int) -> str:
    """How many items are left out of a list cut to its ``shown`` most recent ('' if none)."""
    return f"{total - shown:,}" if total > shown else ""


def _coordinate(value: Fraction | float) -> str:
    return f"{float(value):.2f}"


def _label(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


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


def share_chart(rows: Sequence[Contribution], colours: dict[str, str]) -> ShareChart:
    """Pledged and approved shares per unit: one stacked bar pair per unit.

    Each part is as wide as its share as the JSON shows it (rounded to 4 places).
    """
    rows = [r for r in rows if r.unit != NO_UNIT]
    units = []
    for index, unit in enumerate(sorted({r.unit for r in rows})):
        top = 20 + SHARE_ROW * index
        bars = []
        for offset, which, label in SHARE_BARS:
            x = Fraction(SHARE_LEFT)
            segments = []
            for row in (r for r in rows if r.unit == unit):
                text = ratio_text(row.shares[which], 4)
                width = (Fraction(text) if text is not None else Fraction(0)) * SHARE_BAR
                if width <= 0:
                    continue
                segments.append(
                    Segment(
                        party=row.party,
                        share=percent(text),
                        x=_coordinate(x),
                        width=_coordinate(width),
                        colour=colours.get(row.party, NO_COLOUR),
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


def delivery_chart(
    parties: Sequence[str],
    deliveries: Sequence[Delivery],
    first: TimelineRow,
    last: TimelineRow,
) -> DeliveryChart:
    """Deliveries by party along the ledger's own order (the last :data:`CHART_POINTS`).

    ``first`` and ``last`` are the first and last timeline rows. The horizontal axis is the
    seq, labelled with the claimed times of the first and last entries: claimed times may
    bunch up or even go backwards, seqs do not.
    """
    span = max(last.seq - 1, 1)
    plot = CHART_WIDTH - DELIVERY_LEFT - DELIVERY_RIGHT
    axis = 20 + DELIVERY_LANE * len(parties)
    every = sorted(deliveries, key=lambda d: d.item.seq)
    points = tuple(
        Point(
            x=_coordinate(DELIVERY_LEFT + plot * (d.item.seq - 1) / span),
            y=str(20 + DELIVERY_LANE * parties.index(d.party)),
            colour=STATUS_COLOURS.get(d.item.shown_status, NO_COLOUR),
            seq=str(d.item.seq),
            party=d.party,
            quantity=decimal_text(d.item.quantity),
            unit=d.unit,
            pledge=str(d.pledge),
            status=d.item.shown_status,
        )
        for d in every[-CHART_POINTS:]
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
        first=_label(first.at),
        last_seq=str(last.seq),
        last=_label(last.at),
        points=points,
        hidden=hidden_count(len(every), CHART_POINTS),
    )
