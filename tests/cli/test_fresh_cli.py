"""Issue 14, items 4 and 7 without a relay process: where the close report goes, --offline,
and what a read says when it cannot pull (docs/report.md, docs/relay.md "Fresh reads")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_helpers import Accord, public_key, start_project

from commands.cli import cli

S = "spring-campaign"
REPORTS = ("close-report.md", "close-report.html", "close-report.json", "close-report.pdf")


def _closed(accord: Accord) -> None:
    start_project(accord)
    for party in ("acme", "burgerco"):
        accord.ok("close", S, "--as", party)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_close_report_goes_beside_the_ledger_whatever_the_shells_directory(
    initialised: Accord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _closed(initialised)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    where = tmp_path / "accord-reports" / S  # the ledger is tmp_path/accord.db

    closed = initialised.ok("close", S, "--as", "veggie")

    assert closed.stdout.endswith("".join(f"close report: {where / n}\n" for n in REPORTS))
    assert sorted(p.name for p in where.iterdir()) == sorted(REPORTS)
    assert not (tmp_path / "elsewhere" / "accord-reports").exists()
    first = {n: (where / n).read_bytes() for n in REPORTS}
    written = initialised.ok("report", S)  # the same place, the same bytes
    assert written.stdout == "".join(f"wrote {where / n}\n" for n in REPORTS)
    assert {n: (where / n).read_bytes() for n in REPORTS} == first


def test_a_ledger_below_the_shells_directory_shows_its_report_path_relative(
    accord: Accord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("ACCORD_LEDGER", "data/campaign.db")
    accord.ok("init")
    _closed(accord)

    closed = accord.ok("close", S, "--as", "veggie")

    where = Path("data") / "accord-reports" / S
    assert closed.stdout.endswith("".join(f"close report: {where / n}\n" for n in REPORTS))
    assert (tmp_path / where / "close-report.json").is_file()


def test_report_dir_and_output_still_choose_the_directory(
    initialised: Accord, tmp_path: Path
) -> None:
    _closed(initialised)
    out = tmp_path / "chosen"
    initialised.ok("close", S, "--as", "veggie", "--report-dir", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORTS)
    assert not (tmp_path / "accord-reports").exists()


def _with_unreachable_remote(accord: Accord) -> str:
    start_project(accord)
    url = f"http://127.0.0.1:{_closed_port()}"
    accord.ok("remote", "add", "hub", url, "--relay-key", public_key("acme"))
    return url


UNCONFIRMED = (
    f"Note: entries 1-3 of {S} are not yet confirmed by every member (never checked); "
    f"`accord sync {S}` cosigns, `accord status {S}` checks again\n"
)


def test_a_read_that_cannot_reach_the_relay_says_so_once_and_answers(
    initialised: Accord,
) -> None:
    url = _with_unreachable_remote(initialised)
    offline = (
        f"Note: offline: cannot reach the relay at {url}: ConnectError; showing this replica, "
        "never synced with relay hub\n"
    )
    for args in (
        ("obligations", S), ("contributions", S), ("trail", S), ("pledge", "list", S),
        ("statement", "list", S), ("project", "show", S), ("project", "list"),
        ("project", "values", S), ("calendar", S, "-o", "-"), ("export", S, "-o", "-"),
    ):  # fmt: skip
        initialised.ok(*args, stderr=offline + UNCONFIRMED)
    stale = offline.replace("\n", "; what it lists may have been decided since\n")
    todo = initialised.ok("todo", "--as", "acme", stderr=stale)  # no row: none unconfirmed
    assert todo.stdout == "(nothing waits for acme)\n"


def test_offline_in_every_form_skips_the_pull_and_the_offline_note(
    initialised: Accord,
) -> None:
    _with_unreachable_remote(initialised)
    initialised.ok("obligations", S, "--offline", stderr=UNCONFIRMED)
    initialised.ok("--offline", "trail", S, stderr=UNCONFIRMED)
    initialised.ok("pledge", "list", S, env={"ACCORD_OFFLINE": "1"}, stderr=UNCONFIRMED)
    initialised.ok("pledge", "list", S, env={"ACCORD_OFFLINE": "true"}, stderr=UNCONFIRMED)
    refused = initialised("pledge", "list", S, env={"ACCORD_OFFLINE": "maybe"})
    assert refused.exit_code == 2, refused.output
    assert "Error: Invalid value for '--offline': 'maybe' is not a valid boolean" in (
        refused.stderr
    )


def test_without_a_passphrase_a_read_says_it_did_not_pull(initialised: Accord) -> None:
    _with_unreachable_remote(initialised)
    note = (
        "Note: not refreshed: no passphrase for key 'acme' to sign the relay's reads (set "
        "ACCORD_PASSPHRASE, or run `accord sync`); showing this replica, never synced with "
        "relay hub\n"
    )
    initialised.ok("obligations", S, env={"ACCORD_PASSPHRASE": None}, stderr=note + UNCONFIRMED)


def test_a_read_prefers_the_key_of_the_party_named(initialised: Accord) -> None:
    _with_unreachable_remote(initialised)
    note = (
        "Note: not refreshed: no passphrase for key 'veggie' to sign the relay's reads (set "
        "ACCORD_PASSPHRASE, or run `accord sync`); showing this replica, never synced with "
        "relay hub\n"
    )
    env = {"ACCORD_PASSPHRASE": None, "ACCORD_PARTY": "veggie"}
    initialised.ok("obligations", S, env=env, stderr=note + UNCONFIRMED)


def test_a_home_with_no_key_of_the_project_reads_without_asking(
    initialised: Accord, tmp_path: Path
) -> None:
    _with_unreachable_remote(initialised)
    for name in ("acme", "burgerco", "veggie"):
        for suffix in (".key", ".pub"):
            (tmp_path / "home" / "keys" / f"{name}{suffix}").unlink()
    assert initialised.json("project", "show", S)["entries"] == 3  # no note: nothing to pull


def test_every_read_command_takes_offline(initialised: Accord) -> None:
    reads = [
        ("obligations",), ("contributions",), ("trail",), ("report",), ("todo",),
        ("calendar",), ("export",), ("project", "list"), ("project", "show"),
        ("project", "values"), ("pledge", "list"), ("statement", "list"),
        ("statement", "show"), ("show",),
    ]  # fmt: skip
    for path in reads:
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert "offline" in [p.name for p in command.params], path
