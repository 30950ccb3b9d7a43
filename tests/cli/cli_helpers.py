"""Helpers shared by the CLI tests: invoking accord, matching outputs, refusals, snapshots.

Fixtures live in ``conftest.py``; this module holds the plain functions and constants the
test modules import (``from cli_helpers import ...``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from commands.cli import cli
from ledger import keys as key_store

PASSPHRASE = "test-passphrase"
HASH = "[0-9a-f]{64}"
TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
FINGERPRINT = r"SHA256:[A-Za-z0-9+/]{43}"
PUBLIC_KEY = r"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]{48}"
# The fingerprints of the fixed-seed keys of tests/conftest.py (checked in test_keys.py).
FP = {
    "acme": "SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8",
    "burgerco": "SHA256:4A9jyZBOhnKZvcGQ6TRFbf5Gymb41AfYvYaVmWHD+G4",
    "veggie": "SHA256:zbv/nU7iZdO0fB0DalMI70dP6/yFD8sctXvvW4+OokY",
    "mallory": "SHA256:vxu9sT7+WkqIPG3kOwohja2DmYBjKw903FLEcS+Xb6o",
}
_TOKENS = {
    "<hash>": HASH,
    "<time>": TIME,
    "<fingerprint>": FINGERPRINT,
    "<pubkey>": PUBLIC_KEY,
    "<invite>": "accord-invite-v1:[A-Za-z0-9_-]{43}",
}


def pattern(template: str) -> re.Pattern[str]:
    """Compile a literal output template in which <hash>, <time>, ... stand for those parts."""
    regex = re.escape(template)
    for token, part in _TOKENS.items():
        regex = regex.replace(re.escape(token), part)
    return re.compile(regex)


def assert_matches(actual: str, template: str) -> None:
    """Assert that the whole of ``actual`` matches ``template`` (see :func:`pattern`)."""
    assert pattern(template).fullmatch(actual), (
        f"output does not match the template\n--- actual ---\n{actual}--- template ---\n{template}"
    )


def receipt(
    slug: str, seq: int, kind: str, status: str | None = None, about: str | None = None
) -> str:
    """The table receipt of a recorded entry, as a template (``about``: its subject line)."""
    text = f"recorded {slug} seq {seq} {kind}\nhash <hash>\n"
    if about:
        text += f"{about}\n"
    if status:
        text += f"project {slug} is {status}\n"
    return text


INVITE_NOTE = (
    "\nNote: each unpinned seat is protected by its invite: send every invite secretly to its "
    "member only (who joins with --invite TOKEN); accord keeps no copy\n"
)
INVITE_RE = re.compile(r"^invite for ([a-z0-9-]+): (accord-invite-v1:[A-Za-z0-9_-]{43})$", re.M)
TOKEN = "accord-invite-v1:[A-Za-z0-9_-]{43}"


def unpinned(*handles: str) -> str:
    """The note ``project propose`` prints (stderr) when it made invites for unpinned seats."""
    return INVITE_NOTE if handles else ""


def invite_lines(*handles: str) -> str:
    """The stdout lines of the invites ``project propose`` prints, as a template."""
    return "".join(
        f"invite for {h}: <invite>\n  send it to {h} by a channel you trust; it is shown only "
        "this once\n"
        for h in handles
    )


def past_due(due: str) -> str:
    """The warning of a pledge recorded with a due date in the past."""
    return f"Warning: due date {due} is in the past: the pledge is recorded as overdue\n"


def fingerprint(name: str) -> str:
    """The fingerprint of the stored key ``name`` (under the current ACCORD_HOME)."""
    return key_store.info(name).fingerprint


def public_key(name: str) -> str:
    """The OpenSSH public key line of the stored key ``name``."""
    return key_store.info(name).public_key


@dataclass
class Accord:
    """Runs ``accord`` through a CliRunner; ``ok`` and ``json`` also check success."""

    runner: CliRunner
    tmp_path: Path
    # The invites ``project propose`` printed, by (slug, handle): a join or decline as that
    # handle gets its invite (ACCORD_INVITE) unless the test gives --invite or ACCORD_INVITE.
    invites: dict[tuple[str, str], str] = field(default_factory=dict)

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        command = args[:2]
        if (
            command in (("project", "join"), ("project", "decline"))
            and len(args) > 2
            and "--invite" not in args
            and "ACCORD_INVITE" not in (env or {})
        ):
            handle = args[args.index("--as") + 1] if "--as" in args else None
            token = self.invites.get((args[2], handle or ""))
            if token is not None:
                env = {**(env or {}), "ACCORD_INVITE": token}
        result = self.runner.invoke(cli, list(args), input=input, env=env, prog_name="accord")
        if command == ("project", "propose") and result.exit_code == 0:
            self._remember_invites(args[2], result.stdout)
        return result

    def _remember_invites(self, slug: str, stdout: str) -> None:
        for handle, token in INVITE_RE.findall(stdout):
            self.invites[(slug, handle)] = token
        if stdout.lstrip().startswith("{"):
            for item in json.loads(stdout).get("invites", []):
                self.invites[(slug, item["handle"])] = item["invite"]

    def ok(self, *args: str, stderr: str = "", **kwargs: Any) -> Result:
        """Run a command that must succeed, printing exactly ``stderr`` (default: nothing)."""
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (
            f"accord {' '.join(args)} exited {result.exit_code}\n{result.output}"
            f"{result.exception!r}"
        )
        assert result.stderr == stderr
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        """Run a command with ``--format json`` and return the parsed output."""
        return json.loads(self.ok(*args, "--format", "json", **kwargs).stdout)

    @property
    def ledger_file(self) -> Path:
        return self.tmp_path / "accord.db"

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused command must leave alone: each project's entries and head,
        and the bytes of the SQLite file."""
        if not self.ledger_file.exists():
            return {"ledger": None}
        projects = {}
        for row in self.json("project", "list"):
            detail = self.json("project", "show", row["project"])
            projects[row["project"]] = (detail["entries"], detail["head"], detail["status"])
        return {"ledger": self.ledger_file.read_bytes(), "projects": projects}

    @contextmanager
    def unchanged(self) -> Iterator[None]:
        """Assert that the ledger is the same after the block as before it."""
        before = self.snapshot()
        yield
        after = self.snapshot()
        assert after.get("projects") == before.get("projects")
        assert after == before, "the ledger file changed"


