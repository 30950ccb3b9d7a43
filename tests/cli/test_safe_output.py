"""Output that cannot attack its reader, end to end: terminal tables and errors, CSV cells a
spreadsheet would run, and report and bundle files that nothing planted can redirect."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import tempfile
from pathlib import Path

import pytest
from cli_helpers import Accord

from commands import files

S = "spring-campaign"
HOSTILE = "Evil\x1b[31m red\x1b]0;pwned\x07\rX\u202eabc"
SAFE = "Evil\\x1b[31m red\\x1b]0;pwned\\x07\\rX\\u202eabc"
TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def pledge(accord: Accord, title: str) -> None:
    accord.ok(
        "pledge", "add", "--weight", "3", "--unit", "hours", "--due", "2099-12-15",
        "--to", "burgerco", "--as", "acme", "--", S, title,
    )  # fmt: skip


# --- terminals -------------------------------------------------------------------------------


@pytest.fixture
def hostile(initialised: Accord, project: str) -> Accord:
    """The project with acme's pledge at seq 4 titled with escape sequences, CR and bidi."""
    pledge(initialised, HOSTILE)
    return initialised


def table(title_width: int) -> str:
    header = (
        "seq    party    to        title" + " " * (title_width - 5) + "  weight    unit    "
        "delivered    approved    short    due         status    days_late\n"
        "-----  -------  --------  " + "-" * title_width + "  --------  ------  -----------  "
        "----------  -------  ----------  --------  -----------\n"
    )
    return header + (
        f"4      acme     burgerco  {SAFE}  3         hours   0            0                    "
        "2099-12-15  open      0\n"
    )


@pytest.mark.parametrize("command", [("pledge", "list", S), ("obligations", S)])
def test_a_hostile_title_is_shown_escaped_in_a_table(hostile: Accord, command: tuple[str]) -> None:
    result = hostile.ok(*command)
    assert result.output == table(len(SAFE))
    assert "\x1b" not in result.output and "\r" not in result.output


def test_a_hostile_title_is_shown_escaped_in_the_trail(hostile: Accord) -> None:
    output = hostile.ok("trail", S, "--type", "pledge.made").output
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    lines = output.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(
        rf"4      {TIME}  {TIME}  acme     pledge\.made  "
        + re.escape(f'pledged "{SAFE}": 3 hours to burgerco, due 2099-12-15')
        + r"  [0-9a-f]{12}  ok",
        lines[2],
    ), lines[2]


def test_a_hostile_title_stays_exact_in_json(hostile: Accord) -> None:
    [row] = hostile.json("pledge", "list", S)
    assert row["title"] == HOSTILE


def test_a_newline_in_a_title_cannot_forge_a_table_row(initialised: Accord, project: str) -> None:
    pledge(initialised, "Posters\n5      acme     burgerco  Forged")
    lines = initialised.ok("pledge", "list", S).output.splitlines()
    assert len(lines) == 3
    assert "Posters\\n5      acme     burgerco  Forged" in lines[2]


def test_an_error_quoting_hostile_text_is_printed_safely(accord: Accord, tmp_path: Path) -> None:
    where = tmp_path / f"missing{HOSTILE}.db"
    result = accord("obligations", S, "--ledger", str(where))
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == (
        f"Error: no ledger at {tmp_path}/missing{SAFE}.db\n"
        "Hint: run `accord init` here, or point --ledger / ACCORD_LEDGER at your ledger\n"
    )


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_title_that_starts_like_a_formula_is_quoted_and_prefixed_in_csv(
    initialised: Accord, project: str, start: str
) -> None:
    title = f'{start}HYPERLINK("http://evil.example","x")'
    pledge(initialised, title)
    output = initialised.ok("pledge", "list", S, "--format", "csv").output
    quoted = "'" + title.replace('"', '""')
    assert output == (
        "seq,party,to,title,weight,unit,delivered,approved,short,due,status,days_late\n"
        f'4,acme,burgerco,"{quoted}",3,hours,0,0,,2099-12-15,open,0\n'
    )
    rows = list(csv.reader(io.StringIO(output, newline="")))
    assert rows[1][3] == f"'{title}"


def test_csv_never_carries_a_terminal_escape(hostile: Accord) -> None:
    output = hostile.ok("obligations", S, "--format", "csv").output
    assert "\x1b" not in output and "\x07" not in output
    assert '"Evil\\x1b[31m red\\x1b]0;pwned\\x07\rX\u202eabc"' in output


