"""The relay under load: appends/s and latency with concurrent writers, and a CLI write's cost.

For each configuration (SQLite or PostgreSQL store, one or two ``accord relay serve``
processes on 127.0.0.1) it starts real relays on free loopback ports (rate limit off), then
``--writers`` threads post signed entries over ``--projects`` projects until ``--appends``
appends are stored or ``--timeout`` seconds pass. Entries are signed here with fixed-seed
keys (``ledger.entry.sign``, as ``ledger/application.py`` signs them), one entry per request:
the proposal to ``POST /v1/projects``, every later entry to ``POST /v1/projects/{slug}/entries``.
A writer signs against the head it last saw for the project (shared by the writers); on 409 it
reads the tree size from the checkpoint of the 409 body, fetches the head entry with a
member-signed ``GET .../entries``, re-signs and retries. An append's latency runs from its
first attempt to its 201, retries included. Two relay processes share the same store (one
PostgreSQL schema, or one SQLite file) and the same relay home (hence the same key); writers
alternate between them. The PostgreSQL schema is created with ``accord init --ledger URL``
and dropped at the end; the relays are stopped by this script.

Then the cost of a CLI write through a remote: the median wall time of ``accord statement
propose`` on a local SQLite ledger, and on a ledger whose one remote is a relay (SQLite) on
127.0.0.1 (``accord remote add``): the difference is what the relay costs one command.

Beside the relay's figures, what PostgreSQL itself allows on this machine (``--ceiling``
seconds per mode, 0 to skip): ``--writers`` connections inserting, with no relay in between,
rows of the size the PostgreSQL run stored (the average ``state`` of its events table), two
rows per append (the entry event and the relay-log event, as an append writes them): one
commit per append with row locks only, one commit per append with the table locked
``IN EXCLUSIVE MODE`` first (as eventsourcing does before every insert, so that notification
ids follow commit order), and the same with 16 appends per commit (group commit).

Goals: 1,000 appends/s on PostgreSQL, p99 < 100 ms, a CLI write at most 0.15 s slower.

Run: python benchmarks/relay_benchmark.py [--appends 2000] [--writers 8] [--projects 16]
         [--stores sqlite,postgres] [--processes 1,2] [--cli-runs 5] [--timeout 120]
         [--ceiling 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from command_benchmark import (
    PASSPHRASE,
    POSTGRES_URL,
    _code_version,
    _load,
    _pg_admin,
    import_keys,
    run,
    signers,
)

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.keys import Signer
from relay.client import RelayClient
from relay.note import parse_checkpoint, parse_note

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this benchmark ever sends to
NDJSON = {"Content-Type": "application/x-ndjson"}
GOAL_RATE, GOAL_P99_MS, GOAL_CLI_SECONDS = 1000.0, 100.0, 0.15
GENESIS_PREV = "0" * 64
STATEMENT = "The members agree on this statement, posted by the relay benchmark."


# --- relay processes --------------------------------------------------------------------------


class Served:
    """A running ``accord relay serve`` process on a free loopback port (as tests/relay)."""

    def __init__(self, ledger: str, home: Path, threads: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env["PYTHONPATH"] = str(ROOT)
        args = ["relay", "serve", "--ledger", ledger, "--host", HOST, "--port", "0"]
        args += ["--home", str(home), "--threads", str(threads), "--rate", "0"]
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_for_address()
        self._wait_healthy()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if len(self.lines) < 200:  # the per-request log lines are not kept beyond that
                self.lines.append(line.rstrip("\n"))

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(r"listening on (http://\S+)", line)
                if found:
                    url = found.group(1)
                    if not url.startswith(f"http://{HOST}:"):
                        self.stop()
                        raise RuntimeError(f"the relay listens on {url}, not on {HOST}")
                    return url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the relay did not start:\n" + "\n".join(self.lines))

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the relay never became healthy")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)


# --- the load generator -----------------------------------------------------------------------


def rows_body(entry: entry_mod.SignedEntry) -> bytes:
    return (json.dumps({"entry": entry.text, "sig": entry.sig, "hash": entry.hash}) + "\n").encode()


def sign(
    slug: str, signer: Signer, seq: int, prev: str, kind: str, body: dict[str, Any]
) -> entry_mod.SignedEntry:
    data = {
        "v": fmt.VERSION,
        "project": slug,
        "seq": seq,
        "prev": prev,
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": fmt.format_time(datetime.now(UTC)),
        "body": body,
    }
    return entry_mod.sign(data, signer.private_key)


@dataclass
class Head:
    seq: int
    hash: str
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Figures:
    """What one configuration measured."""

    label: str
    appends: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per append, retries included
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    relay_cpu: float = 0.0  # CPU seconds of the relay processes during the run
    client_cpu: float = 0.0  # CPU seconds of this process (the writers) during the run
    row_bytes: int = 0  # PostgreSQL: the average size of a stored event's state

    @property
    def rate(self) -> float:
        return self.appends / self.seconds if self.seconds else 0.0

    def per_append_ms(self, seconds: float) -> float:
        return seconds / self.appends * 1000 if self.appends else float("nan")

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def setup_projects(url: str, count: int, keys: dict[str, Signer]) -> dict[str, Head]:
    """``count`` projects of acme with burgerco (joined), posted one entry per request."""
    acme, burgerco = keys["acme"], keys["burgerco"]
    heads: dict[str, Head] = {}
    run_tag = f"{os.getpid()}-{int(time.time())}"
    with httpx.Client(base_url=url, timeout=30) as http:
        for n in range(count):
            slug = f"load-{run_tag}-{n:03d}"
            genesis = sign(
                slug,
                acme,
                1,
                GENESIS_PREV,
                "project.proposed",
                {
                    "title": f"Load {n}",
                    "purpose": "The relay benchmark.",
                    "approval": "all",
                    "close": "all",
                    "members": [
                        {"handle": "acme", "key": acme.fingerprint},
                        {"handle": "burgerco", "key": burgerco.fingerprint},
                    ],
                    "public_key": acme.public_key_line,
                },
            )
            answer = http.post("/v1/projects", content=rows_body(genesis), headers=NDJSON)
            if answer.status_code != 201:
                raise RuntimeError(f"POST /v1/projects: {answer.status_code} {answer.text}")
            terms = _terms(slug, genesis)
            join = sign(
                slug,
                burgerco,
                2,
                genesis.hash,
                "member.joined",
                {"terms": terms, "public_key": burgerco.public_key_line},
            )
            answer = http.post(
                f"/v1/projects/{slug}/entries", content=rows_body(join), headers=NDJSON
            )
            if answer.status_code != 201:
                raise RuntimeError(f"POST join: {answer.status_code} {answer.text}")
            heads[slug] = Head(2, join.hash)
    return heads


def _terms(slug: str, genesis: entry_mod.SignedEntry) -> str:
    from ledger import rules

    state = rules.new_state(slug)
    rules.apply(state, genesis, unsafe_skip_signature=True)
    return state.terms


class Writer(threading.Thread):
    """Posts statements to random projects until the shared budget is spent or time is up."""

    def __init__(self, n: int, urls: list[str], heads: dict[str, Head], budget: Budget) -> None:
        super().__init__(daemon=True)
        self.url = urls[n % len(urls)]
        self.heads = heads
        self.budget = budget
        self.rng = random.Random(n)
        self.keys = signers()
        self.latencies: list[float] = []
        self.conflicts = 0
        self.errors: list[str] = []

    def run(self) -> None:
        http = httpx.Client(base_url=self.url, timeout=30)
        reader = RelayClient(self.url, self.keys["acme"], timeout=30)
        slugs = sorted(self.heads)
        try:
            while self.budget.take():
                slug = self.rng.choice(slugs)
                try:
                    self.latencies.append(self.append(http, reader, slug))
                except Exception as exc:  # recorded and reported
                    self.errors.append(f"{slug}: {exc}")
                    if len(self.errors) > 20:
                        return
        finally:
            http.close()
            reader.close()

    def append(self, http: httpx.Client, reader: RelayClient, slug: str) -> float:
        head = self.heads[slug]
        signer = self.keys["acme" if self.rng.random() < 0.5 else "burgerco"]
        started = time.perf_counter()
        seq, prev = head.seq, head.hash
        for _attempt in range(50):
            if self.budget.expired():
                raise TimeoutError("the run's timeout passed")
            body = {"title": f"S{seq + 1}", "text": STATEMENT}
            item = sign(slug, signer, seq + 1, prev, "statement.proposed", body)
            answer = http.post(
                f"/v1/projects/{slug}/entries", content=rows_body(item), headers=NDJSON
            )
            if answer.status_code in (200, 201):
                elapsed = time.perf_counter() - started
                with head.lock:
                    if item.seq > head.seq:
                        head.seq, head.hash = item.seq, item.hash
                return elapsed
            if answer.status_code != 409:
                raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")
            self.conflicts += 1
            note = answer.json()["checkpoint"]
            size = parse_checkpoint(parse_note(note).text).size
            # the head, member-signed GET
            last = reader.entries(slug, after=size - 1, upto=size)[-1]
            seq, prev = last.seq, last.hash
            with head.lock:
                if seq > head.seq:
                    head.seq, head.hash = seq, prev
        raise RuntimeError("50 conflicts in a row")


class Budget:
    """The appends left to make, and the deadline of the run."""

    def __init__(self, appends: int, timeout: float) -> None:
        self.left = appends
        self.deadline = time.monotonic() + timeout
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or self.expired():
                return False
            self.left -= 1
            return True

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(label: str, relays: list[Served], args: argparse.Namespace) -> Figures:
    figures = Figures(label)
    urls = [relay.url for relay in relays]
    heads = setup_projects(urls[0], args.projects, signers())
    budget = Budget(args.appends, args.timeout)
    writers = [Writer(n, urls, heads, budget) for n in range(args.writers)]
    relay_cpu = sum(cpu_seconds(relay.process.pid) for relay in relays)
    client_cpu = time.process_time()
    started = time.perf_counter()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(args.timeout + 60)
    figures.seconds = time.perf_counter() - started
    figures.client_cpu = time.process_time() - client_cpu
    figures.relay_cpu = sum(cpu_seconds(relay.process.pid) for relay in relays) - relay_cpu
    for writer in writers:
        figures.latencies.extend(writer.latencies)
        figures.conflicts += writer.conflicts
        figures.errors.extend(writer.errors)
    figures.appends = len(figures.latencies)
    if figures.appends < args.appends:
        figures.errors.append(f"only {figures.appends} of {args.appends} appends were stored")
    return figures


# --- configurations ---------------------------------------------------------------------------


def accord(args: list[str], env: dict[str, str], cwd: Path) -> str:
    sample = run(args, env, cwd)
    if sample.code != 0:
        raise RuntimeError(f"accord {' '.join(args)}: exit {sample.code}: {sample.err.strip()}")
    return sample.out


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(ACCORD_HOME=str(home), ACCORD_PASSPHRASE=PASSPHRASE, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = str(ROOT)
    return env


def configuration(store: str, processes: int, root: Path, args: argparse.Namespace) -> Figures:
    label = f"{store}, {processes} relay process{'es' if processes > 1 else ''}"
    directory = root / f"{store}-{processes}"
    directory.mkdir()
    schema = None
    if store == "sqlite":
        url = str(directory / "relay.db")
    else:
        schema = f"relay_bench_{os.getpid()}_{processes}"
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        url = f"{POSTGRES_URL}?schema={schema}"
        accord(["init", "--ledger", url], base_env(directory / "home"), directory)
    relays: list[Served] = []
    try:
        for _ in range(processes):  # the first creates the key in the home, the others load it
            relays.append(Served(url, directory / "relay-home", args.threads))
        figures = load(label, relays, args)
        if schema is not None:
            figures.row_bytes = stored_row_bytes(schema)
        return figures
    except Exception as exc:  # one configuration failing does not stop the rest
        return Figures(label, errors=[f"{type(exc).__name__}: {exc}"])
    finally:
        for relay in relays:
            relay.stop()
        if schema is not None:
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- what PostgreSQL allows on this machine ----------------------------------------------------

CEILING_BATCH = 16  # appends per commit in the group-commit mode
ROWS_PER_APPEND = 2  # the entry event and the relay-log event


def stored_row_bytes(schema: str) -> int:
    """The average size of the ``state`` of the events stored in ``schema`` (0 if none)."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = %s "
            "AND column_name = 'state' AND table_name LIKE '%%events'",
            (schema,),
        ).fetchall()
        sizes = []
        for (table,) in tables:
            row = conn.execute(
                f'SELECT avg(octet_length(state)), count(*) FROM "{schema}"."{table}"'
            ).fetchone()
            if row and row[1]:
                sizes.append((float(row[0]), int(row[1])))
    total = sum(n for _, n in sizes)
    return round(sum(a * n for a, n in sizes) / total) if total else 0


