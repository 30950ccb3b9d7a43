"""``accord demo``: a complete example collaboration, run through the real CLI."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import click

from ledger import keys as key_store
from ledger.errors import UsageError

PASSPHRASE = "demo-passphrase"  # noqa: S105 - a throwaway demo key, printed on purpose
PROJECT = "no-whopper-day"
ORGS = ("acme", "burgerco", "veggie")
UNPINNED = "veggie"  # with --relay, the seat that joins with its invite line alone
RELAY_START_SECONDS = 60


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _Tee(io.TextIOBase):
    """Standard output that is also kept (the demo reads an invite line from a step)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def _run(args: list[str], party: str | None = None) -> str:
    """Run one step (printed with its party), returning what it printed on stdout."""
    cli = click.get_current_context().find_root().command  # `accord`, the group running the demo
    who = f"[{party}] " if party else ""
    click.secho(f"\n{who}$ accord {shlex.join(args)}", bold=True)
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        code = cli.main(args=args, prog_name="accord", standalone_mode=False)
    if code not in (None, 0):
        raise click.ClickException(f"demo step failed with exit code {code}: accord {args[0]}")
    return tee.kept.getvalue()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _story(
    run: Callable[[list[str]], object],
    member: Callable[[str], str],
    join: Callable[[str, str], None],
    evidence: Path,
    reports: Path,
) -> None:
    """The collaboration itself: every step a real accord command run by ``run``.

    ``member(org)`` is the ``--member`` value of a seat (pinned or not) and ``join(org,
    proposed)`` takes it, given what the proposal printed (its invite lines, with a relay).
    """
    today = datetime.now(UTC).date()

    def due(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    proposed = run([
        "project", "propose", PROJECT, "--title", "No Whopper Day",
        "--purpose", "A joint campaign: one day, three brands, one message.",
        "--member", member("burgerco"), "--member", member("veggie"),
        "--approval", "all", "--close", "all", "--as", "acme",
    ])  # fmt: skip
    join("burgerco", str(proposed or ""))
    join("veggie", str(proposed or ""))
    run(["pledge", "add", PROJECT, "Campaign design", "--weight", "40", "--unit", "hours",
         "--due", due(14), "--as", "acme"])  # fmt: skip
    run(["pledge", "add", PROJECT, "Media budget", "--weight", "20000", "--unit", "eur",
         "--due", due(21), "--as", "burgerco"])  # fmt: skip
    run(["pledge", "add", PROJECT, "Social posts", "--weight", "12", "--unit", "posts",
         "--due", due(10), "--to", "acme", "--to", "burgerco", "--as", "veggie"])  # fmt: skip
    posters = _write(evidence / "posters.txt", "Poster drafts v1: A1, A2, A3 layouts.\n")
    run(["deliver", PROJECT, "4", "--summary", "Poster drafts", "--quantity", "25",
         "--evidence", str(posters), "--as", "acme"])  # fmt: skip
    run(["approve", PROJECT, "7", "--comment", "Strong drafts", "--as", "burgerco"])
    run(["approve", PROJECT, "7", "--as", "veggie"])
    posts = _write(evidence / "posts.csv", "day,post\n1,old logo\n2,old logo\n")
    run(["deliver", PROJECT, "6", "--summary", "First six posts", "--quantity", "6",
         "--evidence", str(posts), "--as", "veggie"])  # fmt: skip
    run(["reject", PROJECT, "10", "--reason", "Two posts still use the old logo",
         "--as", "acme"])  # fmt: skip
    fixed = _write(evidence / "posts-v2.csv", "day,post\n1,new logo\n2,new logo\n")
    run(["deliver", PROJECT, "6", "--summary", "First six posts, logo fixed",
         "--quantity", "6", "--evidence", str(fixed), "--as", "veggie"])  # fmt: skip
    run(["approve", PROJECT, "12", "--as", "acme"])
    run(["approve", PROJECT, "12", "--as", "burgerco"])
    run(["pledge", "amend", PROJECT, "5", "--weight", "15000",
         "--reason", "Budget cut by the board", "--as", "burgerco"])  # fmt: skip
    run(["approve", PROJECT, "15", "--as", "acme"])
    run(["approve", PROJECT, "15", "--comment", "Fine with us", "--as", "veggie"])
    invoice = _write(evidence / "media-invoice.txt", "Invoice 2026-117: 15000 EUR media.\n")
    run(["deliver", PROJECT, "5", "--summary", "Media bought", "--evidence", str(invoice),
         "--as", "burgerco"])  # fmt: skip
    run(["approve", PROJECT, "18", "--as", "acme"])
    run(["approve", PROJECT, "18", "--as", "veggie"])
    run(["pledge", "add", PROJECT, "Brand review", "--weight", "10", "--unit", "hours",
         "--due", due(7), "--as", "burgerco"])  # fmt: skip
    run(["deliver", PROJECT, "21", "--summary", "Review of all drafts", "--as", "burgerco"])
    run(["approve", PROJECT, "22", "--as", "acme"])
    run(["approve", PROJECT, "22", "--as", "veggie"])
    run(["statement", "propose", PROJECT, "--title", "Joint statement",
         "--text", "Acme, BurgerCo and Veggie stand together behind No Whopper Day; "
         "each of us answers for the whole campaign.", "--as", "acme"])  # fmt: skip
    for org in ORGS[1:]:  # acme signed it when it proposed it (seq 26)
        run(["statement", "sign", PROJECT, "25", "--as", org])
    run(["statement", "list", PROJECT])
    # An agreed value: an hour of work counts as 150 eur, so contributions and the close
    # report also show each party's overall share in eur.
    run(["project", "value", PROJECT, "--unit", "hours", "--worth", "150", "--in", "eur",
         "--reason", "Agency rate for design work", "--as", "burgerco"])  # fmt: skip
    run(["approve", PROJECT, "29", "--as", "acme"])
    run(["approve", PROJECT, "29", "--as", "veggie"])
    run(["project", "values", PROJECT])
    # veggie disputes acme's refusal of its posts; both sign that the refusal stands.
    run(["dispute", PROJECT, "11", "--reason", "Only two of the six posts used the old logo",
         "--as", "veggie"])  # fmt: skip
    run(["resolve", PROJECT, "32", "--outcome", "dismissed", "--reason",
         "Every post must be on-brand; the redelivery settled it", "--as", "acme"])  # fmt: skip
    run(["resolve", PROJECT, "32", "--outcome", "dismissed",
         "--reason", "Agreed: the redelivery was accepted", "--as", "veggie"])  # fmt: skip
    # No pledge is left open at the close: acme finishes the design; veggie stops at six
    # posts of twelve, and its beneficiaries agree to close the pledge short.
    final = _write(evidence / "posters-final.txt", "Final posters: A1, A2, A3, print-ready.\n")
    run(["deliver", PROJECT, "4", "--summary", "Final posters", "--evidence", str(final),
         "--as", "acme"])  # fmt: skip
    run(["approve", PROJECT, "35", "--as", "burgerco"])
    run(["approve", PROJECT, "35", "--as", "veggie"])
    run(["pledge", "close-short", PROJECT, "6", "--reason",
         "The campaign ended after day six; six posts were enough", "--as", "veggie"])  # fmt: skip
    run(["approve", PROJECT, "38", "--as", "acme"])
    run(["approve", PROJECT, "38", "--as", "burgerco"])
    run(["obligations", PROJECT])
    for org in ORGS:
        run(["close", PROJECT, "--report-dir", str(reports), "--as", org])
    run(["obligations", PROJECT])
    run(["contributions", PROJECT])


def _local_join(org: str, _proposed: str) -> None:
    _run(["project", "join", PROJECT, "--as", org])


def _fresh(directory: Path | None) -> Path:
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="accord-demo-"))
    elif directory.exists() and any(directory.iterdir()):
        raise UsageError(
            f"demo directory {directory} is not empty", hint="name a new or empty directory"
        )
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@click.command(name="demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--relay",
    "through_relay",
    is_flag=True,
    help="Give each organisation its own home and replica, synced through a local relay.",
)
def demo(directory: Path | None, through_relay: bool) -> None:
    """Run a complete example collaboration in a fresh directory, printing each step.

    Three organisations run a joint campaign: a proposal, joins, pledges in hours, euros
    and posts, deliveries with evidence, approvals, a rejection and a redelivery, an
    amendment, a statement everyone signs, an agreed value (an hour is worth 150 eur, so
    contributions show overall shares in eur), a dispute of the rejection that its parties
    settle, a pledge closed short, and the close. Every step is a real accord
    command; the directory keeps the ledger and keys so you can explore afterwards.

    With --relay each organisation keeps its own ACCORD_HOME and SQLite replica, and they
    work through an `accord relay serve` the demo starts on a free port of 127.0.0.1 (and
    stops at the end): veggie's seat is not pinned, so veggie joins with nothing but its key
    and the invite line the proposal printed (`accord join LINE`); every write goes through
    the relay, everyone syncs and cosigns, and each prints `accord status` with all entries
    confirmed by all three.

    \b
        accord demo
        accord demo ./my-demo
        accord demo --relay
    """
    directory = _fresh(directory)
    if through_relay:
        _relay_demo(directory)
        return
    env: dict[str, str | None] = {
        "ACCORD_HOME": str(directory / "home"),
        "ACCORD_LEDGER": str(directory / "accord.db"),
        "ACCORD_PASSPHRASE": PASSPHRASE,
    }
    click.secho(f"accord demo: working in {directory}", bold=True)
    click.echo("To explore it afterwards, run:")
    for name, value in env.items():
        click.echo(f"  export {name}={shlex.quote(str(value))}")
    reports = directory / "reports"
    with _environment(env):
        _run(["init"])
        for org in ORGS:
            _run(["key", "new", org])
        _story(
            _run,
            lambda org: f"{org}={key_store.info(org).fingerprint}",
            _local_join,
            directory / "evidence",
            reports,
        )
    click.secho(f"\naccord demo: done; the ledger is {env['ACCORD_LEDGER']}", bold=True)
    click.echo(f"The close report: {reports / 'close-report.html'} (open it in a browser)")
    click.echo(
        f"  also {reports / 'close-report.md'}, {reports / 'close-report.json'} and "
        f"{reports / 'close-report.pdf'}"
    )


