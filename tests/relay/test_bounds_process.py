"""The bounds end to end, through a real ``accord relay serve`` process: the longest statement
of 4-byte characters travels (rows in UTF-8 within the body limit), pages split by bytes still
bring every entry to a fresh replica, and entries beyond the bounds are refused both ways."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.application import Ledger
from ledger.keys import Signer
from ledger.rules import schema
from relay.keys import load_or_create
from relay.store import open_store

S = "no-whopper-day"
EMOJI = "\U0001f600"  # 4 bytes in UTF-8; 12 as the \u escapes "\ud83d\ude00"
ENTRIES_GET = re.compile(rf"^\S+ \S+ GET /v1/projects/{S}/entries 200 ")

pytestmark = pytest.mark.slow


def joined(parties: dict[str, Party]) -> tuple[Party, Party]:  # noqa: F811
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    return acme, burgerco


def test_a_statement_of_100000_emoji_is_proposed_through_the_relay_and_synced_by_the_other(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
) -> None:
    acme, burgerco = joined(parties)
    text = EMOJI * fmt.MAX_TEXT
    statement = tmp_path / "statement.txt"
    statement.write_text(text, encoding="utf-8")

    acme.act("statement", "propose", S, "--title", "Joint", "--text-file", str(statement))
    burgerco.act("sync", S)

    shown = burgerco.json("statement", "show", S, "3")
    assert (shown["text"], shown["signed_by"]) == (text, ["acme"])  # 4: acme's signature
    status = burgerco.json("status", S, "--as", "burgerco")
    assert status["local_head"] == status["relay_head"] == 4


def test_a_project_whose_pages_split_by_bytes_still_syncs_to_a_fresh_replica(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
) -> None:
    acme, burgerco = joined(parties)
    statement = tmp_path / "statement.txt"
    statement.write_text(EMOJI * fmt.MAX_TEXT, encoding="utf-8")  # a row of 400 KB
    for n in range(11):  # 4.4 MB of rows: more than one page holds
        acme.act(
            "statement", "propose", S, "--title", f"S{n}", "--text-file", str(statement),
            "--no-sign",
        )  # fmt: skip
    relay = parties["relay"]
    before = sum(bool(ENTRIES_GET.match(line)) for line in relay.lines)  # type: ignore[attr-defined]
    fresh = Party("burgerco", burgerco.home, tmp_path / "fresh.db")
    fresh.ok("init")
    fresh.ok("remote", "add", "hub", relay.url)  # type: ignore[attr-defined]

    fresh.act("sync", S)

    pages = sum(bool(ENTRIES_GET.match(line)) for line in relay.lines) - before  # type: ignore[attr-defined]
    assert pages >= 2  # 13 entries, fewer than the client asks for, in more than one page
    heads = [p.json("project", "show", S) for p in (acme, fresh)]
    assert heads[0]["entries"] == heads[1]["entries"] == 13
    assert heads[0]["head"] == heads[1]["head"]
    assert fresh.ok("verify", S).exit_code == 0


def test_entries_beyond_the_bounds_are_refused_by_the_relay_process(
    serve: Any, tmp_path: Path, partner: Ledger, signers: dict[str, Signer], kit: Any
) -> None:
    served = serve(str(tmp_path / "relay.db"))
    acme = signers["acme"]
    log = kit.started(partner, signers, statements=0)
    crowd = [{"handle": "acme", "key": acme.fingerprint}] + [
        {"handle": f"m{n:02d}", "key": None} for n in range(64)
    ]
    body = {
        "title": "Big", "purpose": "", "members": crowd, "approval": "all", "close": "all",
        "public_key": acme.public_key_line,
    }  # fmt: skip
    crowded = entry_mod.sign(
        {
            "v": 1, "project": "crowd", "seq": 1, "prev": "0" * 64, "type": "project.proposed",
            "by": "acme", "key": acme.fingerprint, "at": "2026-11-22T12:00:00Z", "body": body,
        },
        acme.private_key,
    )  # fmt: skip
    big = kit.next_entry(
        acme, seq=3, prev=log[-1].hash, body={"title": EMOJI * 40_000, "text": EMOJI * 100_000}
    )
    entries = f"/v1/projects/{S}/entries"
    with httpx.Client(base_url=served.url, timeout=30) as client:
        proposed = client.post("/v1/projects", content=kit.rows_body(log[:1]), headers=kit.NDJSON)
        joined_ = client.post(entries, content=kit.rows_body(log[1:]), headers=kit.NDJSON)
        too_big = client.post(entries, content=kit.rows_body([big]), headers=kit.NDJSON)
        too_many = client.post("/v1/projects", content=kit.rows_body([crowded]), headers=kit.NDJSON)
        note = client.get(f"/v1/projects/{S}/checkpoint", auth=kit.MemberAuth(acme))
        crowd = client.get("/v1/projects/crowd/checkpoint", auth=kit.MemberAuth(acme))

    assert (proposed.status_code, joined_.status_code) == (201, 201)
    assert (too_big.status_code, too_big.json()["error"]) == (422, "rule")
    assert too_big.json()["message"] == (
        f"the statement takes {len(big.text.encode()):,} bytes, more than the 524,288 bytes an "
        "entry may hold"
    )
    assert (too_many.status_code, too_many.json()["message"]) == (
        422,
        "the project proposal lists 65 members, more than the 64 it may list",
    )
    assert note.text.splitlines()[1] == "2"  # nothing was stored
    assert crowd.status_code == 404


def test_a_relay_serving_an_entry_beyond_the_bounds_is_refused_by_the_client_with_exit_5(
    serve: Any,
    tmp_path: Path,
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relay (or whoever can write its store) serves a proposal of 800 KB."""
    (tmp_path / "burgerco").mkdir()
    burgerco = Party("burgerco", tmp_path / "burgerco" / "home", tmp_path / "burgerco" / "a.db")
    burgerco.ok("init")
    burgerco.ok("key", "new", "burgerco")
    acme = signers["acme"]
    body = {
        "title": EMOJI * fmt.MAX_TEXT, "purpose": EMOJI * fmt.MAX_TEXT,
        "members": [{"handle": "acme", "key": acme.fingerprint},
                    {"handle": "burgerco", "key": fingerprint(burgerco)}],
        "approval": "all", "close": "all", "public_key": acme.public_key_line,
    }  # fmt: skip
    data = {
        "v": 1, "project": S, "seq": 1, "prev": "0" * 64, "type": "project.proposed",
        "by": "acme", "key": acme.fingerprint, "at": "2026-11-22T12:00:00Z", "body": body,
    }  # fmt: skip
    genesis = entry_mod.sign(data, acme.private_key)
    url, home = str(tmp_path / "relay.db"), tmp_path / "relay-home"
    with monkeypatch.context() as unchecked:  # written past the rules, into store and home
        unchecked.setattr(schema, "check_bounds", lambda data, size: None)
        with open_store(url, key=load_or_create(home), home=home, create=True) as store:
            assert store.append(S, [genesis])[0] == 201
    served = serve(url, home=home)
    burgerco.ok("remote", "add", "hub", served.url)

    result = burgerco("sync", S, "--as", "burgerco")

    assert result.exit_code == 5, result.output  # the relay's history breaks a rule
    size = len(genesis.text.encode())
    assert result.stderr.startswith(
        f"Error: the relay served seq 1 of '{S}', which breaks a rule: the project proposal "
        f"takes {size:,} bytes, more than the 524,288 bytes an entry may hold"
    )
    assert json.loads(burgerco.ok("project", "list", "--format", "json").stdout) == []
