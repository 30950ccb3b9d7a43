"""Hostile and everyday input: every refusal is one ``Error:`` line and a ``Hint:`` line with
its documented exit code, no traceback, no hang, and a ledger exactly as it was; what is
accepted is recorded exactly as typed (or exactly computed)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import FP, Accord, assert_refused, past_due, unpinned

from ledger import keys as key_store
from ledger.errors import StorageUnavailableError
from ledger.state_file import source_path

S = "spring-campaign"
PLEDGE = ("--weight", "30", "--unit", "hours", "--due", "2099-12-15")
EXPORT_HINT = "export one with `accord export SLUG -o FILE`"
REGULAR_HINT = "give a regular file as the bundle (not a directory, pipe or device)"
ACCORD = Path(sys.executable).parent / "accord"


def run_accord(
    *args: str | bytes, cwd: Path, timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    """The console script in a real process (argv bytes stay bytes; a hang fails the test)."""
    return subprocess.run(
        [str(ACCORD), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=timeout,
        check=False,
    )


def row_count(ledger: Path) -> int:
    with closing(sqlite3.connect(ledger)) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    return int(count)


def export(accord: Accord, tmp_path: Path) -> list[bytes]:
    """The project's bundle, as its lines (with their line ends)."""
    out = tmp_path / "spring.accord"
    accord.ok("export", S, "-o", str(out))
    return out.read_bytes().splitlines(keepends=True)


# --- hostile bundles ------------------------------------------------------------------------------

HOSTILE_HEADERS = [
    (b"[" * 5000 + b"]" * 5000 + b"\n", "the file is not an accord bundle (its first line is "
     "nested too deeply)"),
    (b'{"format":"accord/bundle/v1","project":"\xff\xfe"}\n',
     "the file is not an accord bundle (its first line is not UTF-8 text)"),
    (b'{"pad":"' + b"x" * 70_000 + b'"}\n',
     "the file is not an accord bundle (its first line is longer than 65536 bytes)"),
    (b'["accord/bundle/v1","spring-campaign",3]\n',
     "the file is not an accord/bundle/v1 bundle (format None)"),
    (b"\x00\x00\x00\x00", "the file is not an accord bundle (its first line is not JSON)"),
    (b"", "the file is not an accord bundle (its first line is not JSON)"),
    (b'{"format":"accord/bundle/v1","project":"spring-campaign","entries":true,"head":"0"}\n',
     "the accord/bundle/v1 header is malformed"),
]  # fmt: skip
HEADER_IDS = ["deep", "not-utf8", "huge-line", "array", "nul-bytes", "empty", "bool-count"]


@pytest.mark.parametrize(("content", "error"), HOSTILE_HEADERS, ids=HEADER_IDS)
@pytest.mark.parametrize("command", ["verify", "import"])
def test_a_hostile_bundle_header_gets_a_clean_verdict_and_imports_nothing(
    initialised: Accord, project: str, tmp_path: Path, command: str, content: bytes, error: str
) -> None:
    path = tmp_path / "hostile.accord"
    path.write_bytes(content)
    fresh = tmp_path / "fresh.db"
    args = ["verify", "--bundle", str(path)] if command == "verify" else ["import", str(path)]

    with initialised.unchanged():
        result = initialised(*args, "--ledger", str(fresh))

    hint = None if "malformed" in error else EXPORT_HINT
    assert_refused(result, 5, error, hint)
    assert not fresh.exists()


