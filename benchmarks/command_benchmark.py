"""Everyday commands on long histories: import, warm commands, cold start, verify, verify --all.

For each store (SQLite, PostgreSQL) and each project size (default 1k, 10k and 100k
entries) it measures, with the real CLI in subprocesses:

* ``accord import`` of a signed bundle generated here (entries/s);
* each everyday command with a warm verified state under ACCORD_HOME: the median wall time
  of ``--repeat`` runs (after one untimed run) and the peak RSS of the command's process
  (its VmHWM, see ``WRAPPER``), with ``accord --version`` for the bare start-up, and the
  ratio between the largest and the smallest size; ``accord report`` among them in the text
  formats (Markdown, HTML, JSON), and the PDF once (WeasyPrint lays out every page);
* the cold start: the first command on a fresh ACCORD_HOME (a full verification that
  rebuilds the verified state);
* ``accord verify`` (entries/s), beside the raw Ed25519 rate of all cores measured in the
  same run (``verify_benchmark.raw_rate``);

and, on SQLite, ``accord verify --all`` over many small projects (default 1,000 x 10).

The bundle is built in Python exactly as ``ledger/application.py`` builds entries
(``ledger.entry.sign`` over the same envelope, checked by ``ledger.rules.apply``), with
fixed-seed keys and a fixed random seed, so every run loads the same bytes: a proposal,
two joins, a bounded set of pledges, then deliverables with their beneficiaries' approvals
(a few refusals and amendments) and statements signed by every member, and at the end the
targets the timed writes need (deliverables awaiting approval, unsigned statements).

Two shapes of project (``--shapes``): ``mixed`` (above) and ``many-pledges`` (after a few
retainers, cycles of pledge, delivery in full and approval by its one beneficiary: a pledge
every three entries, 33,000 fulfilled pledges at 100,000 entries, the shape of a long
programme of small tasks).

Run: python benchmarks/command_benchmark.py [--sizes 1000,10000,100000] [--shapes ...]
         [--stores sqlite,postgres] [--repeat 5] [--projects 1000] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from verify_benchmark import _signer, raw_rate

from ledger import bundle, rules, storage
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.application import Ledger
from ledger.fold import default_workers, verify_stream
from ledger.keys import Signer
from ledger.project import Project
from ledger.rows import Row

SLUG = "bench"
SEED = 20261201
PASSPHRASE = "benchmark-passphrase"
PARTIES = {"acme": 1, "burgerco": 2, "veggie": 3}  # the fixed seeds of tests/conftest.py
POSTGRES_URL = os.environ.get(
    "ACCORD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 6, 1, tzinfo=UTC)
STEP = timedelta(seconds=10)
STATEMENT_TEXT = (
    "The members of this collaboration share responsibility for what it publishes. Each of "
    "them checks the claims made in its name, answers questions from the public within five "
    "working days, and corrects any error it finds in the open, naming the correction. No "
    "member signs for work it has not seen. Payments between members follow the pledges "
    "recorded here and nothing else."
)
GOAL_SECONDS, GOAL_MIB, GOAL_RATIO = 3.0, 250, 1.5
SHAPES = ("mixed", "many-pledges")
GOAL_IMPORT, GOAL_VERIFY, GOAL_ALL = 5000, 0.80, 2.0
TEXT_FORMATS = ("--format", "md", "--format", "html", "--format", "json")


# --- the bundle -------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a generated project holds for the timed writes to use."""

    slug: str
    entries: int
    head: str
    pledge: int  # an acme pledge (deliver --quantity)
    retainers: list[int]  # acme pledges with weight to spare, one per deliver run
    to_approve: list[int]  # acme deliverables that burgerco has not decided, one per run
    to_sign: list[int]  # statements nobody signed, one per run
    kinds: Counter[str] = field(default_factory=Counter)


