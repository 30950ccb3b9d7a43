"""Two processes appending to the same project at the same time lose nothing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger import rules, storage
from ledger.application import Ledger

WORKER = textwrap.dedent(
    """
    import sys
    from commands.cli import cli
    party, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        code = cli.main(
            ["pledge", "add", "race", f"{party} task {i}", "--weight", "1", "--unit", "hours",
             "--due", "2026-12-31", "--as", party, "--format", "json"],
            prog_name="accord", standalone_mode=False,
        )
        if code not in (None, 0):
            sys.exit(code)
    """
)
PER_WORKER = 15


def _start_project(runner, cli, ledger_url: str) -> None:
    for args in (
        ["--ledger", ledger_url, "init"],
        ["--ledger", ledger_url, "project", "propose", "race", "--title", "Race",
         "--member", "burgerco", "--as", "acme", "--format", "json"],
    ):  # fmt: skip
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    invite = json.loads(result.stdout)["invites"][0]["invite"]
    join = ["--ledger", ledger_url, "project", "join", "race", "--as", "burgerco"]
    result = runner.invoke(cli, [*join, "--invite", invite])
    assert result.exit_code == 0, result.output


def _race(ledger_url: str) -> list[subprocess.CompletedProcess[str]]:
    env = dict(os.environ, ACCORD_LEDGER=ledger_url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, party, str(PER_WORKER)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for party in ("acme", "burgerco")
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _check_chain(ledger: Ledger) -> None:
    entries = [stored.entry for stored in ledger.read_entries("race")]
    assert [e.seq for e in entries] == list(range(1, 2 + 2 * PER_WORKER + 1))
    state = rules.replay("race", entries)
    titles = sorted(p.title for p in state.pledges.values())
    expected = sorted(
        f"{party} task {i}" for party in ("acme", "burgerco") for i in range(PER_WORKER)
    )
    assert titles == expected
    for before, after in itertools.pairwise(entries):
        assert after.data["prev"] == before.hash


@pytest.mark.slow
def test_two_processes_appending_to_one_sqlite_project_lose_nothing(home: Path, runner) -> None:
    from commands.cli import cli

    url = str(home.parent / "race.db")
    _start_project(runner, cli, url)
    results = _race(url)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    ledger = storage.open_ledger(url)
    try:
        _check_chain(ledger)
    finally:
        ledger.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_appending_to_one_postgres_project_lose_nothing(
    home: Path, runner, postgres_url: str
) -> None:
    from commands.cli import cli

    _start_project(runner, cli, postgres_url)
    results = _race(postgres_url)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    ledger = storage.open_ledger(postgres_url)
    try:
        _check_chain(ledger)
    finally:
        ledger.close()
