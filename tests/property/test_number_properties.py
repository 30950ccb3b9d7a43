"""Properties of every read over the whole range of numbers the format accepts (issue 20).

Format v1 records weights, quantities and worths with at most 18 digits before the point and
12 after it (docs/format.md, "Numbers"). The histories of ``test_projection_properties``
(pledges, partial deliveries, approvals, rejections, withdrawals, disputes, resolutions,
close-short proposals) and of ``test_value_properties`` (agreed values) are drawn here with
numbers from the whole accepted range: the smallest and the largest, 18-digit integers,
12-digit fractions, and mixes, so deliveries far above their weights and values of extreme
worth happen often. On a SQLite ledger with a home (the verified state), after the history:

* every projection returns, at several "today"s: obligations, contributions (rows and the
  percentages shown), to-do lists, calendars (and their iCalendar text), statements, values,
  the project view, the trail, and the close report (data, Markdown, HTML and JSON);
* the overall figures are the exact sums of quantity times worth;
* a fresh process loads the verified state from the home without rebuilding it (numbers are
  kept in canonical plain form) and it equals a full replay;
* every member then signs the close: each signature is either refused with nothing
  recorded, or recorded; the one that meets the policy is followed by the close report,
  written in every format.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st
from test_projection_properties import (
    DUES,
    SIGNERS,
    SLUG,
    TODAYS,
    Action,
    Clock,
    perform,
    seed_disputes,
)
from test_value_properties import ValueAction, perform_value

from commands.calendar import to_ical
from commands.figures import percent
from commands.reporting import render_html, render_json, render_markdown, write_close_report
from ledger import format as fmt
from ledger import numbers as num
from ledger import rules, storage
from ledger.application import Ledger
from ledger.errors import LedgerError
from projections import audit
from projections.calendar import project_calendar
from projections.contributions import contributions, percent_text
from projections.obligations import obligations
from projections.replay import Replay
from projections.report import report_data
from projections.statements import statement_rows
from projections.todo import todo
from projections.values import value_rows
from projections.views import project_detail

MEMBERS = tuple(SIGNERS)
UNITS = ("hours", "eur", "posts")


def _plain(whole: int, fraction: int) -> str:
    """The canonical text of ``whole`` + ``fraction`` * 10^-12 (built from text: exact)."""
    return num.decimal_text(Decimal(f"{whole}.{fraction:012d}"))


numbers: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(
        [
            num.SMALLEST_NUMBER,
            num.LARGEST_NUMBER,
            "9" * num.MAX_WHOLE_DIGITS,
            "0." + "9" * num.MAX_FRACTION_DIGITS,
            "1.000000000001",
            "0.0000001",
            "1",
        ]
    ),
    st.integers(1, 10**num.MAX_WHOLE_DIGITS - 1).map(str),  # integers of up to 18 digits
    st.integers(1, 10**num.MAX_FRACTION_DIGITS - 1).map(lambda f: _plain(0, f)),  # tiny
    st.tuples(st.integers(0, 10**num.MAX_WHOLE_DIGITS - 1), st.integers(1, 10**12 - 1)).map(
        lambda p: _plain(*p)
    ),  # up to all 30 digits
)
"""Canonical positive numbers from the whole range format v1 accepts."""


@dataclass(frozen=True)
class Amend:
    """Amend the weight of a live pledge (picked modulo the live pledges)."""

    pick: int
    weight: str


KINDS = [
    "pledge", "pledge", "deliver", "deliver", "deliver", "decide", "decide", "decide",
    "withdraw", "dispute", "dispute", "dispute", "resolve", "resolve", "close-short",
]  # fmt: skip
actions = st.one_of(
    st.builds(
        Action,
        kind=st.sampled_from(KINDS),
        party=st.integers(0, 2),
        pick=st.integers(0, 50),
        unit=st.sampled_from(UNITS),
        amount=st.none() | numbers,
        due=st.sampled_from(DUES),
        to_all=st.booleans(),
        approve=st.sampled_from([True, True, True, False]),
    ),
    st.builds(
        ValueAction,
        kind=st.sampled_from(["propose", "decide", "decide"]),
        party=st.integers(0, 2),
        unit=st.sampled_from(["hours", "posts"]),
        worth=numbers,
        approve=st.sampled_from([True, True, True, False]),
    ),
    st.builds(Amend, pick=st.integers(0, 50), weight=numbers),
)
histories = st.tuples(
    st.sampled_from(["all", "any"]),
    st.booleans(),  # start with accepted and rejected work to dispute (``seed_disputes``)
    st.lists(actions, min_size=6, max_size=24),
)


def open_at(directory: Path) -> Ledger:
    path = directory / "accord.db"
    return Ledger(
        storage.settings(str(path)), clock=Clock(), source=str(path), home=directory / "home"
    )


def begin(directory: Path, approval: str) -> Ledger:
    ledger = open_at(directory)
    ledger.propose_project(
        SLUG, title="Numbers", purpose="", members={"burgerco": None, "veggie": None},
        approval=approval, close="all", signer=SIGNERS["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=SIGNERS["burgerco"])
    ledger.join_project(SLUG, signer=SIGNERS["veggie"])
    return ledger


def step(ledger: Ledger, action: Action | ValueAction | Amend) -> bool:
    """Carry out one action made valid for the current state; False when nothing fits."""
    if isinstance(action, ValueAction):
        return perform_value(ledger, action)
    if isinstance(action, Action):
        return perform(ledger, action)
    state = ledger.get_state(SLUG)
    live = [
        p
        for p in state.pledges.values()
        if p.status == "open"
        and p.pending_amendment is None
        and p.pending_close is None
        and p.weight != Decimal(action.weight)
    ]
    if not live:
        return False
    pledge = live[action.pick % len(live)]
    ledger.amend_pledge(
        SLUG, pledge.seq, title=None, weight=action.weight, due=None, reason="Rescoped",
        signer=SIGNERS[pledge.by],
    )  # fmt: skip
    return True


def every_read(ledger: Ledger) -> Replay:
    """Run every projection and the report over the project; return the replay."""
    replay = Replay.build(ledger, SLUG)
    state = replay.state
    for today in TODAYS:
        for row in obligations(replay, today):
            row.as_row()
        rows = contributions(replay, today)
        for item in rows:
            shown = item.as_row()
            for name in ("pledged_share", "approved_share", "fulfilment", "on_time"):
                percent(shown[name])
            percent_text(item.fulfilment)
        check_overall(state, rows)
        for handle in MEMBERS:
            for item in todo(replay, handle, today, 14):
                item.as_row()
        to_ical(project_calendar(replay, today))
    for read_row in (*value_rows(state), *statement_rows(state), project_detail(state)):
        read_row.as_row()
    for trail_row in audit.trail(ledger, SLUG):
        trail_row.as_row()
    data = report_data(replay)
    render_markdown(data)
    render_html(data)
    render_json(data)
    return replay


def check_overall(state: rules.ProjectState, rows: list) -> None:
    """Each overall figure is the exact sum of the party's quantities times their worth."""
    agreed = rules.agreed_values(state)
    if not agreed:
        return
    reference = next(iter(agreed.values())).reference
    worth = {
        fmt.unit_key(reference): Fraction(1),
        **{k: Fraction(v.worth) for k, v in agreed.items()},
    }
    for row in (r for r in rows if r.unit.startswith("overall ")):
        expected = sum(
            (Fraction(r.approved) * worth[fmt.unit_key(r.unit)] for r in rows
             if r.party == row.party and fmt.unit_key(r.unit) in worth),
            Fraction(0),
        )  # fmt: skip
        assert Fraction(row.approved) == expected


