"""Issue 14, items 4 and 7, through a real relay: fresh reads, and the close report everywhere.

Each organisation has its own home and replica (``test_client_story.Party``); nobody runs
``accord sync`` before a read unless the test says so.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture

from ledger.storage import source_of
from relay.remotes import RemoteStore

S = "no-whopper-day"
REPORTS = ("close-report.md", "close-report.html", "close-report.json", "close-report.pdf")
pytestmark = pytest.mark.slow


def _synced_at(party: Party, slug: str = S) -> str | None:
    store = RemoteStore(source_of(str(party.ledger)), home=party.home)
    try:
        return store.synced("hub", slug)
    finally:
        store.close()


def _requests(relay: Any) -> int:
    """How many project requests the relay has logged so far (it logs one line each)."""
    time.sleep(0.3)  # the log is read from the relay's stderr by a thread
    return sum(" /v1/projects" in line for line in relay.lines)


def _started(acme: Party, burgerco: Party) -> None:
    """acme proposes with burgerco pinned; burgerco fetches the proposal and joins (seq 2)."""
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
    )  # fmt: skip
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)


def _confirmed_everywhere(*people: Party) -> None:
    """Everyone syncs (and cosigns) until every replica knows the head is confirmed."""
    for _ in range(2):
        for party in people:
            party.act("sync", S)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _repoint(party: Party, url: str) -> None:
    """Point the party's remote ``hub`` at ``url``, keeping the pinned relay key."""
    key_line = party.json("remote", "list")[0]["relay_key"]
    party.ok("remote", "remove", "hub")
    party.ok("remote", "add", "hub", url, "--relay-key", key_line)


@pytest.fixture
def silent_relay() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


# --- a write is seen by the others' plain reads ---------------------------------------------


