"""The close report: its data, its three renderings, and that it is a pure function of the log."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.cli import cli
from commands.reporting import render_html, render_json, render_markdown
from ledger import rules, storage
from ledger.application import Evidence, Ledger
from ledger.keys import Signer
from ledger.project import Project
from projections.replay import AsOf, Replay
from projections.report import SCHEMA, ReportData, report_data

SLUG = "summer-fair"
MEMBERS = ("acme", "burgerco", "veggie")


class Clock:
    """Claims 2026-11-22T10:00:00Z plus one minute per call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def evidence(name: str, size: int) -> Evidence:
    return Evidence(name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), size=size)


def build_fair(ledger: Ledger, signers: dict[str, Signer], *, close: bool = True) -> None:
    """25 entries: three parties, three units, evidence, a rejection, an amendment, a
    withdrawal, a statement signed by all, and the close signed by all (23-25)."""
    acme, burgerco, veggie = (signers[h] for h in MEMBERS)
    ledger.propose_project(
        SLUG, title="Summer fair", purpose="A stand at the fair",
        members={"burgerco": None, "veggie": veggie.fingerprint}, approval="all", close="all",
        signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)
    add = ledger.add_pledge
    add(SLUG, title="Stand design", weight="20", unit="hours", due="2026-11-21",
        beneficiaries=["burgerco"], signer=acme)  # fmt: skip  # 4
    add(SLUG, title="Stand rent", weight="500", unit="eur", due="2026-11-30",
        beneficiaries=None, signer=burgerco)  # fmt: skip  # 5
    add(SLUG, title="Recipe posts", weight="6", unit="posts", due="2026-12-05",
        beneficiaries=["acme"], signer=veggie)  # fmt: skip  # 6
    ledger.deliver(SLUG, 4, summary="Stand drawings", quantity="20",
                   evidence=[evidence("stand.pdf", 4096)], signer=acme)  # fmt: skip  # 7
    ledger.approve(SLUG, 7, comment="Great", signer=burgerco)  # 8
    ledger.deliver(SLUG, 5, summary="Rent paid", quantity=None,
                   evidence=[evidence("invoice.pdf", 100), evidence("receipt.pdf", 200)],
                   signer=burgerco)  # fmt: skip  # 9
    ledger.approve(SLUG, 9, comment="", signer=acme)  # 10
    ledger.approve(SLUG, 9, comment="", signer=veggie)  # 11
    ledger.deliver(SLUG, 6, summary="Two posts", quantity="2", evidence=[], signer=veggie)  # 12
    ledger.reject(SLUG, 12, reason="Off-brand", signer=acme)  # 13
    ledger.amend_pledge(SLUG, 6, title=None, weight="4", due=None, reason="Smaller fair",
                        signer=veggie)  # fmt: skip  # 14
    ledger.approve(SLUG, 14, comment="", signer=acme)  # 15
    ledger.deliver(SLUG, 6, summary="Three posts", quantity="3", evidence=[], signer=veggie)  # 16
    add(SLUG, title="Flyers", weight="100", unit="posts", due="2026-12-01",
        beneficiaries=["veggie"], signer=acme)  # fmt: skip  # 17
    ledger.withdraw_pledge(SLUG, 17, reason="Not needed", signer=acme)  # 18
    ledger.propose_statement(SLUG, title="Joint statement", text="We ran the stand together.",
                             signer=acme)  # fmt: skip  # 19
    for party in MEMBERS:  # 20-22
        ledger.sign_statement(SLUG, 19, signer=signers[party])
    if close:
        for party in MEMBERS:  # 23-25, leaving pledge 6 open
            ledger.sign_close(SLUG, signer=signers[party], accept_open=[6])


