"""`accord evidence ...` without a relay: local copies, offline checks, and the refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cli_helpers import Accord

POSTERS = b"three posters\n"


def delivered(accord: Accord, project: str, tmp_path: Path) -> None:
    (tmp_path / "posters.pdf").write_bytes(POSTERS)
    (tmp_path / "notes.txt").write_bytes(b"notes\n")
    accord.ok(
        "pledge", "add", project, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip  # 4
    accord.ok(
        "deliver", project, "4", "--summary", "Drafts", "--quantity", "10",
        "--evidence", str(tmp_path / "posters.pdf"), "--evidence", str(tmp_path / "notes.txt"),
        "--as", "acme",
    )  # fmt: skip  # 5


def test_deliver_without_a_remote_keeps_the_copies_beside_the_ledger_and_says_nothing_more(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    delivered(initialised, project, tmp_path)
    kept = tmp_path / "accord-evidence" / project / "5"
    assert sorted(p.name for p in kept.iterdir()) == ["1-posters.pdf", "2-notes.txt"]
    assert (kept / "1-posters.pdf").read_bytes() == POSTERS
    rows = initialised.json("evidence", "list", project, "--offline")
    assert rows == [
        {"seq": 5, "index": 1, "name": "posters.pdf", "size": len(POSTERS),
         "sha256": hashlib.sha256(POSTERS).hexdigest(), "where": "local"},
        {"seq": 5, "index": 2, "name": "notes.txt", "size": 6,
         "sha256": hashlib.sha256(b"notes\n").hexdigest(), "where": "local"},
    ]  # fmt: skip
    (kept / "2-notes.txt").write_bytes(b"other\n")  # a copy that is not the signed file
    rows = initialised.json("evidence", "list", project, "5", "--offline")
    assert [r["where"] for r in rows] == ["local", "missing"]


def test_check_tells_whether_a_file_is_the_signed_one(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    delivered(initialised, project, tmp_path)
    ok = initialised.ok("evidence", "check", project, "5", str(tmp_path / "posters.pdf"))
    assert ok.stdout.startswith(f"{tmp_path / 'posters.pdf'} is evidence file 1 of deliverable 5")
    other = tmp_path / "other.pdf"
    other.write_bytes(b"three posters!\n")
    failed = initialised("evidence", "check", project, "5", str(other))
    assert failed.exit_code == 5
    assert failed.stderr.startswith("Error: ")
    assert "Hint: ask the deliverer for the signed file" in failed.stderr
    assert f"1: posters.pdf ({len(POSTERS)} bytes, SHA-256" in failed.stderr


def test_get_and_share_need_a_remote_and_a_deliverable(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    delivered(initialised, project, tmp_path)
    no_remote = initialised("evidence", "get", project, "5", "--as", "burgerco")
    assert no_remote.exit_code == 2
    assert no_remote.stderr.splitlines()[0] == (
        "Error: this ledger has no remote: evidence travels through a relay"
    )
    assert no_remote.stderr.splitlines()[1].startswith("Hint: add one with `accord remote add")
    not_deliverable = initialised("evidence", "get", project, "4", "--as", "burgerco")
    assert not_deliverable.exit_code == 3
    assert "seq 4 of" in not_deliverable.stderr and "is not a deliverable" in not_deliverable.stderr
    shared = initialised("evidence", "share", project, "5", "--as", "acme")
    assert shared.exit_code == 2
    assert not (tmp_path / "accord-evidence" / project / "4").exists()


def test_export_with_evidence_needs_a_directory_and_copies_what_is_kept(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    delivered(initialised, project, tmp_path)
    dash = initialised("export", project, "--with-evidence", "-o", "-")
    assert dash.exit_code == 2
    assert "-o names a directory" in dash.stderr
    audit = tmp_path / "audit"
    done = initialised.ok("export", project, "--with-evidence", "-o", str(audit))
    assert "exported 2 evidence file(s)" in done.stdout
    assert (audit / "evidence" / "5" / "1-posters.pdf").read_bytes() == POSTERS
    verified = initialised.ok("verify", "--bundle", str(audit / f"{project}.accord"))
    assert "sound" in verified.stdout
