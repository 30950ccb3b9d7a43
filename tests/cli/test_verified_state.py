"""The verified state: every command checks the store against what this home verified.

Each test edits the store by hand after an ordinary read, and asserts the exact verdict of
the next ordinary command (a read and a write) and of ``accord verify``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cli_helpers import Accord

from ledger.project import project_id

# the slug of tests/cli/conftest.py (importing `conftest` may find tests/relay's instead)
S = "spring-campaign"
WHERE = "WHERE originator_id = ? AND originator_version = ?"


def rows(ledger: Path) -> int:
    with closing(sqlite3.connect(ledger)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def delete_row(ledger: Path, version: int) -> None:
    with closing(sqlite3.connect(ledger)) as conn, conn:
        conn.execute(f"DELETE FROM stored_events {WHERE}", (project_id(S).hex, version))


def edit_state(ledger: Path, version: int, change: dict[str, object]) -> None:
    with closing(sqlite3.connect(ledger)) as conn, conn:
        (state,) = conn.execute(
            f"SELECT state FROM stored_events {WHERE}", (project_id(S).hex, version)
        ).fetchone()
        data = json.loads(state)
        data.update(change)
        conn.execute(
            f"UPDATE stored_events SET state = ? {WHERE}",
            (json.dumps(data).encode(), project_id(S).hex, version),
        )


def set_topic(ledger: Path, version: int, topic: str) -> None:
    with closing(sqlite3.connect(ledger)) as conn, conn:
        conn.execute(
            f"UPDATE stored_events SET topic = ? {WHERE}", (topic, project_id(S).hex, version)
        )


def test_a_truncation_after_a_read_fails_the_next_read_and_write(
    initialised: Accord, with_pledge: str
) -> None:
    a = initialised
    a.ok("obligations", S)  # seq 5 verified
    delete_row(a.ledger_file, 5)
    for args in (("obligations", S), ("pledge", "list", S)):
        result = a(*args)
        assert result.exit_code == 5, result.output
        first = result.output.splitlines()[0]
        assert first.startswith(
            f"Error: the history of '{S}' is shorter than this home verified: 4 entries now, "
            "5 verified on "
        )
        assert first.endswith(" (truncated) (seq 5)")
    before = rows(a.ledger_file)
    write = a("pledge", "add", S, "More", "--weight", "1", "--unit", "hours",
              "--due", "2026-12-30", "--as", "acme")  # fmt: skip
    assert write.exit_code == 5
    assert rows(a.ledger_file) == before


def test_a_row_deleted_below_the_head_is_never_shown_and_fails_every_read_of_it(
    initialised: Accord, with_pledge: str
) -> None:
    a = initialised
    a.ok("obligations", S)
    delete_row(a.ledger_file, 4)
    # the verified state still answers (the head and genesis are intact) ...
    assert a("contributions", S).exit_code == 0
    # ... and every command that would read the missing row refuses
    for args in (("trail", S), ("export", S, "-o", "-"), ("obligations", S, "--as-of-seq", "4")):
        result = a(*args)
        assert result.exit_code == 5, args
        assert result.stderr.splitlines()[0] == (
            f"Error: seq 4 of '{S}' in the store differs from the one this home verified "
            "(altered below the head)"
        )
    verdict = a("verify", S, "--format", "json")
    assert verdict.exit_code == 5
    (report,) = json.loads(verdict.stdout)["projects"]
    assert report["problems"][0]["seq"] == 4


def test_a_history_replaced_after_a_read_is_a_rewrite_for_every_command(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    a = initialised
    a.ok("contributions", S)
    other = tmp_path / "other.db"
    a.ok("init", "--ledger", str(other))
    proposed = a("project", "propose", S, "--title", "Forged", "--member", "burgerco",
                 "--as", "acme", "--ledger", str(other))  # fmt: skip
    assert proposed.exit_code == 0, proposed.output
    a.ok("project", "join", S, "--as", "burgerco", "--ledger", str(other))
    a.ok("pledge", "add", S, "X", "--weight", "1", "--unit", "hours", "--due", "2026-12-30",
         "--as", "acme", "--ledger", str(other))  # fmt: skip
    other.replace(a.ledger_file)  # same length (3 entries), every signature valid
    result = a("obligations", S)
    assert result.exit_code == 5
    assert "Error: seq 1 of 'spring-campaign' differs from the one this home verified" in (
        result.output
    )
    assert "accord state forget spring-campaign" in result.output


def test_forgetting_the_verified_state_starts_again_from_the_store(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    a = initialised
    a.ok("obligations", S)
    shown = a.json("state", "show")
    assert [(r["project"], r["seq"]) for r in shown] == [(S, 3)]
    delete_row(a.ledger_file, 3)
    assert a("obligations", S).exit_code == 5
    assert a.ok("state", "forget", S).output.startswith(f"forgot '{S}' (1 verified head) of ")
    assert a.json("state", "show") == []
    # starting again: the (shorter) history is verified from scratch and becomes the state
    assert a("obligations", S).exit_code == 0
    assert [r["seq"] for r in a.json("state", "show")] == [2]


def test_a_damaged_state_file_is_rebuilt_by_a_full_verification_with_a_warning(
    initialised: Accord, project: str, home: Path
) -> None:
    a = initialised
    a.ok("obligations", S)
    (path,) = (home / "verified").glob("*.sqlite3")
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    result = a("obligations", S)
    assert result.exit_code == 0
    assert "Warning: the verified state file" in result.output
    assert "rebuilding it by a full verification" in result.output
    assert [r["seq"] for r in a.json("state", "show")] == [3]


def test_a_damaged_state_file_never_hides_a_rewrite_from_a_full_verification(
    initialised: Accord, project: str, home: Path
) -> None:
    a = initialised
    a.ok("obligations", S)
    edit_state(a.ledger_file, 2, {"sig": "A" * 86 + "=="})
    (path,) = (home / "verified").glob("*.sqlite3")
    path.write_bytes(b"garbage")
    result = a("obligations", S)
    assert result.exit_code == 5  # the rebuild verifies from entry 1 and finds the edit


def test_a_row_naming_an_unknown_topic_is_a_verification_failure_and_no_import(
    initialised: Accord, project: str, home: Path
) -> None:
    a = initialised
    set_topic(a.ledger_file, 3, "antigravity:fly")
    result = a("verify", S, "--format", "json")
    assert result.exit_code == 5
    (report,) = json.loads(result.output)["projects"]
    assert report["problems"][0] == {
        "seq": 3,
        "kind": "store",
        "cause": "stored record names unknown topic 'antigravity:fly'",
    }
    (home / "verified").mkdir(exist_ok=True)
    for path in (home / "verified").glob("*"):
        path.unlink()
    read = a("obligations", S)
    assert read.exit_code == 5
    assert "unknown topic" in read.output


def test_editing_the_slug_stored_beside_the_first_event_hides_nothing(
    initialised: Accord, project: str
) -> None:
    a = initialised
    edit_state(a.ledger_file, 1, {"slug": "something-else", "party": "mallory"})
    listed = a.json("project", "list")
    assert [p["project"] for p in listed] == [S]
    assert a.ok("verify", "--all").output.startswith(f"{S}: sound, 3 entries")


def test_an_entry_appended_by_another_writer_is_verified_before_it_is_shown(
    initialised: Accord, project: str
) -> None:
    a = initialised
    a.ok("obligations", S)  # verified up to seq 3
    a.ok("pledge", "add", S, "Posters", "--weight", "3", "--unit", "hours",
         "--due", "2026-12-30", "--as", "acme")  # fmt: skip
    edit_state(a.ledger_file, 4, {"sig": "A" * 86 + "=="})
    # seq 4 was verified at the write; an edit of the head row is a rewrite
    assert a("obligations", S).exit_code == 5


def test_a_damaged_item_of_the_state_file_is_rebuilt_and_the_command_runs_once_more(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    before = a.ok("obligations", S).output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (data,) = db.execute("SELECT data FROM items WHERE kind = 'pledge'").fetchone()
        item = json.loads(data)
        del item["pending"]
        db.execute("UPDATE items SET data = ? WHERE kind = 'pledge'", (json.dumps(item),))
    result = a("obligations", S)
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith("Warning: an item of the verified state is damaged: ")
    assert result.stderr.rstrip().endswith("rebuilding it by a full verification")
    assert a("obligations", S).stderr == ""  # rebuilt for good


def test_a_damaged_item_never_resets_what_was_verified(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    a.ok("obligations", S)  # seq 5 verified
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE projects SET core = '{}'")  # the state, not the head, is damaged
    delete_row(a.ledger_file, 5)  # and the store is cut short behind our back
    result = a("obligations", S)
    assert result.exit_code == 5, result.output
    assert "history is shorter than before: 4 entries now, 5 verified on" in result.stderr
    assert a.json("state", "show")[0]["seq"] == 5  # the head verified before is kept


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pending", "oops"),
        ("pending", "NaN"),
        ("approved", "-7"),
        ("weight", "Infinity"),
        ("accepted", [[8, "x"]]),
    ],
)
def test_a_damaged_number_in_an_item_is_damage_not_a_crash(
    initialised: Accord, with_pledge: str, home: Path, field: str, value: object
) -> None:
    a = initialised
    before = a.ok("obligations", S).output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (data,) = db.execute("SELECT data FROM items WHERE kind = 'pledge'").fetchone()
        item = json.loads(data)
        item[field] = value
        db.execute("UPDATE items SET data = ? WHERE kind = 'pledge'", (json.dumps(item),))
    result = a("obligations", S)
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith("Warning: an item of the verified state is damaged: ")


def test_a_short_refusal_in_the_state_file_is_damage_not_a_crash(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    a.ok("reject", S, "5", "--reason", "No", "--as", "burgerco")
    # A decided deliverable is not open: `show` reads it (`todo` reads the open items only).
    before = a.ok("show", S, "5", "--format", "json").output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (data,) = db.execute("SELECT data FROM items WHERE kind = 'decision'").fetchone()
        item = json.loads(data)
        item["refusal"] = ["burgerco"]
        db.execute("UPDATE items SET data = ? WHERE kind = 'decision'", (json.dumps(item),))
    result = a("show", S, "5", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith("Warning: an item of the verified state is damaged: ")


def test_a_damaged_open_item_is_damage_for_todo_which_reads_open_items(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    before = a.ok("todo", S, "--as", "burgerco", "--format", "json").output
    assert '"seq": 5' in before  # the deliverable awaits burgerco: an open item
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (data,) = db.execute("SELECT data FROM items WHERE kind = 'decision'").fetchone()
        item = json.loads(data)
        item["quantity"] = "-1"
        db.execute("UPDATE items SET data = ? WHERE kind = 'decision'", (json.dumps(item),))
    result = a("todo", S, "--as", "burgerco", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith("Warning: an item of the verified state is damaged: ")


def test_a_short_refusal_of_a_value_in_the_state_file_is_damage_not_a_crash(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    a.ok(
        "project", "value", S, "--unit", "hours", "--worth", "80", "--in", "EUR",
        "--reason", "Rate", "--as", "acme",
    )  # fmt: skip
    a.ok("reject", S, "6", "--reason", "Too high", "--as", "burgerco")
    before = a.ok("project", "values", S, "--format", "json").output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (core,) = db.execute("SELECT core FROM projects WHERE slug = ?", (S,)).fetchone()
        data = json.loads(core)
        data["values"][0]["refusal"] = ["burgerco"]
        db.execute("UPDATE projects SET core = ? WHERE slug = ?", (json.dumps(data), S))
    result = a("project", "values", S, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert "damaged" in result.stderr


def kept_totals(home: Path) -> list[tuple[str, str, dict[str, object]]]:
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT party, unit, data FROM totals WHERE slug = ?", (S,)).fetchall()
    return [(party, unit, json.loads(data)) for party, unit, data in rows]


def test_the_running_totals_follow_each_write_and_equal_those_added_up_afresh(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    a = initialised
    a.ok("approve", S, "5", "--as", "burgerco")
    a.ok("pledge", "add", S, "Posts", "--weight", "4", "--unit", "posts", "--due", "2027-01-09",
         "--as", "veggie")  # fmt: skip
    kept = a.ok("contributions", S, "--format", "json").output
    assert kept_totals(home) == [
        ("acme", "hours", {
            "pledges": 1, "pledged": "30", "delivered": "10", "approved": "10",
            "disputed": "0", "short": "0", "finished": 0, "on_time": 0,
            "waiting": {"2099-12-15": 1},
        }),
        ("veggie", "posts", {
            "pledges": 1, "pledged": "4", "delivered": "0", "approved": "0", "disputed": "0",
            "short": "0", "finished": 0, "on_time": 0, "waiting": {"2027-01-09": 1},
        }),
    ]  # fmt: skip
    a.ok("state", "forget", S)
    assert a.ok("contributions", S, "--format", "json").output == kept  # added up afresh
    assert kept_totals(home)[0][2]["approved"] == "10"


@pytest.mark.parametrize(
    "change",
    [
        {"approved": "-10"},
        {"approved": "10.0"},
        {"approved": "NaN"},
        {"pledges": "1"},
        {"waiting": {"2099-12-15": 0}},
        {"extra": 1},
        {"waiting": {"soon": 1}},
    ],
)
def test_damaged_running_totals_are_rebuilt_never_shown(
    initialised: Accord, with_pledge: str, home: Path, change: dict[str, object]
) -> None:
    a = initialised
    a.ok("approve", S, "5", "--as", "burgerco")
    before = a.ok("contributions", S, "--format", "json").output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (data,) = db.execute("SELECT data FROM totals WHERE slug = ?", (S,)).fetchone()
        totals = json.loads(data)
        totals.update(change)
        db.execute("UPDATE totals SET data = ? WHERE slug = ?", (json.dumps(totals), S))
    result = a("contributions", S, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith(f"Warning: the running totals of {S!r} are damaged: ")
    assert a("contributions", S, "--format", "json").stderr == ""  # rebuilt for good
