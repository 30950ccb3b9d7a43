"""``accord demo --relay``: three homes and replicas, one relay the demo starts and stops."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest

from commands.demo import ORGS, PROJECT

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def accord(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def status_blocks(output: str) -> dict[str, dict[str, str]]:
    """Each party's ``accord status`` table, as printed by the demo."""
    found = {}
    for org in ORGS:
        header = f"[{org}] $ accord status {PROJECT} --as {org}\n"
        assert header in output, output
        block = output.split(header, 1)[1].split("\n\n", 1)[0]
        found[org] = dict(line.split(None, 1) for line in block.splitlines())
    return found


def test_the_relay_demo_runs_three_replicas_through_one_relay_and_stops_it(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "demo"
    env = clean_env()

    done = accord("demo", "--relay", str(directory), cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    # each step names the party and the command
    assert f"[burgerco] $ accord sync {PROJECT} --as burgerco" in out
    assert f"[burgerco] $ accord project join {PROJECT} --as burgerco" in out
    # veggie's seat is unpinned: it joins with its key and the invite line alone
    assert f"[veggie] $ accord join accord-join-v1,project={PROJECT},seat=veggie," in out
    assert "[veggie] $ accord init" not in out and "[veggie] $ accord remote" not in out
    assert f"[veggie] $ accord sync {PROJECT} --as veggie\n" in out  # only after joining
    assert out.index("[veggie] $ accord join ") < out.index(f"[veggie] $ accord sync {PROJECT}")
    assert "invite line for veggie: accord-join-v1," in out
    started = re.search(r"relay \(pid (\d+)\) listening on (http://127\.0\.0\.1:\d+)", out)
    assert started, out
    pid, url = int(started.group(1)), started.group(2)
    assert f"[relay] stopped (pid {pid}, exit code 0)" in out

    # everyone confirmed everything: the same head, equal to the relay's
    statuses = status_blocks(out)
    heads = {s["relay_head"] for s in statuses.values()}
    assert len(heads) == 1
    (relay_head,) = heads
    assert int(relay_head) > 20
    for status in statuses.values():
        assert status["local_head"] == status["confirmed"] == relay_head
        assert status["not_cosigned"] == "-"

    # each party has its own home and replica, and they all hold the same closed log
    shown = []
    for org in ORGS:
        party_env = {
            **env,
            "ACCORD_HOME": str(directory / org / "home"),
            "ACCORD_LEDGER": str(directory / org / "accord.db"),
        }
        show = accord("project", "show", PROJECT, "--format", "json", cwd=tmp_path, env=party_env)
        assert show.returncode == 0, show.stderr
        shown.append(json.loads(show.stdout))
        assert (directory / org / "home").is_dir()
    assert {str(s["entries"]) for s in shown} == {relay_head}
    assert len({s["head"] for s in shown}) == 1  # the same head hash in every replica
    assert {s["status"] for s in shown} == {"closed"}

    # the close report, regenerated from another party's replica, is the same bytes (but for
    # the links to the reader's own evidence copies in the HTML and Markdown: issue 16)
    reports = directory / "reports"
    assert f"{reports / 'close-report.html'}" in out
    regenerated = tmp_path / "regenerated"
    acme_env = {
        **env,
        "ACCORD_HOME": str(directory / "acme" / "home"),
        "ACCORD_LEDGER": str(directory / "acme" / "accord.db"),
    }
    report = accord("report", PROJECT, "-o", str(regenerated), cwd=tmp_path, env=acme_env)
    assert report.returncode == 0, report.stderr
    assert (reports / "close-report.json").read_bytes() == (
        regenerated / "close-report.json"
    ).read_bytes()
    for name in ("close-report.md", "close-report.html"):
        written, again = (unlinked((d / name).read_text()) for d in (reports, regenerated))
        assert written == again, name

    # the relay is gone: no process, nothing listening
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.HTTPError):
        httpx.get(url + "/healthz", timeout=2)


def test_the_relay_demo_stops_its_relay_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commands import demo as demo_mod
    from commands.cli import cli

    relays: list[demo_mod.RelayProcess] = []
    real = demo_mod.RelayProcess

    def recording(directory: Path) -> demo_mod.RelayProcess:
        relays.append(real(directory))
        return relays[-1]

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_mod, "RelayProcess", recording)
    monkeypatch.setattr(demo_mod, "_story", interrupted)
    monkeypatch.delenv("ACCORD_HOME", raising=False)

    with pytest.raises(click.exceptions.Abort):  # click's answer to Ctrl-C
        cli.main(["demo", "--relay", str(tmp_path / "demo")], standalone_mode=False)

    (relay,) = relays
    assert relay.process.returncode == 0  # stopped gracefully, and reaped
    with pytest.raises(ProcessLookupError):
        os.kill(relay.process.pid, 0)
    with pytest.raises(httpx.HTTPError):
        httpx.get(relay.url + "/healthz", timeout=2)


def unlinked(text: str) -> str:
    """A report without the links to local evidence copies (they depend on the reader)."""
    text = re.sub(r'<a href="[^"]*">([^<]*)</a>', r"\1", text)
    text = re.sub(r", local copy \S+", "", text)
    return re.sub(r"-{3,}", "---", re.sub(r" +\|", " |", text))  # Markdown pads its columns
