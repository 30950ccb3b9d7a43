"""Names and snapshots in the shared store are never trusted (issue 20, classes 2 and 3).

Anyone who can write the shared store can put a name in a row (a topic column, the first
event's ``originator_topic``, a snapshot's ``topic``) or damage a snapshot. No such name may
reach an import: a module planted on ``sys.path`` that writes a marker file when imported is
never imported. An unknown name or a damaged record in a project's stream is store damage:
one ``Error:`` line with a ``Hint:``, exit 5, nothing written. A snapshot is a cache: one
that does not check out is ignored and reported (one ``Warning:`` line), the project is
loaded from its events, and the write goes on; ``verify`` says the same.

The project is the eight entries of ``test_tamper.py``, in SQLite and in PostgreSQL, with a
snapshot of its aggregate at seq 8 (taken as the write path takes one at every 100th), after
one ordinary read from this home.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ledger import storage
from ledger.application import Ledger
from ledger.project import Project, project_id
from tests.integration.test_tamper import (
    LAST,
    SLUG,
    Clock,
    Log,
    PostgresLog,
    SqliteLog,
    build_project,
    build_sqlite,
    json_verdict,
    run,
)

PROBE = "accord_tamper_probe"
NAME = f"{PROBE}:Thing"
DAMAGE_HINT = (
    f"Hint: `accord verify {SLUG}` lists every problem; the store was changed behind accord's "
    "back: restore it from a backup or from a partner's export"
)


class Store:
    """The project's stored events and snapshots, edited behind accord's back."""

    def __init__(self, log: Log) -> None:
        self.log = log

    @property
    def sqlite(self) -> bool:
        return isinstance(self.log, SqliteLog)

    def args(self) -> list[str]:
        return self.log.verify_args()[:2]

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        """Run ``query`` on the store; EVENTS and SNAPSHOTS name the two tables."""
        if self.sqlite:
            query = query.replace("EVENTS", "stored_events").replace(
                "SNAPSHOTS", "stored_snapshots"
            )
            return self.log._execute(query.replace("%s", "?"), params)  # type: ignore[attr-defined]
        assert isinstance(self.log, PostgresLog)
        schema = parse_qs(urlparse(self.log.url).query)["schema"][0]
        query = query.replace("EVENTS", f'"{schema}".accord_events')
        query = query.replace("SNAPSHOTS", f'"{schema}".accord_snapshots')
        return self.log._execute(query, params)

    def events(self) -> list[tuple[Any, ...]]:
        return [tuple(map(_plain, r)) for r in self.execute("SELECT * FROM EVENTS ORDER BY 2")]

    def snapshots(self) -> list[tuple[Any, ...]]:
        return [tuple(map(_plain, r)) for r in self.execute("SELECT * FROM SNAPSHOTS ORDER BY 2")]

    def snapshot_state(self) -> dict[str, Any]:
        ((state,),) = self.execute("SELECT state FROM SNAPSHOTS")
        return dict(json.loads(bytes(state)))

    def set_snapshot(self, column: str, value: Any) -> None:
        assert self.execute(f"UPDATE SNAPSHOTS SET {column} = %s", (value,)) == 1

    def set_snapshot_state(self, state: dict[str, Any]) -> None:
        self.set_snapshot("state", json.dumps(state).encode("utf-8"))

    def set_event_state(self, position: int, state: dict[str, Any]) -> None:
        self.log.put(position, state)

    def set_event_topic(self, position: int, topic: str) -> None:
        query = "UPDATE EVENTS SET topic = %s WHERE originator_version = %s"
        assert self.execute(query, (topic, position)) == 1

    def cli(self, *args: str) -> Any:
        return run(*self.args(), *args)


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def snapshot_the_head(url: str) -> None:
    """Store a snapshot of the project's aggregate at its head, as the write path takes one."""
    app = Ledger(storage.settings(url), clock=Clock())
    try:
        project = app.repository.get(project_id(SLUG))  # an intact store: as the library does
        assert project.version == LAST
        assert app.snapshots is not None
        app.snapshots.put([Project.Snapshot.take(project)])
    finally:
        app.close()


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, home: Path, tmp_path: Path, signers) -> Store:
    if request.param == "sqlite":
        path = build_sqlite(tmp_path / "accord.db", signers)
        log: Log = SqliteLog(path)
        url = str(path)
    else:
        url = request.getfixturevalue("postgres_url")
        app = Ledger(storage.settings(url), clock=Clock())
        try:
            build_project(app, signers)
        finally:
            app.close()
        log = PostgresLog(url, urlparse(url)._replace(query="").geturl())
    snapshot_the_head(url)
    stored = Store(log)
    read = stored.cli("obligations", SLUG)
    assert read.exit_code == 0, read.output
    assert read.stderr == ""
    return stored


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module on sys.path that leaves a marker file if anything imports it."""
    marker = tmp_path / "imported"
    package = tmp_path / "probe"
    package.mkdir()
    (package / f"{PROBE}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Thing:\n    pass\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, PROBE, raising=False)
    return marker


def assert_never_imported(marker: Path) -> None:
    assert not marker.exists()
    assert PROBE not in sys.modules


def write(store: Store) -> Any:
    return store.cli(
        "statement", "propose", SLUG, "--title", "Next", "--text", "x", "--no-sign", "--as", "acme"
    )


def assert_damage_refused(store: Store, result: Any, error: str) -> None:
    """Exit 5, exactly one Error line and the hint, and the store left as it was."""
    assert result.exit_code == 5, result.output
    assert result.stdout == ""
    assert result.stderr == f"{error}\n{DAMAGE_HINT}\n"


# --- 2. names in stored rows ------------------------------------------------------------------


def test_an_aggregate_topic_in_the_first_events_state_is_damage_and_never_imported(
    store: Store, probe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.log.record(1)
    assert first["originator_topic"] == "accord:Project"
    store.set_event_state(1, {**first, "originator_topic": NAME})
    before = store.events(), store.snapshots()

    result = write(store)

    assert_damage_refused(
        store,
        result,
        f"Error: seq 1 of '{SLUG}' in the store is damaged: stored record names unknown "
        f"aggregate topic '{NAME}'",
    )
    assert (store.events(), store.snapshots()) == before
    verdict = store.cli("verify", SLUG, "--format", "json", "--workers", "1")
    assert verdict.exit_code == 5
    assert json_verdict(verdict)[0] == (
        1,
        "store",
        f"stored record names unknown aggregate topic '{NAME}'",
    )
    # a home that never verified the project rebuilds it, and stops at the same row
    monkeypatch.setenv("ACCORD_HOME", str(tmp_path / "another-home"))
    fresh = store.cli("obligations", SLUG)
    assert fresh.exit_code == 5
    assert fresh.stderr.splitlines()[0] == (
        f"Error: stored record names unknown aggregate topic '{NAME}' (seq 1)"
    )
    assert_never_imported(probe)


def test_a_topic_column_naming_an_installed_module_fails_the_write_with_5_never_1(
    store: Store, probe: Path
) -> None:
    store.execute("DELETE FROM SNAPSHOTS")  # the write replays every event
    store.set_event_topic(5, NAME)
    before = store.events()

    result = write(store)

    assert_damage_refused(
        store,
        result,
        f"Error: stored record 5 of project '{SLUG}' names unknown topic '{NAME}' (seq 5)",
    )
    assert store.events() == before
    assert_never_imported(probe)


def test_a_record_of_another_aggregate_in_a_projects_stream_is_damage(store: Store) -> None:
    store.execute("DELETE FROM SNAPSHOTS")
    store.set_event_topic(5, "accord:RelayLog.Signed")
    before = store.events()

    result = write(store)

    assert_damage_refused(
        store,
        result,
        f"Error: stored record 5 of project '{SLUG}' names topic 'accord:RelayLog.Signed', "
        "not an event of its stream (seq 5)",
    )
    assert store.events() == before


def test_an_event_missing_a_field_the_library_needs_is_damage_not_a_crash(store: Store) -> None:
    store.execute("DELETE FROM SNAPSHOTS")
    record = store.log.record(5)
    store.set_event_state(5, {k: v for k, v in record.items() if k != "timestamp"})
    before = store.events()

    result = write(store)

    assert_damage_refused(
        store,
        result,
        f"Error: stored record 5 of project '{SLUG}' cannot be applied (AttributeError) (seq 5)",
    )
    assert store.events() == before


# --- 3. damaged snapshots: ignored and reported, never trusted, never a crash -----------------


def _state(**fields: Any) -> Any:
    return lambda s: {**s, "state": {**s["state"], **fields}}


SNAPSHOT_DAMAGE: dict[str, tuple[str, Any, str]] = {
    # name: (column, change, the reason given)
    "an unknown topic column": ("topic", NAME, f"it names topic '{NAME}'"),
    "another stream's topic column": (
        "topic",
        "accord:RelayLog.Snapshot",
        "it names topic 'accord:RelayLog.Snapshot'",
    ),
    "an unknown aggregate topic in its state": (
        "state",
        lambda s: {**s, "topic": NAME},
        f"it names aggregate topic '{NAME}'",
    ),
    "garbage bytes": (
        "state",
        b"\x00\xff\xfe garbage",
        "its record cannot be decoded (UnicodeDecodeError)",
    ),
    "a state that is not JSON": (
        "state",
        b'{"state": ',
        "its record cannot be decoded (JSONDecodeError)",
    ),
    "a state that is a list": (
        "state",
        lambda s: {**s, "state": [1]},
        "its state is not the aggregate's attributes",
    ),
    "a head that is a number": ("state", _state(head=7), "it holds a head that is not str"),
    "a slug that is a list": ("state", _state(slug=["x"]), "it holds a slug that is not str"),
    "a creation time that is text": (
        "state",
        _state(_created_on="yesterday"),
        "it holds a _created_on that is not datetime",
    ),
    "an extra attribute": (
        "state",
        _state(owner="mallory"),
        "its state is not the aggregate's attributes",
    ),
    "a class version": (
        "state",
        _state(class_version=2),
        "its state is not the aggregate's attributes",
    ),
    "a snapshot time that is text": (
        "state",
        lambda s: {**s, "timestamp": "now"},
        "its fields are not a snapshot's",
    ),
    "another head": ("state", _state(head="0" * 64), f"it differs from the event stored at {LAST}"),
    "another slug": ("state", _state(slug="another"), "its slug is not the created event's"),
    "an earlier position": ("originator_version", 4, "it differs from the event stored at 4"),
    "a position with no event": ("originator_version", 50, "no event is stored at position 50"),
}


@pytest.mark.parametrize("damage", list(SNAPSHOT_DAMAGE))
def test_a_damaged_snapshot_is_ignored_and_reported_and_the_write_goes_on(
    store: Store, probe: Path, damage: str
) -> None:
    column, change, reason = SNAPSHOT_DAMAGE[damage]
    if column == "state" and callable(change):
        store.set_snapshot_state(change(store.snapshot_state()))
    else:
        store.set_snapshot(column, change)
    position = change if column == "originator_version" else LAST
    warning = (
        f"Warning: ignored the snapshot of project '{SLUG}' at position {position}: {reason}; "
        "loaded from the events\n"
    )

    result = write(store)

    assert result.exit_code == 0, result.output
    assert result.stderr == warning
    assert len(store.events()) == LAST + 1
    verdict = store.cli("verify", SLUG)
    assert (verdict.exit_code, verdict.stderr) == (0, warning)
    assert verdict.stdout.startswith(f"{SLUG}: sound, {LAST + 1} entries")
    assert_never_imported(probe)


def test_a_snapshot_version_that_is_text_is_ignored(home: Path, tmp_path: Path, signers) -> None:
    # SQLite keeps text in an INTEGER column; PostgreSQL refuses it.
    path = build_sqlite(tmp_path / "accord.db", signers)
    snapshot_the_head(str(path))
    stored = Store(SqliteLog(path))
    stored.set_snapshot("originator_version", "abc")

    result = write(stored)

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: ignored the snapshot of project '{SLUG}' at position 'abc': it is not at a "
        "position of the stream; loaded from the events\n"
    )


def test_an_intact_snapshot_is_used_so_a_record_below_it_is_not_read_by_the_write(
    store: Store,
) -> None:
    record = store.log.record(5)
    store.set_event_state(5, {k: v for k, v in record.items() if k != "timestamp"})

    result = write(store)  # loads the snapshot at 8 and the events after it: none

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    verdict = store.cli("verify", SLUG, "--format", "json", "--workers", "1")
    assert verdict.exit_code == 5  # the damaged row is still reported by the full audit
    assert json_verdict(verdict)[0] == (5, "store", "stored record cannot be decoded (TypeError)")


def test_the_hundredth_entrys_snapshot_damaged_is_ignored_and_the_project_goes_on(
    home: Path, tmp_path: Path, signers
) -> None:
    path = build_sqlite(tmp_path / "accord.db", signers)
    app = Ledger(storage.settings(str(path)), clock=Clock())
    try:
        for n in range(100 - LAST):
            app.add_pledge(
                SLUG, title=f"Pledge {n}", weight="1", unit="hours", due="2099-12-15",
                beneficiaries=None, signer=signers["acme"],
            )  # fmt: skip
    finally:
        app.close()
    stored = Store(SqliteLog(path))
    assert [row[1] for row in stored.snapshots()] == [100]  # taken by the write path
    state = stored.snapshot_state()
    stored.set_snapshot_state({**state, "topic": NAME})

    result = write(stored)

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: ignored the snapshot of project '{SLUG}' at position 100: it names aggregate "
        f"topic '{NAME}'; loaded from the events\n"
    )
    assert len(stored.events()) == 101