def test_hostile_bundle_lines_are_each_reported_at_their_line(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    header, *entries = export(initialised, tmp_path)
    hostile = [
        b'{"entry":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",  # nested too deeply
        b'{"entry":"\xff\xfe","sig":"","hash":""}\n',  # not UTF-8
        b"\x00\x00\x00\n",  # NUL bytes
        b"x" * (8 * 1024 * 1024 + 10) + b"\n",  # longer than the bound
        b'["entry","sig","hash"]\n',  # an array, not an entry line
    ]
    path = tmp_path / "hostile.accord"
    path.write_bytes(header + b"".join(hostile) + b"".join(entries))

    result = initialised("verify", "--bundle", str(path), "--format", "json")

    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    (report,) = json.loads(result.stdout)["projects"]
    bundle_problems = [p for p in report["problems"] if p["kind"] == "bundle"]
    assert [(p["seq"], p["kind"], p["cause"]) for p in bundle_problems][:5] == [
        (1, "bundle", "bundle line 2 is nested too deeply"),
        (2, "bundle", "bundle line 3 is not UTF-8 text"),
        (3, "bundle", "bundle line 4 is not JSON"),
        (4, "bundle", "bundle line 5 is longer than 8388608 bytes"),
        (5, "bundle", "bundle line 6 is not an entry line (an object with entry, sig and hash "
         "strings)"),
    ]  # fmt: skip


def test_an_entry_nested_too_deeply_inside_a_bundle_line_is_a_problem_not_a_crash(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    header, *entries = export(initialised, tmp_path)
    deep = '{"public_key":' + "[" * 50_000 + "]" * 50_000 + "}"
    entries[1] = json.dumps({"entry": deep, "sig": "", "hash": ""}).encode() + b"\n"
    path = tmp_path / "deep.accord"
    path.write_bytes(header + b"".join(entries))

    result = initialised("verify", "--bundle", str(path), "--workers", "1", "--format", "json")

    assert result.exit_code == 5, result.output
    (report,) = json.loads(result.stdout)["projects"]
    assert report["problems"][0] == {
        "seq": 2,
        "kind": "canonical",
        "cause": "stored entry is nested too deeply to be an entry",
    }


@pytest.mark.parametrize("command", ["verify", "import"])
def test_a_bundle_that_is_a_pipe_or_a_device_is_refused_without_hanging(
    home: Path, tmp_path: Path, command: str
) -> None:
    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        args = ["verify", "--bundle", str(path)] if command == "verify" else ["import", str(path)]
        done = run_accord(*args, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"Error: bundle {path} is not a regular file\nHint: {REGULAR_HINT}\n"
    assert not (tmp_path / "accord.db").exists()


# --- a failed import removes the ledger file it created -------------------------------------------


def _fail_import(*_args: Any, **_kwargs: Any) -> int:
    raise StorageUnavailableError("the disk is full", hint="free some space")


def test_a_failed_import_removes_the_ledger_file_it_created(
    initialised: Accord, project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(initialised, tmp_path)
    fresh = tmp_path / "fresh.db"
    monkeypatch.setattr("ledger.application.Ledger.import_entries", _fail_import)

    result = initialised("import", str(tmp_path / "spring.accord"), "--ledger", str(fresh))

    assert_refused(result, 6, "the disk is full", "free some space")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("fresh")) == []


def test_a_failed_import_leaves_an_existing_ledger_file_in_place(
    initialised: Accord, project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(initialised, tmp_path)
    existing = tmp_path / "existing.db"
    initialised.ok("init", "--ledger", str(existing))
    before = existing.read_bytes()
    monkeypatch.setattr("ledger.application.Ledger.import_entries", _fail_import)

    result = initialised("import", str(tmp_path / "spring.accord"), "--ledger", str(existing))

    assert_refused(result, 6, "the disk is full", "free some space")
    assert existing.read_bytes() == before


# --- dates past the end of the calendar -----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["obligations", S, "--as-of", "9999-12-31", "--within", "14d"],
        ["obligations", S, "--as-of", "9999-12-25", "--within", "520w"],
        ["contributions", S, "--as-of", "9999-12-31"],
        ["pledge", "list", S, "--as-of", "9999-12-31"],
        ["trail", S, "--as-of", "9999-12-31"],
    ],
    ids=lambda c: " ".join(c[:1] + c[-2:]),
)
def test_reads_at_the_end_of_the_calendar_answer_cleanly(
    initialised: Accord, with_pledge: str, command: list[str]
) -> None:
    result = initialised(*command, "--format", "json")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert isinstance(json.loads(result.stdout), list)


def test_within_at_the_end_of_the_calendar_keeps_every_unfinished_pledge(
    initialised: Accord, with_pledge: str
) -> None:
    rows = initialised.json("obligations", S, "--as-of", "9999-12-31", "--within", "14d")

    assert [(r["seq"], r["status"]) for r in rows] == [(4, "overdue")]


# --- digits that are not ASCII digits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--approval", "\u00b2", "use all, any or a number from 1 to 9999"),  # superscript two
        ("--approval", "\u0663", "use all, any or a number from 1 to 9999"),  # Arabic-Indic 3
        ("--close", "\uff13", "use all or a number from 1 to 9999"),  # full-width 3
        ("--approval", "99999", "use all, any or a number from 1 to 9999"),
        ("--close", "02", "use all or a number from 1 to 9999"),
    ],
    ids=["superscript", "arabic-indic", "full-width", "five-digits", "leading-zero"],
)
def test_a_policy_must_be_written_in_ascii_digits_within_the_format(
    initialised: Accord, option: str, value: str, hint: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Spring", "--member", "burgerco",
            option, value, "--as", "acme",
        )  # fmt: skip

    what = option.removeprefix("--")
    assert_refused(result, 2, f"{what} policy {value!r} is not valid", hint)


