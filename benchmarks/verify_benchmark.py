"""Verify throughput against the machine's raw Ed25519 rate, and peak memory.

Builds a project of N entries (default 100,000) in a temporary SQLite ledger, then measures
in one run:

* the raw Ed25519 verification rate of all cores together (one process per core, each
  verifying signatures in a tight loop with the same library accord uses);
* `accord verify`'s throughput (entries/s) on that ledger, streaming from the store with
  signature checks spread over all cores;
* the CPU time per entry of the verifier's main process and of its workers, beside the CPU
  time of one raw verification: their ratio is the share of the raw rate the verifier reaches
  at best with every core busy, a figure that other load on the machine does not skew;
* the peak memory (max RSS) of a process that only verifies, for N and for N/5 entries, to
  show that memory does not grow with the log.

Run: python benchmarks/verify_benchmark.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import rules, storage
from ledger.application import Ledger
from ledger.fold import default_workers, verify_stream
from ledger.keys import Signer
from ledger.project import Project

SLUG = "bench"


def _signer(handle: str, seed: int) -> Signer:
    key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return Signer(handle=handle, key_name=handle, private_key=key)


def build(path: Path, entries: int) -> float:
    """Create a valid project of ``entries`` entries; return the seconds it took."""
    started = time.perf_counter()
    acme, burgerco = _signer("acme", 1), _signer("burgerco", 2)
    ledger = Ledger(storage.settings(str(path)))
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    state = rules.new_state(SLUG)
    project: Project | None = None

    def add(kind: str, signer: Signer, body: dict[str, object]) -> None:
        nonlocal project, clock
        clock += timedelta(seconds=10)
        data = {
            "v": 1, "project": SLUG, "seq": state.seq + 1, "prev": state.head, "type": kind,
            "by": signer.handle, "key": signer.fingerprint, "at": fmt.format_time(clock),
            "body": body,
        }  # fmt: skip
        item = entry_mod.sign(data, signer.private_key)
        if project is None:
            project = Project.propose(item)
            rules.apply(state, item)
        else:
            project.append(item, state=state)

    add("project.proposed", acme, {
        "title": "Benchmark", "purpose": "", "approval": "all", "close": "all",
        "members": [
            {"handle": "acme", "key": acme.fingerprint},
            {"handle": "burgerco", "key": None},
        ],
        "public_key": acme.public_key_line,
    })  # fmt: skip
    add("member.joined", burgerco, {"terms": state.terms, "public_key": burgerco.public_key_line})
    while state.seq < entries:
        cycle = state.seq % 3
        if cycle == 2:
            add("pledge.made", acme, {
                "title": f"Task {state.seq}", "weight": "2", "unit": "hours",
                "due": "2026-12-31", "beneficiaries": ["burgerco"],
            })  # fmt: skip
        elif cycle == 0:
            add("deliverable.submitted", acme, {
                "pledge": state.seq, "summary": "done", "quantity": "2", "evidence": [],
            })  # fmt: skip
        else:
            target = state.seq
            add("approval.given", burgerco, {
                "target": target, "target_hash": state.head, "comment": "",
            })  # fmt: skip
    assert project is not None
    ledger.save(project)
    ledger.close()
    return time.perf_counter() - started


def _raw_worker(count: int) -> int:
    key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    public = key.public_key()
    message = b"accord/entry/v1\n" + b"x" * 300
    signature = key.sign(message)
    for _ in range(count):
        public.verify(signature, message)
    return count


def raw_rate(workers: int, per_worker: int = 40_000) -> float:
    """Ed25519 verifications per second, all cores together."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_raw_worker, [1000] * workers))  # warm up the processes
        started = time.perf_counter()
        total = sum(pool.map(_raw_worker, [per_worker] * workers))
        return total / (time.perf_counter() - started)