def assert_refused(result: Result, code: int, error: str, hint: str | None = None) -> None:
    """Assert exit ``code``, nothing on stdout and exactly ``Error: ...`` (+ ``Hint: ...``)."""
    expected = f"Error: {error}\n" + (f"Hint: {hint}\n" if hint else "")
    assert (result.exit_code, result.stderr) == (code, expected), result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output


def assert_refused_like(result: Result, code: int, error: str, hint: str | None = None) -> None:
    """Like :func:`assert_refused`, with templates: ``<time>``, ``<hash>``... match any."""
    expected = f"Error: {error}\n" + (f"Hint: {hint}\n" if hint else "")
    assert result.exit_code == code, result.output
    assert_matches(result.stderr, expected)
    assert result.stdout == ""


def already(slug: str, seq: int, by: str, hint: str | None = None) -> tuple[str, str]:
    """The tail of a refusal of a decision already taken, and its hint, as templates."""
    show = f"`accord show {slug} {seq}` shows it in full"
    return f"(seq {seq}, by {by} at <time>)", f"{show}; {hint}" if hint else show


def assert_usage_error(result: Result, usage: str, error: str) -> None:
    """Assert click's own usage error (exit 2): usage line, --help pointer and ``Error:``."""
    command = usage.split(" [OPTIONS]")[0].removeprefix("Usage: ")
    expected = f"{usage}\nTry '{command} --help' for help.\n\nError: {error}\n"
    assert (result.exit_code, result.stderr) == (2, expected), result.output
    assert result.stdout == ""


def lines(text: str) -> list[str]:
    return text.splitlines()


def csv_header(text: str) -> Sequence[str]:
    return text.splitlines()[0].split(",")


SLUG = "spring-campaign"


def start_project(accord: Accord, slug: str = SLUG) -> str:
    """Propose ``slug`` as acme with burgerco and veggie (pinned), and let both join."""
    accord.ok(
        "project", "propose", slug, "--title", "Spring campaign",
        "--member", "burgerco", "--member", f"veggie={fingerprint('veggie')}", "--as", "acme",
        stderr=unpinned("burgerco"),
    )  # fmt: skip
    accord.ok("project", "join", slug, "--as", "burgerco")
    accord.ok("project", "join", slug, "--as", "veggie")
    return slug
