"""The whole close report, byte for byte, against the golden files in tests/golden/.

The log is fixed: fixed-seed keys (the same seeds as tests/conftest.py), a clock that claims
2026-11-22T10:01:00Z and one minute more per entry, and the entries below. Ed25519
signatures are deterministic, so the log, and therefore the report, is the same in every run.

When a change to the report is intended, regenerate the files and review the diff:

    ACCORD_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_report_golden.py

Besides the byte comparison, explicit assertions pin the figures that are easiest to get
subtly wrong: delivered versus approved, the guest-star flag, and pledged versus approved
shares in the chart. The log is chosen so that each of them differs from its twin.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from commands.reporting import FILES, render_html, render_json, render_markdown, write_report
from ledger import storage
from ledger.application import Evidence, Ledger
from ledger.keys import Signer
from projections.replay import Replay
from projections.report import ReportData, report_data

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("ACCORD_UPDATE_GOLDEN") == "1"
SLUG = "golden-fair"
SEEDS = {"acme": 1, "burgerco": 2, "veggie": 3}  # as tests/conftest.py: bytes([i]) * 32
RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


class Clock:
    """Claims 2026-11-22T10:01:00Z for the first entry, one minute later for each next one."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def signer(handle: str) -> Signer:
    key = Ed25519PrivateKey.from_private_bytes(bytes([SEEDS[handle]]) * 32)
    return Signer(handle=handle, key_name=handle, private_key=key)


def evidence(name: str, size: int) -> Evidence:
    return Evidence(name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), size=size)