class Builder:
    """Signs entries exactly as ``Ledger._append`` does and checks them with the rules."""

    def __init__(self, slug: str, signers: dict[str, Signer]) -> None:
        self.slug = slug
        self.signers = signers
        self.state = rules.new_state(slug)
        self.clock = START
        self.items: list[entry_mod.SignedEntry] = []
        self.kinds: Counter[str] = Counter()

    def add(self, kind: str, by: str, body: dict[str, Any]) -> entry_mod.SignedEntry:
        signer = self.signers[by]
        self.clock += STEP
        data = {
            "v": fmt.VERSION,
            "project": self.slug,
            "seq": self.state.seq + 1,
            "prev": self.state.head,
            "type": kind,
            "by": signer.handle,
            "key": signer.fingerprint,
            "at": fmt.format_time(self.clock),
            "body": body,
        }
        item = entry_mod.sign(data, signer.private_key)
        rules.apply(self.state, item, unsafe_skip_signature=True)  # just signed it
        self.items.append(item)
        self.kinds[kind] += 1
        return item


def signers() -> dict[str, Signer]:
    return {handle: _signer(handle, seed) for handle, seed in PARTIES.items()}


def _due(rng: random.Random) -> str:
    return (date(2026, 9, 1) + timedelta(days=rng.randrange(300))).isoformat()


