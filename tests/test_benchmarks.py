"""The benchmark scripts still run and print their figures (their numbers are not judged here)."""

from __future__ import annotations

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
    assert re.search(r"^peak memory verifying 300 entries: \d+ MiB$", out, re.M)
