"""The bounds of format v1 at the command line: refused before anything is signed (exit 2,
the ledger unchanged), and a stored entry beyond them fails ``accord verify`` (exit 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Accord, assert_refused
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, normalise
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.rules import schema

EMOJI = "\U0001f600"  # 4 bytes in UTF-8
SIZE_HINT = (
    "shorten its texts: an entry holds at most 512 KiB of canonical JSON (UTF-8, where a "
    "character outside ASCII takes 2 to 4 bytes)"
)
MEMBERS_HINT = (
    "a project has at most 64 members, the proposer included: propose a smaller collaboration"
)


def statement_size(title: str, text: str, seq: int) -> int:
    """The canonical size of a statement.proposed of acme with these texts at ``seq``."""
    data = {
        "v": 1, "project": "spring-campaign", "seq": seq, "prev": "0" * 64,
        "type": "statement.proposed", "by": "acme", "key": "SHA256:" + "A" * 43,
        "at": "2026-11-22T10:00:00Z", "body": {"title": title, "text": text},
    }  # fmt: skip
    return len(entry_mod.canonical_bytes(data))


def test_a_statement_of_100000_emoji_is_recorded_but_one_over_512_kib_is_refused(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    text_file = tmp_path / "statement.txt"
    text_file.write_text(EMOJI * 100_000, encoding="utf-8")
    title = EMOJI * 40_000
    size = statement_size(title, EMOJI * 100_000, 4)
    assert size > fmt.MAX_ENTRY_BYTES

    with initialised.unchanged():
        refused = initialised(
            "statement", "propose", project, "--title", title, "--text-file", str(text_file),
            "--as", "acme",
        )  # fmt: skip

    assert_refused(
        refused,
        2,
        f"the statement takes {size:,} bytes, more than the 524,288 bytes an entry may hold",
        SIZE_HINT,
    )
    initialised.ok(
        "statement", "propose", project, "--title", "Joint", "--text-file", str(text_file),
        "--as", "acme",
    )  # fmt: skip
    (row,) = initialised.json("statement", "list", project)
    assert row["seq"] == 4


def test_a_proposal_of_65_members_is_refused_and_prints_no_invite(initialised: Accord) -> None:
    members = [arg for n in range(64) for arg in ("--member", f"m{n:02d}")]

    with initialised.unchanged():
        refused = initialised(
            "project", "propose", "big", "--title", "Big", *members, "--as", "acme"
        )

    assert_refused(
        refused,
        2,
        "the project proposal would list 65 members, more than the 64 a project may have",
        MEMBERS_HINT,
    )


def test_a_deliverable_of_101_evidence_files_is_refused(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    initialised.ok(
        "pledge", "add", project, "Posters", "--weight", "3", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    files = []
    for n in range(101):
        path = tmp_path / f"scan-{n:03d}.pdf"
        path.write_bytes(b"%PDF" + bytes([n]))
        files += ["--evidence", str(path)]

    with initialised.unchanged():
        refused = initialised("deliver", project, "4", "--summary", "Scans", *files, "--as", "acme")

    assert_refused(
        refused,
        2,
        "the deliverable lists 101 evidence files, more than the 100 it may list",
        "a deliverable records at most 100 evidence files: put the files in an archive and "
        "give that",
    )


def test_a_stored_proposal_with_too_many_members_fails_verify_with_exit_5(
    initialised: Accord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member with write access to the store, past every check of the commands."""
    members = [arg for n in range(64) for arg in ("--member", f"m{n:02d}")]
    with monkeypatch.context() as unchecked:
        unchecked.setattr(normalise, "check_member_count", lambda count: None)
        unchecked.setattr(schema, "check_bounds", lambda data, size: None)
        forged = initialised(
            "project", "propose", "big", "--title", "Big", *members, "--as", "acme"
        )
        assert forged.exit_code == 0, forged.output

    result = initialised("verify", "big", "--format", "json")

    assert result.exit_code == 5, result.output
    (report,) = json.loads(result.stdout)["projects"]
    assert report["problems"] == [
        {
            "seq": 1,
            "kind": "rule",
            "cause": "the project proposal lists 65 members, more than the 64 it may list",
        }
    ]


def test_a_seventeenth_signer_of_a_party_is_a_rule_violation(
    initialised: Accord, project: str
) -> None:
    def line(n: int) -> str:
        key = Ed25519PrivateKey.from_private_bytes(bytes([100 + n]) * 32)
        return ed25519.public_key_line(key.public_key())

    for n in range(1, fmt.MAX_SIGNERS):
        initialised.ok(
            "project", "add-signer", project, "--label", f"s{n}", "--public-key", line(n),
            "--as", "acme",
        )  # fmt: skip

    with initialised.unchanged():
        refused = initialised(
            "project", "add-signer", project, "--label", "extra", "--public-key", line(99),
            "--as", "acme",
        )  # fmt: skip

    assert_refused(
        refused,
        4,
        "'acme' has 16 signers already, the most a party may have (seq 19)",
        "remove a signer first (`accord project remove-signer`)",
    )
