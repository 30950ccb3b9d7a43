"""``accord web``: page render times at 1k and 100k entries, and the server's memory.

For each size it generates the same signed project as ``command_benchmark.py`` (a proposal,
joins, pledges, deliverables with approvals, statements), imports it with the real CLI into
a SQLite ledger, starts a real ``accord web`` process (read-only, as acme; no remote, so no
relay traffic is timed), and times each page over HTTP on loopback: ``--repeat`` requests
after one untimed request, p50 and p95. The server's peak RSS (VmHWM) is read from /proc.

Goals (issue 17): p95 under 150 ms at 100k entries, and within 1.5x of the 1k figure.

Run: python benchmarks/web_benchmark.py [--sizes 1000,100000] [--repeat 30] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from command_benchmark import (
    Workspace,
    generate,
    import_keys,
    open_workspace,
    write_bundle,
)

GOAL_P95_MS, GOAL_RATIO = 150.0, 1.5
FRESH_RUNS = 4  # renders timed right after a new entry (of the plan's unsigned statements)


def pages(slug: str, entries: int, statement: int) -> list[tuple[str, str]]:
    """The pages timed: (label, path)."""
    return [
        ("dashboard", "/"),
        ("project", f"/p/{slug}"),
        ("obligations", f"/p/{slug}/obligations"),
        ("statements", f"/p/{slug}/statements"),
        ("values", f"/p/{slug}/values"),
        ("disputes", f"/p/{slug}/disputes"),
        ("trail (newest page)", f"/p/{slug}/trail"),
        ("entry (the head)", f"/p/{slug}/entry/{entries}"),
        ("entry (a statement)", f"/p/{slug}/entry/{statement}"),
        ("api/head", "/api/head"),
        ("contributions", f"/p/{slug}/contributions"),
        ("trail (filtered)", f"/p/{slug}/trail?party=burgerco&type=statement.signed"),
    ]


class Server:
    """A real ``accord web`` process over the workspace, as acme."""

    def __init__(self, ws: Workspace) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", "web", "--as", "acme", "--port", "0"],
            env={**ws.env(), "PYTHONUNBUFFERED": "1"},
            cwd=ws.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 600
        self.url = ""
        while not self.url and time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)
                if found:
                    self.url, self.token = found.group(1), found.group(2)
            if self.process.poll() is not None:
                raise SystemExit("accord web did not start:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def memory_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(size: int, repeat: int, root: Path) -> tuple[dict[str, tuple[float, float]], float]:
    """Import a project of ``size`` entries; time every page; return (figures, MiB)."""
    ws = open_workspace("sqlite", size, root)
    builder, plan = generate("bench", size, reserve=2 * FRESH_RUNS)
    bundle_path = ws.root / "bench.bundle"
    write_bundle(bundle_path, builder)
    import_keys(ws, ws.home)
    ws.run("init", ["init", "--ledger", ws.url])
    ws.run("import", ["import", str(bundle_path), "--ledger", ws.url])
    ws.run("warm-up read", ["obligations", plan.slug])
    statement = plan.to_sign[0] if plan.to_sign else 1
    server = Server(ws)
    figures: dict[str, tuple[float, float]] = {}
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            client.get(f"/?token={server.token}")
            for label, path in pages(plan.slug, plan.entries, statement):
                answer = client.get(path)  # untimed: the first render of the page
                if answer.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {answer.status_code}: {answer.text[:300]}")
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                figures[label] = (statistics.median(times), p95)
            # The first render after a partner's entry: the views kept for the old head are
            # recomputed (the projections' own cost, as the CLI pays on every run).
            signing = iter(plan.to_sign)
            for label, path in (
                ("dashboard, new entry", "/"),
                ("project, new entry", f"/p/{plan.slug}"),
            ):
                times = []
                for _ in range(FRESH_RUNS):
                    statement = next(signing)
                    ws.run(
                        "sign", ["statement", "sign", plan.slug, str(statement), "--as", "veggie"]
                    )
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                figures[label] = (statistics.median(times), times[-1])
        memory = server.memory_mib()
    finally:
        server.stop()
    return figures, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="300 and 1,000 entries, 5 runs")
    args = parser.parse_args()
    sizes = [300, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 5 if args.quick else args.repeat
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            started = time.perf_counter()
            results[size] = measure(size, repeat, Path(scratch))
            print(f"({size:,} entries measured in {time.perf_counter() - started:.0f} s)")
    small, large = sizes[0], sizes[-1]
    print()
    print(f"accord web, SQLite, {repeat} requests per page over loopback (ms: p50 / p95)")
    print(
        f"(', new entry': the first render after a partner's entry, {FRESH_RUNS} runs: p50 / max)"
    )
    head = f"{'page':<22}" + "".join(f"{f'{s:,} entries':>22}" for s in sizes)
    print(head + f"{'ratio p95':>11}  goal")
    missed = []
    for label in results[small][0]:
        cells = "".join(
            f"{f'{results[s][0][label][0]:.1f} / {results[s][0][label][1]:.1f}':>22}" for s in sizes
        )
        p95_small, p95_large = results[small][0][label][1], results[large][0][label][1]
        ratio = p95_large / p95_small if p95_small else 0.0
        ok = p95_large < GOAL_P95_MS and ratio <= GOAL_RATIO
        if not ok:
            missed.append(label)
        verdict = "met" if ok else "MISSED"
        print(f"{label:<22}{cells}{ratio:>10.2f}x  {verdict}")
    print(
        f"goal: p95 under {GOAL_P95_MS:.0f} ms at {large:,} entries and within "
        f"{GOAL_RATIO}x of {small:,}"
    )
    for size in sizes:
        print(f"server peak memory (VmHWM) at {size:,} entries: {results[size][1]:.0f} MiB")
    if missed:
        print(f"goals missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
