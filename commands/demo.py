"""``accord demo``: a complete example collaboration, run through the real CLI."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from ledger import keys as key_store
from ledger.errors import UsageError

PASSPHRASE = "demo-passphrase"  # noqa: S105 - a throwaway demo key, printed on purpose
PROJECT = "no-whopper-day"


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run(args: list[str]) -> None:
    from commands.cli import cli

    click.secho(f"\n$ accord {shlex.join(args)}", bold=True)
    code = cli.main(args=args, prog_name="accord", standalone_mode=False)
    if code not in (None, 0):
        raise click.ClickException(f"demo step failed with exit code {code}: accord {args[0]}")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@click.command(name="demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path | None) -> None:
    """Run a complete example collaboration in a fresh directory, printing each step.

    Three organisations run a joint campaign: a proposal, joins, pledges in hours, euros
    and posts, deliveries with evidence, approvals, a rejection and a redelivery, an
    amendment, a statement everyone signs, and the close. Every step is a real accord
    command; the directory keeps the ledger and keys so you can explore afterwards.

    \b
        accord demo
        accord demo ./my-demo
    """
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="accord-demo-"))
    elif directory.exists() and any(directory.iterdir()):
        raise UsageError(
            f"demo directory {directory} is not empty", hint="name a new or empty directory"
        )
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        "ACCORD_HOME": str(directory / "home"),
        "ACCORD_LEDGER": str(directory / "accord.db"),
        "ACCORD_PASSPHRASE": PASSPHRASE,
    }
    today = datetime.now(UTC).date()

    def due(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    click.secho(f"accord demo: working in {directory}", bold=True)
    click.echo("To explore it afterwards, run:")
    for name, value in env.items():
        click.echo(f"  export {name}={shlex.quote(value)}")
    evidence = directory / "evidence"
    with _environment(env):
        _run(["init"])
        for org in ("acme", "burgerco", "veggie"):
            _run(["key", "new", org])
        burgerco = key_store.info("burgerco").fingerprint
        veggie = key_store.info("veggie").fingerprint
        _run([
            "project", "propose", PROJECT, "--title", "No Whopper Day",
            "--purpose", "A joint campaign: one day, three brands, one message.",
            "--member", f"burgerco={burgerco}", "--member", f"veggie={veggie}",
            "--approval", "all", "--close", "all", "--as", "acme",
        ])  # fmt: skip
        _run(["project", "join", PROJECT, "--as", "burgerco"])
        _run(["project", "join", PROJECT, "--as", "veggie"])
        _run(["pledge", "add", PROJECT, "Campaign design", "--weight", "40", "--unit", "hours",
              "--due", due(14), "--as", "acme"])  # fmt: skip
        _run(["pledge", "add", PROJECT, "Media budget", "--weight", "20000", "--unit", "eur",
              "--due", due(21), "--as", "burgerco"])  # fmt: skip
        _run(["pledge", "add", PROJECT, "Social posts", "--weight", "12", "--unit", "posts",
              "--due", due(10), "--to", "acme", "--to", "burgerco", "--as", "veggie"])  # fmt: skip
        posters = _write(evidence / "posters.txt", "Poster drafts v1: A1, A2, A3 layouts.\n")
        _run(["deliver", PROJECT, "4", "--summary", "Poster drafts", "--quantity", "25",
              "--evidence", str(posters), "--as", "acme"])  # fmt: skip
        _run(["approve", PROJECT, "7", "--comment", "Strong drafts", "--as", "burgerco"])
        _run(["approve", PROJECT, "7", "--as", "veggie"])
        posts = _write(evidence / "posts.csv", "day,post\n1,old logo\n2,old logo\n")
        _run(["deliver", PROJECT, "6", "--summary", "First six posts", "--quantity", "6",
              "--evidence", str(posts), "--as", "veggie"])  # fmt: skip
        _run(["reject", PROJECT, "10", "--reason", "Two posts still use the old logo",
              "--as", "acme"])  # fmt: skip
        fixed = _write(evidence / "posts-v2.csv", "day,post\n1,new logo\n2,new logo\n")
        _run(["deliver", PROJECT, "6", "--summary", "First six posts, logo fixed",
              "--quantity", "6", "--evidence", str(fixed), "--as", "veggie"])  # fmt: skip
        _run(["approve", PROJECT, "12", "--as", "acme"])
        _run(["approve", PROJECT, "12", "--as", "burgerco"])
        _run(["pledge", "amend", PROJECT, "5", "--weight", "15000",
              "--reason", "Budget cut by the board", "--as", "burgerco"])  # fmt: skip
        _run(["approve", PROJECT, "15", "--as", "acme"])
        _run(["approve", PROJECT, "15", "--comment", "Fine with us", "--as", "veggie"])
        invoice = _write(evidence / "media-invoice.txt", "Invoice 2026-117: 15000 EUR media.\n")
        _run(["deliver", PROJECT, "5", "--summary", "Media bought", "--evidence", str(invoice),
              "--as", "burgerco"])  # fmt: skip
        _run(["approve", PROJECT, "18", "--as", "acme"])
        _run(["approve", PROJECT, "18", "--as", "veggie"])
        _run(["pledge", "add", PROJECT, "Brand review", "--weight", "10", "--unit", "hours",
              "--due", due(7), "--as", "burgerco"])  # fmt: skip
        _run(["deliver", PROJECT, "21", "--summary", "Review of all drafts", "--as", "burgerco"])
        _run(["approve", PROJECT, "22", "--as", "acme"])
        _run(["approve", PROJECT, "22", "--as", "veggie"])
        _run(["statement", "propose", PROJECT, "--title", "Joint statement",
              "--text", "Acme, BurgerCo and Veggie stand together behind No Whopper Day; "
              "each of us answers for the whole campaign.", "--as", "acme"])  # fmt: skip
        for org in ("acme", "burgerco", "veggie"):
            _run(["statement", "sign", PROJECT, "25", "--as", org])
        _run(["statement", "list", PROJECT])
        reports = directory / "reports"
        for org in ("acme", "burgerco", "veggie"):
            _run(["close", PROJECT, "--report-dir", str(reports), "--as", org])
        _run(["obligations", PROJECT])
        _run(["contributions", PROJECT])
    click.secho(f"\naccord demo: done; the ledger is {env['ACCORD_LEDGER']}", bold=True)
    click.echo(f"The close report: {reports / 'close-report.html'} (open it in a browser)")
    click.echo(f"  also {reports / 'close-report.md'} and {reports / 'close-report.json'}")
