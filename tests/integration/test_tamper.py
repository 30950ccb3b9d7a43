"""Tampering with a stored log behind accord's back, and the exact verdict of `accord verify`.

Every tamper case is done three times: to the rows of a real SQLite ledger file (with the
``sqlite3`` module), to the rows of a PostgreSQL ledger (with psycopg), and to the lines of an
exported bundle. Each verdict is the full problem list, ``(seq, kind, cause)`` per problem, as
``accord verify --format json`` gives it (with ``--workers 1``) and as the table shows it (with
``--workers 2``), so both worker counts are held to the same verdict.

The project (built through the Ledger API with fixed-seed keys and a fixed clock):

    1 project.proposed      acme (members burgerco, veggie)
    2 member.joined         burgerco
    3 member.joined         veggie
    4 pledge.made           acme: "Design the posters", 30 hours, to burgerco and veggie
    5 deliverable.submitted acme on pledge 4
    6 approval.given        burgerco approves seq 5
    7 pledge.made           burgerco: "Media budget", 100 eur
    8 statement.proposed    veggie
"""

from __future__ import annotations

import abc
import json
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner, Result

from commands.cli import cli
from ledger import entry as entry_mod
from ledger import storage
from ledger.application import Ledger
from ledger.keys import Signer

SLUG = "spring-campaign"
LAST = 8
ENTRY_TOPIC = "accord:Project.EntryRecorded"
Problem = tuple[int | None, str, str]