@dataclass
class Ceiling:
    label: str
    appends: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per commit
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.appends / self.seconds if self.seconds else 0.0


def insert_ceiling(
    label: str, *, writers: int, seconds: float, row_bytes: int, lock: bool, batch: int
) -> Ceiling:
    """``writers`` connections inserting ``batch`` appends per commit for ``seconds``."""
    import psycopg

    figures = Ceiling(label)
    schema = f"relay_ceiling_{os.getpid()}"
    table = f'"{schema}"."events"'
    _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    _pg_admin(  # the columns and keys of eventsourcing's stored events table
        f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
        "topic text, state bytea, notification_id bigserial, "
        "PRIMARY KEY (originator_id, originator_version))"
    )
    _pg_admin(f"CREATE UNIQUE INDEX ON {table} (notification_id)")
    state = os.urandom(max(1, row_bytes))
    insert = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s) RETURNING notification_id"
    )
    lock_statement = f"LOCK TABLE {table} IN EXCLUSIVE MODE"
    counts = [0] * writers
    lock_guard = threading.Lock()
    deadline = [0.0]

    def work(n: int) -> None:
        import uuid

        try:
            with psycopg.connect(POSTGRES_URL, connect_timeout=5) as conn:
                ids = [uuid.uuid4() for _ in range(64)]
                version = 0
                while time.perf_counter() < deadline[0]:
                    started = time.perf_counter()
                    with conn.transaction(), conn.cursor() as cur:
                        if lock:
                            cur.execute(lock_statement)
                        version += 1
                        rows = [
                            (ids[(i * ROWS_PER_APPEND + r) % len(ids)], version, "bench", state)
                            for i in range(batch)
                            for r in range(ROWS_PER_APPEND)
                        ]
                        cur.executemany(insert, rows, returning=True)
                    counts[n] += batch
                    with lock_guard:
                        figures.latencies.append(time.perf_counter() - started)
        except Exception as exc:  # reported, not raised: the other modes still run
            figures.error = f"{type(exc).__name__}: {exc}"

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
        started = time.perf_counter()
        deadline[0] = started + seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 60)
        figures.seconds = time.perf_counter() - started
        figures.appends = sum(counts)
    finally:
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return figures