def close_all(ledger: Ledger, directory: Path) -> list[str]:
    """Every member signs the close: refused with nothing recorded, or recorded; the
    signature that meets the policy is followed by the report, as ``accord close`` does.

    Returns what happened, one line per signature.
    """
    happened = []
    for handle in MEMBERS:
        before = [s.entry.hash for s in ledger.read_entries(SLUG)]
        try:
            pledges = ledger.get_state(SLUG).pledges  # closed over, whatever is still open
            receipt = ledger.sign_close(SLUG, signer=SIGNERS[handle], accept_open=pledges)
        except LedgerError:
            assert [s.entry.hash for s in ledger.read_entries(SLUG)] == before
            happened.append("a close was refused before signing")
            continue
        if receipt.status == rules.CLOSED:
            # The text formats: the PDF lays out the same HTML (tests/cli/test_pdf_report.py)
            # and takes seconds per example.
            paths = write_close_report(ledger, SLUG, directory / "report", ("md", "html", "json"))
            assert sorted(p.name for p in paths) == [
                "close-report.html", "close-report.json", "close-report.md",
            ]  # fmt: skip
            assert all(p.stat().st_size > 0 for p in paths)
            happened.append("closed, with the report written")
            break
    return happened


@settings(deadline=None)
@given(histories)
def test_every_read_and_the_report_hold_over_every_accepted_number_and_close_reports(
    history,
) -> None:
    approval, seeded, steps = history
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ledger = begin(directory, approval)
        try:
            if seeded:
                seed_disputes(ledger)
            for action in steps:
                step(ledger, action)
            every_read(ledger)
        finally:
            ledger.close()
        fresh = open_at(directory)  # a later command: the verified state is read back
        try:
            state = fresh.get_state(SLUG)
            assert not [n for n in fresh.notices if "damaged" in n], fresh.notices
            assert state == rules.replay(SLUG, (s.entry for s in fresh.read_entries(SLUG)))
            for happened in close_all(fresh, directory):
                event(happened)
        finally:
            fresh.close()


def test_the_extremes_reach_every_read_an_agreed_value_and_the_closed_report() -> None:
    """A fixed history at the extremes (the property is not vacuous): the smallest weight
    delivered the largest quantity, the largest worth agreed, then closed with a report."""
    largest, smallest = num.LARGEST_NUMBER, num.SMALLEST_NUMBER
    steps: list[Action | ValueAction | Amend] = [
        Action("pledge", 0, 0, "hours", smallest, "2026-12-01", True, True),
        Action("deliver", 0, 0, "hours", largest, "2026-12-01", True, True),
        Action("decide", 1, 0, "hours", None, "2026-12-01", True, True),
        Action("decide", 2, 0, "hours", None, "2026-12-01", True, True),
        Action("pledge", 1, 0, "hours", largest, "2026-11-20", True, True),
        Action("deliver", 1, 1, "hours", smallest, "2026-12-01", True, True),
        ValueAction("propose", 0, "hours", largest, True),
        ValueAction("decide", 0, "hours", largest, True),
        ValueAction("decide", 1, "hours", largest, True),
        Amend(0, smallest),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ledger = begin(directory, "all")
        try:
            for action in steps:
                assert step(ledger, action), action
            replay = every_read(ledger)
            rows = {(r.party, r.unit): r for r in contributions(replay, date(2026, 12, 5))}
            assert rows[("acme", "hours")].fulfilment == Fraction(largest) / Fraction(smallest)
            assert rows[("acme", "overall eur")].approved == num.exact_product(
                Decimal(largest), Decimal(largest)
            )
            assert close_all(ledger, directory) == ["closed, with the report written"]
            assert ledger.get_state(SLUG).status == rules.CLOSED
            assert (directory / "report" / "close-report.md").exists()
        finally:
            ledger.close()