# --- policies against the size of the membership --------------------------------------------------


def propose(accord: Accord, *extra: str, stderr: str = "") -> Any:
    return accord(
        "project", "propose", S, "--title", "Spring",
        "--member", f"burgerco={FP['burgerco']}", "--member", f"veggie={FP['veggie']}",
        *extra, "--as", "acme",
    )  # fmt: skip


def test_an_approval_policy_above_the_invited_members_is_refused_at_propose_time(
    initialised: Accord,
) -> None:
    with initialised.unchanged():
        result = propose(initialised, "--approval", "3")

    assert_refused(
        result,
        2,
        "approval policy 3 is more than the 2 invited members other than the proposer",
        "use all, any or a number up to 2",
    )


def test_a_close_policy_above_the_members_is_refused_the_same_way(initialised: Accord) -> None:
    with initialised.unchanged():
        result = propose(initialised, "--close", "4")

    assert_refused(
        result, 2, "close policy 4 is more than the 3 members", "use all or a number up to 3"
    )


def test_an_approval_policy_is_capped_for_a_pledge_with_fewer_beneficiaries(
    initialised: Accord,
) -> None:
    initialised.ok(*propose_args("--approval", "2"))
    initialised.ok("project", "join", S, "--as", "burgerco")
    initialised.ok("project", "join", S, "--as", "veggie")
    initialised.ok("pledge", "add", S, "Posters", *PLEDGE, "--to", "burgerco", "--as", "acme")
    initialised.ok("deliver", S, "4", "--summary", "Posters", "--as", "acme")

    result = initialised.ok("approve", S, "5", "--as", "burgerco")

    assert 'pledge 4 "Posters" (accepted)' in result.stdout


def propose_args(*extra: str) -> list[str]:
    return [
        "project", "propose", S, "--title", "Spring",
        "--member", f"burgerco={FP['burgerco']}", "--member", f"veggie={FP['veggie']}",
        *extra, "--as", "acme",
    ]  # fmt: skip


# --- unbounded inputs -----------------------------------------------------------------------------


def test_a_text_file_that_never_ends_is_refused_after_a_bounded_read(
    initialised: Accord, project: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "statement", "propose", S, "--title", "Zero", "--text-file", "/dev/zero",
            "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        "text file /dev/zero is longer than 100000 characters",
        "accord records texts of at most 100000 characters",
    )


