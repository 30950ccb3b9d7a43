"""Remote URLs and the remotes file: a malformed URL or a damaged file is one Error line with a
documented exit code (2 for a URL, 6 for damage), never exit 1, and never a later crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_helpers import Accord, assert_refused, public_key

from ledger.errors import UsageError
from relay.remotes import check_relay_url, remotes_path

URL_HINT = "give the relay's base URL, e.g. https://relay.example.org or http://127.0.0.1:8470"
STORED_HINT = (
    "give the relay's base URL, e.g. https://relay.example.org; for a remote already added: "
    "`accord remote remove NAME`, then add it again with a valid URL"
)
EXTRA = "carries a user, query or fragment"
DAMAGED_HINT = (
    "move it away and `accord remote add` the relay again (it holds the checkpoints you "
    "verified: keep the copy as evidence of what the relay showed you)"
)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[::1", "relay URL 'http://[::1' is not a valid URL"),
        ("http://127.0.0.1:70000", "relay URL 'http://127.0.0.1:70000' is not a valid URL"),
        ("http://127.0.0.1:99999999999",
         "relay URL 'http://127.0.0.1:99999999999' is not a valid URL"),
        ("http://127.0.0.1:-1", "relay URL 'http://127.0.0.1:-1' is not a valid URL"),
        ("http://127.0.0.1:0", "relay URL 'http://127.0.0.1:0' has port 0"),
        ("http://", "relay URL 'http://' has no valid host"),
        ("http://a..b", "relay URL 'http://a..b' has no valid host"),
        ("http://[zz]", "relay URL 'http://[zz]' is not a valid URL"),
        ("http:// relay", "relay URL 'http:// relay' is not a valid URL"),
        ("http://re\x1blay", "relay URL 'http://re\\x1blay' is not a valid URL"),
        ("http://r\u00e9lay.org", "relay URL 'http://r\u00e9lay.org' is not a valid URL"),
        ("ftp://relay.org", "relay URL 'ftp://relay.org' is not http:// or https://"),
        ("relay.org", "relay URL 'relay.org' is not http:// or https://"),
        ("http://u:p@relay.org", f"relay URL 'http://u:p@relay.org' {EXTRA}"),
        ("http://relay.org/?a=1", f"relay URL 'http://relay.org/?a=1' {EXTRA}"),
        ("http://relay.org/#x", f"relay URL 'http://relay.org/#x' {EXTRA}"),
    ],
)  # fmt: skip
def test_a_malformed_relay_url_is_a_usage_error_before_anything_is_fetched_or_kept(
    initialised: Accord, url: str, error: str
) -> None:
    with initialised.unchanged():
        result = initialised("remote", "add", "hub", url, "--relay-key", public_key("acme"))
    assert_refused(result, 2, error, URL_HINT)
    assert initialised.ok("remote", "list").stdout == "(nothing yet)\n"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:8470/", "http://127.0.0.1:8470"),
        ("http://[::1]:8470", "http://[::1]:8470"),
        ("https://relay.example.org/accord/", "https://relay.example.org/accord"),
        ("http://localhost:65535", "http://localhost:65535"),
    ],
)
def test_a_valid_relay_url_is_kept_without_its_trailing_slash(url: str, kept: str) -> None:
    assert check_relay_url(url) == kept


def test_a_url_longer_than_the_bound_is_refused() -> None:
    with pytest.raises(UsageError):
        check_relay_url("http://relay.org/" + "a" * 2000)


def _remotes_file(accord: Accord) -> Path:
    return remotes_path(str(accord.ledger_file.resolve()))


def _store_remote(accord: Accord, url: object, key: object) -> None:
    accord.ok("remote", "add", "hub", "http://127.0.0.1:9", "--relay-key", public_key("acme"))
    path = _remotes_file(accord)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE remotes SET url=?, relay_key=?", (url, key))
    db.close()


def test_a_stored_malformed_url_makes_writes_a_usage_error_naming_the_way_out(
    initialised: Accord, project: str
) -> None:
    _store_remote(initialised, "http://[::1", public_key("acme"))
    before = initialised.ledger_file.read_bytes()
    result = initialised(
        "pledge", "add", project, "Posters", "--weight", "3", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    assert initialised.ledger_file.read_bytes() == before
    assert_refused(result, 2, "relay URL 'http://[::1' is not a valid URL", STORED_HINT)
    # The way out works.
    initialised.ok("remote", "remove", "hub")


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        ("garbage", "file is not a database"),
        ("schema", "no such column: name"),
        ("bytes", "a stored bytes where text belongs"),
        ("key", "a pinned relay key that is not a key: public key line is malformed"),
    ],
)
def test_a_damaged_remotes_file_is_exit_6_for_reads_and_writes(
    initialised: Accord, project: str, damage: str, error: str
) -> None:
    _store_remote(initialised, "http://127.0.0.1:9", public_key("acme"))
    path = _remotes_file(initialised)
    if damage == "garbage":
        path.write_bytes(b"\x00not a database at all" * 50)
    else:
        with sqlite3.connect(path) as db:
            if damage == "schema":
                db.execute("DROP TABLE remotes")
                db.execute("CREATE TABLE remotes (a TEXT)")
            elif damage == "bytes":
                db.execute("UPDATE remotes SET url=?", (b"http://127.0.0.1:9",))
            else:
                db.execute("UPDATE remotes SET relay_key='ssh-ed25519 AAAA'")
        db.close()
    message = f"the remotes file {path} is damaged: {error}"
    before = initialised.ledger_file.read_bytes()
    for args in (
        ("remote", "list"),
        ("pledge", "add", project, "Posters", "--weight", "3", "--unit", "hours",
         "--due", "2099-12-15", "--as", "acme"),
    ):  # fmt: skip
        assert_refused(initialised(*args), 6, message, DAMAGED_HINT)
    assert initialised.ledger_file.read_bytes() == before
    # Reads answer from the verified replica all the same, and say they could not pull.
    note = f"Note: not refreshed: {message}; showing this replica alone\n"
    assert initialised.json("project", "list", stderr=note)[0]["project"] == project
