"""Evidence through a real relay: upload and fetch a large file, throughput and peak memory.

Starts ``accord relay serve`` (SQLite, then PostgreSQL unless ``--stores sqlite``), sets up
two homes (acme delivers, burgerco fetches), and times, as separate processes:

* ``accord deliver ... --evidence FILE``: hash, local copy, seal (age) and streamed upload;
* ``accord evidence get``: streamed download, decrypt, check size and SHA-256, write.

Memory is the peak RSS of each client process (``wait4``) and of the relay process
(``VmHWM``, the whole run). Goal: under 100 MiB each, whatever the file size.

    .venv/bin/python benchmarks/evidence_benchmark.py               # 200 MiB, sqlite + postgres
    .venv/bin/python benchmarks/evidence_benchmark.py --mib 20 --stores sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
GOAL_MIB = 100
PASSPHRASE = "benchmark passphrase"
SLUG = "evidence-bench"


def _env(home: Path, ledger: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_HOME=str(home),
        ACCORD_LEDGER=str(ledger),
        ACCORD_PASSPHRASE=PASSPHRASE,
        PYTHONPATH=str(ROOT),
    )
    return env


def run(env: dict[str, str], *args: str) -> str:
    """Run ``accord ARGS`` (setting up); return its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"accord {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def measured(env: dict[str, str], *args: str) -> tuple[str, float, int]:
    """Like :func:`run`, with the peak RSS of that one process (VmHWM, polled)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "commands.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], vmhwm(process.pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = process.communicate()
    done.set()
    watcher.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"accord {' '.join(args)} failed ({process.returncode}):\n{out}{err}")
    return out, seconds, peak[0]


def vmhwm(pid: int) -> int:
    """The peak RSS of process ``pid`` in MiB (0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) // 1024 if found else 0


def big_file(path: Path, mib: int) -> None:
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1 << 20))


class Relay:
    def __init__(self, ledger: str, home: Path, max_size: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env["PYTHONPATH"] = str(ROOT)
        args = [
            "relay", "serve", "--ledger", ledger, "--port", "0", "--home", str(home),
            "--rate", "0", "--max-evidence-size", str(max_size),
            "--evidence-quota", str(4 * max_size),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._address()
        time.sleep(1)
        self.idle = vmhwm(self.process.pid)  # started, nothing served yet
        self.peak = 0
        self._done = threading.Event()
        threading.Thread(target=self._poll, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def _poll(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, vmhwm(self.process.pid))
            time.sleep(0.1)

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(r"listening on (http://\S+)", line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit("the relay did not start:\n" + "".join(self.lines))

    def stop(self) -> None:
        self.peak = max(self.peak, vmhwm(self.process.pid))
        self._done.set()
        self.process.terminate()
        self.process.wait(timeout=30)


def one_store(store: str, mib: int, work: Path) -> dict[str, float]:
    if store == "postgres":
        schema = f"evbench_{uuid.uuid4().hex[:8]}"
        ledger = f"{POSTGRES}?schema={schema}"
    else:
        schema, ledger = "", str(work / "relay.db")
    size = mib << 20
    relay = Relay(ledger, work / "relay-home", max_size=size + (1 << 20))
    try:
        envs = {}
        for handle in ("acme", "burgerco"):
            (work / handle).mkdir()
            env = _env(work / handle / "home", work / handle / "accord.db")
            run(env, "init")
            run(env, "key", "new", handle)
            run(env, "remote", "add", "hub", relay.url)
            envs[handle] = env
        shown = json.loads(run(envs["burgerco"], "key", "show", "burgerco", "--format", "json"))
        acme, burgerco = envs["acme"], envs["burgerco"]
        run(acme, "project", "propose", SLUG, "--title", "Bench",
            "--member", f"burgerco={shown['fingerprint']}", "--as", "acme")  # fmt: skip
        run(burgerco, "sync", SLUG, "--as", "burgerco")
        run(burgerco, "project", "join", SLUG, "--as", "burgerco")
        run(acme, "pledge", "add", SLUG, "Film", "--weight", "1", "--unit", "films",
            "--due", "2099-01-01", "--as", "acme")  # fmt: skip
        film = work / "film.bin"
        big_file(film, mib)
        _, up_seconds, up_peak = measured(
            acme, "deliver", SLUG, "3", "--summary", "The film", "--evidence", str(film),
            "--as", "acme",
        )  # fmt: skip
        relay_after_upload = vmhwm(relay.process.pid)
        out = work / "fetched"
        _, down_seconds, down_peak = measured(
            burgerco, "evidence", "get", SLUG, "4", "-o", str(out), "--as", "burgerco"
        )
        fetched = out / "1-film.bin"
        if fetched.stat().st_size != size:
            raise SystemExit("the fetched file has another size")
    finally:
        relay.stop()
        if schema:
            _drop_schema(schema)
    return {
        "up_seconds": up_seconds,
        "up_rate": mib / up_seconds,
        "up_peak": up_peak,
        "down_seconds": down_seconds,
        "down_rate": mib / down_seconds,
        "down_peak": down_peak,
        "relay_after_upload": relay_after_upload,
        "relay_peak": relay.peak,
        "relay_idle": relay.idle,
    }


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def verdict(mib: int) -> str:
    return "ok" if mib < GOAL_MIB else f"MISSED (goal < {GOAL_MIB} MiB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mib", type=int, default=200, help="File size in MiB [200].")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite,postgres")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"file: {args.mib} MiB of random bytes; goal: every process under {GOAL_MIB} MiB")
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            found = one_store(store, args.mib, Path(scratch))
        print(f"== {store} ==")
        print(
            f"deliver --evidence (hash, copy, seal, upload): {found['up_seconds']:.1f} s, "
            f"{found['up_rate']:.1f} MiB/s, client peak {found['up_peak']} MiB "
            f"{verdict(int(found['up_peak']))}"
        )
        print(
            f"evidence get (download, decrypt, check, write): {found['down_seconds']:.1f} s, "
            f"{found['down_rate']:.1f} MiB/s, client peak {found['down_peak']} MiB "
            f"{verdict(int(found['down_peak']))}"
        )
        print(
            f"relay peak: {found['relay_idle']} MiB started, {found['relay_after_upload']} MiB "
            f"after the upload, {found['relay_peak']} MiB after the fetch "
            f"{verdict(int(found['relay_peak']))}"
        )


if __name__ == "__main__":
    main()
