"""The docs are true: every command documented, the worked example exact, the tutorial runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from commands.docgen import all_commands

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_cli_reference_is_generated_from_the_current_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(DOCS / "cli.md")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_has_a_section_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, _command in all_commands():
        assert f"## `{name}`" in text, name


def test_the_worked_example_in_format_md_matches_the_tested_values() -> None:
    example = json.loads((ROOT / "tests" / "unit" / "worked_example.json").read_text())
    text = (DOCS / "format.md").read_text(encoding="utf-8")
    assert example["seed_hex"] in text
    assert f"signature (base64): `{example['signature_b64']}`" in text
    assert f"entry hash: `{example['hash']}`" in text
    assert f"fingerprint: `{example['fingerprint']}`" in text
    assert f"public key: `{example['public_key']}`" in text
    block = re.search(r"```text\n(accord/entry/v1\n.*?)\n```", text, re.S)
    assert block is not None
    assert block.group(1) == example["signing_input"]


def _bash_blocks(path: Path) -> str:
    return "\n".join(re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S))


@pytest.mark.slow
def test_the_tutorial_runs_from_start_to_close(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + _bash_blocks(DOCS / "tutorial.md")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("refused, exit code 4") == 3
    assert "project no-whopper-day is closed" in result.stdout
    assert "Error: 'acme' cannot approve or reject its own deliverable (seq 7)" in result.stderr
    assert "Error: project 'no-whopper-day' is closed (seq 39)" in result.stderr
    # 9. The close is refused while pledges are open, listing them; they are then finished
    # or closed short, and the pledge closed short keeps its weight and its shortfall.
    assert (
        "Error: 2 pledges of 'no-whopper-day' are still open: 4 \"Campaign design\" by acme "
        '(25 of 40 hours approved); 6 "Social posts" by veggie (6 of 12 posts approved)\n'
    ) in result.stderr
    assert re.search(
        r"\n6 +veggie +acme, burgerco +Social posts +12 +posts +6 +6 +6 +\S+ +"
        r"closed-short",
        result.stdout,
    )
    assert "close-report.html" in result.stdout
    assert "no-whopper-day: sound, 39 entries, closed" in result.stdout
    assert "imported 39 new entries of no-whopper-day" in result.stdout
    assert "identical report" in result.stdout
    assert "approved value seq 25 by burgerco: 1 hour = 150 eur (agreed)" in result.stdout
    # 4-5. What is decided, shown before deciding; a rejection waits for its promisor.
    assert "no-whopper-day seq 7: a deliverable (deliverable.submitted)" in result.stdout
    assert re.search(r"evidence +posters\.txt \(20 bytes, SHA-256 [0-9a-f]{64}\)\n", result.stdout)
    assert "was rejected by acme; reason 'Two posts use the old logo'" in result.stdout
    assert re.search(r"changes +weight 20000 → 15000 eur\n", result.stdout)
    # 8. The to-do list and a dispute settled by its two parties.
    assert "accord deliver no-whopper-day 6 --summary TEXT --as veggie" in result.stdout
    assert "accord resolve no-whopper-day 28 --outcome upheld|dismissed --reason R --as acme" in (
        result.stdout
    )
    assert "dispute 28 is dismissed" in result.stdout
    # 10. Several people for one organisation: alice signs for acme, then is removed.
    assert re.search(r"acme \(alice\)\s+pledge\.made", result.stdout)
    assert "added signer alice (SHA256:" in result.stdout
    assert "refused, exit code 5" in result.stdout
    assert re.search(
        r"Error: key SHA256:\S+ belongs to signer 'alice', removed from 'acme' at seq 5\n",
        result.stderr,
    )
    assert "spring-fair: sound, 5 entries, active" in result.stdout
    # 13. Three organisations on three machines: a real relay, a pinned and an unpinned seat.
    assert re.search(
        r"hub +harvest-fair +Harvest fair +acme +burgerco +accord project join harvest-fair "
        r"--as burgerco",
        result.stdout,
    )
    assert "invitation to harvest-fair: 'Harvest fair' from acme\n" in result.stdout
    assert "  members: acme (proposer), burgerco (pinned), veggie (you, invite)\n" in result.stdout
    assert re.search(
        r"Added remote relay http://127\.0\.0\.1:\d+: relay key SHA256:", result.stdout
    )
    assert "recorded harvest-fair seq 3 member.joined" in result.stdout
    assert re.search(r"4 +veggie +acme +Stand posters +4 +posters +4 +4 ", result.stdout)
    assert "project harvest-fair is closed" in result.stdout
    # Fresh reads: acme's to-do list holds veggie's delivery without a sync, and the close
    # report appears on every replica when a read pulls the last close signature.
    assert re.search(r"\nharvest-fair +5 +decide +", result.stdout)
    assert re.search(
        r"\n4 +veggie +acme +Stand posters +4 +posters +4 +4 +2026-12-20 +fulfilled", result.stdout
    )
    for org in ("acme", "burgerco"):
        assert f"{org}: the same close report" in result.stdout
    assert "Note: harvest-fair is closed: wrote its close report to " in result.stderr
    assert re.search(r"local_head +9\nrelay_head +9\nconfirmed +9\n", result.stdout)


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"```(?:bash|sh)\n(.*?)\n```", readme, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command.strip() in ci