class Clock:
    """Claimed times from 2026-11-22T10:00:00Z, one minute per entry (same bytes every run)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


# --- building the project ----------------------------------------------------------------


def build_project(app: Ledger, signers: dict[str, Signer], title: str = "Spring campaign") -> None:
    """Record the eight entries of the module docstring (``title`` varies the history)."""
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    app.propose_project(
        SLUG, title=title, purpose="A joint campaign",
        members={"burgerco": None, "veggie": veggie.fingerprint},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    app.join_project(SLUG, signer=burgerco)
    app.join_project(SLUG, signer=veggie)
    app.add_pledge(
        SLUG, title="Design the posters", weight="30", unit="hours", due="2099-12-15",
        beneficiaries=None, signer=acme,
    )  # fmt: skip
    app.deliver(SLUG, 4, summary="Poster drafts", quantity="10", evidence=[], signer=acme)
    app.approve(SLUG, 5, comment="fine", signer=burgerco)
    app.add_pledge(
        SLUG, title="Media budget", weight="100", unit="eur", due="2099-12-20",
        beneficiaries=None, signer=burgerco,
    )  # fmt: skip
    app.propose_statement(SLUG, title="Joint", text="Together.", signer=veggie)


def build_sqlite(path: Path, signers: dict[str, Signer], title: str = "Spring campaign") -> Path:
    app = Ledger(storage.settings(str(path)), clock=Clock())
    try:
        build_project(app, signers, title)
    finally:
        app.close()
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="accord")


# --- the three places a log can be tampered with -----------------------------------------


class Log(abc.ABC):
    """One project's stored log, edited behind accord's back.

    A record is a dict holding at least ``entry`` (the canonical text), ``sig`` and ``hash``:
    the event's state JSON in a database, the entry line in a bundle.
    """

    @abc.abstractmethod
    def verify_args(self) -> list[str]: ...

    @abc.abstractmethod
    def records(self) -> dict[int, dict[str, Any]]:
        """The records by position (originator version or line number)."""

    @abc.abstractmethod
    def put(self, position: int, record: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def delete(self, position: int) -> None: ...

    @abc.abstractmethod
    def add(self, record: dict[str, Any]) -> None:
        """Store ``record`` at the next position."""

    # Built on the primitives above.

    def record(self, position: int) -> dict[str, Any]:
        return self.records()[position]

    def edit(self, position: int, **fields: str) -> None:
        self.put(position, {**self.record(position), **fields})

    def swap(self, a: int, b: int) -> None:
        first, second = self.record(a), self.record(b)
        self.put(a, second)
        self.put(b, first)

    def append(self, signed: entry_mod.SignedEntry) -> None:
        """Insert a new last record holding ``signed``, shaped like the other records."""
        template = dict(self.record(max(self.records())))
        template.update(entry=signed.text, sig=signed.sig, hash=signed.hash)
        if "party" in template:
            template["party"] = signed.by
        self.add(template)

    def replace_all(self, other: dict[int, dict[str, Any]]) -> None:
        """Overwrite every record with the record at the same position of another log."""
        assert sorted(other) == sorted(self.records())
        for position, record in other.items():
            self.put(position, record)

    def verify(self, *args: str) -> Result:
        return run(*self.verify_args(), *args)


class SqliteLog(Log):
    def __init__(self, path: Path) -> None:
        self.path = path

    def verify_args(self) -> list[str]:
        return ["--ledger", str(self.path), "verify", SLUG]

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with closing(sqlite3.connect(self.path)) as conn, conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def records(self) -> dict[int, dict[str, Any]]:
        rows = self._execute(
            "SELECT originator_version, state FROM stored_events ORDER BY originator_version"
        )
        return {version: json.loads(state) for version, state in rows}

    def put(self, position: int, record: dict[str, Any]) -> None:
        count = self._execute(
            "UPDATE stored_events SET state = ? WHERE originator_version = ?",
            (json.dumps(record).encode("utf-8"), position),
        )
        assert count == 1

    def delete(self, position: int) -> None:
        count = self._execute("DELETE FROM stored_events WHERE originator_version = ?", (position,))
        assert count == 1

    def add(self, record: dict[str, Any]) -> None:
        ((originator, version),) = self._execute(
            "SELECT originator_id, MAX(originator_version) FROM stored_events"
        )
        self._execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (originator, version + 1, ENTRY_TOPIC, json.dumps(record).encode("utf-8")),
        )


class PostgresLog(Log):
    def __init__(self, url: str, admin_url: str) -> None:
        self.url = url
        self.admin_url = admin_url
        schema = parse_qs(urlparse(url).query)["schema"][0]
        self.table = f'"{schema}".accord_events'

    def verify_args(self) -> list[str]:
        return ["--ledger", self.url, "verify", SLUG]

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query.replace("TABLE", self.table), params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def records(self) -> dict[int, dict[str, Any]]:
        rows = self._execute(
            "SELECT originator_version, state FROM TABLE ORDER BY originator_version"
        )
        return {version: json.loads(bytes(state)) for version, state in rows}

    def put(self, position: int, record: dict[str, Any]) -> None:
        count = self._execute(
            "UPDATE TABLE SET state = %s WHERE originator_version = %s",
            (json.dumps(record).encode("utf-8"), position),
        )
        assert count == 1

    def delete(self, position: int) -> None:
        assert self._execute("DELETE FROM TABLE WHERE originator_version = %s", (position,)) == 1

    def add(self, record: dict[str, Any]) -> None:
        ((originator, version),) = self._execute(
            "SELECT originator_id, originator_version FROM TABLE "
            "ORDER BY originator_version DESC LIMIT 1"
        )
        self._execute(
            "INSERT INTO TABLE (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            (originator, version + 1, ENTRY_TOPIC, json.dumps(record).encode("utf-8")),
        )


class BundleLog(Log):
    """An exported bundle; edits keep the header as it was unless ``fix_header`` is called."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def verify_args(self) -> list[str]:
        return ["verify", "--bundle", str(self.path)]

    def _lines(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        header, *lines = self.path.read_text(encoding="utf-8").splitlines()
        return json.loads(header), [json.loads(line) for line in lines]

    def _write(self, header: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        text = "".join(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
            for item in [header, *lines]
        )
        self.path.write_text(text, encoding="utf-8")

    def records(self) -> dict[int, dict[str, Any]]:
        return dict(enumerate(self._lines()[1], start=1))

    def put(self, position: int, record: dict[str, Any]) -> None:
        header, lines = self._lines()
        lines[position - 1] = record
        self._write(header, lines)

    def delete(self, position: int) -> None:
        header, lines = self._lines()
        del lines[position - 1]
        self._write(header, lines)

    def add(self, record: dict[str, Any]) -> None:
        header, lines = self._lines()
        self._write(header, [*lines, record])

    def fix_header(self) -> None:
        """Make the header agree with the lines (what a careful forger does)."""
        header, lines = self._lines()
        header.update(entries=len(lines), head=lines[-1]["hash"])
        self._write(header, lines)


def export(ledger_path: Path, out: Path) -> Path:
    result = run("--ledger", str(ledger_path), "export", SLUG, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


MEDIA = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "bundle"]


@pytest.fixture(params=MEDIA)
def log(request: pytest.FixtureRequest, home: Path, tmp_path: Path, signers) -> Log:
    """The eight-entry project, stored in a SQLite file, in PostgreSQL, or as a bundle."""
    if request.param == "sqlite":
        return SqliteLog(build_sqlite(tmp_path / "accord.db", signers))
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        app = Ledger(storage.settings(url), clock=Clock())
        try:
            build_project(app, signers)
        finally:
            app.close()
        return PostgresLog(url, urlparse(url)._replace(query="").geturl())
    source = build_sqlite(tmp_path / "source.db", signers)
    return BundleLog(export(source, tmp_path / f"{SLUG}.accord"))


def other_history(tmp_path: Path, signers: dict[str, Signer]) -> tuple[Path, dict[int, dict]]:
    """A different, validly signed history of the same slug (another title), as records."""
    path = build_sqlite(tmp_path / "other.db", signers, title="Spring campaign (forked)")
    return path, SqliteLog(path).records()


# --- reading verdicts ---------------------------------------------------------------------


def json_verdict(result: Result) -> list[Problem]:
    """The problems of the one project in a ``verify --format json`` output."""
    data = json.loads(result.stdout)
    assert data["sound"] is False
    (project,) = data["projects"]
    assert (project["project"], project["sound"], project["more_problems"]) == (SLUG, False, 0)
    return [(p["seq"], p["kind"], p["cause"]) for p in project["problems"]]


def table_verdict(result: Result) -> list[Problem]:
    """The problems of the one project in a table ``verify`` output (parsed by column)."""
    title, header, rule, *rows = result.stdout.splitlines()
    count = len(rows)
    assert title == f"{SLUG}: FAILED, {count} problem{'s' if count != 1 else ''}"
    assert header.split() == ["seq", "kind", "cause"]
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    assert len(starts) == 3
    problems: list[Problem] = []
    for row in rows:
        seq, kind, cause = (
            row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)
        )
        problems.append((int(seq) if seq else None, kind, cause))
    return problems


def assert_verdict(log: Log, expected: list[Problem]) -> None:
    """`accord verify` exits 5 with exactly ``expected``, as JSON and as a table."""
    as_json = log.verify("--format", "json", "--workers", "1")
    assert as_json.exit_code == 5, as_json.output
    assert json_verdict(as_json) == expected
    as_table = log.verify("--workers", "2")
    assert as_table.exit_code == 5, as_table.output
    assert table_verdict(as_table) == expected
    assert as_table.stderr == ""


def assert_sound(log: Log, entries: int = LAST) -> None:
    result = log.verify("--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sound"] is True
    assert [(p["entries"], p["problems"]) for p in data["projects"]] == [(entries, [])]


def remembered_at(home: Path) -> str:
    """When the one verified head of the project under ACCORD_HOME/verified was verified."""
    found = []
    for path in (home / "verified").glob("*.sqlite3"):
        with sqlite3.connect(path) as db:
            found += db.execute(
                "SELECT verified_at FROM projects WHERE slug = ?", (SLUG,)
            ).fetchall()
    return str(max(at for (at,) in found))


def next_entry(log: Log, **fields: Any) -> dict[str, Any]:
    """A well-formed entry for the next seq after the log's last, with ``fields`` set."""
    last = log.record(LAST)
    return {
        "v": 1, "project": SLUG, "seq": LAST + 1, "prev": last["hash"],
        "at": "2026-11-22T11:00:00Z", **fields,
    }  # fmt: skip


def bad_hash(seq: int) -> Problem:
    return (seq, "hash", "stored hash does not match the entry bytes")


def bad_signature(seq: int, fingerprint: str) -> Problem:
    return (seq, "signature", f"signature does not verify with key {fingerprint}")


# --- the untouched log --------------------------------------------------------------------


def test_the_untouched_log_is_sound_in_every_store(log: Log) -> None:
    assert_sound(log)
    result = log.verify()
    assert result.exit_code == 0
    assert re.fullmatch(
        f"{SLUG}: sound, 8 entries, active, head [0-9a-f]{{64}}\n", result.stdout
    ), result.stdout


# --- 1. one changed byte -----------------------------------------------------------------


def test_one_changed_byte_of_an_entry_text_is_a_hash_and_a_signature_problem_at_that_seq_only(
    log: Log, signers
) -> None:
    text = log.record(4)["entry"]
    assert text.count('"weight":"30"') == 1
    log.edit(4, entry=text.replace('"weight":"30"', '"weight":"31"'))
    assert_verdict(
        log,
        [bad_hash(4), bad_signature(4, signers["acme"].fingerprint)],
    )


def test_one_changed_byte_of_a_signature_is_a_signature_problem_and_a_hash_problem(
    log: Log, signers
) -> None:
    sig = log.record(6)["sig"]
    changed = sig[:20] + ("A" if sig[20] != "A" else "B") + sig[21:]
    log.edit(6, sig=changed)
    # The stored hash covers the signature too, so it no longer matches either.
    assert_verdict(
        log,
        [bad_hash(6), bad_signature(6, signers["burgerco"].fingerprint)],
    )


# --- 2. deleted entries ------------------------------------------------------------------


def test_an_entry_deleted_in_the_middle_is_reported_missing_once(log: Log) -> None:
    log.delete(7)
    # The entry after the gap links to the missing one: its word is taken for the missing hash.
    assert_verdict(log, [(7, "chain", "seq 7 missing here (deleted or out of order)")])


def test_an_entry_deleted_in_the_middle_is_missing_for_the_entries_that_refer_to_it(
    log: Log,
) -> None:
    log.delete(5)  # the deliverable that seq 6 approves
    assert_verdict(
        log,
        [
            (5, "chain", "seq 5 missing here (deleted or out of order)"),
            (6, "rule", f"no entry at seq 5 in project '{SLUG}'"),
        ],
    )


@pytest.fixture
def bundle_log(home: Path, tmp_path: Path, signers) -> BundleLog:
    source = build_sqlite(tmp_path / "source.db", signers)
    return BundleLog(export(source, tmp_path / f"{SLUG}.accord"))


def test_a_deleted_last_entry_is_a_truncation_against_the_remembered_head(
    log: Log, home: Path
) -> None:
    assert_sound(log)
    verified_on = remembered_at(home)
    log.delete(LAST)
    if isinstance(log, BundleLog):
        log.fix_header()  # a consistent header: only the remembered head tells
    assert_verdict(
        log,
        [
            (
                8,
                "history",
                f"history is shorter than before: 7 entries now, 8 verified on {verified_on} "
                "(truncated)",
            )
        ],
    )
    assert remembered_at(home) == verified_on  # a failed verification changes no trust


def test_a_deleted_last_entry_of_a_never_verified_database_log_goes_unnoticed(
    log: Log,
) -> None:
    if isinstance(log, BundleLog):
        pytest.skip("a bundle's header still names the deleted entry (next test)")
    log.delete(LAST)
    assert_sound(log, entries=7)


def test_a_bundle_cut_short_under_its_original_header_is_a_bundle_problem(
    bundle_log: BundleLog,
) -> None:
    bundle_log.delete(LAST)
    assert_verdict(
        bundle_log,
        [
            (None, "bundle", "the header announces 8 entries, the bundle holds 7"),
            (None, "bundle", "the header's head is not the last entry's hash"),
        ],
    )


def test_a_bundle_cut_short_after_it_was_verified_is_a_history_and_a_bundle_problem(
    bundle_log: BundleLog, home: Path
) -> None:
    assert_sound(bundle_log)
    verified_on = remembered_at(home)
    bundle_log.delete(LAST)
    assert_verdict(
        bundle_log,
        [
            (
                8,
                "history",
                f"history is shorter than before: 7 entries now, 8 verified on {verified_on} "
                "(truncated)",
            ),
            (None, "bundle", "the header announces 8 entries, the bundle holds 7"),
            (None, "bundle", "the header's head is not the last entry's hash"),
        ],
    )


# --- 3. swapped entries ------------------------------------------------------------------


def test_two_swapped_entries_are_reported_at_their_seqs_only(log: Log) -> None:
    log.swap(6, 7)
    expected = [
        (6, "chain", "seq 6 missing here (deleted or out of order)"),
        (6, "chain", "seq 6 comes again after seq 7 (out of order or duplicated)"),
    ]
    if not isinstance(log, BundleLog):  # a database row also has a store position
        expected[1:1] = [(6, "chain", "stored at position 7 but signed as seq 6")]
        expected.append((7, "chain", "stored at position 6 but signed as seq 7"))
    assert_verdict(log, expected)


# --- 4. entries signed by a key that is not a member's -----------------------------------

STOLEN_PLEDGE = {
    "title": "Steal the budget", "weight": "1", "unit": "hours", "due": "2099-01-01",
    "beneficiaries": ["acme"],
}  # fmt: skip


def append_signed(log: Log, data: dict[str, Any], signer: Signer) -> None:
    log.append(entry_mod.sign(data, signer.private_key))
    if isinstance(log, BundleLog):
        log.fix_header()


def test_an_inserted_entry_by_an_outsider_is_not_a_members(log: Log, signers) -> None:
    mallory = signers["mallory"]
    entry = next_entry(log, type="pledge.made", by="mallory", key=mallory.fingerprint)
    append_signed(log, {**entry, "body": STOLEN_PLEDGE}, mallory)
    assert_verdict(
        log,
        [
            (9, "key", f"entry names unknown key {mallory.fingerprint}"),
            (9, "rule", f"'mallory' is not a member of project '{SLUG}'"),
        ],
    )


def test_an_inserted_entry_claiming_a_member_but_naming_an_outsiders_key_is_a_key_problem(
    log: Log, signers
) -> None:
    mallory = signers["mallory"]
    entry = next_entry(log, type="pledge.made", by="acme", key=mallory.fingerprint)
    body = {**STOLEN_PLEDGE, "beneficiaries": ["burgerco"]}
    append_signed(log, {**entry, "body": body}, mallory)
    assert_verdict(
        log,
        [
            (9, "key", f"entry names unknown key {mallory.fingerprint}"),
            (9, "key", f"key {mallory.fingerprint} is not a current key of 'acme'"),
        ],
    )


def test_an_inserted_entry_naming_a_members_key_but_signed_by_an_outsider_is_a_bad_signature(
    log: Log, signers
) -> None:
    acme = signers["acme"]
    entry = next_entry(log, type="pledge.made", by="acme", key=acme.fingerprint)
    body = {**STOLEN_PLEDGE, "beneficiaries": ["burgerco"]}
    append_signed(log, {**entry, "body": body}, signers["mallory"])
    assert_verdict(log, [bad_signature(9, acme.fingerprint)])


# --- 5. a validly signed entry that breaks a rule ----------------------------------------


def test_an_inserted_validly_signed_approval_of_ones_own_deliverable_breaks_a_rule(
    log: Log, signers
) -> None:
    acme = signers["acme"]
    body = {"target": 5, "target_hash": log.record(5)["hash"], "comment": "I like my work"}
    entry = next_entry(log, type="approval.given", by="acme", key=acme.fingerprint, body=body)
    append_signed(log, entry, acme)
    assert_verdict(
        log, [(9, "rule", "'acme' cannot approve or reject its own deliverable (seq 5)")]
    )


def test_an_inserted_validly_signed_entry_that_breaks_no_rule_is_sound(log: Log, signers) -> None:
    # The control for the test above: the insertion itself is done right.
    veggie = signers["veggie"]
    body = {"target": 5, "target_hash": log.record(5)["hash"], "comment": "fine by me"}
    entry = next_entry(log, type="approval.given", by="veggie", key=veggie.fingerprint, body=body)
    append_signed(log, entry, veggie)
    assert_sound(log, entries=9)


# --- 6. a whole history replaced by another validly signed one ---------------------------


def test_a_history_replaced_after_it_was_verified_is_a_rewrite_though_every_signature_holds(
    log: Log, home: Path, tmp_path: Path, signers
) -> None:
    assert_sound(log)
    verified_on = remembered_at(home)
    other_path, other_records = other_history(tmp_path, signers)
    if isinstance(log, BundleLog):
        export(other_path, log.path)
    else:
        log.replace_all(other_records)
    assert log.record(LAST)["hash"] == other_records[LAST]["hash"]
    assert_verdict(
        log,
        [
            (
                8,
                "history",
                f"seq 8 differs from the one verified on {verified_on} (history rewritten or "
                "forked)",
            )
        ],
    )


def test_the_replacing_history_is_itself_sound_where_it_was_never_verified(
    tmp_path: Path, home: Path, signers
) -> None:
    other_path, _ = other_history(tmp_path, signers)
    assert_sound(SqliteLog(other_path))
    assert_sound(BundleLog(export(other_path, tmp_path / "other.accord")))


def test_a_longer_history_that_continues_the_verified_one_is_sound(
    log: Log, home: Path, signers
) -> None:
    assert_sound(log)
    veggie = signers["veggie"]
    body = {"target": 5, "target_hash": log.record(5)["hash"], "comment": "fine by me"}
    entry = next_entry(log, type="approval.given", by="veggie", key=veggie.fingerprint, body=body)
    append_signed(log, entry, veggie)
    assert_sound(log, entries=9)


def test_verify_all_gives_the_same_verdict_as_verify_of_the_project(log: Log, signers) -> None:
    if isinstance(log, BundleLog):
        pytest.skip("--all verifies the projects of a ledger, not a bundle")
    log.edit(6, sig=log.record(4)["sig"])
    expected = [bad_hash(6), bad_signature(6, signers["burgerco"].fingerprint)]
    assert_verdict(log, expected)
    all_args = [a for a in log.verify_args() if a != SLUG] + ["--all", "--format", "json"]
    result = run(*all_args)
    assert result.exit_code == 5
    assert json_verdict(result) == expected


# --- after an ordinary read: the next ordinary command and verify (the verified state) -------

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def db_log(request: pytest.FixtureRequest, home: Path, tmp_path: Path, signers) -> Log:
    """The eight-entry project in a database, after one ordinary read from this home."""
    if request.param == "sqlite":
        stored: Log = SqliteLog(build_sqlite(tmp_path / "accord.db", signers))
    else:
        url = request.getfixturevalue("postgres_url")
        app = Ledger(storage.settings(url), clock=Clock())
        try:
            build_project(app, signers)
        finally:
            app.close()
        stored = PostgresLog(url, urlparse(url)._replace(query="").geturl())
    read = run(*ledger_args(stored), "obligations", SLUG)
    assert read.exit_code == 0, read.output
    return stored


def ledger_args(log: Log) -> list[str]:
    return log.verify_args()[:2]


def ordinary(log: Log, *args: str) -> Result:
    return run(*ledger_args(log), *args)


def set_topic(log: Log, position: int, topic: str) -> None:
    table = "stored_events" if isinstance(log, SqliteLog) else "TABLE"
    mark = "?" if isinstance(log, SqliteLog) else "%s"
    log._execute(  # type: ignore[attr-defined]
        f"UPDATE {table} SET topic = {mark} WHERE originator_version = {mark}", (topic, position)
    )


def assert_refused(result: Result, first_line: str) -> None:
    assert result.exit_code == 5, result.output
    assert result.stderr.splitlines()[0] == first_line


def test_a_topic_naming_an_installed_module_is_reported_and_never_imported(
    db_log: Log, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "accord_tamper_probe.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Thing:\n    pass\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(package))
    set_topic(db_log, 5, "accord_tamper_probe:Thing")
    assert_verdict(
        db_log,
        [
            (5, "store", "stored record names unknown topic 'accord_tamper_probe:Thing'"),
            (
                6,
                "rule",
                "seq 5 is a damaged entry, not a deliverable, an amendment, a close-short or "
                "a value proposal",
            ),
        ],
    )
    # the head this home verified is intact: reads of the verified state go on ...
    assert ordinary(db_log, "obligations", SLUG).exit_code == 0
    # ... and every read that would show seq 5 refuses it
    assert_refused(
        ordinary(db_log, "trail", SLUG),
        f"Error: seq 5 of '{SLUG}' in the store differs from the one this home verified "
        "(altered below the head)",
    )
    assert not marker.exists()
    import sys

    assert "accord_tamper_probe" not in sys.modules


def test_stored_metadata_beside_the_entries_decides_nothing(db_log: Log) -> None:
    first = db_log.record(1)
    db_log.put(1, {**first, "slug": "another-project", "party": "mallory"})
    later = db_log.record(6)
    db_log.put(6, {**later, "party": "mallory"})
    assert_sound(db_log)
    listed = ordinary(db_log, "project", "list", "--format", "json")
    assert [p["project"] for p in json.loads(listed.stdout)] == [SLUG]
    assert ordinary(db_log, "trail", SLUG, "--format", "json").exit_code == 0


def test_a_non_canonical_encoding_of_the_head_fails_verify_and_the_next_command(
    db_log: Log,
) -> None:
    record = db_log.record(LAST)
    loose = json.dumps(json.loads(record["entry"]), sort_keys=True)  # spaces after separators
    db_log.put(LAST, {**record, "entry": loose})
    result = db_log.verify("--format", "json", "--workers", "1")
    assert result.exit_code == 5
    assert (LAST, "canonical", "stored entry text is not in RFC 8785 canonical form") in (
        json_verdict(result)
    )
    assert_refused(
        ordinary(db_log, "obligations", SLUG),
        f"Error: seq {LAST} of '{SLUG}' differs from the one this home verified on "
        + remembered(db_log)
        + " (history rewritten or forked)",
    )


def test_a_truncation_after_a_read_fails_the_next_read_and_write(db_log: Log) -> None:
    when = remembered(db_log)
    db_log.delete(LAST)
    shorter = (
        f"Error: the history of '{SLUG}' is shorter than this home verified: 7 entries now, "
        f"8 verified on {when} (truncated) (seq 8)"
    )
    assert_refused(ordinary(db_log, "obligations", SLUG), shorter)
    write = ordinary(
        db_log, "statement", "propose", SLUG, "--title", "T", "--text", "x", "--as", "acme"
    )
    assert_refused(write, shorter)
    assert sorted(db_log.records()) == list(range(1, LAST))
    assert_verdict(
        db_log,
        [
            (
                8,
                "history",
                f"history is shorter than before: 7 entries now, 8 verified on {when} (truncated)",
            )
        ],
    )


def test_a_history_re_signed_after_a_read_fails_the_next_command(
    db_log: Log, tmp_path: Path, signers
) -> None:
    when = remembered(db_log)
    _, records = other_history(tmp_path, signers)
    db_log.replace_all(records)
    rewritten = (
        f"Error: seq 1 of '{SLUG}' differs from the one this home verified on {when} "
        "(history rewritten or forked)"
    )
    assert_refused(ordinary(db_log, "contributions", SLUG), rewritten)
    assert_refused(ordinary(db_log, "pledge", "list", SLUG), rewritten)


def remembered(log: Log) -> str:
    state = ordinary(log, "state", "show", "--format", "json")
    ((row,),) = [[r for r in json.loads(state.stdout) if r["project"] == SLUG]]
    return str(row["verified_at"])


# --- re-encoded rows: verify and the next read run the one row check (issue 20, class 10) ----

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def other_padding_bits(sig: str) -> str:
    """The same 64 signature bytes, with the 4 unused bits of the last character set."""
    assert sig.endswith("==") and len(sig) == 88
    last = B64.index(sig[85])
    return sig[:85] + B64[last | 0b1111 if last & 0b1111 == 0 else last & ~0b1111] + "=="


def at_type(text: str, replacement: str) -> str:
    """``text`` with the first character of the entry type replaced by ``replacement``."""
    start = text.index('"type":"') + len('"type":"')
    return text[:start] + replacement + text[start + 1 :]


def escape_type(text: str) -> str:
    """The same JSON value, with the first letter of the type written as a \\u escape."""
    start = text.index('"type":"') + len('"type":"')
    return at_type(text, f"\\u{ord(text[start]):04x}")


REENCODINGS: dict[str, Any] = {
    # the entry text: every other encoding of the same JSON is refused
    "text with a \\u escape": lambda r: {**r, "entry": escape_type(r["entry"])},
    "text keys reversed": lambda r: {
        **r,
        "entry": json.dumps(dict(reversed(json.loads(r["entry"]).items())), separators=(",", ":")),
    },
    "text with spaces": lambda r: {**r, "entry": json.dumps(json.loads(r["entry"]))},
    "text with a lone surrogate": lambda r: {**r, "entry": at_type(r["entry"], "\ud800")},
    # the signature: the hash binds its bytes, not their encoding; one encoding is accepted
    "sig in urlsafe base64": lambda r: {
        **r,
        "sig": r["sig"].replace("+", "-").replace("/", "_"),
    },
    "sig without padding": lambda r: {**r, "sig": r["sig"].rstrip("=")},
    "sig with other padding bits": lambda r: {**r, "sig": other_padding_bits(r["sig"])},
    "sig with a line break": lambda r: {**r, "sig": r["sig"][:44] + "\n" + r["sig"][44:]},
    # the stored hash: exactly the lower-case hex of the entry hash
    "hash in upper case": lambda r: {**r, "hash": r["hash"].upper()},
    "hash missing": lambda r: {k: v for k, v in r.items() if k != "hash"},
    # outside the signed row: metadata that decides nothing
    "an extra field beside the row": lambda r: {**r, "note": "added by hand"},
}
REFUSED = set(REENCODINGS) - {"an extra field beside the row"}


@pytest.mark.parametrize("position", [4, LAST])
@pytest.mark.parametrize("name", list(REENCODINGS))
def test_verify_and_the_next_read_agree_on_every_re_encoding_of_a_stored_row(
    db_log: Log, name: str, position: int
) -> None:
    record = db_log.record(position)
    assert "+" in record["sig"] or "/" in record["sig"]  # so that urlsafe differs
    changed = REENCODINGS[name](record)
    assert changed != record
    db_log.put(position, changed)
    verdict = db_log.verify("--format", "json", "--workers", "1")
    # the head is checked by every command, a row below it by every read that shows it
    read = ordinary(db_log, "obligations" if position == LAST else "trail", SLUG)
    again = db_log.verify("--format", "json", "--workers", "1")
    expected = 5 if name in REFUSED else 0
    assert (verdict.exit_code, read.exit_code, again.exit_code) == (expected,) * 3, (
        verdict.output,
        read.output,
    )
    if expected:
        assert json_verdict(verdict)[0][0] == position
        assert read.stderr.startswith(f"Error: seq {position} of '{SLUG}' ")


def test_a_signature_with_other_padding_bits_is_refused_by_verify_as_by_the_reads(
    db_log: Log, signers
) -> None:
    record = db_log.record(LAST)
    db_log.put(LAST, {**record, "sig": other_padding_bits(record["sig"])})
    fingerprint = signers["veggie"].fingerprint
    assert_verdict(
        db_log,
        [(LAST, "signature", f"signature by key {fingerprint} is not in canonical base64")],
    )
    assert_refused(
        ordinary(db_log, "obligations", SLUG),
        f"Error: seq {LAST} of '{SLUG}' differs from the one this home verified on "
        + remembered(db_log)
        + " (history rewritten or forked)",
    )


def test_the_stores_own_json_encoding_of_a_row_is_not_the_entrys_and_changes_nothing(
    home: Path, tmp_path: Path, signers
) -> None:
    """The row's state is JSON holding the entry text: re-encoding that outer JSON (\\u
    escapes, key order, spaces) keeps the text, while a \\u escape inside the text does not."""
    path = build_sqlite(tmp_path / "accord.db", signers)
    app = Ledger(storage.settings(str(path)), clock=Clock())
    app.propose_statement(SLUG, title="Café", text="Déjà vu", signer=signers["acme"])
    app.close()
    stored = SqliteLog(path)
    assert run("--ledger", str(path), "obligations", SLUG).exit_code == 0
    record = stored.record(LAST + 1)
    assert "é" in record["entry"]
    outer = json.dumps(dict(reversed(record.items())), ensure_ascii=True, indent=1)
    stored._execute(
        "UPDATE stored_events SET state = ? WHERE originator_version = ?",
        (outer.encode("ascii"), LAST + 1),
    )
    agree = [run("--ledger", str(path), *args).exit_code for args in (
        ["verify", SLUG], ["obligations", SLUG], ["trail", SLUG], ["verify", SLUG],
    )]  # fmt: skip
    assert agree == [0, 0, 0, 0]
    stored.put(LAST + 1, {**record, "entry": record["entry"].replace("é", "\\u00e9")})
    refused = [run("--ledger", str(path), *args).exit_code for args in (
        ["verify", SLUG], ["obligations", SLUG], ["trail", SLUG], ["verify", SLUG],
    )]  # fmt: skip
    assert refused == [5, 5, 5, 5]