def print_ceilings(writers: int, seconds: float, row_bytes: int) -> list[str]:
    """Run and print the insert ceilings; return their errors."""
    print()
    print(
        f"== what PostgreSQL allows here: {writers} connections, {ROWS_PER_APPEND} rows of "
        f"{row_bytes:,} bytes per append, {seconds:.0f} s per mode, no relay =="
    )
    print(f"{'mode':<54}{'appends/s':>11}{'p50 ms':>9}{'p99 ms':>9}  goal")
    problems = []
    modes = [
        ("one commit per append, row locks only", False, 1),
        ("one commit per append, table locked (eventsourcing)", True, 1),
        (f"{CEILING_BATCH} appends per commit, table locked", True, CEILING_BATCH),
    ]
    for label, lock, batch in modes:
        found = insert_ceiling(
            label, writers=writers, seconds=seconds, row_bytes=row_bytes, lock=lock, batch=batch
        )
        if found.error:
            problems.append(f"ceiling, {label}: {found.error}")
        lat = sorted(found.latencies) or [float("nan")]
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        verdict = "above" if found.rate >= GOAL_RATE else "below"
        print(
            f"{label:<54}{found.rate:>11,.0f}{p50:>9.1f}{p99:>9.1f}  {verdict} {GOAL_RATE:,.0f}/s"
        )
    return problems