@pytest.fixture
def fair(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    build_fair(memory_ledger, signers)
    return memory_ledger


@pytest.fixture
def data(fair: Ledger) -> ReportData:
    return report_data(Replay.build(fair, SLUG))


def test_the_report_of_a_closed_project_is_a_close_report(data: ReportData) -> None:
    assert data.as_row()["schema"] == SCHEMA == "accord/close-report/v1"
    assert data.as_row()["kind"] == "close"
    assert data.as_row()["project"]["slug"] == SLUG
    assert data.as_row()["project"]["status"] == "closed"
    assert data.as_row()["as_of"] == {"seq": 25, "at": "2026-11-22T10:25:00Z", "day": "2026-11-22"}


def test_the_report_names_the_final_head_and_the_number_of_entries(
    fair: Ledger, data: ReportData
) -> None:
    state = fair.get_state(SLUG)
    hashes = [s.entry.hash for s in fair.read_entries(SLUG)]
    close = data.as_row()["close"]
    assert close["final_head"] == state.final_head == hashes[21]
    assert close["final_head_seq"] == 22
    assert close["head"] == hashes[-1]
    assert close["entries"] == 25 == len(hashes)
    assert (close["closed"], close["closed_seq"], close["policy"]) == (True, 25, "all")


def test_the_report_holds_every_members_close_signature(
    fair: Ledger, signers: dict[str, Signer], data: ReportData
) -> None:
    closes = [s.entry for s in fair.read_entries(SLUG) if s.entry.type == "close.signed"]
    assert data.as_row()["close"]["signatures"] == [
        {
            "party": item.by,
            "signer": item.by,
            "seq": item.seq,
            "key": signers[item.by].fingerprint,
            "hash": item.hash,
            "signature": item.sig,
        }
        for item in closes
    ]
    assert [s["party"] for s in data.as_row()["close"]["signatures"]] == list(MEMBERS)


def test_the_report_lists_the_parties_with_their_fingerprints(
    signers: dict[str, Signer], data: ReportData
) -> None:
    assert data.as_row()["parties"] == [
        {
            "handle": "acme",
            "status": "joined",
            "signers": [{"label": "acme", "key": signers["acme"].fingerprint, "since_seq": 1}],
            "removed_signers": [],
            "keys": [signers["acme"].fingerprint],
            "revoked": [],
            "pinned": signers["acme"].fingerprint,
            "invite": None,
            "joined_seq": 1,
        },
        {
            "handle": "burgerco",
            "status": "joined",
            "signers": [
                {"label": "burgerco", "key": signers["burgerco"].fingerprint, "since_seq": 2}
            ],
            "removed_signers": [],
            "keys": [signers["burgerco"].fingerprint],
            "revoked": [],
            "pinned": None,
            "invite": None,
            "joined_seq": 2,
        },
        {
            "handle": "veggie",
            "status": "joined",
            "signers": [{"label": "veggie", "key": signers["veggie"].fingerprint, "since_seq": 3}],
            "removed_signers": [],
            "keys": [signers["veggie"].fingerprint],
            "revoked": [],
            "pinned": signers["veggie"].fingerprint,
            "invite": None,
            "joined_seq": 3,
        },
    ]


def test_every_pledge_carries_its_deliverables_evidence_and_decisions(
    fair: Ledger, data: ReportData
) -> None:
    pledges = {p["seq"]: p for p in data.as_row()["pledges"]}
    assert sorted(pledges) == [4, 5, 6, 17]
    hashes = [s.entry.hash for s in fair.read_entries(SLUG)]
    assert pledges[4]["hash"] == hashes[3]
    assert (pledges[4]["status"], pledges[4]["days_late"]) == ("fulfilled", 1)
    assert pledges[4]["deliverables"] == [
        {
            "seq": 7,
            "at": "2026-11-22T10:07:00Z",
            "signer": "acme",
            "status": "accepted",
            "approved_by": [{"party": "burgerco", "seq": 8, "signer": "burgerco"}],
            "refused_by": None,
            "decided_seq": 8,
            "summary": "Stand drawings",
            "quantity": "20",
            "evidence": [
                {
                    "name": "stand.pdf",
                    "sha256": hashlib.sha256(b"stand.pdf").hexdigest(),
                    "size": 4096,
                },
            ],
            "disputes": [],
        }
    ]
    rent = pledges[5]["deliverables"][0]
    assert [e["name"] for e in rent["evidence"]] == ["invoice.pdf", "receipt.pdf"]
    assert rent["approved_by"] == [
        {"party": "acme", "seq": 10, "signer": "acme"},
        {"party": "veggie", "seq": 11, "signer": "veggie"},
    ]
    assert (rent["quantity"], rent["decided_seq"]) == ("500", 11)
    posts = pledges[6]
    assert [(d["seq"], d["status"]) for d in posts["deliverables"]] == [
        (12, "rejected"), (16, "pending"),
    ]  # fmt: skip
    assert posts["deliverables"][0]["refused_by"] == {
        "party": "acme", "seq": 13, "signer": "acme", "reason": "Off-brand",
    }  # fmt: skip
    assert posts["amendments"] == [
        {
            "seq": 14,
            "at": "2026-11-22T10:14:00Z",
            "signer": "veggie",
            "status": "accepted",
            "approved_by": [{"party": "acme", "seq": 15, "signer": "acme"}],
            "refused_by": None,
            "decided_seq": 15,
            "changes": {"weight": "4"},
            "reason": "Smaller fair",
        }
    ]
    assert (posts["weight"], posts["status"], posts["delivered"]) == ("4", "submitted", "3")
    assert (pledges[17]["status"], pledges[17]["withdrawn_seq"]) == ("withdrawn", 18)


def test_open_obligations_are_the_pledges_neither_fulfilled_nor_withdrawn(
    data: ReportData,
) -> None:
    assert data.as_row()["open_obligations"] == [
        {
            "seq": 6,
            "party": "veggie",
            "to": ["acme"],
            "title": "Recipe posts",
            "weight": "4",
            "unit": "posts",
            "delivered": "3",
            "approved": "0",
            "due": "2026-12-05",
            "status": "submitted",
            "days_late": 0,
            "short": None,
        }
    ]


def test_statements_are_reported_with_their_signatories(data: ReportData) -> None:
    [statement] = data.as_row()["statements"]
    assert statement["title"] == "Joint statement"
    assert statement["status"] == "in force"
    assert statement["signatures"] == [
        {"party": "acme", "seq": 20},
        {"party": "burgerco", "seq": 21},
        {"party": "veggie", "seq": 22},
    ]
    assert statement["text"] == "We ran the stand together."


def test_the_timeline_has_one_row_per_entry(fair: Ledger, data: ReportData) -> None:
    stored = [s.entry for s in fair.read_entries(SLUG)]
    assert len(data.as_row()["timeline"]) == len(stored) == 25
    assert [(t["seq"], t["type"], t["hash"]) for t in data.as_row()["timeline"]] == [
        (e.seq, e.type, e.hash) for e in stored
    ]
    assert data.as_row()["timeline"][12]["summary"] == "rejected seq 12: Off-brand"


def test_contributions_in_the_report_use_the_default_threshold(data: ReportData) -> None:
    assert data.as_row()["contributions"]["threshold"] == "0.5000"
    assert [(r["party"], r["unit"]) for r in data.as_row()["contributions"]["rows"]] == [
        ("burgerco", "eur"), ("acme", "hours"), ("acme", "posts"), ("veggie", "posts"),
    ]  # fmt: skip


def test_the_report_of_an_open_project_is_interim(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    build_fair(memory_ledger, signers, close=False)
    data = report_data(Replay.build(memory_ledger, SLUG))
    assert data.as_row()["kind"] == "interim"
    assert data.as_row()["close"]["closed"] is False
    assert data.as_row()["close"]["signatures"] == []
    assert "Interim report" in render_markdown(data)
    assert "Interim report" in render_html(data)


def test_a_report_as_of_before_the_close_is_interim_with_the_signatures_so_far(
    fair: Ledger,
) -> None:
    data = report_data(Replay.build(fair, SLUG, AsOf(seq=24)))
    assert data.as_row()["kind"] == "interim"
    assert [s["party"] for s in data.as_row()["close"]["signatures"]] == ["acme", "burgerco"]
    assert len(data.as_row()["timeline"]) == 24


def test_the_close_report_markdown_names_the_final_head_and_each_close_signature(
    data: ReportData,
) -> None:
    text = render_markdown(data)
    assert text.startswith("# Close report: Summer fair (summer-fair)\n")
    assert data.as_row()["close"]["final_head"] in text
    for signature in data.as_row()["close"]["signatures"]:
        assert signature["hash"] in text
        assert signature["signature"] in text


# --- determinism ---------------------------------------------------------------------------


def renderings(data: ReportData) -> tuple[bytes, bytes, bytes]:
    return (
        render_markdown(data).encode(),
        render_html(data).encode(),
        render_json(data).encode(),
    )


def test_rendering_twice_gives_identical_bytes(fair: Ledger) -> None:
    first = renderings(report_data(Replay.build(fair, SLUG)))
    second = renderings(report_data(Replay.build(fair, SLUG)))
    assert first == second


def copy_into(source: Ledger, target: Ledger, slug: str) -> None:
    """Re-append ``source``'s stored entries into ``target`` (new receive times)."""
    entries = [s.entry for s in source.read_entries(slug)]
    project = Project.propose(entries[0])
    state = rules.new_state(slug)
    rules.apply(state, entries[0])
    for item in entries[1:]:
        project.append(item, state=state)
    target.save(project)


def test_a_second_store_with_the_same_entries_gives_byte_identical_reports(
    fair: Ledger,
) -> None:
    copy = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        copy_into(fair, copy, SLUG)
        received = [s.received_at for s in fair.read_entries(SLUG)]
        assert [s.received_at for s in copy.read_entries(SLUG)] != received
        original = renderings(report_data(Replay.build(fair, SLUG)))
        assert renderings(report_data(Replay.build(copy, SLUG))) == original
    finally:
        copy.close()


def test_a_copied_sqlite_file_gives_byte_identical_reports(
    tmp_path: Path, signers: dict[str, Signer]
) -> None:
    first = tmp_path / "a.db"
    ledger = Ledger(storage.settings(str(first)), clock=Clock())
    build_fair(ledger, signers)
    original = renderings(report_data(Replay.build(ledger, SLUG)))
    ledger.close()
    second = tmp_path / "b.db"
    second.write_bytes(first.read_bytes())
    copy = storage.open_ledger(str(second))
    try:
        assert renderings(report_data(Replay.build(copy, SLUG))) == original
    finally:
        copy.close()


def test_the_json_rendering_is_the_report_data(data: ReportData) -> None:
    text = render_json(data)
    assert json.loads(text) == data.as_row()
    assert text.endswith("}\n")


# --- a self-contained HTML page ------------------------------------------------------------


def test_the_html_report_is_self_contained(data: ReportData) -> None:
    page = render_html(data)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<svg") == 2
    for handle in MEMBERS:
        assert handle in page
    assert "Contributions" in page


def test_the_html_report_escapes_text_from_the_log(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco = signers["acme"], signers["burgerco"]
    memory_ledger.propose_project(
        "xss", title="<script>alert(1)</script>", purpose='<img src="https://evil.example/x">',
        members={"burgerco": None}, approval="all", close="all", signer=acme,
    )  # fmt: skip
    memory_ledger.join_project("xss", signer=burgerco)
    page = render_html(report_data(Replay.build(memory_ledger, "xss")))
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page


# --- the same numbers as the CLI -----------------------------------------------------------


def test_every_number_in_the_report_matches_the_obligations_and_contributions_commands(
    home: Path, runner: CliRunner, tmp_path: Path, signers: dict[str, Signer]
) -> None:
    ledger = Ledger(storage.settings(str(tmp_path / "accord.db")), clock=Clock())
    build_fair(ledger, signers)
    ledger.close()

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args), prog_name="accord")
        assert result.exit_code == 0, result.output
        return result.stdout

    run("report", SLUG, "-o", str(tmp_path / "out"), "--format", "json")
    report = json.loads((tmp_path / "out" / "close-report.json").read_text())
    # The report's "today" is the head's claimed day; --as-of-seq 25 asks the CLI the same.
    obligations = json.loads(run("obligations", SLUG, "--as-of-seq", "25", "--format", "json"))
    contributions = json.loads(run("contributions", SLUG, "--as-of-seq", "25", "--format", "json"))
    keys = list(obligations[0])
    assert [{k: p[k] for k in keys} for p in report["pledges"]] == obligations
    assert report["open_obligations"] == [
        o for o in obligations if o["status"] not in ("fulfilled", "withdrawn")
    ]
    assert report["contributions"]["rows"] == contributions
    for pledge in report["pledges"]:
        delivered = sum(
            int(d["quantity"]) for d in pledge["deliverables"] if d["status"] != "rejected"
        )
        assert str(delivered) == pledge["delivered"]
