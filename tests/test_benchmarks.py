"""The benchmark scripts still run and print their figures (their numbers are not judged here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_verify_benchmark_prints_throughput_raw_rate_and_memory() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "verify_benchmark.py"), "--entries", "300"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^raw Ed25519 verify, \d+ cores: [\d,]+ signatures/s$", out, re.M)
    assert re.search(r"^accord verify \(300 entries, \d+ workers\): [\d,]+ entries/s$", out, re.M)
    assert re.search(r"^  = \d+% of the raw rate \(goal: 80%\)$", out, re.M)
    assert re.search(
        r"^CPU per entry: main process \d+ us \+ workers \d+ us = \d+ us; "
        r"one raw verification \d+ us$",
        out,
        re.M,
    )
    assert re.search(
        r"^  = \d+% of the raw rate at best, every core busy \(goal: 80%\)$", out, re.M
    )
    assert re.search(r"^peak memory verifying 300 entries: \d+ MiB$", out, re.M)


@pytest.mark.slow
def test_the_command_benchmark_quick_mode_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "command_benchmark.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert re.search(r"^raw Ed25519 verify, \d+ cores: [\d,]+ signatures/s$", out, re.M)
    assert re.search(r"^  accord verify --bundle: bench: sound, 1000 entries, active", out, re.M)
    cell = r"\s+\d+\.\d{3} s\s+\d+ MiB"
    for shape in ("mixed", "many-pledges"):
        table = out.split(f"== sqlite, {shape} ==\n")[1].split("\n\n")[0]
        assert re.search(
            r"^\s+200 entries\s+1,000 entries\s+1,000/200  goals missed at 1,000$", table, re.M
        )
        for label in ("import (accord import FILE)", "cold start (fresh home)", "verify SLUG"):
            assert re.search(rf"^{re.escape(label)}{cell}{cell}", table, re.M), (shape, label)
        assert re.search(r"^warm, median of 1:$", table, re.M)
        for label in (
            "accord --version",
            "obligations",
            "obligations --within 14d",
            "contributions",
            "todo",
            "pledge list",
            "calendar",
            "project list",
            "report md,html,json",
            "pledge add",
            "deliver",
            "deliver --quantity",
            "approve",
            "statement sign",
        ):
            assert re.search(rf"^{re.escape(label)}{cell}{cell}\s+\d+\.\d\dx", table, re.M), (
                shape,
                label,
            )
        pdf = rf"^report --format pdf \(1 run\){cell}{cell}\s+\d+\.\d\dx"
        assert re.search(pdf, table, re.M), shape
        assert re.search(r"^  PDF written\s+[\d.]+ MiB\s+[\d.]+ MiB$", table, re.M), shape
    assert re.search(r"^generated many-pledges 1,000 entries in [\d.]+ s: ", out, re.M)
    assert re.search(r"^accord verify at 1,000: [\d,]+ entries/s = \d+% of the raw rate", out, re.M)
    assert re.search(r"^== verify --all: 50 projects of 10 entries on sqlite ==$", out, re.M)
    assert re.search(rf"^verify --all, median of 1{cell}", out, re.M)
    assert out.rstrip().endswith("problems: none")


@pytest.mark.slow
def test_the_relay_benchmark_quick_mode_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "relay_benchmark.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT / "benchmarks",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert re.search(r"^load average at start: [\d.]+ [\d.]+ [\d.]+", out, re.M)
    assert re.search(r"^goals: 1,000 appends/s on PostgreSQL, p99 < 100 ms, ", out, re.M)
    assert re.search(r"^== appends through the relay ==$", out, re.M)
    assert re.search(
        r"^configuration\s+appends\s+seconds\s+appends/s\s+p50 ms\s+p99 ms\s+409s"
        r"\s+relay CPU\s+client CPU\s+goals missed$",
        out,
        re.M,
    )
    for label in ("sqlite, 1 relay process", "sqlite, 2 relay processes"):
        assert re.search(
            rf"^{re.escape(label)}\s+100\s+\d+\.\d\s+[\d,]+\s+[\d.]+\s+[\d.]+\s+\d+"
            r"\s+[\d.]+ ms\s+[\d.]+ ms ",
            out,
            re.M,
        )
    assert "postgres" not in out.split("== appends through the relay ==")[1]
    assert re.search(r"^== a CLI write through a remote, median of 1 ==$", out, re.M)
    assert re.search(r"^statement propose, local SQLite\s+\d+\.\d{3} s$", out, re.M)
    assert re.search(r"^statement propose, through a relay\s+\d+\.\d{3} s$", out, re.M)
    assert re.search(r"^difference\s+[+-]\d+\.\d{3} s  \(goal: at most \+0\.15 s: ", out, re.M)
    assert out.rstrip().endswith("problems: none")


@pytest.mark.postgres
def test_the_relay_benchmark_prints_postgresqls_insert_ceiling_beside_the_relay() -> None:
    if not os.environ.get("ACCORD_TEST_POSTGRES"):
        pytest.skip("set ACCORD_TEST_POSTGRES=1 to run the PostgreSQL tests")
    argv = ["--stores", "postgres", "--processes", "1", "--appends", "20", "--writers", "2"]
    argv += ["--projects", "2", "--cli-runs", "1", "--ceiling", "0.5"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "relay_benchmark.py"), *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT / "benchmarks",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert re.search(r"^postgres, 1 relay process\s+20\s", out, re.M)
    found = re.search(
        r"^== what PostgreSQL allows here: 2 connections, 2 rows of ([\d,]+) bytes per append",
        out,
        re.M,
    )
    assert found and int(found.group(1).replace(",", "")) > 100  # measured from the run
    for mode in (
        "one commit per append, row locks only",
        "one commit per append, table locked (eventsourcing)",
        "16 appends per commit, table locked",
    ):
        assert re.search(
            rf"^{re.escape(mode)}\s+[\d,]+\s+[\d.]+\s+[\d.]+  (above|below) 1,000/s$", out, re.M
        )
    assert out.rstrip().endswith("problems: none")


@pytest.mark.slow
def test_the_web_benchmark_quick_mode_prints_page_times_goals_and_memory() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "web_benchmark.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT / "benchmarks",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(
        r"^dashboard\s+[\d.]+ / [\d.]+\s+[\d.]+ / [\d.]+\s+[\d.]+x  (met|MISSED)$", out, re.M
    )
    assert re.search(r"^entry \(the head\)\s+", out, re.M)
    assert "goal: p95 under 150 ms at 1,000 entries and within 1.5x of 300" in out
    assert re.search(r"^server peak memory \(VmHWM\) at 1,000 entries: \d+ MiB$", out, re.M)