# --- a CLI command through a remote -----------------------------------------------------------


@dataclass
class CliFigures:
    local: float = 0.0
    remote: float = 0.0
    error: str | None = None


def cli_cost(root: Path, runs: int, threads: int) -> CliFigures:
    """Median ``accord statement propose`` on a local ledger and through a relay remote."""
    directory = root / "cli"
    directory.mkdir()
    home = directory / "home"
    env = base_env(home)
    relay = Served(str(directory / "relay.db"), directory / "relay-home", threads)
    try:

        class _Ws:  # what import_keys needs of a command_benchmark Workspace
            def __init__(self) -> None:
                self.root = directory

            def run(self, what: str, argv: list[str], home: Path | None = None) -> None:
                accord(argv, env, directory)

        import_keys(_Ws(), home)  # type: ignore[arg-type]
        local, remote = str(directory / "local.db"), str(directory / "remote.db")
        for ledger in (local, remote):
            accord(["init", "--ledger", ledger], env, directory)
        accord(["remote", "add", "hub", relay.url, "--ledger", remote], env, directory)
        for ledger in (local, remote):
            burgerco = signers()["burgerco"].fingerprint
            accord(
                ["project", "propose", "cli-bench", "--title", "CLI", "--member",
                 f"burgerco={burgerco}", "--as", "acme", "--ledger", ledger],
                env, directory,
            )  # fmt: skip
            accord(["project", "join", "cli-bench", "--as", "burgerco", "--ledger", ledger],
                   env, directory)  # fmt: skip
        times: dict[str, list[float]] = {local: [], remote: []}
        for n in range(runs + 1):  # the first run of each is untimed
            for ledger in (local, remote):
                argv = ["statement", "propose", "cli-bench", "--title", f"CLI {n}",
                        "--text", STATEMENT, "--as", "acme", "--ledger", ledger]  # fmt: skip
                sample = run(argv, env, directory)
                if sample.code != 0:
                    raise RuntimeError(f"statement propose: exit {sample.code}: {sample.err}")
                if n:
                    times[ledger].append(sample.seconds)
        return CliFigures(statistics.median(times[local]), statistics.median(times[remote]))
    except Exception as exc:  # reported with the figures
        return CliFigures(error=f"{type(exc).__name__}: {exc}")
    finally:
        relay.stop()


