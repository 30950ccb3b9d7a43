"""Inputs found to exit 1 by the second reading of issue 20: a project name that is not UTF-8
(bytes the terminal could not decode reach click as surrogates) in the reads, and relay URLs
that ``remote add`` kept although the HTTP client or the request signature cannot use them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_helpers import Accord, assert_refused, public_key

from relay.remotes import remotes_path

URL_HINT = "give the relay's base URL, e.g. https://relay.example.org or http://127.0.0.1:8470"
STORED_HINT = (
    "give the relay's base URL, e.g. https://relay.example.org; for a remote already added: "
    "`accord remote remove NAME`, then add it again with a valid URL"
)
NOT_UTF8 = "\udcff"  # the byte 0xff of a command line, as Python decodes it
READS = [
    ("obligations", NOT_UTF8),
    ("contributions", NOT_UTF8),
    ("trail", NOT_UTF8),
    ("project", "show", NOT_UTF8),
    ("project", "values", NOT_UTF8),
    ("pledge", "list", NOT_UTF8),
    ("statement", "list", NOT_UTF8),
    ("statement", "show", NOT_UTF8, "1"),
    ("show", NOT_UTF8, "1"),
    ("todo", NOT_UTF8, "--as", "acme"),
    ("calendar", NOT_UTF8, "-o", "-"),
    ("report", NOT_UTF8),
]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a[:2]) for a in READS])
def test_a_read_of_a_project_name_that_is_not_utf8_is_not_found(
    initialised: Accord, project: str, args: tuple[str, ...]
) -> None:
    with initialised.unchanged():
        result = initialised(*args)
    assert_refused(
        result,
        3,
        "no project '\\udcff' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://relay.org/a\\b", "has a path that is not encoded"),
        ("http://relay.org/a|b", "has a path that is not encoded"),
        ("http://relay.org/%zz", "has a path that is not encoded"),
        ("http://relay.org/a^b", "has a path that is not encoded"),
        ("http://relay.org/a{b}", "has a path that is not encoded"),
        ("http://999.1.1.1", "has no valid host"),
        ("http://01.2.3.4:8470", "has no valid host"),
    ],
)
def test_a_url_the_client_cannot_request_is_refused_by_remote_add(
    initialised: Accord, url: str, error: str
) -> None:
    with initialised.unchanged():
        result = initialised("remote", "add", "hub", url, "--relay-key", public_key("acme"))
    assert_refused(result, 2, f"relay URL {url!r} {error}", URL_HINT)
    assert initialised.ok("remote", "list").stdout == "(nothing yet)\n"


@pytest.mark.parametrize("url", ["http://relay.org/a|b", "http://999.1.1.1"])
def test_such_a_url_stored_before_makes_writes_a_usage_error_not_exit_1(
    initialised: Accord, project: str, url: str
) -> None:
    initialised.ok("remote", "add", "hub", "http://127.0.0.1:9", "--relay-key", public_key("acme"))
    with sqlite3.connect(remotes_path(str(initialised.ledger_file.resolve()))) as db:
        db.execute("UPDATE remotes SET url=?", (url,))
    db.close()
    error = "has no valid host" if "999" in url else "has a path that is not encoded"
    before = initialised.ledger_file.read_bytes()
    result = initialised(
        "statement", "propose", project, "--title", "T", "--text", "x", "--as", "acme"
    )
    assert_refused(result, 2, f"relay URL {url!r} {error}", STORED_HINT)
    assert initialised.ledger_file.read_bytes() == before


@pytest.mark.parametrize(
    "url",
    [
        "http://relay.org/accord%2Fv1/",
        "http://1.2.3.4:8470",
        "https://relay.example.org/a-b_c.d~e/f;g=h:i@j",
        "http://[fe80::1%25eth0]:8470",
    ],
)
def test_an_encoded_path_and_a_real_address_are_still_accepted(
    initialised: Accord, url: str
) -> None:
    initialised.ok("remote", "add", "hub", url, "--relay-key", public_key("acme"))


@pytest.mark.parametrize("command", ["verify", "import"])
def test_a_number_of_workers_beyond_any_machine_is_a_usage_error_not_exit_1(
    initialised: Accord, project: str, tmp_path: Path, command: str
) -> None:
    bundle = tmp_path / "p.accord"
    initialised.ok("export", project, "-o", str(bundle))
    target = project if command == "verify" else str(bundle)
    with initialised.unchanged():
        result = initialised(command, target, "--workers", "9999999999")
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(
        "Error: Invalid value for '--workers': 9999999999 is not in the range 1<=x<=256.\n"
    )