def test_a_text_file_of_more_than_100000_characters_is_refused(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    path = tmp_path / "long.md"
    path.write_text("é" * 100_001, encoding="utf-8")
    (tmp_path / "exact.md").write_text("é" * 100_000, encoding="utf-8")

    with initialised.unchanged():
        result = initialised(
            "statement", "propose", S, "--title", "Long", "--text-file", str(path), "--as", "acme"
        )

    assert_refused(
        result,
        2,
        f"text file {path} is longer than 100000 characters",
        "accord records texts of at most 100000 characters",
    )
    initialised.ok(
        "statement", "propose", S, "--title", "Exact", "--text-file", "exact.md", "--as", "acme"
    )


def test_a_text_file_that_is_not_utf8_is_a_usage_error(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("Déclaration commune".encode("latin-1"))

    with initialised.unchanged():
        result = initialised(
            "statement", "propose", S, "--title", "Joint", "--text-file", str(path), "--as", "acme"
        )

    assert_refused(
        result,
        2,
        f"text file {path} is not UTF-8 text (byte 2 cannot be decoded)",
        "save the file as UTF-8",
    )


def test_a_text_file_that_is_a_pipe_without_a_writer_does_not_hang(
    home: Path, tmp_path: Path, initialised: Accord, project: str
) -> None:
    fifo = tmp_path / "text.fifo"
    os.mkfifo(fifo)
    before = row_count(initialised.ledger_file)

    done = run_accord(
        "statement", "propose", S, "--title", "Joint", "--text-file", str(fifo), "--as", "acme",
        cwd=tmp_path,
    )  # fmt: skip

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "Error: the text must not be empty\nHint: give a text\n"
    assert row_count(initialised.ledger_file) == before


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_evidence_must_be_a_regular_file(
    home: Path, tmp_path: Path, initialised: Accord, with_pledge: str, kind: str
) -> None:
    path = Path("/dev/zero")
    if kind == "fifo":
        path = tmp_path / "evidence.fifo"
        os.mkfifo(path)
    before = initialised.ledger_file.read_bytes()

    done = run_accord(
        "deliver", S, "4", "--summary", "More", "--evidence", str(path), "--as", "acme",
        cwd=tmp_path,
    )  # fmt: skip

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"Error: evidence file {path} is not a regular file\n"
        "Hint: give a regular file as the evidence file (not a directory, pipe or device)\n"
    )
    assert initialised.ledger_file.read_bytes() == before


# --- input over a limit, checked before signing ---------------------------------------------------


def test_a_purpose_longer_than_the_format_allows_is_a_usage_error(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(*propose_args("--purpose", "p" * 100_001))

    assert_refused(
        result,
        2,
        "the purpose has 100001 characters, more than the 100000 accord records",
        "shorten the purpose",
    )


def test_a_comment_longer_than_the_format_allows_is_a_usage_error(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("approve", S, "5", "--comment", "c" * 100_001, "--as", "burgerco")

    assert_refused(
        result,
        2,
        "the comment has 100001 characters, more than the 100000 accord records",
        "shorten the comment",
    )


def test_an_evidence_file_whose_name_is_only_blanks_is_a_usage_error(
    initialised: Accord, with_pledge: str, tmp_path: Path
) -> None:
    (tmp_path / "   ").write_bytes(b"drafts")

    with initialised.unchanged():
        result = initialised(
            "deliver", S, "4", "--summary", "More", "--evidence", "   ", "--as", "acme"
        )

    assert_refused(
        result,
        2,
        "evidence file name '   ' is blank",
        "rename the file: its name is recorded with the deliverable",
    )


def test_a_title_that_is_not_utf8_is_a_usage_error_before_signing(
    home: Path, tmp_path: Path, initialised: Accord, project: str
) -> None:
    before = initialised.ledger_file.read_bytes()

    done = run_accord("pledge", "add", S, b"Posters \xff", *PLEDGE, "--as", "acme", cwd=tmp_path)

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "Error: the title is not valid UTF-8 text\n"
        "Hint: check the encoding of your terminal or file: accord records UTF-8 text\n"
    )
    assert initialised.ledger_file.read_bytes() == before


def test_a_seq_beyond_the_format_is_a_usage_error(initialised: Accord, with_pledge: str) -> None:
    with initialised.unchanged():
        result = initialised("approve", S, str(2**53), "--as", "burgerco")

    assert_refused(
        result,
        2,
        f"target {2**53} is not a seq",
        "seqs are whole numbers from 1 to 9007199254740991",
    )


# --- exact arithmetic on long numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "first", "rest"),
    [
        ("123456789012345678", "1", "123456789012345677"),
        ("123456789012345678.012345678901", "0.000000000001",
         "123456789012345678.0123456789"),
        ("999999999999999999.999999999999", "0.5",
         "999999999999999999.499999999999"),
    ],
    ids=["18-digits", "decimals", "largest"],
)  # fmt: skip
def test_the_rest_of_a_long_weight_is_delivered_exactly(
    initialised: Accord, project: str, weight: str, first: str, rest: str
) -> None:
    a = initialised
    a.ok("pledge", "add", S, "Tokens", "--weight", weight, "--unit", "tokens",
         "--due", "2099-12-15", "--to", "burgerco", "--as", "acme")  # fmt: skip
    a.ok("deliver", S, "4", "--summary", "First", "--quantity", first, "--as", "acme")

    receipt = a.json("deliver", S, "4", "--summary", "The rest", "--as", "acme")

    assert receipt["subject"]["quantity"] == rest
    trail = a.json("trail", S, "--type", "deliverable.submitted")
    assert [row["summary"] for row in trail][-1].startswith(f"delivered {rest} tokens on pledge 4")
    (row,) = a.json("obligations", S)
    assert (row["weight"], row["delivered"]) == (weight, weight)
    a.ok("approve", S, "5", "--as", "burgerco")
    a.ok("approve", S, "6", "--as", "burgerco")
    (row,) = a.json("obligations", S)
    assert (row["approved"], row["status"]) == (weight, "fulfilled")
    contributions = a.json("contributions", S)
    first_row = contributions[0]
    assert (first_row["party"], first_row["pledged"], first_row["approved"]) == (
        "acme", weight, weight,
    )  # fmt: skip


# --- repeated members -----------------------------------------------------------------------------


def test_a_member_given_twice_with_different_pins_is_a_usage_error(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Spring",
            "--member", f"burgerco={FP['burgerco']}", "--member", "burgerco", "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        f"member 'burgerco' is given twice with different pins (--member burgerco="
        f"{FP['burgerco']} and --member burgerco)",
        "give --member burgerco once, pinned with its fingerprint",
    )


def test_a_member_given_twice_identically_is_invited_once(initialised: Accord) -> None:
    pinned = f"burgerco={FP['burgerco']}"
    initialised.ok(
        "project", "propose", S, "--title", "Spring", "--member", pinned, "--member", pinned,
        "--as", "acme",
    )  # fmt: skip

    members = initialised.json("project", "show", S)["members"]
    assert [(m["handle"], m["pinned"]) for m in members] == [
        ("acme", FP["acme"]),
        ("burgerco", FP["burgerco"]),
    ]


def test_an_empty_fingerprint_after_the_equals_sign_is_a_usage_error(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Spring", "--member", "burgerco=", "--as", "acme"
        )

    assert_refused(
        result,
        2,
        "--member 'burgerco=' has an empty fingerprint after '='",
        "write --member burgerco (unpinned) or --member burgerco=SHA256:... (from "
        "`accord key show burgerco`)",
    )


# --- unpinned seats -------------------------------------------------------------------------------


def test_propose_warns_about_every_unpinned_seat_and_shows_how_to_pin_it(
    initialised: Accord,
) -> None:
    result = initialised.ok(
        "project", "propose", S, "--title", "Spring", "--member", "veggie",
        "--member", "burgerco", "--as", "acme", stderr=unpinned("burgerco", "veggie"),
    )  # fmt: skip

    assert result.stdout.startswith(f"recorded {S} seq 1 project.proposed\n")


def test_propose_with_every_seat_pinned_prints_no_warning(initialised: Accord) -> None:
    initialised.ok(*propose_args())


# --- units, numbers, dates and slugs as people write them -----------------------------------------


@pytest.mark.parametrize("unit", ["EUR", "USD", "€", "hours", "posts", "person-days", "km/h",
                                  "m²", "часы", "%"])  # fmt: skip
def test_units_are_accepted_as_people_write_them_and_kept(
    initialised: Accord, project: str, unit: str
) -> None:
    initialised.ok(
        "pledge", "add", S, "Budget", "--weight", "5", "--unit", unit, "--due", "2099-12-15",
        "--as", "acme",
    )  # fmt: skip

    (row,) = initialised.json("obligations", S)
    assert row["unit"] == unit
    assert initialised.json("contributions", S)[0]["unit"] == unit


@pytest.mark.parametrize("unit", ["Person Hours", "-", "/h", "a" * 33, "eur\n", "\u200beur"])
def test_units_with_spaces_controls_or_leading_punctuation_are_refused(
    initialised: Accord, project: str, unit: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Budget", "--weight", "5", "--unit", unit, "--due", "2099-12-15",
            "--as", "acme",
        )  # fmt: skip

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: unit {unit!r} is not valid\nHint: ")


def test_a_second_spelling_of_a_unit_is_refused_with_the_first_spelling(
    initialised: Accord, project: str
) -> None:
    initialised.ok("pledge", "add", S, "Budget", "--weight", "500", "--unit", "EUR",
                   "--due", "2099-12-15", "--as", "acme")  # fmt: skip

    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Prints", "--weight", "300", "--unit", "eur",
                             "--due", "2099-12-15", "--as", "burgerco")  # fmt: skip

    assert_refused(
        result,
        2,
        f"unit 'eur' is spelled 'EUR' in project '{S}'; two spellings would split its "
        "contributions",
        "write the unit as EUR",
    )
    initialised.ok("pledge", "add", S, "Prints", "--weight", "300", "--unit", "EUR",
                   "--due", "2099-12-15", "--as", "burgerco")  # fmt: skip
    rows = initialised.json("contributions", S)
    assert [(r["party"], r["unit"], r["pledged"]) for r in rows][:2] == [
        ("acme", "EUR", "500"),
        ("burgerco", "EUR", "300"),
    ]


def test_the_first_spelling_is_remembered_by_a_verified_state_written_before_units(
    initialised: Accord, project: str, home: Path
) -> None:
    initialised.ok("pledge", "add", S, "Budget", "--weight", "500", "--unit", "EUR",
                   "--due", "2099-12-15", "--as", "acme")  # fmt: skip
    state = source_path(str(initialised.ledger_file.resolve()), home)
    with closing(sqlite3.connect(state)) as conn, conn:
        conn.execute("UPDATE projects SET core = json_remove(core, '$.units')")

    result = initialised("pledge", "add", S, "Prints", "--weight", "3", "--unit", "Eur",
                         "--due", "2099-12-15", "--as", "burgerco")  # fmt: skip

    assert result.exit_code == 2
    assert result.stderr.endswith("Hint: write the unit as EUR\n")


@pytest.mark.parametrize(
    ("weight", "hint"),
    [
        ("1,500", "write it as 1500 without thousands separators (or 1.5 if the comma is a "
         "decimal comma)"),
        ("12,000,000", "write it as 12000000: numbers take no thousands separators"),
        ("1 500.25", "write it as 1500.25: numbers take no thousands separators"),
        ("2,5", "write it as 2.5: decimals take a point, not a comma"),
        ("1.500,75", "write it as 1500.75: decimals take a point, not a comma"),
        ("30h", "give the number alone, 30; the unit is given separately"),
    ],
)  # fmt: skip
def test_a_weight_written_another_way_shows_the_accepted_form(
    initialised: Accord, project: str, weight: str, hint: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", "--weight", weight, "--unit", "hours",
                             "--due", "2099-12-15", "--as", "acme")  # fmt: skip

    assert_refused(result, 2, f"weight {weight!r} is not a number", hint)


@pytest.mark.parametrize(
    ("due", "hint"),
    [
        ("01/06/2026", "2026-06-01 (day first) or 2026-01-06 (month first)"),
        ("31/12/2026", "2026-12-31"),
        ("12/31/2026", "2026-12-31"),
        ("1.6.2026", "2026-06-01 (day first) or 2026-01-06 (month first)"),
        ("2026/6/1", "2026-06-01"),
    ],
)
def test_a_due_date_written_another_way_shows_the_accepted_form(
    initialised: Accord, project: str, due: str, hint: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", "--weight", "3", "--unit", "hours",
                             "--due", due, "--as", "acme")  # fmt: skip

    assert_refused(
        result, 2, f"due date {due!r} is not a date", f"write dates as YYYY-MM-DD: {hint}"
    )


def test_a_slug_written_as_a_title_shows_the_accepted_form(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", "River Cleanup", "--title", "River cleanup",
            "--member", "burgerco", "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        "project slug 'River Cleanup' is not valid",
        "write it as river-cleanup (1-64 characters: lower-case letters, digits and inner hyphens)",
    )


def test_a_due_date_in_the_past_is_recorded_with_a_warning(
    initialised: Accord, project: str
) -> None:
    result = initialised.ok(
        "pledge", "add", S, "Posters", "--weight", "3", "--unit", "hours", "--due", "2020-01-01",
        "--as", "acme", stderr=past_due("2020-01-01"),
    )  # fmt: skip

    assert result.stdout.startswith(f"recorded {S} seq 4 pledge.made\n")
    initialised.ok(
        "pledge", "amend", S, "4", "--due", "2021-01-01", "--reason", "Typo", "--as", "acme",
        stderr="Warning: due date 2021-01-01 is in the past: the pledge is overdue once this "
        "is approved\n",
    )  # fmt: skip


def test_a_delivery_beyond_the_pledged_weight_is_recorded_with_a_warning(
    initialised: Accord, with_pledge: str
) -> None:
    result = initialised.ok(
        "deliver", S, "4", "--summary", "Extra", "--quantity", "25", "--as", "acme",
        stderr="Warning: pledge 4 is now delivered beyond its weight: 35 of 30 hours delivered "
        "or awaiting a decision\n",
    )  # fmt: skip

    assert "delivered 25 hours on pledge 4" in result.stdout


# --- receipts name what they decided; rule messages read as English -------------------------------


def test_every_decision_receipt_names_its_subject(initialised: Accord, with_pledge: str) -> None:
    approved = initialised.ok("approve", S, "5", "--as", "burgerco").stdout
    assert approved.splitlines()[2] == (
        'approved deliverable seq 5 by acme: 10 hours on pledge 4 "Design the posters" (accepted)'
    )
    data = initialised.json("deliver", S, "4", "--summary", "More", "--quantity", "5",
                            "--as", "acme")  # fmt: skip
    assert data["subject"] == {
        "pledge": 4, "pledge_title": "Design the posters", "party": "acme", "quantity": "5",
        "unit": "hours", "to": ["burgerco"],
    }  # fmt: skip
    refused = initialised.json("reject", S, "7", "--reason", "Late", "--as", "burgerco")
    assert refused["subject"] == {
        "target": 7, "target_type": "deliverable", "party": "acme", "pledge": 4,
        "pledge_title": "Design the posters", "quantity": "5", "unit": "hours",
        "status": "rejected", "approvals": 0, "approvals_needed": 1,
    }  # fmt: skip


def test_a_title_with_control_characters_is_shown_safely_in_a_receipt(
    initialised: Accord, project: str
) -> None:
    initialised.ok("pledge", "add", S, "Posters\x1b[2J", *PLEDGE, "--to", "burgerco",
                   "--as", "acme")  # fmt: skip

    result = initialised.ok("deliver", S, "4", "--summary", "Drafts", "--as", "acme")

    assert result.stdout.splitlines()[2] == (
        'delivered 30 hours on pledge 4 "Posters?[2J" to burgerco'
    )


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (["approve", S, "6", "--as", "veggie"],
         "seq 6 is an approval, not a deliverable, an amendment, a close-short or a value "
         "proposal"),
        (["deliver", S, "2", "--summary", "x", "--as", "acme"], "seq 2 is a join, not a pledge"),
        (["statement", "sign", S, "4", "--as", "acme"], "seq 4 is a pledge, not a statement"),
    ],
    ids=["approve an approval", "deliver on a join", "sign a pledge"],
)  # fmt: skip
def test_rule_messages_name_entries_in_english(
    initialised: Accord, with_pledge: str, command: list[str], error: str
) -> None:
    initialised.ok("approve", S, "5", "--as", "burgerco")

    with initialised.unchanged():
        result = initialised(*command)

    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {error}\nHint: ")