def build_golden_log(ledger: Ledger) -> None:
    """41 entries. In hours, acme pledged 40, delivered 40, had 30 approved (83.3% of the
    pledges, 96.8% of the approvals); veggie pledged 8 (after an amendment) and had 1 approved
    (16.7% pledged, 3.2% approved): veggie is the guest star. The members agree that an hour
    is worth 50 eur (seq 20), then 60 eur (seq 23, replacing it): overall, in eur, acme had
    1800 approved, burgerco 500 and veggie 60 (76.3%, 21.2%, 2.5%), so veggie is the guest
    star overall too. burgerco's pledge of 4 banners is closed short at the 3 approved (it
    counts as 3 pledged); veggie disputes acme's rejection of its two posts, changes its
    mind, and the dispute is dismissed. Titles, reasons and the statement hold Markdown and
    HTML metacharacters, so the golden files pin their escaping too."""
    acme, burgerco, veggie = signer("acme"), signer("burgerco"), signer("veggie")
    ledger.propose_project(
        SLUG, title="Summer fair *2026*", purpose="A stand & a stage, <b>together</b>",
        members={"burgerco": None, "veggie": veggie.fingerprint}, approval="any", close="all",
        signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)  # 2
    ledger.join_project(SLUG, signer=veggie)  # 3
    add = ledger.add_pledge
    add(SLUG, title="Stand design | build", weight="40", unit="hours", due="2026-11-21",
        beneficiaries=["burgerco"], signer=acme)  # fmt: skip  # 4
    add(SLUG, title="Stand rent", weight="500", unit="eur", due="2026-11-30",
        beneficiaries=None, signer=burgerco)  # fmt: skip  # 5
    add(SLUG, title="Recipe posts", weight="10", unit="hours", due="2026-12-05",
        beneficiaries=["acme"], signer=veggie)  # fmt: skip  # 6
    ledger.deliver(SLUG, 4, summary="Stand drawings", quantity="30",
                   evidence=[evidence("stand.pdf", 4096)], signer=acme)  # fmt: skip  # 7
    ledger.approve(SLUG, 7, comment="Great", signer=burgerco)  # 8
    ledger.deliver(SLUG, 4, summary="Final touches", quantity="10", evidence=[],
                   signer=acme)  # fmt: skip  # 9
    ledger.deliver(SLUG, 5, summary="Rent paid", quantity=None,
                   evidence=[evidence("invoice.pdf", 100), evidence("receipt.pdf", 200)],
                   signer=burgerco)  # fmt: skip  # 10
    ledger.approve(SLUG, 10, comment="", signer=acme)  # 11
    ledger.deliver(SLUG, 6, summary="Two posts", quantity="2", evidence=[], signer=veggie)  # 12
    ledger.reject(SLUG, 12, reason="Off-brand", signer=acme)  # 13
    ledger.amend_pledge(SLUG, 6, title=None, weight="8", due=None, reason="Smaller fair",
                        signer=veggie)  # fmt: skip  # 14
    ledger.approve(SLUG, 14, comment="", signer=acme)  # 15
    ledger.deliver(SLUG, 6, summary="One post", quantity="1", evidence=[], signer=veggie)  # 16
    ledger.approve(SLUG, 16, comment="", signer=acme)  # 17
    add(SLUG, title="Flyers", weight="100", unit="posts", due="2026-12-01",
        beneficiaries=["veggie"], signer=acme)  # fmt: skip  # 18
    ledger.withdraw_pledge(SLUG, 18, reason="Not needed", signer=acme)  # 19
    value = ledger.propose_value
    value(SLUG, unit="hours", worth="50", reference="eur", reason="Our | agency rate",
          signer=burgerco)  # fmt: skip  # 20
    ledger.approve(SLUG, 20, comment="", signer=acme)  # 21
    ledger.approve(SLUG, 20, comment="", signer=veggie)  # 22: agreed
    value(SLUG, unit="hours", worth="60", reference="eur", reason="Senior *designers*",
          signer=acme)  # fmt: skip  # 23
    ledger.approve(SLUG, 23, comment="", signer=burgerco)  # 24
    ledger.approve(SLUG, 23, comment="", signer=veggie)  # 25: agreed, replaces seq 20
    ledger.propose_statement(
        SLUG, title="Joint statement",
        text="We ran the stand together.\n# Not a heading\n- not a list", signer=acme,
    )  # fmt: skip  # 26
    for party in (acme, burgerco, veggie):  # 27-29
        ledger.sign_statement(SLUG, 26, signer=party)
    add(SLUG, title="Banners", weight="4", unit="banners", due="2026-12-10",
        beneficiaries=["acme"], signer=burgerco)  # fmt: skip  # 30
    ledger.deliver(SLUG, 30, summary="Three banners", quantity="3", evidence=[],
                   signer=burgerco)  # fmt: skip  # 31
    ledger.approve(SLUG, 31, comment="", signer=acme)  # 32
    ledger.close_pledge_short(SLUG, 30, reason="A fourth banner is not needed",
                              signer=burgerco)  # fmt: skip  # 33
    ledger.approve(SLUG, 33, comment="Agreed", signer=acme)  # 34: pledge 30 is closed short
    ledger.open_dispute(SLUG, 13, reason="The posts follow the brand guide",
                        signer=veggie)  # fmt: skip  # 35: veggie disputes acme's rejection
    resolve = ledger.resolve_dispute
    resolve(SLUG, 35, outcome="upheld", reason="Page 4 of the guide", signer=veggie)  # 36
    resolve(SLUG, 35, outcome="dismissed", reason="Old logo on both", signer=acme)  # 37
    resolve(SLUG, 35, outcome="dismissed", reason="Indeed, old logo", signer=veggie)  # 38
    for party in (acme, burgerco, veggie):  # 39-41, leaving pledges 4 and 6 open
        ledger.sign_close(SLUG, signer=party, accept_open=[4, 6])


@pytest.fixture(scope="module")
def golden_data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    path = tmp_path_factory.mktemp("golden") / "accord.db"
    ledger = Ledger(storage.settings(str(path)), clock=Clock())
    try:
        build_golden_log(ledger)
        return report_data(Replay.build(ledger, SLUG))
    finally:
        ledger.close()


def golden(kind: str, rendered: str) -> str:
    """The golden text of ``kind``; with ACCORD_UPDATE_GOLDEN=1, ``rendered`` becomes it."""
    path = GOLDEN / FILES[kind]
    if UPDATE:
        path.write_bytes(rendered.encode("utf-8"))
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("kind", ["md", "html", "json"])
def test_the_close_report_is_byte_for_byte_its_golden_file(
    golden_data: ReportData, kind: str
) -> None:
    rendered = RENDERERS[kind](golden_data)
    assert rendered == golden(kind, rendered), (
        f"close-report.{kind} differs from tests/golden/{FILES[kind]}; if the change is "
        "intended, regenerate with ACCORD_UPDATE_GOLDEN=1 and review the diff"
    )