def generate(
    slug: str, entries: int, *, reserve: int, seed: int = SEED, shape: str = "mixed"
) -> tuple[Builder, Plan]:
    """A valid project of exactly ``entries`` entries; ``reserve`` targets per timed write.

    ``shape``: ``mixed`` (a bounded set of pledges, many deliveries and decisions on each,
    statements) or ``many-pledges`` (after a few retainers, cycles of pledge, delivery in
    full, approval: one pledge every three entries, nearly all of them fulfilled).
    """
    rng = random.Random(f"{seed}:{slug}:{entries}" + ("" if shape == "mixed" else f":{shape}"))
    b = Builder(slug, signers())
    acme, burgerco, veggie = (b.signers[h] for h in PARTIES)
    b.add(
        "project.proposed",
        "acme",
        {
            "title": f"Benchmark {entries}",
            "purpose": "A long collaboration, for timing.",
            "approval": "all",
            "close": "all",
            "members": [
                {"handle": "acme", "key": acme.fingerprint},
                {"handle": "burgerco", "key": None},
                {"handle": "veggie", "key": None},
            ],
            "public_key": acme.public_key_line,
        },
    )
    for member in (burgerco, veggie):
        body = {"terms": b.state.terms, "public_key": member.public_key_line}
        b.add("member.joined", member.handle, body)
    count = max(2, 3 * reserve, min(30, entries // 30)) if shape == "mixed" else 3 * reserve
    owners = list(PARTIES)
    pledges: list[int] = []
    retainers: list[int] = []
    for n in range(count):
        owner = owners[n % 3]
        retainer = owner == "acme" and len(retainers) < reserve
        item = b.add(
            "pledge.made",
            owner,
            {
                "title": f"{'Retainer' if retainer else 'Pledge'} {n + 1}",
                "weight": "1000000" if retainer else str(rng.randrange(200, 3000)),
                "unit": rng.choice(("hours", "posts", "eur")) if not retainer else "hours",
                "due": _due(rng),
                "beneficiaries": sorted(h for h in PARTIES if h != owner),
            },
        )
        pledges.append(item.seq)
        if retainer:
            retainers.append(item.seq)
    if shape == "mixed":
        _mix(b, rng, pledges, stop=entries - 2 * reserve)
    else:
        _cycles(b, rng, retainers[0], stop=entries - 2 * reserve)
    first_acme = next(p for p in pledges if b.state.pledges[p].by == "acme")
    to_approve = [
        b.add(
            "deliverable.submitted",
            "acme",
            {
                "pledge": first_acme,
                "summary": f"Awaiting approval {n + 1}",
                "quantity": "1",
                "evidence": [],
            },
        ).seq
        for n in range(reserve)
    ]
    to_sign = [
        b.add(
            "statement.proposed",
            "acme",
            {
                "title": f"Statement awaiting signatures {n + 1}",
                "text": STATEMENT_TEXT,
            },
        ).seq
        for n in range(reserve)
    ]
    if b.state.seq != entries:
        raise SystemExit(f"generated {b.state.seq} entries, not {entries} (too small a size?)")
    plan = Plan(
        slug=slug,
        entries=entries,
        head=b.state.head,
        pledge=first_acme,
        retainers=retainers,
        to_approve=to_approve,
        to_sign=to_sign,
        kinds=b.kinds,
    )
    return b, plan


def _mix(b: Builder, rng: random.Random, pledges: list[int], *, stop: int) -> None:
    """Deliverables, decisions, amendments and statements, interleaved, up to seq ``stop``."""
    tasks: deque[tuple[str, str, int]] = deque()  # (action, party, target) still to do
    while b.state.seq < stop:
        if tasks and (len(tasks) > 12 or rng.random() < 0.55):
            _task(b, *tasks.popleft())
            continue
        roll = rng.random()
        if roll < 0.01:
            by = rng.choice(list(PARTIES))
            item = b.add(
                "statement.proposed",
                by,
                {
                    "title": f"Statement at {b.state.seq + 1}",
                    "text": STATEMENT_TEXT,
                },
            )
            tasks.extend(("sign", h, item.seq) for h in rng.sample(list(PARTIES), 3))
            continue
        pledge = b.state.pledges[rng.choice(pledges)]
        if roll < 0.015 and pledge.pending_amendment is None:
            due = date.fromisoformat(pledge.due) + timedelta(days=30)
            item = b.add(
                "pledge.amended",
                pledge.by,
                {
                    "pledge": pledge.seq,
                    "changes": {"due": due.isoformat()},
                    "reason": "The print shop needs another month.",
                },
            )
        else:
            evidence = []
            if rng.random() < 0.3:
                name = f"delivery-{b.state.seq + 1}.pdf"
                digest = entry_mod.entry_hash(name.encode(), b"")  # any 64-hex digest
                evidence = [{"name": name, "sha256": digest, "size": rng.randrange(1, 1 << 24)}]
            item = b.add(
                "deliverable.submitted",
                pledge.by,
                {
                    "pledge": pledge.seq,
                    "summary": f"Delivery against pledge {pledge.seq}",
                    "quantity": str(rng.randrange(1, 4)),
                    "evidence": evidence,
                },
            )
        judges = list(pledge.beneficiaries)
        rng.shuffle(judges)
        if rng.random() < 0.03:
            tasks.append(("refuse", judges[0], item.seq))
        else:
            tasks.extend(("approve", h, item.seq) for h in judges)


def _cycles(b: Builder, rng: random.Random, retainer: int, *, stop: int) -> None:
    """Pledge, delivery in full, approval by its one beneficiary, up to seq ``stop``.

    The owner turns among the parties, each pledge to the next one; what is left when a
    whole cycle no longer fits is filled with deliveries on ``retainer`` (left pending).
    """
    owners = list(PARTIES)
    n = 0
    while b.state.seq < stop:
        if stop - b.state.seq < 3:
            b.add(
                "deliverable.submitted",
                "acme",
                {"pledge": retainer, "summary": "Filler", "quantity": "1", "evidence": []},
            )
            continue
        owner, beneficiary = owners[n % 3], owners[(n + 1) % 3]
        weight = str(rng.randrange(1, 50))
        pledge = b.add(
            "pledge.made",
            owner,
            {
                "title": f"Task {n + 1}",
                "weight": weight,
                "unit": ("hours", "posts", "eur")[n % 3 if rng.random() < 0.9 else 0],
                "due": _due(rng),
                "beneficiaries": [beneficiary],
            },
        )
        item = b.add(
            "deliverable.submitted",
            owner,
            {
                "pledge": pledge.seq,
                "summary": f"Task {n + 1} done",
                "quantity": weight,
                "evidence": [],
            },
        )
        body = {"target": item.seq, "target_hash": b.state.decisions[item.seq].hash, "comment": ""}
        b.add("approval.given", beneficiary, body)
        n += 1


def _task(b: Builder, action: str, by: str, target: int) -> None:
    state = b.state
    if action == "sign":
        statement = state.statements[target]
        b.add(
            "statement.signed",
            by,
            {
                "statement": target,
                "version": statement.version,
                "text_hash": rules.text_hash(statement.text),
            },
        )
        return
    decision = state.decisions[target]
    if decision.status != rules.PENDING:  # refused meanwhile: nothing left to decide
        return
    if action == "refuse":
        body = {"target": target, "target_hash": decision.hash, "reason": "Not what we agreed."}
        b.add("approval.refused", by, body)
    else:
        b.add("approval.given", by, {"target": target, "target_hash": decision.hash, "comment": ""})


def write_bundle(path: Path, b: Builder) -> None:
    header = bundle.BundleHeader(project=b.slug, entries=b.state.seq, head=b.state.head)
    rows = (Row(position=None, text=e.text, sig=e.sig, hash=e.hash) for e in b.items)
    with path.open("w", encoding="utf-8") as handle:
        bundle.write(handle, header, rows)


def build_many(path: Path, projects: int, entries: int) -> None:
    """One SQLite ledger holding ``projects`` generated projects of ``entries`` entries."""
    ledger = Ledger(storage.settings(str(path)))
    try:
        for n in range(projects):
            b, _plan = generate(f"p{n:04d}", entries, reserve=0)
            project = Project.propose(b.items[0])
            for item in b.items[1:]:
                project.unsafe_append_verified(item)  # the rules checked them in generate
            ledger.save(project)
    finally:
        ledger.close()


# --- running commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One command run: wall time, peak RSS of its main process, exit code, output."""

    seconds: float
    mib: float
    code: int
    out: str
    err: str


# Runs ``accord`` exactly as its console script does and, at exit, writes the process's
# VmHWM (peak RSS) to the file named by BENCH_HWM_FILE. VmHWM starts afresh at exec; the
# ru_maxrss that wait4 or RUSAGE_CHILDREN report does not: it carries the RSS of the process
# that forked the child (here, this benchmark with its generated history) into every figure.
WRAPPER = """\
import atexit, os, sys
_pid, _out = os.getpid(), os.environ.pop("BENCH_HWM_FILE")
def _hwm():
    if os.getpid() == _pid:
        with open("/proc/self/status") as status, open(_out, "w") as out:
            out.write(status.read().split("VmHWM:")[1].split()[0])
atexit.register(_hwm)
sys.argv[0] = "accord"
from commands.cli import main
sys.exit(main())
"""


def accord_argv() -> list[str]:
    return [sys.executable, "-c", WRAPPER]


def run(args: list[str], env: dict[str, str], cwd: Path) -> Sample:
    """Run ``accord ARGS``: its wall time and its peak RSS (VmHWM of the main process)."""
    with tempfile.TemporaryDirectory() as scratch:
        hwm = Path(scratch) / "hwm"
        out, err = Path(scratch) / "out", Path(scratch) / "err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.run(
                [*accord_argv(), *args],
                env={**env, "BENCH_HWM_FILE": str(hwm)},
                cwd=cwd,
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            seconds = time.perf_counter() - started
        kib = int(hwm.read_text()) if hwm.exists() else 0
        return Sample(
            seconds=seconds,
            mib=kib / 1024,
            code=proc.returncode,
            out=out.read_text("utf-8", "replace"),
            err=err.read_text("utf-8", "replace"),
        )


@dataclass
class Result:
    """The median of several runs of one command (or why it failed)."""

    seconds: float | None = None
    mib: float | None = None
    error: str | None = None

    @classmethod
    def of(cls, samples: list[Sample]) -> Result:
        return cls(
            seconds=statistics.median(s.seconds for s in samples),
            mib=max(s.mib for s in samples),
        )


PROBLEMS: list[str] = []


def checked(what: str, sample: Sample) -> Sample:
    if sample.code != 0:
        detail = (sample.err.strip() or sample.out.strip()).splitlines()
        message = f"{what}: exit {sample.code}: {' | '.join(detail[-3:])}"
        PROBLEMS.append(message)
        raise CommandFailedError(message)
    return sample


class CommandFailedError(Exception):
    """A benchmarked command exited non-zero (recorded in PROBLEMS)."""


@dataclass
class Workspace:
    """One ledger of one size on one store, with a home that holds the three keys."""

    store: str
    size: int
    root: Path
    url: str
    home: Path
    schema: str | None = None

    def env(self, home: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env.update(
            ACCORD_HOME=str(home or self.home),
            ACCORD_PASSPHRASE=PASSPHRASE,
            ACCORD_LEDGER=self.url,
            PYTHONHASHSEED="0",
        )
        return env

    def run(self, what: str, args: list[str], home: Path | None = None) -> Sample:
        return checked(f"{self.store} {self.size:,}: {what}", run(args, self.env(home), self.root))


def import_keys(ws: Workspace, home: Path) -> None:
    for handle, seed in PARTIES.items():
        pem = _signer(handle, seed).private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        source = ws.root / f"{handle}.pem"
        source.write_bytes(pem)
        source.chmod(0o600)
        ws.run(f"key import {handle}", ["key", "import", handle, str(source)], home)
        source.unlink()


def timed_commands(plan: Plan, report_dir: Path) -> list[tuple[str, Any]]:
    """The timed commands: (label, run index -> argv). Index 0 is the untimed run."""
    s = plan.slug
    return [
        ("accord --version", lambda i: ["--version"]),
        ("obligations", lambda i: ["obligations", s]),
        ("obligations --within 14d", lambda i: ["obligations", s, "--within", "14d"]),
        ("contributions", lambda i: ["contributions", s]),
        ("todo", lambda i: ["todo", s, "--as", "burgerco"]),
        ("pledge list", lambda i: ["pledge", "list", s]),
        ("calendar", lambda i: ["calendar", s, "-o", str(report_dir.parent / "bench.ics")]),
        ("project list", lambda i: ["project", "list"]),
        (
            "report md,html,json",
            lambda i: ["report", s, *TEXT_FORMATS, "-o", str(report_dir)],
        ),
        (
            "pledge add",
            lambda i: [
                "pledge",
                "add",
                s,
                f"Benchmark pledge {i}",
                "--weight",
                "10",
                "--unit",
                "hours",
                "--due",
                "2027-03-31",
                "--as",
                "acme",
            ],
        ),
        (
            "deliver",
            lambda i: [
                "deliver",
                s,
                str(plan.retainers[i]),
                "--summary",
                f"Benchmark delivery {i}",
                "--as",
                "acme",
            ],
        ),
        (
            "deliver --quantity",
            lambda i: [
                "deliver",
                s,
                str(plan.pledge),
                "--summary",
                f"Benchmark part {i}",
                "--quantity",
                "1",
                "--as",
                "acme",
            ],
        ),
        ("approve", lambda i: ["approve", s, str(plan.to_approve[i]), "--as", "burgerco"]),
        (
            "statement sign",
            lambda i: [
                "statement",
                "sign",
                s,
                str(plan.to_sign[i]),
                "--as",
                "burgerco",
            ],
        ),
    ]


# --- stores -----------------------------------------------------------------------------------


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def open_workspace(store: str, size: int, root: Path) -> Workspace:
    directory = root / f"{store}-{size}"
    directory.mkdir()
    if store == "sqlite":
        return Workspace(store, size, directory, str(directory / "accord.db"), directory / "home")
    schema = f"bench_{os.getpid()}_{size}"
    _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    url = f"{POSTGRES_URL}?schema={schema}"
    return Workspace(store, size, directory, url, directory / "home", schema=schema)


def close_workspace(ws: Workspace) -> None:
    if ws.schema is not None:
        _pg_admin(f'DROP SCHEMA IF EXISTS "{ws.schema}" CASCADE')
    shutil.rmtree(ws.root, ignore_errors=True)


# --- measuring one size on one store ---------------------------------------------------------


@dataclass
class SizeFigures:
    """Everything measured for one size on one store."""

    size: int
    import_: Result = field(default_factory=Result)
    cold: Result = field(default_factory=Result)
    verify: Result = field(default_factory=Result)
    verify_inprocess: float | None = None
    raw: float | None = None  # Ed25519 verifications/s of all cores, just before verify
    report_mib: float = 0.0  # the size of the files `accord report` wrote
    pdf: Result = field(default_factory=Result)  # `accord report --format pdf`: one run
    pdf_mib: float = 0.0  # the size of the PDF
    commands: dict[str, Result] = field(default_factory=dict)


def measure(ws: Workspace, plan: Plan, bundle_path: Path, repeat: int, deep: bool) -> SizeFigures:
    figures = SizeFigures(size=ws.size)
    try:
        import_keys(ws, ws.home)
        # A failed init is recorded; `accord import` creates the tables (and schema) itself.
        with contextlib.suppress(CommandFailedError):
            ws.run("init", ["init", "--ledger", ws.url])
        sample = ws.run("import", ["import", str(bundle_path), "--ledger", ws.url])
        if f"imported {plan.entries} new entries" not in sample.out:
            PROBLEMS.append(f"{ws.store} {ws.size:,}: import said {sample.out.strip()!r}")
    except CommandFailedError as exc:
        figures.import_ = Result(error=str(exc))
        return figures
    figures.import_ = Result(seconds=sample.seconds, mib=sample.mib)
    with contextlib.suppress(CommandFailedError):
        ws.run("warm-up read", ["obligations", plan.slug])
    for label, argv in timed_commands(plan, ws.root / "report"):
        try:
            ws.run(label, argv(0))  # untimed: page cache, first write of the state file
            samples = [ws.run(label, argv(i)) for i in range(1, repeat + 1)]
            figures.commands[label] = Result.of(samples)
        except CommandFailedError as exc:
            figures.commands[label] = Result(error=str(exc))
    written = [p for p in (ws.root / "report").rglob("*") if p.is_file()]
    figures.report_mib = sum(p.stat().st_size for p in written) / (1 << 20)
    pdf_dir = ws.root / "report-pdf"
    try:  # one run: WeasyPrint lays out every page, minutes at 100,000 entries
        argv = ["report", plan.slug, "--format", "pdf", "-o", str(pdf_dir)]
        figures.pdf = Result.of([ws.run("report --format pdf", argv)])
        figures.pdf_mib = (pdf_dir / "close-report.pdf").stat().st_size / (1 << 20)
    except CommandFailedError as exc:
        figures.pdf = Result(error=str(exc))
    heavy = min(repeat, 3)
    try:
        colds = []
        for n in range(heavy):
            home = ws.root / f"cold-home-{n}"
            colds.append(ws.run("cold obligations", ["obligations", plan.slug], home))
        figures.cold = Result.of(colds)
    except CommandFailedError as exc:
        figures.cold = Result(error=str(exc))
    if deep:  # the raw rate right beside the verify runs: other load skews both alike
        figures.raw = raw_rate(default_workers())
    try:
        runs = [ws.run("verify", ["verify", plan.slug]) for _ in range(heavy)]
        figures.verify = Result.of(runs)
    except CommandFailedError as exc:
        figures.verify = Result(error=str(exc))
    if deep:
        figures.verify_inprocess = verify_inprocess(ws, plan.slug)
    return figures


def verify_inprocess(ws: Workspace, slug: str) -> float:
    """Entries/s of ``verify_stream`` on all cores, in this process (no start-up, no state)."""
    os.environ["ACCORD_HOME"] = str(ws.root / "inprocess-home")
    ledger = storage.open_ledger(ws.url)
    try:
        started = time.perf_counter()
        report = verify_stream(slug, ledger.iter_rows(slug), workers=default_workers())
        elapsed = time.perf_counter() - started
    finally:
        ledger.close()
    if not report.sound:
        PROBLEMS.append(f"{ws.store} {ws.size:,}: in-process verify: {report.problems[:2]}")
    return report.entries / elapsed


# --- printing ---------------------------------------------------------------------------------


def _cell(result: Result) -> str:
    if result.error is not None or result.seconds is None or result.mib is None:
        return "FAILED"
    return f"{result.seconds:.3f} s {result.mib:4.0f} MiB"


def _rate(size: int, result: Result) -> str:
    return f"{size / result.seconds:,.0f}/s" if result.seconds else "-"


def _missed(result: Result) -> list[str]:
    missed = []
    if result.seconds is not None and result.seconds > GOAL_SECONDS:
        missed.append(f">{GOAL_SECONDS:g} s")
    if result.mib is not None and result.mib > GOAL_MIB:
        missed.append(f">{GOAL_MIB} MiB")
    return missed


LABEL, COLUMN, RATIO = 30, 20, 15


def _row(label: str, cells: list[str], ratio: str = "", note: str = "") -> None:
    text = f"{label:<{LABEL}}" + "".join(f"{c:>{COLUMN}}" for c in cells)
    print(f"{text}{ratio:>{RATIO}}  {note}".rstrip())


def print_store(store: str, rows: list[SizeFigures], repeat: int, raw: float) -> None:
    """One table per store: import, cold start, verify, then every warm command."""
    first, last = rows[0], rows[-1]
    print()
    print(f"== {store} ==")
    _row(
        "",
        [f"{f.size:,} entries" for f in rows],
        f"{last.size:,}/{first.size:,}",
        f"goals missed at {last.size:,}",
    )
    _row("import (accord import FILE)", [_cell(f.import_) for f in rows])
    note = f"(goal >= {GOAL_IMPORT:,}/s at {last.size:,}; a small import is start-up)"
    if last.import_.seconds and last.size / last.import_.seconds < GOAL_IMPORT:
        note = f"<{GOAL_IMPORT:,}/s " + note
    _row("  entries/s", [_rate(f.size, f.import_) for f in rows], "", note)
    _row("cold start (fresh home)", [_cell(f.cold) for f in rows], _ratio(first.cold, last.cold))
    _row("verify SLUG", [_cell(f.verify) for f in rows])
    _row("  entries/s", [_rate(f.size, f.verify) for f in rows])
    _row(f"warm, median of {repeat}:", [])
    labels = list(last.commands or first.commands)
    for label in labels:
        a, b = first.commands.get(label, Result()), last.commands.get(label, Result())
        ratio = _ratio(a, b)
        missed = [] if label == "accord --version" else _missed(b)
        if a.seconds and b.seconds and b.seconds / a.seconds > GOAL_RATIO:
            missed.append(f">{GOAL_RATIO:g}x")
        cells = [_cell(f.commands.get(label, Result())) for f in rows]
        _row(label, cells, ratio, ", ".join(missed))
    _row("  report files written", [f"{f.report_mib:.1f} MiB" for f in rows])
    missed = _missed(last.pdf)
    if first.pdf.seconds and last.pdf.seconds and last.pdf.seconds / first.pdf.seconds > GOAL_RATIO:
        missed.append(f">{GOAL_RATIO:g}x")
    _row(
        "report --format pdf (1 run)",
        [_cell(f.pdf) for f in rows],
        _ratio(first.pdf, last.pdf),
        ", ".join(missed),
    )
    _row("  PDF written", [f"{f.pdf_mib:.1f} MiB" for f in rows])
    print(
        f"(times: wall clock of the whole process; memory: peak RSS (VmHWM) of its main process; "
        f"goals: under {GOAL_SECONDS:g} s and {GOAL_MIB} MiB, within {GOAL_RATIO:g}x of the "
        "smallest size)"
    )
    raw = last.raw or raw
    print(f"raw Ed25519 verify, all cores, measured just before: {raw:,.0f} signatures/s")
    if last.verify.seconds:
        rate = last.size / last.verify.seconds
        print(
            f"accord verify at {last.size:,}: {rate:,.0f} entries/s = {rate / raw:.0%} of the "
            f"raw rate (goal: {GOAL_VERIFY:.0%})"
        )
    if last.verify_inprocess:
        rate = last.verify_inprocess
        print(
            f"verify_stream in-process at {last.size:,}: {rate:,.0f} entries/s = "
            f"{rate / raw:.0%} of the raw rate (goal: {GOAL_VERIFY:.0%}; no start-up, no verified "
            "state written)"
        )


def _ratio(a: Result, b: Result) -> str:
    return f"{b.seconds / a.seconds:.2f}x" if a.seconds and b.seconds else "-"


# --- verify --all -----------------------------------------------------------------------------


def verify_all(root: Path, projects: int, entries: int, repeat: int) -> None:
    directory = root / "many"
    directory.mkdir()
    path = directory / "many.db"
    started = time.perf_counter()
    build_many(path, projects, entries)
    built = time.perf_counter() - started
    ws = Workspace("sqlite", projects * entries, directory, str(path), directory / "home")
    print()
    print(f"== verify --all: {projects:,} projects of {entries} entries on sqlite ==")
    print(f"built in {built:.1f} s ({projects * entries:,} entries)")
    try:
        first = ws.run("verify --all", ["verify", "--all"])  # ws.home is fresh
        _row("verify --all, fresh home", [_cell(Result.of([first]))])
        again = [ws.run("verify --all", ["verify", "--all"]) for _ in range(repeat)]
        result = Result.of(again)
        goal = f"(goal: under {GOAL_ALL:g} s)"
        _row(f"verify --all, median of {repeat}", [_cell(result)], "", goal)
        listing = [ws.run("project list", ["project", "list"]) for _ in range(repeat)]
        _row(f"project list, median of {repeat}", [_cell(Result.of(listing))])
        cold = ws.run("project list", ["project", "list"], directory / "cold-home")
        _row("project list, fresh home", [_cell(Result.of([cold]))])
        sound = again[-1].out.count(": sound,")
        if sound != projects:
            PROBLEMS.append(f"verify --all reported {sound} sound projects, not {projects}")
        if (result.seconds or 0) > GOAL_ALL:
            print(f"  goal missed: verify --all took more than {GOAL_ALL:g} s")
    except CommandFailedError as exc:
        print(f"verify --all FAILED: {exc}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- main -------------------------------------------------------------------------------------


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(done.stderr)
    return done.stdout.strip()


def _code_version() -> str:
    """The commit under test, and whether the work tree differs from it (for the record)."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "ledger", "commands", "projections")
    except OSError:
        return "unknown (no git)"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="entries per project")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite and/or postgres")
    parser.add_argument(
        "--shapes",
        default="mixed,many-pledges",
        help="mixed (30 pledges, many decisions each), many-pledges (a pledge every 3 entries)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--projects", type=int, default=1000, help="projects for verify --all")
    parser.add_argument("--project-entries", type=int, default=10, help="entries per project")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200,1000 sqlite x1")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.stores, args.repeat, args.projects = "200,1000", "sqlite", 1, 50
    sizes = sorted(_ints(args.sizes))
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if not sizes or any(s not in ("sqlite", "postgres") for s in stores) or args.repeat < 1:
        parser.error("give sizes, stores among sqlite,postgres and --repeat >= 1")
    if not shapes or any(s not in SHAPES for s in shapes):
        parser.error(f"give shapes among {','.join(SHAPES)}")
    reserve = args.repeat + 1
    workers = default_workers()
    print(f"load average at start: {_load()} (other processes on this machine skew timings)")
    print(f"code under test: {_code_version()}")
    print(
        f"cores: {workers}; sizes: {', '.join(f'{s:,}' for s in sizes)}; stores: "
        f"{', '.join(stores)}; shapes: {', '.join(shapes)}; repeat: {args.repeat}; "
        f"accord: {sys.executable} -c WRAPPER"
    )
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        root = Path(tmp)
        bundles: dict[tuple[str, int], tuple[Path, Plan]] = {}
        for shape in shapes:
            for size in sizes:
                started = time.perf_counter()
                b, plan = generate(SLUG, size, reserve=reserve, shape=shape)
                path = root / f"bench-{shape}-{size}.accord"
                write_bundle(path, b)
                del b
                mix = ", ".join(f"{k} {v}" for k, v in plan.kinds.most_common())
                seconds = time.perf_counter() - started
                print(f"generated {shape} {size:,} entries in {seconds:.1f} s: {mix}")
                home = root / f"bundle-home-{shape}-{size}"
                checker = Workspace("bundle", size, root, "unused.db", home)
                try:
                    sample = checker.run("verify --bundle", ["verify", "--bundle", str(path)])
                    print(
                        f"  accord verify --bundle: {sample.out.strip()} ({sample.seconds:.2f} s)"
                    )
                except CommandFailedError as exc:
                    print(f"  accord verify --bundle FAILED: {exc}")
                    return 1
                bundles[(shape, size)] = (path, plan)
        raw = raw_rate(workers)
        print(f"raw Ed25519 verify, {workers} cores: {raw:,.0f} signatures/s")
        for shape in shapes:
            for store in stores:
                figures: list[SizeFigures] = []
                for size in sizes:
                    ws = open_workspace(store, size, root)
                    try:
                        path, plan = bundles[(shape, size)]
                        deep = size == sizes[-1] and shape == shapes[0]
                        figures.append(measure(ws, plan, path, args.repeat, deep=deep))
                    finally:
                        close_workspace(ws)
                print_store(f"{store}, {shape}", figures, args.repeat, raw)
        verify_all(root, args.projects, args.project_entries, args.repeat)
    print()
    print(f"load average at the end: {_load()}")
    print(f"code under test at the end: {_code_version()}")
    if PROBLEMS:
        print("problems:")
        for problem in PROBLEMS:
            print(f"  {problem}")
        return 1
    print("problems: none")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