# --- keys: damaged versus a wrong passphrase; a damaged public key file ---------------------------


def test_a_damaged_key_file_is_not_called_a_wrong_passphrase(
    initialised: Accord, project: str, home: Path
) -> None:
    path = home / "keys" / "acme.key"
    lines = path.read_bytes().split(b"\n")
    # A character of the first base64 line: all its bits count (in the last line, before
    # padding, a changed character may only touch unused bits and decode to the same bytes).
    first = lines.index(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") + 1
    lines[first] = (
        lines[first][:4] + (b"A" if lines[first][4:5] != b"A" else b"B") + lines[first][5:]
    )
    path.write_bytes(b"\n".join(lines))

    with initialised.unchanged():
        damaged = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "acme")
        wrong = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "burgerco",
                            env={"ACCORD_PASSPHRASE": "not the passphrase"})  # fmt: skip

    assert_refused(
        damaged,
        7,
        f"key file {path} is damaged: it no longer matches the checksum written with it",
        "restore the key file from a backup, or import the key again under a new name",
    )
    assert_refused(
        wrong,
        7,
        f"wrong passphrase for key file {home / 'keys' / 'burgerco.key'}",
        "try the passphrase again",
    )


def test_a_new_key_file_carries_its_checksum_and_still_reads_as_pem(
    accord: Accord, home: Path
) -> None:
    accord.ok("key", "new", "carol")

    text = (home / "keys" / "carol.key").read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert text.splitlines()[-1].startswith("accord-key-sha256: ")
    assert key_store.load_signer("carol", "carol", "test-passphrase").fingerprint == (
        key_store.info("carol").fingerprint
    )


