"""Shell completion as click's own tests drive it: ``_ACCORD_COMPLETE``, ``COMP_WORDS`` and
``COMP_CWORD`` in the environment, for bash, zsh and fish, with the exact answers.

The ledger holds ``spring-campaign`` (acme, burgerco, veggie) and ``summer-fair``
(burgerco, acme); the home holds the keys acme, burgerco, mallory and veggie.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import Accord, fingerprint
from test_subprocess import ACCORD

from commands.cli import cli

SLUGS = ["spring-campaign", "summer-fair"]


@pytest.fixture
def two_projects(initialised: Accord, project: str) -> Accord:
    initialised.ok(
        "project", "propose", "summer-fair", "--title", "Summer fair",
        "--member", f"acme={fingerprint('acme')}", "--as", "burgerco",
    )  # fmt: skip
    return initialised


def complete(accord: Accord, shell: str, line: str, env: dict[str, str] | None = None) -> str:
    """What ``accord`` answers the shell completing the last word of ``line``."""
    words = line.split(" ")
    if shell == "fish":
        variables = {"COMP_WORDS": line, "COMP_CWORD": words[-1]}
    else:
        variables = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    result = accord.runner.invoke(
        cli, [], prog_name="accord",
        env={"_ACCORD_COMPLETE": f"{shell}_complete", **variables, **(env or {})},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def bash(*values: str) -> str:
    return "".join(f"plain,{v}\n" for v in values) or "\n"


def zsh(*values: str) -> str:
    return "".join(f"plain\n{v}\n_\n" for v in values) or "\n"


fish = bash  # click answers fish and bash in the same form


def files(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` and a digest of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("shell", "answer"), [("bash", bash), ("zsh", zsh), ("fish", fish)])
def test_slugs_complete_from_the_ledger(two_projects: Accord, shell: str, answer) -> None:
    assert complete(two_projects, shell, "accord calendar ") == answer(*SLUGS)
    assert complete(two_projects, shell, "accord obligations su") == answer("summer-fair")
    assert complete(two_projects, shell, "accord pledge add sp") == answer("spring-campaign")
    assert complete(two_projects, shell, "accord project show x") == answer()


@pytest.mark.parametrize(("shell", "answer"), [("bash", bash), ("zsh", zsh), ("fish", fish)])
def test_party_options_complete_the_members_of_the_project(
    two_projects: Accord, shell: str, answer
) -> None:
    everyone = answer("acme", "burgerco", "veggie")
    assert complete(two_projects, shell, "accord calendar spring-campaign --party ") == everyone
    assert complete(two_projects, shell, "accord trail summer-fair --party ") == answer(
        "acme", "burgerco"
    )
    assert complete(two_projects, shell, "accord obligations spring-campaign --party v") == (
        answer("veggie")
    )
    line = "accord pledge add spring-campaign Posters --to b"
    assert complete(two_projects, shell, line) == answer("burgerco")
    # no project named yet: the parties of every project
    assert complete(two_projects, shell, "accord calendar --party ") == everyone


@pytest.mark.parametrize(("shell", "answer"), [("bash", bash), ("zsh", zsh), ("fish", fish)])
def test_signers_complete_from_the_keyring(two_projects: Accord, shell: str, answer) -> None:
    keys = answer("acme", "burgerco", "mallory", "veggie")
    assert complete(two_projects, shell, "accord pledge add spring-campaign T --as ") == keys
    assert complete(two_projects, shell, "accord close spring-campaign --as m") == (
        answer("mallory")
    )
    assert complete(two_projects, shell, "accord approve spring-campaign 4 --key b") == (
        answer("burgerco")
    )
    assert complete(two_projects, shell, "accord key show v") == answer("veggie")


def test_the_ledger_option_and_variable_pick_the_ledger(
    two_projects: Accord, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    missing = {"ACCORD_LEDGER": str(elsewhere / "none.db")}
    assert complete(two_projects, "bash", "accord calendar ", missing) == bash()
    line = f"accord --ledger {tmp_path / 'accord.db'} calendar "
    assert complete(two_projects, "bash", line, missing) == bash(*SLUGS)
    line = f"accord calendar --ledger {tmp_path / 'accord.db'} "
    assert complete(two_projects, "bash", line, missing) == bash(*SLUGS)
    assert list(elsewhere.iterdir()) == []  # nothing created for the missing ledger


def test_completion_writes_nothing_to_the_ledger_or_the_home(
    two_projects: Accord, tmp_path: Path
) -> None:
    before = files(tmp_path)
    for line in (
        "accord calendar ",
        "accord calendar spring-campaign --party ",
        "accord pledge add spring-campaign T --as ",
    ):
        assert complete(two_projects, "bash", line) != bash()
    assert files(tmp_path) == before


@pytest.mark.parametrize("content", [b"", b"not a database at all", b"SQLite format 3\x00junk"])
def test_a_broken_ledger_completes_nothing_silently(
    two_projects: Accord, tmp_path: Path, content: bytes
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(content)
    env = {"ACCORD_LEDGER": str(broken)}
    for shell in ("bash", "zsh", "fish"):
        assert complete(two_projects, shell, "accord calendar ", env) == "\n"
        line = "accord calendar spring-campaign --party "
        assert complete(two_projects, shell, line, env) == "\n"
    assert broken.read_bytes() == content
    assert sorted(p.name for p in tmp_path.glob("broken.db*")) == ["broken.db"]


def test_a_malformed_ledger_url_or_slug_completes_nothing(two_projects: Accord) -> None:
    env = {"ACCORD_LEDGER": "mysql://nowhere/x"}
    assert complete(two_projects, "bash", "accord calendar ", env) == "\n"
    line = "accord calendar Not-A-Slug --party "
    assert complete(two_projects, "bash", line) == "\n"


def test_an_unreachable_postgres_completes_nothing(two_projects: Accord) -> None:
    env = {"ACCORD_LEDGER": "postgresql://postgres@127.0.0.1:1/test"}
    assert complete(two_projects, "bash", "accord calendar ", env) == "\n"


def test_a_missing_keyring_completes_no_signers(two_projects: Accord, tmp_path: Path) -> None:
    env = {"ACCORD_HOME": str(tmp_path / "no-home")}
    assert complete(two_projects, "bash", "accord close spring-campaign --as ", env) == "\n"
    assert not (tmp_path / "no-home").exists()


@pytest.mark.skipif(ACCORD is None, reason="the accord console script is not installed")
def test_the_console_script_completes_quietly_from_a_shell(
    two_projects: Accord, tmp_path: Path
) -> None:
    def run(line: str, ledger: Path) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ, "_ACCORD_COMPLETE": "bash_complete", "COMP_WORDS": line,
            "COMP_CWORD": str(len(line.split(" ")) - 1), "ACCORD_LEDGER": str(ledger),
        }  # fmt: skip
        return subprocess.run(
            [str(ACCORD)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
        )

    done = run("accord calendar ", tmp_path / "accord.db")
    assert (done.returncode, done.stdout, done.stderr) == (0, bash(*SLUGS), "")
    (tmp_path / "junk.db").write_bytes(b"junk")
    done = run("accord calendar spring-campaign --party ", tmp_path / "junk.db")
    assert (done.returncode, done.stdout, done.stderr) == (0, "\n", "")


def test_the_shell_scripts_name_the_completion_variable(two_projects: Accord) -> None:
    for shell in ("bash", "zsh", "fish"):
        result = two_projects.runner.invoke(
            cli, [], prog_name="accord", env={"_ACCORD_COMPLETE": f"{shell}_source"}
        )
        assert result.exit_code == 0
        assert "_ACCORD_COMPLETE" in result.stdout
        assert f"{shell}_complete" in result.stdout


def test_every_slug_and_party_parameter_completes() -> None:
    from commands.completion import complete_key, complete_party, complete_signer, complete_slug
    from commands.docgen import all_commands

    expected = {"slug": complete_slug, "as_": complete_signer, "party": complete_party,
                "beneficiaries": complete_party, "key_name": complete_key}  # fmt: skip
    seen = set()
    for name, command in all_commands():
        for param in command.params:
            if param.name in expected:
                assert param._custom_shell_complete is expected[param.name], (name, param.name)
                seen.add(param.name)
    assert seen == set(expected)