def test_the_files_written_are_the_golden_files(golden_data: ReportData, tmp_path: Path) -> None:
    paths = write_report(golden_data, tmp_path / "out", tuple(FILES))
    assert [p.name for p in paths] == list(FILES.values())
    for path in paths:
        assert path.read_bytes() == (GOLDEN / path.name).read_bytes(), path.name


def test_the_golden_log_is_rebuilt_identically(golden_data: ReportData, tmp_path: Path) -> None:
    ledger = Ledger(storage.settings(str(tmp_path / "again.db")), clock=Clock())
    try:
        build_golden_log(ledger)
        assert report_data(Replay.build(ledger, SLUG)) == golden_data
    finally:
        ledger.close()


# --- delivered is not approved ---------------------------------------------------------------


def markdown_table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The rows of the first pipe table after ``heading``, as dicts by header."""
    after = text.split(f"\n{heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(after) if line.startswith("|"))
    block = itertools.takewhile(lambda line: line.startswith("|"), after[start:])
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in block]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]


def test_the_markdown_shows_delivered_and_approved_each_in_its_place(
    golden_data: ReportData,
) -> None:
    text = render_markdown(golden_data)
    rows = markdown_table_after(text, "## Contributions")
    acme = next(r for r in rows if (r["party"], r["unit"]) == ("acme", "hours"))
    assert (acme["pledged"], acme["delivered"], acme["approved"]) == ("40", "40", "30")
    veggie = next(r for r in rows if (r["party"], r["unit"]) == ("veggie", "hours"))
    assert (veggie["pledged"], veggie["delivered"], veggie["approved"]) == ("8", "1", "1")
    # 10 of its 40 hours await burgerco's decision: submitted in full, not overdue for acme
    assert "Delivered 40, approved 30. Status: **submitted**." in text
    opened = markdown_table_after(text, "## Obligations open at close")
    assert opened[0]["approved / weight"] == "30 / 40 hours"


# --- the guest star ------------------------------------------------------------------------


def test_the_html_flags_the_guest_star_and_nobody_else(golden_data: ReportData) -> None:
    page = render_html(golden_data)
    flagged = re.findall(
        r"<tr><td>([a-z]+)</td><td>([a-z -]+)</td>[^\n]*guest star</td></tr>", page
    )
    assert flagged == [("veggie", "hours"), ("veggie", "overall eur")]
    assert page.count('<td class="flag">guest star</td>') == 2
    stars = [
        (r["party"], r["unit"])
        for r in golden_data.as_row()["contributions"]["rows"]
        if r["guest_star"]
    ]
    assert stars == [("veggie", "hours"), ("veggie", "overall eur")]


def test_the_markdown_flags_the_guest_star_and_nobody_else(golden_data: ReportData) -> None:
    rows = markdown_table_after(render_markdown(golden_data), "## Contributions")
    assert [(r["party"], r["unit"]) for r in rows if r["guest star"] == "yes"] == [
        ("veggie", "hours"),
        ("veggie", "overall eur"),
    ]


# --- agreed values and the overall shares ----------------------------------------------------


def test_the_markdown_shows_the_overall_shares_in_the_reference_unit(
    golden_data: ReportData,
) -> None:
    """In eur at 60 eur an hour: acme 30 h = 1800, burgerco 500 eur, veggie 1 h = 60; total
    2360. 1800/2360 = 76.27%, 500/2360 = 21.19%, 60/2360 = 2.54%: rounded down to tenths
    76.2 + 21.1 + 2.5 = 99.8, the two largest remainders (burgerco .86, acme .71) get the
    missing tenths. Pledged: 40 h = 2400, 500, 8 h = 480 of 3380 (posts have no value)."""
    rows = markdown_table_after(render_markdown(golden_data), "## Contributions")
    overall = [
        (r["party"], r["pledged"], r["delivered"], r["approved"], r["pledged share"],
         r["approved share"], r["fulfilment"], r["on time"])
        for r in rows
        if r["unit"] == "overall eur"
    ]  # fmt: skip
    assert overall == [
        ("acme", "2400", "2400", "1800", "71.0%", "76.3%", "75.0%", "n/a"),
        ("burgerco", "500", "500", "500", "14.8%", "21.2%", "100.0%", "n/a"),
        ("veggie", "480", "60", "60", "14.2%", "2.5%", "12.5%", "n/a"),
    ]
    assert golden_data.as_row()["contributions"]["reference"] == "eur"


def test_the_report_lists_the_values_agreed_with_who_approved_them_and_when(
    golden_data: ReportData,
) -> None:
    text = render_markdown(golden_data)
    rows = markdown_table_after(text, "## Agreed values")
    shown = [(r["seq"], r["unit"], r["worth"], r["by"], r["status"], r["decided by"]) for r in rows]
    assert shown == [
        ("20", "hours", "50 eur", "burgerco", "replaced",
         "approved by acme (seq 21), veggie (seq 22); replaced at seq 25"),
        ("23", "hours", "60 eur", "acme", "agreed",
         "approved by burgerco (seq 24), veggie (seq 25)"),
    ]  # fmt: skip
    assert rows[0]["reason"] == "Our \\| agency rate"
    assert "at the values the members agreed (1 hour = 60 eur;" in text
    page = render_html(golden_data)
    assert "<h2>Agreed values</h2>" in page
    assert "<td>Senior *designers*</td>" in page
    assert [v["status"] for v in golden_data.as_row()["values"]] == ["replaced", "agreed"]


# --- the share chart draws each share where it belongs ---------------------------------------


def share_bars(page: str) -> dict[tuple[str, str], dict[str, str]]:
    """{(unit, "pledged" | "approved"): {party: width}} from the share chart's SVG."""
    svg = re.search(r'<svg [^>]*aria-label="Contribution shares per unit">.*?</svg>', page, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group())
    ns = "{http://www.w3.org/2000/svg}"
    bars: dict[tuple[str, str], dict[str, str]] = {}
    unit = ""
    for child in root:
        if child.tag == f"{ns}text" and child.get("font-weight") == "bold":
            unit = child.text or ""
        if child.tag == f"{ns}g":
            label = (child.get("class") or "").removeprefix("bar-")
            segments = {}
            for rect in child.findall(f"{ns}rect"):
                title = rect.find(f"{ns}title")
                if title is not None:
                    party, rest = (title.text or "").split(": ")
                    assert rest.endswith(f" {label}")
                    segments[party] = rect.get("width", "")
            bars[(unit, label)] = segments
    return bars