def test_one_damaged_public_key_file_does_not_hide_the_other_keys(
    accord: Accord, home: Path
) -> None:
    pub = home / "keys" / "burgerco.pub"
    pub.write_text("ssh-ed25519 not-base64!! burgerco\n")

    table = accord("key", "list")
    data = accord("key", "list", "--format", "json")

    warning = (
        f"Warning: key 'burgerco' cannot be used: public key file {pub} is missing or corrupt "
        "(VerificationError)\n"
    )
    assert (table.exit_code, table.stderr) == (0, warning)
    names = [line.split()[0] for line in table.stdout.splitlines()[2:]]
    assert names == ["acme", "burgerco", "mallory", "veggie"]
    assert "DAMAGED (see the warning)" in table.stdout.splitlines()[3]
    rows = json.loads(data.stdout)
    assert [(r["name"], r["fingerprint"]) for r in rows] == [
        ("acme", FP["acme"]), ("burgerco", None), ("mallory", FP["mallory"]),
        ("veggie", FP["veggie"]),
    ]  # fmt: skip
    assert rows[1]["problem"] == warning.split("cannot be used: ", 1)[1].strip()


# --- more unbounded or special files --------------------------------------------------------------


def test_a_key_file_that_never_ends_is_refused_after_a_bounded_read(
    accord: Accord, home: Path
) -> None:
    result = accord("key", "import", "carol", "/dev/zero")

    assert_refused(
        result,
        7,
        "key file /dev/zero is larger than any private key file (65536 bytes)",
        "accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
    )
    assert not (home / "keys" / "carol.key").exists()


def test_export_never_replaces_a_pipe_or_a_device_with_a_file(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)

    result = initialised("export", S, "-o", str(fifo))

    assert_refused(
        result,
        2,
        f"cannot write the bundle to {fifo}: it is not a regular file",
        "give the path of a new or regular file, or - for standard output",
    )
    assert fifo.is_fifo()


def test_a_seq_too_large_for_any_store_is_simply_not_found(
    initialised: Accord, project: str
) -> None:
    result = initialised("statement", "show", S, "99999999999999999999")

    assert_refused(
        result,
        3,
        f"no statement at seq 99999999999999999999 in project '{S}'",
        f"`accord statement list {S}` lists statements by seq",
    )