def _cpu() -> tuple[float, float]:
    """CPU seconds (user and system) of this process, and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def raw_cpu(count: int = 20_000) -> float:
    """CPU seconds of one raw Ed25519 verification, in a worker process as verify's are."""
    _, before = _cpu()
    with ProcessPoolExecutor(1) as pool:
        total = pool.submit(_raw_worker, count).result()
    _, after = _cpu()
    return (after - before) / total


def verify_cpu(path: Path, workers: int) -> tuple[float, float]:
    """CPU seconds per entry of accord's verifier: its main process, and its workers."""
    ledger = storage.open_ledger(str(path))
    main_before, workers_before = _cpu()
    report = verify_stream(SLUG, ledger.iter_rows(SLUG), workers=workers)
    main_after, workers_after = _cpu()  # the pool has ended: its processes are counted
    ledger.close()
    if not report.sound:
        raise SystemExit(f"benchmark ledger did not verify: {report.problems[:3]}")
    return (
        (main_after - main_before) / report.entries,
        (workers_after - workers_before) / report.entries,
    )


def verify_rate(path: Path, workers: int) -> tuple[float, int]:
    """Entries verified per second by accord's verifier on the ledger at ``path``."""
    ledger = storage.open_ledger(str(path))
    started = time.perf_counter()
    report = verify_stream(SLUG, ledger.iter_rows(SLUG), workers=workers)
    elapsed = time.perf_counter() - started
    ledger.close()
    if not report.sound:
        raise SystemExit(f"benchmark ledger did not verify: {report.problems[:3]}")
    return report.entries / elapsed, report.entries


def peak_memory_mib(path: Path, workers: int) -> float:
    """Peak RSS (MiB, VmHWM) of a fresh process that verifies the ledger at ``path``.

    VmHWM, unlike ru_maxrss, starts afresh at exec, so the parent's size does not leak in.
    """
    code = (
        "import sys\n"
        "from ledger import storage\n"
        "from ledger.fold import verify_stream\n"
        f"ledger = storage.open_ledger({str(path)!r})\n"
        f"report = verify_stream({SLUG!r}, ledger.iter_rows({SLUG!r}), workers={workers})\n"
        "assert report.sound\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "print(int(status.split()[0]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def peak_memory_idle_mib() -> float:
    """Peak RSS (MiB) of a fresh process that only imports the verifier, for reference."""
    code = (
        "import ledger.storage, ledger.fold\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "print(int(status.split()[0]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    workers = default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.db", Path(tmp) / "small.db"
        print(f"cores: {workers}")
        print(f"building {args.entries} entries ... ", end="", flush=True)
        print(f"{build(big, args.entries):.1f} s")
        build(small, max(args.entries // 5, 10))
        raw = raw_rate(workers)
        print(f"raw Ed25519 verify, {workers} cores: {raw:,.0f} signatures/s")
        rate, count = verify_rate(big, workers)
        print(f"accord verify ({count} entries, {workers} workers): {rate:,.0f} entries/s")
        print(f"  = {rate / raw:.0%} of the raw rate (goal: 80%)")
        main_cpu, workers_cpu = verify_cpu(big, workers)
        one = raw_cpu()
        total = main_cpu + workers_cpu
        print(
            f"CPU per entry: main process {main_cpu * 1e6:.0f} us + workers "
            f"{workers_cpu * 1e6:.0f} us = {total * 1e6:.0f} us; one raw verification "
            f"{one * 1e6:.0f} us"
        )
        print(f"  = {one / total:.0%} of the raw rate at best, every core busy (goal: 80%)")
        single, _ = verify_rate(big, 1)
        print(f"accord verify in one process: {single:,.0f} entries/s")
        for label, path in ((args.entries // 5, small), (args.entries, big)):
            print(
                f"peak memory verifying {label} entries: {peak_memory_mib(path, workers):.0f} MiB"
            )
        idle = peak_memory_idle_mib()
        print(f"(a process that only imports accord: {idle:.0f} MiB)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