# --- printing ---------------------------------------------------------------------------------


HEADER = (
    f"{'configuration':<30}{'appends':>9}{'seconds':>9}{'appends/s':>11}"
    f"{'p50 ms':>9}{'p99 ms':>9}{'409s':>7}{'relay CPU':>11}{'client CPU':>12}  goals missed"
)


def print_figures(figures: Figures) -> list[str]:
    missed = []
    if figures.errors:
        missed.append("errors")
    if figures.label.startswith("postgres") and figures.rate < GOAL_RATE:
        missed.append(f"< {GOAL_RATE:,.0f} appends/s")
    p99 = figures.percentile(99)
    if not p99 < GOAL_P99_MS:
        missed.append(f"p99 >= {GOAL_P99_MS:.0f} ms")
    print(
        f"{figures.label:<30}{figures.appends:>9,}{figures.seconds:>9.1f}{figures.rate:>11,.0f}"
        f"{figures.percentile(50):>9.1f}{p99:>9.1f}{figures.conflicts:>7,}"
        f"{figures.per_append_ms(figures.relay_cpu):>8.1f} ms"
        f"{figures.per_append_ms(figures.client_cpu):>9.1f} ms  "
        f"{', '.join(missed) or 'none'}"
    )
    for error in figures.errors[:5]:
        print(f"  error: {error}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000, help="appends per configuration")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer threads")
    parser.add_argument("--projects", type=int, default=16, help="projects written to")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite and/or postgres")
    parser.add_argument("--processes", default="1,2", help="relay processes per configuration")
    parser.add_argument("--threads", type=int, default=4, help="worker threads per relay")
    parser.add_argument("--cli-runs", type=int, default=5, help="timed runs per CLI command")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per configuration")
    parser.add_argument(
        "--ceiling", type=float, default=3.0, help="seconds per PostgreSQL insert mode (0: none)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: sqlite, 100 appends")
    args = parser.parse_args()
    if args.quick:
        args.appends, args.stores, args.processes, args.cli_runs = 100, "sqlite", "1,2", 1
        args.writers, args.projects, args.timeout = 4, 4, 60.0
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    processes = [int(p) for p in args.processes.split(",") if p.strip()]
    if any(s not in ("sqlite", "postgres") for s in stores) or not processes or args.appends < 1:
        parser.error("give stores among sqlite,postgres, --processes and --appends >= 1")
    print(f"load average at start: {_load()} (other processes on this machine skew timings)")
    print(f"code under test: {_code_version()}")
    print(
        f"cores: {os.cpu_count()}; appends per configuration: {args.appends:,}; writers: "
        f"{args.writers}; projects: {args.projects}; relay threads: {args.threads}; "
        f"timeout: {args.timeout:.0f} s; relays on {HOST}, load generator in this process"
    )
    print(
        "per configuration: wall seconds, appends/s, latency of an append (first attempt to its "
        "201), 409 answers, and CPU per append of the relay processes and of the writers"
    )
    print(
        f"goals: {GOAL_RATE:,.0f} appends/s on PostgreSQL, p99 < {GOAL_P99_MS:.0f} ms, "
        f"a CLI write through a remote at most +{GOAL_CLI_SECONDS:.2f} s"
    )
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="accord-relay-bench-") as tmp:
        root = Path(tmp)
        print()
        print("== appends through the relay ==")
        print(HEADER)
        row_bytes = 0
        for store in stores:
            for count in processes:
                figures = configuration(store, count, root, args)
                print_figures(figures)
                problems.extend(f"{figures.label}: {e}" for e in figures.errors)
                row_bytes = figures.row_bytes or row_bytes
        if "postgres" in stores and args.ceiling > 0:
            problems.extend(print_ceilings(args.writers, args.ceiling, row_bytes or 1024))
        print()
        print(f"== a CLI write through a remote, median of {args.cli_runs} ==")
        cli = cli_cost(root, args.cli_runs, args.threads)
        if cli.error:
            print(f"  error: {cli.error}")
            problems.append(f"CLI: {cli.error}")
        else:
            extra = cli.remote - cli.local
            verdict = "met" if extra <= GOAL_CLI_SECONDS else "MISSED"
            print(f"{'statement propose, local SQLite':<40}{cli.local:>9.3f} s")
            print(f"{'statement propose, through a relay':<40}{cli.remote:>9.3f} s")
            print(
                f"{'difference':<40}{extra:>+9.3f} s  (goal: at most +{GOAL_CLI_SECONDS:.2f} s: "
                f"{verdict})"
            )
    print()
    print(f"load average at the end: {_load()}")
    if problems:
        print("problems:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("problems: none")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
