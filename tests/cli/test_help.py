"""Every command and group answers ``--help`` with a summary and an example; ``--version``."""

from __future__ import annotations

from importlib.metadata import version

import click
import pytest
from click.testing import CliRunner

from commands.cli import cli
from commands.errors import ExitCode
from ledger import __version__


def walk(
    group: click.Group, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under ``group`` (recursively), with the words that invoke it."""
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found.extend(walk(command, (*path, name)))
    return found


COMMANDS = [((), cli), *walk(cli)]
IDS = [" ".join(("accord", *path)) for path, _ in COMMANDS]


def test_the_walk_finds_the_commands_of_the_design() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}

    assert {
        "init", "key new", "key import", "key list", "key show", "project propose",
        "project join", "project decline", "project list", "project show", "pledge add",
        "pledge amend", "pledge withdraw", "pledge list", "deliver", "approve", "reject",
        "statement propose", "statement sign", "statement revise", "statement list",
        "statement show", "close",
    } <= names  # fmt: skip


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_answers_help(
    runner: CliRunner, path: tuple[str, ...], command: click.Command, flag: str
) -> None:
    result = runner.invoke(cli, [*path, flag], prog_name="accord")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.output.startswith(f"Usage: {' '.join(('accord', *path))} ")
    assert "  -h, --help" in result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_a_one_line_summary(
    runner: CliRunner, path: tuple[str, ...], command: click.Command
) -> None:
    first_line = (command.help or "").strip().splitlines()[0] if command.help else ""

    assert first_line.strip(), f"{' '.join(path)} has no docstring summary"
    assert command.get_short_help_str(limit=200).strip()
    help_text = runner.invoke(cli, [*path, "--help"], prog_name="accord").output
    assert first_line.split()[0] in help_text


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_shows_an_example_in_its_help(
    runner: CliRunner, path: tuple[str, ...], command: click.Command
) -> None:
    help_text = runner.invoke(cli, [*path, "--help"], prog_name="accord").output

    examples = [
        line.strip() for line in help_text.splitlines() if line.strip().startswith("accord ")
    ]
    assert examples, f"no example in the help of {' '.join(('accord', *path))}"
    if path and not isinstance(command, click.Group):
        assert any(e.split()[1 : 1 + len(path)] == list(path) for e in examples), examples


def test_the_root_help_lists_every_exit_code(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"], prog_name="accord")

    paragraph = result.output.split("Exit codes: ", 1)[1].split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    for phrase in ("0 ok", "1 unexpected", "2 usage", "3 not found", "4 rule violation",
                   "5 signature or verification failure", "6 storage unavailable",
                   "7 key file problem"):  # fmt: skip
        assert phrase in text
    for code in ExitCode:
        assert f"{int(code)} " in text, code


def test_version_prints_the_package_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"], prog_name="accord")

    assert result.exit_code == 0
    assert result.output == f"accord, version {__version__}\n"
    assert __version__ == version("accord-ledger")


def test_an_unknown_command_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["frobnicate"], prog_name="accord")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Usage: accord [OPTIONS] COMMAND [ARGS]...\n"
        "Try 'accord --help' for help.\n"
        "\n"
        "Error: No such command 'frobnicate'.\n"
    )