def test_the_chart_draws_pledged_and_approved_shares_in_their_own_bars(
    golden_data: ReportData,
) -> None:
    bars = share_bars(render_html(golden_data))
    rows = [r for r in golden_data.as_row()["contributions"]["rows"] if r["unit"] != "-"]
    for field, label in (("pledged_share", "pledged"), ("approved_share", "approved")):
        for row in rows:
            share = Fraction(row[field] or 0)
            drawn = bars[(row["unit"], label)].get(row["party"])
            assert drawn == (f"{float(share * 600):.2f}" if share else None), (row, label)
    # In hours the two differ, so drawing one as the other cannot pass.
    assert bars[("hours", "pledged")] == {"acme": "499.98", "veggie": "100.02"}
    assert bars[("hours", "approved")] == {"acme": "580.62", "veggie": "19.38"}


# --- the interim report of the same log --------------------------------------------------------


def test_an_interim_report_has_the_same_sections_and_says_it_is_interim(
    tmp_path: Path,
) -> None:
    from markdown_it import MarkdownIt

    from projections.replay import AsOf

    ledger = Ledger(storage.settings(str(tmp_path / "interim.db")), clock=Clock())
    try:
        build_golden_log(ledger)
        data = report_data(Replay.build(ledger, SLUG, AsOf(seq=19)))
    finally:
        ledger.close()
    text = render_markdown(data)
    blocks = MarkdownIt("commonmark").enable("table").parse(text)
    headings = [
        "".join(c.content for c in blocks[i + 1].children or [])
        for i, t in enumerate(blocks)
        if t.type == "heading_open" and t.tag in ("h1", "h2")
    ]
    assert headings == [
        "Interim report: Summer fair *2026* (golden-fair)", "Terms", "Parties", "Contributions",
        "Pledges", "Open obligations", "Statements", "Timeline", "Close",
    ]  # fmt: skip
    assert text.count("\n\n\n") == 0
    assert (
        "> **Interim**: the project is active; this report shows the ledger as of seq 19 " in text
    )
    assert "\nNo statements.\n\nNo" not in text
    assert "\nNo statements.\n" in text
    assert text.endswith("\nNo close signatures on the final head yet.\n")
    page = render_html(data)
    assert '<p class="interim"><strong>Interim report.</strong>' in page
    assert "<p>No statements.</p>" in page
