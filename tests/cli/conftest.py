"""Fixtures of the CLI tests: an ``accord`` runner over the ``home`` fixture, and projects in
known states, all built through the CLI itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Accord, start_project
from click.testing import CliRunner


@pytest.fixture
def accord(home: Path, runner: CliRunner, tmp_path: Path) -> Accord:
    """Run accord with the parties' keys in ACCORD_HOME and the ledger at tmp_path/accord.db."""
    return Accord(runner=runner, tmp_path=tmp_path)


@pytest.fixture
def initialised(accord: Accord) -> Accord:
    """An empty ledger, created with ``accord init``."""
    accord.ok("init")
    return accord


@pytest.fixture
def project(initialised: Accord) -> str:
    """An active three-party project (seq 1 proposed, 2-3 joins)."""
    return start_project(initialised)


@pytest.fixture
def with_pledge(initialised: Accord, project: str) -> str:
    """The project with acme's pledge at seq 4 (to burgerco) and its deliverable at seq 5."""
    initialised.ok(
        "pledge", "add", project, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    initialised.ok(
        "deliver", project, "4", "--summary", "Poster drafts", "--quantity", "10", "--as", "acme"
    )
    return project


@pytest.fixture
def closed_project(initialised: Accord, project: str) -> str:
    """The project with a pledge at seq 4 and a statement at seq 5 (unsigned), closed by all
    three (6-8), each accepting that pledge 4 is still open."""
    initialised.ok(
        "pledge", "add", project, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    initialised.ok(
        "statement", "propose", project, "--title", "Joint", "--text", "Together.",
        "--no-sign", "--as", "acme",
    )  # fmt: skip
    for party in ("acme", "burgerco", "veggie"):
        initialised.ok("close", project, "--accept-open", "4", "--as", party)
    return project
