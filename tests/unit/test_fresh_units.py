"""The pieces of fresh reads and of the report's place, one by one (issue 14, items 4 and 7)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from commands.fresh import FreshReads, report_note
from commands.options import AppContext, _unconfirmed_line
from commands.reporting import report_dir
from ledger.application import Ledger
from ledger.errors import StorageUnavailableError, UsageError
from ledger.keys import Signer
from relay.client import Deadline
from relay.remotes import Remote, RemoteStore, remotes_path

T1, T2 = "2026-12-07T10:00:00Z", "2026-12-08T09:30:00Z"


# --- the last sync time in the remotes file -------------------------------------------------


def test_the_remotes_file_keeps_the_last_sync_time_per_remote_and_project(
    tmp_path: Path,
) -> None:
    store = RemoteStore("/ledgers/a.db", home=tmp_path)
    assert store.synced("hub", "spring") is None
    store.set_synced("hub", "spring")
    first = store.synced("hub", "spring")
    assert first is not None and len(first) == 20 and first.endswith("Z")
    assert store.synced("hub", "autumn") is None
    assert store.synced("other", "spring") is None
    store.close()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("yesterday", "a stored sync time that is not an RFC 3339 UTC time"),
        ("2026-12-07T10:00:00Z\x1b[2J", "a stored sync time that is not an RFC 3339 UTC time"),
        (b"x", "a stored bytes where text belongs"),
    ],
)
def test_a_damaged_sync_time_is_storage_unavailable_never_a_crash(
    tmp_path: Path, value: object, error: str
) -> None:
    store = RemoteStore("/ledgers/a.db", home=tmp_path)
    store.set_synced("hub", "spring")
    store.close()
    path = remotes_path("/ledgers/a.db", tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE synced SET synced_at=?", (value,))
    db.close()
    store = RemoteStore("/ledgers/a.db", home=tmp_path)
    with pytest.raises(StorageUnavailableError, match=re.escape(f"is damaged: {error}")):
        store.synced("hub", "spring")
    store.close()


def test_a_remotes_file_of_an_older_version_gains_the_table(tmp_path: Path) -> None:
    path = remotes_path("/ledgers/a.db", tmp_path)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:  # as the previous version left it: no `synced` table
        db.execute(
            "CREATE TABLE remotes (name TEXT PRIMARY KEY, url TEXT NOT NULL, "
            "relay_key TEXT NOT NULL, added_at TEXT NOT NULL)"
        )
    db.close()
    store = RemoteStore("/ledgers/a.db", home=tmp_path)
    assert store.synced("hub", "spring") is None
    store.set_synced("hub", "spring")
    assert store.synced("hub", "spring") is not None
    store.close()


# --- the ledger's hook ----------------------------------------------------------------------


def test_every_verified_state_read_calls_the_ledgers_before_read_hook_first(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    memory_ledger.propose_project(
        "spring", title="T", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    called: list[tuple[str, int]] = []

    def hook(slug: str) -> None:
        called.append((slug, memory_ledger.rows.last(slug) is not None))

    memory_ledger.before_read = hook
    memory_ledger.verified_state("spring")
    assert called == [("spring", True)]


def test_a_read_of_the_past_narrows_what_it_shows(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    from projections.replay import AsOf, Replay

    memory_ledger.propose_project(
        "spring", title="T", purpose="", members={"burgerco": signers["burgerco"].fingerprint},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    memory_ledger.join_project("spring", signer=signers["burgerco"])
    Replay.build(memory_ledger, "spring", AsOf(seq=1))
    assert (memory_ledger.shown["spring"], memory_ledger.shown_upto["spring"]) == (2, 1)


# --- the read timeout -----------------------------------------------------------------------


def test_the_read_timeout_has_its_own_variable_and_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from commands.fresh import read_deadline

    monkeypatch.delenv("ACCORD_READ_TIMEOUT", raising=False)
    monkeypatch.setenv("ACCORD_RELAY_DEADLINE", "120")
    assert read_deadline().seconds == 3.0
    monkeypatch.setenv("ACCORD_READ_TIMEOUT", "0.25")
    assert read_deadline().seconds == 0.25
    monkeypatch.setenv("ACCORD_READ_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="ACCORD_READ_TIMEOUT must be a number of seconds"):
        read_deadline()
    assert Deadline.from_env() == 120.0  # the overall deadline is untouched


# --- the notes ------------------------------------------------------------------------------


def _fresh(remote: Remote | None, missed: dict[str, str | None], reason: str, **kw: Any) -> Any:
    fresh = FreshReads.__new__(FreshReads)
    fresh.missed, fresh.reason, fresh.offline = missed, reason, kw.get("offline", True)
    fresh._remote = remote
    return fresh


HUB = Remote("hub", "http://127.0.0.1:1", "ssh-ed25519 AAAA")


@pytest.mark.parametrize(
    ("remote", "missed", "offline", "stale", "line"),
    [
        (HUB, {"a": T1}, True, "",
         f"Note: offline: R; showing this replica as synced at {T1}"),
        (HUB, {"a": T2, "b": T1}, True, "",
         f"Note: offline: R; showing this replica as synced at {T1}"),
        (HUB, {"a": None}, True, "",
         "Note: offline: R; showing this replica, never synced with relay hub"),
        (HUB, {"a": T1, "b": None}, False, "; X",
         f"Note: not refreshed: R; showing this replica as synced at {T1} "
         "(1 of 2 projects never); X"),
        (None, {"a": None}, False, "",
         "Note: not refreshed: R; showing this replica alone"),
    ],
)  # fmt: skip
def test_the_offline_note_is_one_line_saying_when_the_replica_last_synced(
    remote: Remote | None, missed: dict[str, str | None], offline: bool, stale: str, line: str
) -> None:
    assert _fresh(remote, missed, "R", offline=offline).note(stale) == line


def test_no_offline_note_when_every_project_was_refreshed() -> None:
    assert _fresh(HUB, {}, "R").note() is None


def test_the_unconfirmed_note_names_every_project_in_one_line() -> None:
    assert _unconfirmed_line([("a", 1, 2, T1)]) == (
        f"Note: entry 2 of a is not yet confirmed by every member (as of {T1}); "
        "`accord sync a` cosigns, `accord status a` checks again"
    )
    assert _unconfirmed_line([("a", 0, 2, None), ("b", 2, 3, T1)]) == (
        "Note: not yet confirmed by every member: entries 1-2 of a (never checked), "
        f"entry 3 of b (as of {T1}); `accord sync --all` cosigns, `accord status SLUG` "
        "checks again"
    )
    many = _unconfirmed_line([(f"p{n}", 0, 1, None) for n in range(7)])
    assert many.count("\n") == 0
    assert "entry 1 of p4 (never checked) and 2 more projects;" in many


def test_the_pulled_report_note_says_where() -> None:
    paths = [Path("r") / "s" / n for n in ("close-report.md", "close-report.json")]
    assert report_note("s", paths) == (
        "Note: s is closed: wrote its close report to r/s/ (close-report.md, close-report.json)"
    )


# --- where the report goes ------------------------------------------------------------------


def _ledger(source: str, path: Path | None) -> Any:
    return SimpleNamespace(verified=SimpleNamespace(source=source, path=path))


def test_the_report_goes_beside_a_sqlite_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    other = tmp_path.parent / "ledgers" / "a.db"
    assert report_dir(_ledger(str(other), Path("x")), "s") == other.parent / "accord-reports/s"
    inside = tmp_path / "data" / "a.db"
    assert report_dir(_ledger(str(inside), Path("x")), "s") == Path("data/accord-reports/s")


def test_the_report_of_a_postgres_ledger_goes_under_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path.parent)
    source = "postgresql://postgres@127.0.0.1:5432/test"
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    found = report_dir(_ledger(source, Path("x")), "s")
    assert found == (tmp_path / "home" / "reports" / digest / "s").relative_to(tmp_path.parent)


def test_appcontext_starts_online_with_nothing_pulled() -> None:
    app = AppContext()
    assert (app.offline, app.fresh, app.party, app.showing, app.pulled_closed) == (
        False, False, None, None, [],
    )  # fmt: skip