def test_a_write_by_one_party_is_seen_by_another_partys_plain_read_without_sync(
    parties: dict[str, Party],  # noqa: F811
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    _started(acme, burgerco)
    acme.act(
        "pledge", "add", S, "Posters", "--weight", "10", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco",
    )  # fmt: skip  # seq 3, through the relay

    rows = burgerco.json("pledge", "list", S)  # no sync: the read pulls seq 3 first

    assert [(r["seq"], r["party"], r["title"]) for r in rows] == [(3, "acme", "Posters")]
    assert burgerco.json("project", "show", S, "--offline")["entries"] == 3  # now held here
    assert _synced_at(burgerco) is not None
    shown = burgerco.ok("obligations", S)
    assert "offline" not in shown.stderr and "not refreshed" not in shown.stderr


def test_todo_never_lists_a_decision_another_signer_of_the_party_already_took(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    relay = parties["relay"]
    (tmp_path / "alice").mkdir()
    alice = Party("acme", tmp_path / "alice" / "home", tmp_path / "alice" / "accord.db")
    alice.ok("init")
    alice.ok("key", "new", "acme")
    alice.ok("remote", "add", "hub", relay.url)  # type: ignore[attr-defined]
    _started(acme, burgerco)
    line = str(alice.json("key", "show", "acme")["public_key"])
    acme.act("project", "add-signer", S, "--label", "alice", "--public-key", line)  # 3
    alice.act("sync", S)
    burgerco.act(
        "pledge", "add", S, "Banners", "--weight", "4", "--unit", "banners",
        "--due", "2099-12-20", "--to", "acme",
    )  # fmt: skip  # 4
    burgerco.act("deliver", S, "4", "--summary", "Four banners")  # 5
    acme.act("sync", S)  # acme's replica holds the deliverable: it waits for acme's decision
    assert [(r["waiting"], r["seq"]) for r in acme.json("todo", "--as", "acme")] == [("decide", 5)]
    alice.act("approve", S, "5")  # 6: alice decides for acme, on her own machine

    rows = acme.json("todo", "--as", "acme")  # no sync: the read pulls seq 6 first

    assert rows == []
    refused = acme("approve", S, "5", "--as", "acme")
    assert refused.exit_code == 4, refused.output


def test_an_offline_todo_says_its_list_may_be_stale(
    parties: dict[str, Party],  # noqa: F811
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    _started(acme, burgerco)
    _confirmed_everywhere(acme, burgerco)
    synced = _synced_at(burgerco)
    port = _closed_port()
    _repoint(burgerco, f"http://127.0.0.1:{port}")

    result = burgerco.ok("todo", "--as", "burgerco")

    assert result.stderr == (
        f"Note: offline: cannot reach the relay at http://127.0.0.1:{port}: ConnectError; "
        f"showing this replica as synced at {synced}; what it lists may have been decided "
        "since\n"
    )


# --- offline, slow, and --offline -----------------------------------------------------------


def test_an_unreachable_relay_gives_one_offline_line_and_the_replicas_answer_quickly(
    parties: dict[str, Party],  # noqa: F811
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    relay = parties["relay"]
    _started(acme, burgerco)
    _confirmed_everywhere(acme, burgerco)
    synced = _synced_at(acme)
    assert synced is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", synced)
    relay.stop()  # type: ignore[attr-defined]  # the port is closed now
    url = relay.url  # type: ignore[attr-defined]
    before = acme.ledger.read_bytes()

    started = time.monotonic()
    result = acme.ok("project", "show", S, "--format", "json")
    elapsed = time.monotonic() - started

    assert json.loads(result.stdout)["entries"] == 2  # the replica's answer
    assert result.stderr == (
        f"Note: offline: cannot reach the relay at {url}: ConnectError; "
        f"showing this replica as synced at {synced}\n"
    )
    assert elapsed < 2.5
    assert acme.ledger.read_bytes() == before
    # every read, and once per command however many projects it reads
    for args in (("obligations", S), ("trail", S), ("project", "list"), ("todo", "--as", "acme")):
        assert acme.ok(*args).stderr.count("Note: offline:") == 1, args


def test_a_relay_that_does_not_answer_is_given_up_after_the_read_timeout(
    parties: dict[str, Party],  # noqa: F811
    silent_relay: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    _started(acme, burgerco)
    _confirmed_everywhere(acme, burgerco)
    synced = _synced_at(acme)
    _repoint(acme, silent_relay)
    monkeypatch.setenv("ACCORD_READ_TIMEOUT", "0.5")

    started = time.monotonic()
    result = acme.ok("statement", "list", S)
    elapsed = time.monotonic() - started

    assert result.stdout == "(no statements yet)\n"
    assert result.stderr == (
        f"Note: offline: relay hub did not answer within 0.5 s; showing this replica as "
        f"synced at {synced}\n"
    )
    assert elapsed < 2.5


@pytest.mark.parametrize("value", ["0", "-1", "3s", "1e3", "86401", "0.0001"])
def test_a_malformed_read_timeout_is_a_usage_error_before_any_request(
    parties: dict[str, Party],  # noqa: F811
    value: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    relay = parties["relay"]
    _started(acme, burgerco)
    asked = _requests(relay)
    monkeypatch.setenv("ACCORD_READ_TIMEOUT", value)

    result = acme("obligations", S)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: ACCORD_READ_TIMEOUT must be a number of seconds above 0 and at most 86400, "
    )
    assert _requests(relay) == asked


def test_offline_reads_send_no_request_and_print_no_offline_note(
    parties: dict[str, Party],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    relay = parties["relay"]
    _started(acme, burgerco)
    _confirmed_everywhere(acme, burgerco)
    acme.act(
        "statement", "propose", S, "--title", "T", "--text", "x", "--no-sign"
    )  # 3: burgerco lags
    asked = _requests(relay)

    offline = [
        burgerco.ok("obligations", S, "--offline"),
        burgerco.ok("--offline", "project", "show", S),
        burgerco.ok("todo", "--as", "burgerco", "--offline"),
    ]
    monkeypatch.setenv("ACCORD_OFFLINE", "1")
    offline.append(burgerco.ok("statement", "list", S))

    assert _requests(relay) == asked  # not one request
    for result in offline:
        assert "offline" not in result.stderr and "not refreshed" not in result.stderr
    assert offline[-1].stdout == "(no statements yet)\n"  # seq 3 never came
    # A command that must reach the relay refuses --offline (exit 2) and changes nothing.
    before = burgerco.ledger.read_bytes()
    for args in (
        ("sync", S, "--as", "burgerco"),
        ("status", S, "--as", "burgerco"),
        ("statement", "propose", S, "--title", "U", "--text", "y", "--as", "burgerco", "--no-sign"),
    ):
        result = burgerco(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Error: --offline (or ACCORD_OFFLINE) sends nothing")
    assert burgerco.ledger.read_bytes() == before
    assert _requests(relay) == asked
    monkeypatch.delenv("ACCORD_OFFLINE")
    fresh = burgerco.ok("statement", "list", S, "--format", "json")
    assert _requests(relay) > asked
    assert "offline" not in fresh.stderr


def test_a_forking_relay_still_fails_a_read_with_exit_5(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
    serve: Any,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    _started(acme, burgerco)
    with sqlite3.connect(tmp_path / "relay.db") as live, sqlite3.connect(tmp_path / "b.db") as b:
        live.backup(b)  # a second store, same relay key: two histories after seq 2
    (tmp_path / "b-home" / "relay").mkdir(parents=True)
    shutil.copy(tmp_path / "home" / "relay" / "relay.key", tmp_path / "b-home" / "relay")
    other = serve(str(tmp_path / "b.db"), home=tmp_path / "b-home")
    acme.act("statement", "propose", S, "--title", "A", "--text", "acme's seq 3", "--no-sign")
    acme.act("sync", S)  # acme keeps the honest checkpoint of size 3
    _repoint(acme, other.url)
    _repoint(burgerco, other.url)  # burgerco, at seq 2, writes its own seq 3 there
    burgerco.act(
        "statement", "propose", S, "--title", "B", "--text", "burgerco's seq 3", "--no-sign"
    )
    before = acme.ledger.read_bytes()

    for args in (("project", "show", S), ("todo", "--as", "acme"), ("obligations", S)):
        result = acme(*args)
        assert result.exit_code == 5, (args, result.output)
        assert "Error: the relay forked 'no-whopper-day'" in result.stderr
        assert result.stderr.count("\u2014 accord.ledger/") == 2  # both signed notes
        assert "Note:" not in result.stderr  # a failed read shows nothing, notes nothing
    assert acme.ledger.read_bytes() == before
    assert acme.json("project", "show", S, "--offline")["entries"] == 3


# --- the note on unconfirmed entries ---------------------------------------------------------


def test_the_unconfirmed_note_is_one_line_for_shown_joined_projects_only(
    parties: dict[str, Party],  # noqa: F811
) -> None:
    acme, burgerco, veggie = parties["acme"], parties["burgerco"], parties["veggie"]
    _started(acme, burgerco)  # no-whopper-day: 2 entries, nothing confirmed
    acme.act("project", "propose", "spring", "--title", "Spring",
             "--member", f"veggie={fingerprint(veggie)}")  # fmt: skip
    veggie.act("project", "propose", "autumn", "--title", "Autumn",
               "--member", f"acme={fingerprint(acme)}")  # fmt: skip
    acme.act("sync", "autumn")  # acme is invited to autumn, has not joined

    listed = acme.ok("project", "list")

    assert listed.stderr == (
        "Note: not yet confirmed by every member: entries 1-2 of no-whopper-day (never "
        "checked), entry 1 of spring (never checked); `accord sync --all` cosigns, "
        "`accord status SLUG` checks again\n"
    )
    # todo shows only autumn (an invitation: acme has not joined it): no note at all
    todo = acme.ok("todo", "--as", "acme")
    assert "autumn" in todo.stdout and "spring" not in todo.stdout
    assert todo.stderr == ""
    # a read of the past that every member confirmed says nothing
    acme.act("sync", "spring")  # acme, spring's only joined member, confirms seq 1
    assert acme.ok("project", "show", "spring").stderr == ""
    acme.act("sync", S)  # acme cosigns size 2; burgerco has not
    assert acme.ok("project", "show", S).stderr == (
        f"Note: entries 1-2 of {S} are not yet confirmed by every member (as of "
        f"{_confirmed_at(acme)}); `accord sync {S}` cosigns, `accord status {S}` checks again\n"
    )
    burgerco.act("sync", S)
    acme.act("sync", S)  # both cosigned size 2: confirmed
    acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign")  # 3
    assert acme.ok("project", "show", S, "--as-of-seq", "2").stderr == ""
    assert acme.ok("trail", S, "--type", "member.joined").stderr == ""
    assert acme.ok("project", "show", S).stderr.startswith(
        f"Note: entry 3 of {S} is not yet confirmed by every member"
    )


def _confirmed_at(party: Party, slug: str = S) -> str:
    store = RemoteStore(source_of(str(party.ledger)), home=party.home)
    try:
        found = store.confirmed("hub", slug)
    finally:
        store.close()
    assert found is not None
    return found[1]


# --- the close report on every replica -------------------------------------------------------


def test_the_close_report_appears_on_every_replica_with_the_same_bytes(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, burgerco, veggie = parties["acme"], parties["burgerco"], parties["veggie"]
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the shell's directory plays no part
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    for party in (burgerco, veggie):
        party.act("sync", S)
        party.act("project", "join", S)
    acme.act(
        "pledge", "add", S, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15",
    )  # fmt: skip  # 4
    acme.act("deliver", S, "4", "--summary", "Posters")  # 5
    burgerco.act("approve", S, "5")
    veggie.act("approve", S, "5")
    acme.act("close", S)
    burgerco.act("close", S)
    closed = veggie.act("close", S)  # meets the close policy: veggie's replica writes it

    where = {p.handle: p.ledger.parent / "accord-reports" / S for p in (acme, burgerco, veggie)}
    assert closed.stdout.endswith(
        "".join(f"close report: {where['veggie'] / name}\n" for name in REPORTS)
    )
    assert not (tmp_path / "elsewhere" / "accord-reports").exists()
    assert not where["acme"].exists() and not where["burgerco"].exists()

    synced = acme.act("sync", S)  # the sync brings in the last close signature
    shown = burgerco.ok("project", "show", S)  # a fresh read does too

    for result in (synced, shown):
        party = acme if result is synced else burgerco
        assert (
            f"Note: {S} is closed: wrote its close report to {where[party.handle]}/ "
            f"({', '.join(REPORTS)})\n"
        ) in result.stderr
    for name in REPORTS:
        mine = (where["veggie"] / name).read_bytes()
        assert (where["acme"] / name).read_bytes() == mine, name
        assert (where["burgerco"] / name).read_bytes() == mine, name
    # once written, later syncs and reads do not write it again
    (where["acme"] / "close-report.md").unlink()
    again = acme.act("sync", S)
    assert "close report" not in again.stderr
    assert not (where["acme"] / "close-report.md").exists()
    # `accord report` writes to the same place by default, with the same bytes
    acme.ok("report", S)
    assert (where["acme"] / "close-report.md").read_bytes() == (
        where["veggie"] / "close-report.md"
    ).read_bytes()