# --- files: nothing planted is written through ------------------------------------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


@pytest.fixture
def guessable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make tempfile try the name "guess" first, as an attacker who guessed it would hope."""
    monkeypatch.setattr(
        tempfile, "_get_candidate_names", lambda: itertools.chain(["guess"], ["fresh1", "fresh2"])
    )


def assert_untouched(victim: Path) -> None:
    assert victim.read_text() == "precious\n"


def test_report_replaces_a_symlink_at_the_report_name_instead_of_following_it(
    with_pledge: str, initialised: Accord, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "close-report.md").symlink_to(victim)
    initialised.ok("report", S, "-o", str(out), "--format", "md")
    assert_untouched(victim)
    written = out / "close-report.md"
    assert not written.is_symlink()
    assert written.read_text().startswith("# Interim report: Spring campaign (spring-campaign)\n")


@pytest.mark.usefixtures("guessable")
def test_report_never_writes_through_a_file_planted_at_a_guessed_temporary_name(
    with_pledge: str, initialised: Accord, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    planted = [out / f".{name}.guess.tmp" for name in ("close-report.md", "close-report.html")]
    planted += [out / "close-report.md.partial", out / "close-report.md.tmp"]
    for path in planted:
        path.symlink_to(victim)
    initialised.ok("report", S, "-o", str(out), "--format", "md", "--format", "html")
    assert_untouched(victim)
    assert all(p.is_symlink() for p in planted)
    assert sorted(p.name for p in out.iterdir() if not p.is_symlink()) == [
        "close-report.html", "close-report.md",
    ]  # fmt: skip


def test_the_automatic_close_report_does_not_follow_a_symlink(
    initialised: Accord, project: str, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "closing"
    out.mkdir()
    (out / "close-report.html").symlink_to(victim)
    for party in ("acme", "burgerco"):
        initialised.ok("close", S, "--as", party)
    initialised.ok("close", S, "--as", "veggie", "--report-dir", str(out))
    assert_untouched(victim)
    assert not (out / "close-report.html").is_symlink()
    assert (out / "close-report.html").read_text().startswith("<!DOCTYPE html>")


def test_report_files_are_readable_by_all_less_the_umask(
    with_pledge: str, initialised: Accord, tmp_path: Path
) -> None:
    old = os.umask(0o027)
    try:
        initialised.ok("report", S, "-o", str(tmp_path / "out"))
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "out").iterdir()}
    names = ("close-report.md", "close-report.html", "close-report.json", "close-report.pdf")
    assert modes == dict.fromkeys(names, 0o640)


def test_export_does_not_write_through_a_symlink_at_its_old_partial_name(
    with_pledge: str, initialised: Accord, tmp_path: Path, victim: Path
) -> None:
    bundle = tmp_path / "spring.accord"
    partial = tmp_path / "spring.accord.partial"
    partial.symlink_to(victim)
    initialised.ok("export", S, "-o", str(bundle))
    assert_untouched(victim)
    assert partial.is_symlink()
    assert bundle.read_text().count("\n") == 6  # the header and entries 1-5


@pytest.mark.usefixtures("guessable")
def test_export_does_not_write_through_a_symlink_at_a_guessed_name_or_at_its_target(
    with_pledge: str, initialised: Accord, tmp_path: Path, victim: Path
) -> None:
    bundle = tmp_path / "spring.accord"
    planted = tmp_path / ".spring.accord.guess.tmp"
    planted.symlink_to(victim)
    bundle.symlink_to(victim)
    initialised.ok("export", S, "-o", str(bundle))
    assert_untouched(victim)
    assert planted.is_symlink() and not bundle.is_symlink()
    assert bundle.read_text().startswith('{"')
    assert sorted(p.name for p in tmp_path.glob("*spring.accord*")) == [
        ".spring.accord.guess.tmp", "spring.accord",
    ]  # fmt: skip


def test_a_failed_export_leaves_no_temporary_file_and_the_old_bundle_as_it_was(
    with_pledge: str, initialised: Accord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "spring.accord"
    bundle.write_text("the old bundle\n")

    def refuse(source: str, target: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refuse)
    result = initialised("export", S, "-o", str(bundle))
    assert (result.exit_code, result.stderr) == (
        2, f"Error: cannot write {bundle}: Permission denied\n",
    )  # fmt: skip
    assert bundle.read_text() == "the old bundle\n"
    assert sorted(p.name for p in tmp_path.glob("*spring.accord*")) == ["spring.accord"]
