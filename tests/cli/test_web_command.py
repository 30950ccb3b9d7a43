"""``accord web`` as a command: its refusals before serving, and the address it prints."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cli_helpers import Accord

ROOT = Path(__file__).resolve().parents[2]


def test_listening_beyond_loopback_needs_allow_remote(initialised: Accord) -> None:
    result = initialised("web", "--as", "acme", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --host 0.0.0.0 lets other machines reach")
    assert "Hint: add --allow-remote" in result.stderr


def test_signing_without_the_partys_key_is_refused_before_serving(initialised: Accord) -> None:
    result = initialised("web", "--as", "nobody", "--sign")
    assert result.exit_code in (3, 7)
    assert result.stderr.startswith("Error: ") and "Hint: " in result.stderr


def test_a_port_in_use_is_a_usage_error(initialised: Accord) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = initialised("web", "--as", "acme", "--port", str(port))
    assert result.exit_code == 2
    assert f"Error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Hint: pick another --port" in result.stderr


def test_a_missing_ledger_is_reported_with_its_exit_code_when_read_only(
    accord: Accord, tmp_path: Path
) -> None:
    result = accord("web", "--as", "acme")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no ledger at ")
    assert not (tmp_path / "accord.db").exists()


def serve(args: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "commands.cli", "web", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=env,
    )  # fmt: skip


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/", timeout=5)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_signing_on_a_home_without_a_ledger_creates_it_and_offers_to_join(
    accord: Accord, tmp_path: Path
) -> None:
    ledger = tmp_path / "accord.db"  # ACCORD_LEDGER, not created
    assert not ledger.exists()
    process = serve(["--as", "acme", "--sign", "--port", "0"])
    try:
        assert process.stderr is not None and process.stdout is not None
        assert process.stderr.readline() == (
            f"Created an empty ledger at {ledger}: join a project from the "
            "page with the invite line you were sent\n"
        )
        assert "accord web for acme (signing" in process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", process.stdout.readline())
        assert found, "no address printed"
        base = f"http://127.0.0.1:{found.group(1)}"
        wait_for(base)
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get(f"/?token={found.group(2)}").status_code == 303
            dashboard = client.get("/")
            assert "(no projects in this ledger yet)" in dashboard.text
            assert 'href="/join"' in dashboard.text
            assert 'name="line"' in client.get("/join").text
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert ledger.exists()


def test_allow_remote_serves_with_a_warning_and_the_token_still_guards(
    initialised: Accord, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items()}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "commands.cli", "web", "--as", "acme", "--port", "0",
         "--host", "0.0.0.0", "--allow-remote"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=env,
    )  # fmt: skip
    try:
        assert process.stderr is not None and process.stdout is not None
        warning = process.stderr.readline()
        assert warning.startswith("Warning: listening on 0.0.0.0, reachable from other machines")
        assert "accord web for acme (read-only)" in process.stdout.readline()
        found = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=(\S+)", process.stdout.readline())
        assert found, "no address printed"
        base = f"http://127.0.0.1:{found.group(1)}"
        deadline = time.monotonic() + 30
        while True:
            try:
                refused = httpx.get(base + "/", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert refused.status_code == 403
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get(f"/?token={found.group(2)}").status_code == 303
            assert client.get("/").status_code == 200
            assert client.post("/", data={"x": "1"}).status_code == 405  # read-only
    finally:
        process.terminate()
        process.wait(timeout=10)
