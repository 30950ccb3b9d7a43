"""``accord verify``, ``accord export`` and ``accord import``, end to end through the CLI.

The verdicts on tampered logs, store by store, are in ``tests/integration/test_tamper.py``;
here: the bundle format, the command's shapes and exit codes, and what an auditor does with
a bundle (verify it offline, import it, read and report from the copy).
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import FP, Accord, assert_refused, unpinned

from ledger.project import project_id

S = "spring-campaign"
ONE_OF = "give one of SLUG, --all, --bundle FILE or --pdf FILE"
ONE_OF_HINT = "accord verify spring-campaign"
NOT_IMPORTED_HINT = "`accord verify --bundle {path}` lists the problems"


@pytest.fixture
def audited(initialised: Accord, project: str, tmp_path: Path) -> Accord:
    """The three-party project (1-3), closed by all three, its close report in partners/:

    4  acme pledges "Design the posters" 30 hours to burgerco and veggie
    5  acme delivers 30 hours on 4; 6 burgerco and 7 veggie approve
    8  burgerco pledges "Media budget" 1000 eur to acme and veggie
    9  burgerco delivers 400 eur on 8; 10 acme approves
    11 veggie proposes a statement and 12 signs it; 13 acme and 14 burgerco sign it
    15-17 all three sign the close, accepting that pledge 8 is still open
    """
    a = initialised
    a.ok(
        "pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    a.ok("deliver", S, "4", "--summary", "Posters", "--as", "acme")
    a.ok("approve", S, "5", "--as", "burgerco")
    a.ok("approve", S, "5", "--as", "veggie")
    a.ok(
        "pledge", "add", S, "Media budget", "--weight", "1000", "--unit", "eur",
        "--due", "2099-12-20", "--as", "burgerco",
    )  # fmt: skip
    a.ok("deliver", S, "8", "--summary", "First flight", "--quantity", "400", "--as", "burgerco")
    a.ok("approve", S, "9", "--as", "acme")
    a.ok("statement", "propose", S, "--title", "Joint", "--text", "Together.", "--as", "veggie")
    for party in ("acme", "burgerco"):
        a.ok("statement", "sign", S, "11", "--as", party)
    for party in ("acme", "burgerco", "veggie"):
        a.ok("close", S, "--report-dir", str(tmp_path / "partners"), "--accept-open", "8",
             "--as", party)  # fmt: skip
    return a


def stored_rows(ledger: Path) -> list[dict[str, Any]]:
    """The state JSON of every stored event, in version order (straight from SQLite)."""
    with closing(sqlite3.connect(ledger)) as conn:
        rows = conn.execute(
            "SELECT state FROM stored_events ORDER BY originator_id, originator_version"
        ).fetchall()
    return [json.loads(state) for (state,) in rows]


def export(accord: Accord, out: Path, *args: str) -> Path:
    accord.ok("export", S, "-o", str(out), *args)
    return out


def verify_json(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --- export -------------------------------------------------------------------------------


def test_export_writes_a_header_then_each_entry_exactly_as_stored(
    audited: Accord, tmp_path: Path
) -> None:
    out = tmp_path / "spring.accord"
    result = audited.ok("export", S, "-o", str(out))
    head = audited.json("project", "show", S)["head"]
    assert result.stdout == f"exported 17 entries of {S} to {out} (head {head})\n"
    header, *lines = out.read_text(encoding="utf-8").split("\n")[:-1]
    assert header == (
        f'{{"format":"accord/bundle/v1","project":"{S}","entries":17,"head":"{head}"}}'
    )
    stored = stored_rows(audited.ledger_file)
    assert len(lines) == len(stored) == 17
    for line, row in zip(lines, stored, strict=True):
        expected = {"entry": row["entry"], "sig": row["sig"], "hash": row["hash"]}
        assert line == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
        assert list(json.loads(line)) == ["entry", "sig", "hash"]
    assert json.loads(lines[-1])["hash"] == head
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_export_to_standard_output_gives_the_same_bundle(audited: Accord, tmp_path: Path) -> None:
    out = export(audited, tmp_path / "spring.accord")
    assert audited.ok("export", S, "-o", "-").stdout == out.read_text(encoding="utf-8")


def test_export_of_an_unknown_project_is_not_found(initialised: Accord, tmp_path: Path) -> None:
    result = initialised("export", "no-such", "-o", str(tmp_path / "x.accord"))
    assert_refused(
        result, 3, "no project 'no-such' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )  # fmt: skip
    assert not (tmp_path / "x.accord").exists()


# --- verify: shapes and exit codes ----------------------------------------------------------


def test_verify_of_a_sound_project_exits_0_with_one_line(audited: Accord) -> None:
    head = audited.json("project", "show", S)["head"]
    result = audited.ok("verify", S)
    assert result.stdout == f"{S}: sound, 17 entries, closed, head {head}\n"


def test_verify_as_json_of_a_sound_project(audited: Accord) -> None:
    head = audited.json("project", "show", S)["head"]
    result = audited.ok("verify", S, "--format", "json")
    assert verify_json(result) == {
        "sound": True,
        "projects": [
            {
                "project": S,
                "sound": True,
                "entries": 17,
                "head": head,
                "status": "closed",
                "problems": [],
                "more_problems": 0,
            }
        ],
    }


def tamper_sig(ledger: Path, version: int, slug: str = S) -> None:
    """Change one byte of the stored signature at ``version`` of ``slug`` (with sqlite3)."""
    originator = project_id(slug).hex
    where = "WHERE originator_id = ? AND originator_version = ?"
    with closing(sqlite3.connect(ledger)) as conn, conn:
        (state,) = conn.execute(
            f"SELECT state FROM stored_events {where}", (originator, version)
        ).fetchone()
        data = json.loads(state)
        sig = data["sig"]
        data["sig"] = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        conn.execute(
            f"UPDATE stored_events SET state = ? {where}",
            (json.dumps(data).encode("utf-8"), originator, version),
        )


def test_verify_all_checks_every_project_and_fails_if_one_fails(
    initialised: Accord, project: str
) -> None:
    a = initialised
    a.ok(
        "project",
        "propose",
        "autumn-campaign",
        "--title",
        "Autumn",
        "--member",
        "veggie",
        "--as",
        "acme",
        stderr=unpinned("veggie"),
    )
    a.ok("project", "join", "autumn-campaign", "--as", "veggie")
    data = a.json("verify", "--all")
    assert [(p["project"], p["sound"], p["entries"]) for p in data["projects"]] == [
        ("autumn-campaign", True, 2),
        (S, True, 3),
    ]
    tamper_sig(a.ledger_file, 3)
    result = a("verify", "--all", "--format", "json")
    assert result.exit_code == 5
    data = verify_json(result)
    assert data["sound"] is False
    assert [(p["project"], p["sound"]) for p in data["projects"]] == [
        ("autumn-campaign", True),
        (S, False),
    ]
    assert [(p["seq"], p["kind"], p["cause"]) for p in data["projects"][1]["problems"]] == [
        (3, "hash", "stored hash does not match the entry bytes"),
        (3, "signature", f"signature does not verify with key {FP['veggie']}"),
    ]
    table = a("verify", "--all")
    assert table.exit_code == 5
    lines = table.stdout.splitlines()
    assert re.fullmatch("autumn-campaign: sound, 2 entries, active, head [0-9a-f]{64}", lines[0]), (
        lines[0]
    )
    assert lines[1:] == [
        f"{S}: FAILED, 2 problems",
        "seq    kind       cause",
        "-----  ---------  " + "-" * 85,
        "3      hash       stored hash does not match the entry bytes",
        f"3      signature  signature does not verify with key {FP['veggie']}",
    ]


@pytest.mark.parametrize(
    "args",
    [[], [S, "--all"], [S, "--bundle", "BUNDLE"], ["--all", "--bundle", "BUNDLE"]],
    ids=["none", "slug and all", "slug and bundle", "all and bundle"],
)
def test_verify_needs_exactly_one_of_slug_all_or_bundle(
    audited: Accord, tmp_path: Path, args: list[str]
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    result = audited("verify", *[str(bundle) if a == "BUNDLE" else a for a in args])
    assert_refused(result, 2, ONE_OF, ONE_OF_HINT)


def test_one_worker_and_two_workers_give_identical_reports(audited: Accord) -> None:
    for _ in range(2):  # sound, then with an altered signature at seq 9
        one = audited("verify", S, "--workers", "1", "--format", "json")
        two = audited("verify", S, "--workers", "2", "--format", "json")
        assert (one.exit_code, one.stdout) == (two.exit_code, two.stdout)
        one = audited("verify", S, "--workers", "1")
        two = audited("verify", S, "--workers", "2")
        assert (one.exit_code, one.stdout) == (two.exit_code, two.stdout)
        tamper_sig(audited.ledger_file, 9)
    assert one.exit_code == 5


def test_workers_must_be_at_least_one(audited: Accord) -> None:
    result = audited("verify", S, "--workers", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--workers'" in result.stderr


def test_verify_of_an_unknown_project_is_not_found(initialised: Accord) -> None:
    assert_refused(
        initialised("verify", "no-such"), 3, "no project 'no-such' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("hello\n", "the file is not an accord bundle (its first line is not JSON)"),
        ("", "the file is not an accord bundle (its first line is not JSON)"),
        ('{"format":"x"}\n', "the file is not an accord/bundle/v1 bundle (format 'x')"),
        ("[1]\n", "the file is not an accord/bundle/v1 bundle (format None)"),
        (
            '{"format":"accord/bundle/v1","project":"Bad Slug","entries":1,"head":"0"}\n',
            "the accord/bundle/v1 header is malformed",
        ),
    ],
    ids=["text", "empty", "other format", "not an object", "bad header"],
)
def test_verify_of_a_file_that_is_not_a_bundle_exits_5(
    accord: Accord, tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "not.accord"
    path.write_text(content, encoding="utf-8")
    hint = "export one with `accord export SLUG -o FILE`" if "not an" in error else None
    assert_refused(accord("verify", "--bundle", str(path)), 5, error, hint)


def test_verify_of_a_bundle_needs_no_ledger_at_all(
    audited: Accord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    nowhere = tmp_path / "nowhere" / "accord.db"
    monkeypatch.setenv("ACCORD_LEDGER", str(nowhere))
    head = audited.json("project", "show", S, "--ledger", str(audited.ledger_file))["head"]
    result = audited.ok("verify", "--bundle", str(bundle))
    assert result.stdout == f"{S}: sound, 17 entries, closed, head {head}\n"
    assert not nowhere.parent.exists()


def test_a_bundle_with_an_unreadable_line_is_reported_at_that_line(
    audited: Accord, tmp_path: Path
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[17] = "garbage\n"  # the last entry, seq 17
    bundle.write_text("".join(lines), encoding="utf-8")
    result = audited("verify", "--bundle", str(bundle), "--format", "json")
    assert result.exit_code == 5
    (report,) = verify_json(result)["projects"]
    assert [(p["seq"], p["kind"], p["cause"]) for p in report["problems"]] == [
        (17, "bundle", "bundle line 18 is not JSON"),
        (None, "bundle", "the header's head is not the last entry's hash"),
    ]


def test_a_failed_verification_does_not_replace_the_remembered_head(
    audited: Accord, home: Path
) -> None:
    audited.ok("verify", S)
    before = audited.json("state", "show")
    tamper_sig(audited.ledger_file, 17)
    assert audited("verify", S).exit_code == 5
    assert audited.json("state", "show") == before


# --- import -------------------------------------------------------------------------------


def test_import_into_a_fresh_ledger_gives_the_same_reads_and_the_same_report_bytes(
    audited: Accord, tmp_path: Path
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    copy = tmp_path / "audit" / "audit.db"
    copy.parent.mkdir()
    head = audited.json("project", "show", S)["head"]
    result = audited.ok("import", str(bundle), "--ledger", str(copy))
    assert result.stdout == f"imported 17 new entries of {S} (17 in all, closed, head {head})\n"
    for read in ("obligations", "contributions"):
        original = audited.json(read, S)
        assert audited.json(read, S, "--ledger", str(copy)) == original
    for name in ("statement", "list"), ("project", "show"):
        assert audited.json(*name, S, "--ledger", str(copy)) == audited.json(*name, S)
    out = tmp_path / "auditor"
    audited.ok("report", S, "--ledger", str(copy), "-o", str(out))
    partners = tmp_path / "partners"
    for name in ("close-report.md", "close-report.html", "close-report.json"):
        assert (out / name).read_bytes() == (partners / name).read_bytes(), name


def test_an_imported_copy_verifies_on_its_own(audited: Accord, tmp_path: Path) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    copy = tmp_path / "audit.db"
    audited.ok("import", str(bundle), "--ledger", str(copy))
    assert verify_json(audited.ok("verify", S, "--ledger", str(copy), "--format", "json"))["sound"]


def test_importing_a_tampered_bundle_exits_5_and_creates_nothing(
    audited: Accord, tmp_path: Path
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    header, *lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    line = json.loads(lines[3])
    line["entry"] = line["entry"].replace('"weight":"30"', '"weight":"31"')
    lines[3] = json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"
    bundle.write_text(header + "".join(lines), encoding="utf-8")

    fresh = tmp_path / "fresh.db"
    result = audited("import", str(bundle), "--ledger", str(fresh))
    assert result.exit_code == 5
    assert result.stderr == (
        f"Error: the bundle of '{S}' does not verify; nothing was imported\n"
        f"Hint: {NOT_IMPORTED_HINT.format(path=bundle)}\n"
    )
    assert result.stdout.splitlines()[0] == f"{S}: FAILED, 2 problems"
    assert not fresh.exists()

    existing = tmp_path / "existing.db"
    audited.ok("init", "--ledger", str(existing))
    assert audited("import", str(bundle), "--ledger", str(existing)).exit_code == 5
    assert audited.json("project", "list", "--ledger", str(existing)) == []


def test_importing_the_same_bundle_twice_adds_nothing_the_second_time(
    audited: Accord, tmp_path: Path
) -> None:
    bundle = export(audited, tmp_path / "spring.accord")
    copy = tmp_path / "audit.db"
    audited.ok("import", str(bundle), "--ledger", str(copy))
    head = audited.json("project", "show", S)["head"]
    result = audited.ok("import", str(bundle), "--ledger", str(copy))
    assert result.stdout == f"imported 0 new entries of {S} (17 in all, closed, head {head})\n"
    assert len(stored_rows(copy)) == 17


def test_importing_a_longer_bundle_extends_the_copy(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    a = initialised
    short = export(a, tmp_path / "short.accord")
    copy = tmp_path / "audit.db"
    a.ok("import", str(short), "--ledger", str(copy))
    a.ok(
        "pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    a.ok("statement", "propose", S, "--title", "Joint", "--text", "Together.", "--as", "veggie")
    longer = export(a, tmp_path / "longer.accord")
    head = a.json("project", "show", S)["head"]
    result = a.ok("import", str(longer), "--ledger", str(copy))
    # the pledge, the statement and veggie's signature of it
    assert result.stdout == f"imported 3 new entries of {S} (6 in all, active, head {head})\n"
    assert a.json("project", "show", S, "--ledger", str(copy))["head"] == head
    assert a.json("obligations", S, "--ledger", str(copy)) == a.json("obligations", S)


def test_importing_a_different_history_of_an_existing_project_is_refused(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    a = initialised
    other = tmp_path / "other.db"
    a.ok("init", "--ledger", str(other))
    a.ok(
        "project", "propose", S, "--title", "Another spring campaign", "--member", "burgerco",
        "--as", "acme", "--ledger", str(other), stderr=unpinned("burgerco"),
    )  # fmt: skip
    bundle = export(a, tmp_path / "other.accord", "--ledger", str(other))
    with a.unchanged():
        result = a("import", str(bundle))
    assert_refused(
        result, 4, f"this ledger holds a different history of '{S}' (seq 1 differs)",
        "import into another ledger, and compare with `accord verify`",
    )  # fmt: skip