# --- accord demo --relay ----------------------------------------------------------------------


class RelayProcess:
    """An ``accord relay serve`` subprocess on a free port of 127.0.0.1, logging to a file."""

    def __init__(self, directory: Path) -> None:
        self.log = directory / "relay.log"
        self.ledger = directory / "relay.db"
        self.home = directory / "relay-home"
        args = [
            sys.executable, "-m", "commands.cli", "relay", "serve",
            "--host", "127.0.0.1", "--port", "0", "--rate", "0",
            "--ledger", str(self.ledger), "--home", str(self.home),
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        click.secho(f"\n[relay] $ accord {shlex.join(args[3:])}", bold=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            )
        try:
            self.url = self._wait_for_address()
        except BaseException:
            self.stop()
            raise
        click.echo(f"relay (pid {self.process.pid}) listening on {self.url}; its log: {self.log}")

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + RELAY_START_SECONDS
        while time.monotonic() < deadline:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise click.ClickException(f"the relay did not start:\n{text.strip()}")
            time.sleep(0.05)
        raise click.ClickException(f"the relay did not start in {RELAY_START_SECONDS} s")

    def stop(self) -> int:
        """Stop the relay (SIGTERM: a graceful stop; killed if it hangs); return its code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def _relay_demo(directory: Path) -> None:
    homes = {
        org: {
            "ACCORD_HOME": str(directory / org / "home"),
            "ACCORD_LEDGER": str(directory / org / "accord.db"),
            "ACCORD_PASSPHRASE": PASSPHRASE,
            "ACCORD_PARTY": None,
            "ACCORD_REMOTE": None,
        }
        for org in ORGS
    }

    def as_party(org: str, args: list[str]) -> str:
        with _environment(homes[org]):
            return _run(args, org)

    synced = {"reader": False}

    def run(args: list[str]) -> str:
        # who acts is the --as of the step; a read is acme's, on acme's replica, synced first
        if "--as" in args:
            synced["reader"] = False
            return as_party(args[args.index("--as") + 1], args)
        if not synced["reader"]:
            as_party(ORGS[0], ["sync", PROJECT, "--as", ORGS[0]])
            synced["reader"] = True
        return as_party(ORGS[0], args)

    def member(org: str) -> str:
        if org == UNPINNED:
            return org  # an invite protects the seat; the proposal prints its invite line
        with _environment(homes[org]):
            return f"{org}={key_store.info(org).fingerprint}"

    def join(org: str, proposed: str) -> None:
        if org == UNPINNED:  # nothing but its key and the one line acme sent
            found = re.search(rf"^invite line for {org}: (accord-join-v1,\S+)$", proposed, re.M)
            if found is None:
                raise click.ClickException(f"the proposal printed no invite line for {org}")
            as_party(org, ["join", found.group(1)])
            return
        as_party(org, ["sync", PROJECT, "--as", org])  # fetch the proposal before joining
        as_party(org, ["project", "join", PROJECT, "--as", org])

    click.secho(f"accord demo --relay: working in {directory}", bold=True)
    click.echo("Each organisation has its own home and replica; to act as one afterwards, run:")
    for org in ORGS:
        values = " ".join(
            f"{name}={shlex.quote(str(value))}"
            for name, value in homes[org].items()
            if value is not None
        )
        click.echo(f"  {org}: export {values}")
    for org in ORGS:
        (directory / org).mkdir()
    reports = directory / "reports"
    relay = RelayProcess(directory)
    try:
        for org in ORGS:
            as_party(org, ["key", "new", org])
            if org != UNPINNED:  # the invite line brings the relay and the ledger
                as_party(org, ["init"])
                as_party(org, ["remote", "add", "relay", relay.url])
        _story(run, member, join, directory / "evidence", reports)
        for org in ORGS:
            as_party(org, ["sync", PROJECT, "--as", org])
        for org in ORGS:
            as_party(org, ["status", PROJECT, "--as", org])
    finally:
        code = relay.stop()
        click.secho(f"\n[relay] stopped (pid {relay.process.pid}, exit code {code})", bold=True)
    click.secho(f"\naccord demo --relay: done in {directory}", bold=True)
    for org in ORGS:
        click.echo(f"  {org}'s replica: {homes[org]['ACCORD_LEDGER']}")
    click.echo(f"  the relay's ledger: {relay.ledger}")
    click.echo(
        f"The close report (written from {ORGS[-1]}'s replica, the last to close): "
        f"{reports / 'close-report.html'} (open it in a browser)"
    )
    click.echo(
        f"  also {reports / 'close-report.md'}, {reports / 'close-report.json'} and "
        f"{reports / 'close-report.pdf'}"
    )
