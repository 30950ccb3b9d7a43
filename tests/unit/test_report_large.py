"""The report stays bounded for long histories: streamed JSON, capped Markdown and HTML lists."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import test_report_golden
from hypothesis import given
from hypothesis import strategies as st

from commands.charts import CHART_POINTS
from commands.report_view import DELIVERABLES_SHOWN, TIMELINE_SHOWN, report_view
from commands.reporting import JSON_PAGE, json_chunks, render_html, render_markdown
from projections.decisions import Delivery
from projections.report import ReportData

rows = st.lists(
    st.fixed_dictionaries({"seq": st.integers(1, 10**6), "summary": st.text(max_size=5)}),
    max_size=5,
)


@given(st.integers(0, 2 * JSON_PAGE + 3), rows, st.booleans(), st.booleans())
def test_the_streamed_json_is_exactly_the_json_of_the_whole_report(
    size: int, extra, before: bool, after: bool
) -> None:
    data: dict[str, Any] = {
        "timeline": [{"seq": i, "summary": f"entry «{i}»"} for i in range(size)],
    }
    if before:
        data.update({"as_of": {"seq": size}, "pledges": extra})
    if after:
        data["values"] = extra  # sorts after "timeline"
    whole = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert "".join(json_chunks(data)) == whole


def test_the_timeline_is_streamed_even_with_keys_after_it() -> None:
    class OneShot:
        """A timeline that may be iterated once only, never turned into a list first."""

        def __init__(self) -> None:
            self.used = False

        def __iter__(self):
            assert not self.used
            self.used = True
            return iter([{"seq": 1}])

        def __len__(self) -> int:
            raise AssertionError("the timeline was materialised")

    data = {"as_of": {}, "timeline": OneShot(), "values": []}
    assert "".join(json_chunks(data)) == '{"as_of":{},"timeline":[{"seq":1}],"values":[]}\n'


golden_data = test_report_golden.golden_data  # the fixed log of the golden files (fixture)


def long_report(base: ReportData) -> ReportData:
    first = base.timeline[0]
    pledge, *others = base.pledges
    template = pledge.deliverables[0]
    deliverables = tuple(
        replace(template, seq=10_000 + i, summary=f"delivery {i}")
        for i in range(max(DELIVERABLES_SHOWN, CHART_POINTS) + 7)
    )
    return replace(
        base,
        timeline=[
            {**first, "seq": seq, "summary": f"entry {seq}"}
            for seq in range(1, TIMELINE_SHOWN + 101)
        ],
        pledges=(replace(pledge, deliverables=deliverables), *others),
        deliveries=tuple(
            Delivery(item, pledge.obligation.party, pledge.obligation.unit, pledge.obligation.seq)
            for item in deliverables
        ),
    )


def test_markdown_and_html_list_the_most_recent_entries_and_say_how_many_are_left_out(
    golden_data: ReportData,
) -> None:
    data = long_report(golden_data)
    view = report_view(data)
    assert [t.seq for t in view.timeline] == [str(s) for s in range(101, TIMELINE_SHOWN + 101)]
    assert view.timeline_hidden == "100"
    shown = view.pledges[0].deliverables
    assert len(shown) == DELIVERABLES_SHOWN
    assert shown[-1].summary == f"delivery {max(DELIVERABLES_SHOWN, CHART_POINTS) + 6}"
    hidden = max(DELIVERABLES_SHOWN, CHART_POINTS) + 7 - DELIVERABLES_SHOWN
    assert view.pledges[0].deliverables_hidden == f"{hidden:,}"
    assert len(view.delivery_chart.points) == CHART_POINTS
    markdown, html = render_markdown(data), render_html(data)
    assert "The 100 earlier entries are in close-report.json and `accord trail" in markdown
    assert f"The {hidden:,} earlier deliverables of this pledge are in close-report.json." in (
        markdown
    )
    assert "The 100 earlier entries are in close-report.json and <code>accord trail" in html
    assert "entry 100 |" not in markdown and "entry 101 |" in markdown
