"""The report of a long project reads its pledges a page at a time (issue 19).

``report_data(stream=True)`` gives :class:`~projections.decisions.PledgeReports`, which read
:data:`~projections.decisions.PAGE` pledges and their decisions at a time; the delivery chart
reads the newest deliverables backwards. Both must give exactly what reading everything at
once gives, and the Markdown and HTML detail only the most recent pledges.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import test_report_golden
from test_report import SLUG, fair  # noqa: F401 - the fixture

from commands import report_view as report_view_module
from commands.report_view import PLEDGES_SHOWN, report_view
from commands.reporting import json_chunks, render_html, render_markdown
from ledger.application import Ledger
from projections import decisions
from projections.decisions import PledgeReports
from projections.replay import Replay
from projections.report import ReportData, report_data


@pytest.mark.parametrize(("page", "shown"), [(1, 1), (2, 20), (3, 1), (500, 20)])
def test_the_streamed_report_is_the_report_read_at_once(
    fair: Ledger,  # noqa: F811
    page: int,
    shown: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decisions, "PAGE", page)
    monkeypatch.setattr(report_view_module, "DELIVERABLES_SHOWN", shown)
    whole = report_data(Replay.build(fair, SLUG))
    streamed = report_data(Replay.build(fair, SLUG), stream=True)
    assert isinstance(streamed.pledges, PledgeReports)
    assert isinstance(whole.pledges, tuple)
    assert len(streamed.pledges) == len(whole.pledges) == 4
    assert tuple(streamed.pledges) == whole.pledges
    assert streamed.deliveries == whole.deliveries
    assert "".join(json_chunks(streamed.as_row())) == "".join(json_chunks(whole.as_row()))
    assert render_markdown(streamed) == render_markdown(whole)
    assert render_html(streamed) == render_html(whole)
    assert streamed.pledges.last(2) == whole.pledges[-2:]
    assert streamed.pledges.last(0) == ()


def test_a_record_shortened_for_display_keeps_the_newest_deliverables_and_has_no_json(
    fair: Ledger,  # noqa: F811
) -> None:
    whole = {p.obligation.seq: p for p in report_data(Replay.build(fair, SLUG)).pledges}
    pledges = report_data(Replay.build(fair, SLUG), stream=True).pledges
    assert isinstance(pledges, PledgeReports)
    shortened = {p.obligation.seq: p for p in pledges.last(4, deliverables=1)}
    assert [d.seq for d in whole[6].deliverables] == [12, 16]
    assert [d.seq for d in shortened[6].deliverables] == [16]
    assert shortened[6].earlier_deliverables == 1
    assert shortened[4] == whole[4]  # one deliverable: nothing left out
    with pytest.raises(ValueError, match="shortened for display"):
        shortened[6].as_row()
    assert [p.deliverables for p in pledges.last(4, deliverables=0)] == [()] * 4


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 10])
def test_the_chart_draws_the_newest_deliverables_of_every_pledge(
    fair: Ledger,  # noqa: F811
    count: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decisions, "PAGE", 2)  # read backwards a page of two at a time
    data = report_data(Replay.build(fair, SLUG))
    every = sorted(
        ((item.seq, pledge.obligation.party, pledge.obligation.seq) for pledge in data.pledges
         for item in pledge.deliverables),
    )  # fmt: skip
    assert [s for s, _, _ in every] == [7, 9, 12, 16]
    pledges = report_data(Replay.build(fair, SLUG), stream=True).pledges
    assert isinstance(pledges, PledgeReports)
    newest = pledges.recent_deliveries(count)
    assert [(d.item.seq, d.party, d.pledge) for d in newest] == (every[-count:] if count else [])


golden_data = test_report_golden.golden_data  # the fixed log of the golden files (fixture)


def test_markdown_and_html_detail_the_most_recent_pledges_and_say_where_the_rest_are(
    golden_data: ReportData,
) -> None:
    first, *_ = golden_data.pledges
    many = tuple(
        replace(first, obligation=replace(first.obligation, seq=1000 + n, title=f"Task {n}"))
        for n in range(PLEDGES_SHOWN + 7)
    )
    data = replace(golden_data, pledges=many)
    view = report_view(data)
    assert [p.title for p in view.pledges] == [f"Task {n}" for n in range(7, PLEDGES_SHOWN + 7)]
    assert view.pledges_hidden == "7"
    markdown, html = render_markdown(data), render_html(data)
    assert (
        "The 7 earlier pledges are in close-report.json and `accord pledge list golden-fair`; "
        "the most recent follow."
    ) in markdown
    assert "### Pledge 1006: Task 6" not in markdown and "### Pledge 1007: Task 7" in markdown
    assert (
        "The 7 earlier pledges are in close-report.json and <code>accord pledge list golden-fair"
        "</code>; the most recent follow."
    ) in html
    rows = [row["title"] for row in data.as_row()["pledges"]]
    assert rows == [f"Task {n}" for n in range(PLEDGES_SHOWN + 7)]  # the JSON holds them all
    assert "earlier pledges" not in render_markdown(golden_data)
