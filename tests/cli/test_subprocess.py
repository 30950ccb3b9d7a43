"""The installed ``accord`` console script, run as a real process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import FP, HASH, unpinned

from ledger import __version__


def find_accord() -> Path | None:
    beside = Path(sys.executable).parent / "accord"
    if beside.exists():
        return beside
    found = shutil.which("accord")
    return Path(found) if found else None


ACCORD = find_accord()
pytestmark = pytest.mark.skipif(ACCORD is None, reason="the accord console script is not installed")


def accord(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert ACCORD is not None
    return subprocess.run(
        [str(ACCORD), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_the_console_script_prints_its_version(tmp_path: Path) -> None:
    done = accord("--version", cwd=tmp_path)

    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"accord, version {__version__}\n",
        "",
    )


def test_the_console_script_runs_init_and_a_propose_and_join_flow(
    home: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "accord.db"

    init = accord("init", cwd=tmp_path)
    assert (init.returncode, init.stdout, init.stderr) == (
        0,
        f"ledger ready at {ledger} (0 projects)\n",
        "",
    )

    proposed = accord(
        "project", "propose", "spring-campaign", "--title", "Spring campaign",
        "--member", "burgerco", "--member", f"veggie={FP['veggie']}", "--as", "acme",
        cwd=tmp_path,
    )  # fmt: skip
    assert (proposed.returncode, proposed.stderr) == (0, unpinned("burgerco"))
    invite = re.fullmatch(
        f"recorded spring-campaign seq 1 project.proposed\nhash {HASH}\n"
        "project spring-campaign is proposed\n"
        "invite for burgerco: (accord-invite-v1:[A-Za-z0-9_-]{43})\n"
        "  send it to burgerco by a channel you trust; it is shown only this once\n",
        proposed.stdout,
    )
    assert invite

    for seq, party in ((2, "burgerco"), (3, "veggie")):
        given = ("--invite", invite.group(1)) if party == "burgerco" else ()
        joined = accord("project", "join", "spring-campaign", "--as", party, *given, cwd=tmp_path)
        assert (joined.returncode, joined.stderr) == (0, "")
        assert re.match(
            f"recorded spring-campaign seq {seq} member.joined\nhash {HASH}\n", joined.stdout
        )

    listed = accord("project", "list", "--format", "csv", cwd=tmp_path)
    assert listed.returncode == 0
    assert re.fullmatch(
        "project,title,status,members,entries,head\n"
        f'spring-campaign,Spring campaign,active,"acme, burgerco, veggie",3,{HASH}\n',
        listed.stdout,
    )
    assert init.stdout and ledger.exists()


def test_the_console_script_exits_with_the_documented_code_and_one_error_line(
    home: Path, tmp_path: Path
) -> None:
    missing = accord("project", "list", cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (3, "")
    assert missing.stderr == (
        f"Error: no ledger at {tmp_path / 'accord.db'}\n"
        "Hint: run `accord init` here, or point --ledger / ACCORD_LEDGER at your ledger\n"
    )

    accord("init", cwd=tmp_path)
    unknown = accord("project", "show", "nope", cwd=tmp_path)
    assert (unknown.returncode, unknown.stdout) == (3, "")
    assert unknown.stderr == (
        "Error: no project 'nope' in this ledger\n"
        "Hint: `accord project list` shows the projects this ledger holds\n"
    )


def test_the_console_script_reports_an_unreachable_postgresql_server_in_one_line(
    home: Path, tmp_path: Path
) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=1"

    done = accord("--ledger", url, "project", "list", cwd=tmp_path)

    assert (done.returncode, done.stdout) == (6, "")
    error, hint = done.stderr.splitlines()
    assert error.startswith(f"Error: cannot open the ledger {url}: ")
    assert hint.startswith("Hint: ")
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_demo_runs_a_whole_collaboration_to_completion(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    assert ACCORD is not None

    done = subprocess.run(
        [str(ACCORD), "demo", str(directory)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    output = done.stdout.splitlines()
    finish = f"accord demo: done; the ledger is {directory / 'accord.db'}"
    assert finish in output
    assert not any(line.startswith("$ accord") for line in output[output.index(finish) :])
    assert "project no-whopper-day is closed\n" in done.stdout
    assert (directory / "accord.db").exists()
    # one agreed value (seq 29: an hour is worth 150 eur): overall shares in the close report
    assert "approved value seq 29 by burgerco: 1 hour = 150 eur (agreed)\n" in done.stdout
    report = (directory / "reports" / "close-report.md").read_text(encoding="utf-8")
    assert (
        "| burgerco | overall eur | 16500   | 16500     | 16500    | 0        | 0     | 73.3%"
        in (report)
    )
    assert "approved by acme (seq 30), veggie (seq 31)" in report
    # veggie's posts have no agreed value: not valued overall, never 0% or a guest star
    assert (
        "| veggie   | overall eur | \\-      | \\-        | \\-       | \\-       | \\-    "
        "| not valued    | not valued     | n/a        | n/a     | not valued |"
    ) in report
    # no pledge is open at the close: acme finished, veggie's posts were closed short
    assert "Status: **closed-short** (closed short at seq 40 with 6 of 12 posts approved: " in (
        report
    )
    assert "None: every pledge was fulfilled, withdrawn or closed short." in report


@pytest.mark.slow
def test_the_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")

    done = accord("demo", str(tmp_path), cwd=tmp_path)

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"Error: demo directory {tmp_path} is not empty\nHint: name a new or empty directory\n"
    )
