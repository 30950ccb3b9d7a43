"""The HTML close report in a real browser: headless Chromium loads it, draws it, and complains
about nothing.

Skipped when no Chromium is installed, unless ACCORD_TEST_BROWSER is set: then a missing
browser fails the test (CI sets it so the check cannot silently disappear).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from commands.reporting import write_report
from ledger.application import Evidence, Ledger
from ledger.keys import Signer
from projections.replay import Replay
from projections.report import report_data

pytestmark = pytest.mark.slow

SLUG = "browser-fair"
PARTIES = ("acme", "burgerco", "veggie")
TIMEOUT = 120
PROBLEMS = ("Uncaught", "Failed to load resource", "net::ERR", "Refused to", ":CONSOLE")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("ACCORD_TEST_BROWSER"):
            pytest.fail(
                "ACCORD_TEST_BROWSER is set but neither chromium nor chromium-browser is on PATH"
            )
        pytest.skip(
            "no chromium or chromium-browser on PATH (set ACCORD_TEST_BROWSER to require it)"
        )
    return found


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(p in line for p in PROBLEMS)]


@pytest.fixture
def report(memory_ledger: Ledger, signers: dict[str, Signer], tmp_path: Path) -> Path:
    """The HTML close report of a closed three-party project, written to tmp_path."""
    acme, burgerco, veggie = (signers[h] for h in PARTIES)
    ledger = memory_ledger
    ledger.propose_project(
        SLUG, title="Browser fair", purpose="A report to look at",
        members={"burgerco": None, "veggie": None}, approval="all", close="all", signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)
    ledger.add_pledge(SLUG, title="Design", weight="40", unit="hours", due="2026-11-21",
                      beneficiaries=["burgerco"], signer=acme)  # fmt: skip  # 4
    ledger.add_pledge(SLUG, title="Budget", weight="900", unit="eur", due="2026-12-01",
                      beneficiaries=None, signer=burgerco)  # fmt: skip  # 5
    ledger.add_pledge(SLUG, title="Posts", weight="6", unit="posts", due="2026-12-05",
                      beneficiaries=["acme"], signer=veggie)  # fmt: skip  # 6
    files = [Evidence(name="design.pdf", sha256="ab" * 32, size=12345)]
    ledger.deliver(SLUG, 4, summary="Design", quantity="30", evidence=files, signer=acme)  # 7
    ledger.approve(SLUG, 7, comment="", signer=burgerco)  # 8
    ledger.deliver(SLUG, 5, summary="Paid", quantity="900", evidence=[], signer=burgerco)  # 9
    ledger.approve(SLUG, 9, comment="", signer=acme)  # 10
    ledger.approve(SLUG, 9, comment="", signer=veggie)  # 11
    ledger.deliver(SLUG, 6, summary="Posts", quantity="2", evidence=[], signer=veggie)  # 12
    ledger.reject(SLUG, 12, reason="Off-brand", signer=acme)  # 13
    ledger.propose_statement(SLUG, title="Joint", text="Together.", signer=acme)  # 14
    for party in PARTIES:
        ledger.sign_statement(SLUG, 14, signer=signers[party])
    for party in PARTIES:
        ledger.sign_close(SLUG, signer=signers[party], accept_open=[4, 6])
    data = report_data(Replay.build(ledger, SLUG))
    assert data.as_row()["kind"] == "close"
    [path] = write_report(data, tmp_path / "report", ("html",))
    return path


def test_the_browser_dom_holds_every_party_the_contributions_and_two_charts(
    report: Path, tmp_path: Path
) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "Close report: Browser fair" in dom
    for party in PARTIES:
        assert party in dom
    assert "Contributions" in dom
    assert dom.count("<svg") == 2


def test_the_browser_draws_the_report(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "r.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", report.as_uri())
    assert shot.exists()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


def test_loading_the_report_logs_no_errors(report: Path, tmp_path: Path) -> None:
    result = run_chromium(
        tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri()
    )
    assert "<svg" in result.stdout
    assert problems(result.stderr) == []


def test_the_error_check_would_see_a_broken_page(tmp_path: Path) -> None:
    """A canary: the same log check catches a page whose script fails."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>no_such_function();</script></body></html>")
    result = run_chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert any("Uncaught" in line for line in problems(result.stderr))
