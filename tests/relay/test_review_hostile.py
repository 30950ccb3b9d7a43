"""Hostile relays and damaged homes found to exit 1 by the second reading of issue 20.

A cosignature whose time is past year 9999 (a member and the relay, or whoever writes the
relay's store, can serve one), a remotes file damaged where a sync, a status or a write reads
its kept checkpoints and receipts, and a project name that is not UTF-8 given to ``sync`` and
``status``: each is one ``Error:`` line with its documented exit code, or (the cosignature) an
unverifiable one that is ignored, never exit 1.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_relay import Answer, Request
from test_hostile_relay import PASSPHRASE, S, World, checkpoint_path, ok, world  # noqa: F401

import relay.sync
from ledger import entry as entry_mod
from ledger import keys as key_store
from ledger.application import Ledger
from ledger.keys import Signer
from ledger.storage import source_of
from relay.note import cosign, parse_note
from relay.remotes import remotes_path

DAMAGED_HINT = (
    "move it away and `accord remote add` the relay again (it holds the checkpoints you "
    "verified: keep the copy as evidence of what the relay showed you)"
)


@pytest.mark.parametrize("stamp", [2**63 - 1, 253402300800])
def test_a_cosignature_dated_after_year_9999_is_ignored_by_status(
    world: World,  # noqa: F811
    stamp: int,
) -> None:
    burgerco = key_store.load_signer("burgerco", "burgerco", PASSPHRASE, world.burgerco.home)
    served: list[str] = []

    def keep(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            answer = forward()
            served.append(answer.body.decode())
            return answer
        return None

    world.relay.lie(keep)
    ok(world.acme.act("status", S))  # the checkpoint of size 2, both cosigned
    ok(world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign"))
    late = (
        cosign(
            parse_note(served[0]),
            name="burgerco",
            private_key=burgerco.private_key,
            timestamp=stamp,
        )
        .encode()
        .decode()
    )  # burgerco's own key: it verifies, at size 2 below the relay's 3
    row = {"party": "burgerco", "key": burgerco.fingerprint, "size": 2, "time": stamp, "note": late}

    def serve(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if request.method == "GET" and request.path == f"/v1/projects/{S}/cosignatures":
            return Answer(200, json.dumps({"cosignatures": [row]}).encode())
        return None

    world.relay.lie(serve)
    result = world.acme.act("status", S, "--format", "json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["cosigned"] == {"acme": 0, "burgerco": 0}  # acme's row was not served
    assert {"party": "burgerco", "cosigned_size": 0, "since": None} in shown["not_cosigned"]
    assert shown["confirmed"] == 0


DAMAGE = [
    ("UPDATE checkpoints SET size='abc'", "a stored str where a whole number belongs"),
    ("DROP TABLE checkpoints; CREATE TABLE checkpoints (x)", "no such column: slug"),
]


@pytest.mark.parametrize(("sql", "cause"), DAMAGE, ids=["size", "schema"])
def test_damaged_kept_checkpoints_are_exit_6_for_sync_status_and_writes(
    world: World,  # noqa: F811
    sql: str,
    cause: str,
) -> None:
    path = remotes_path(source_of(str(world.acme.ledger)), world.acme.home)
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    db.close()
    before = world.acme.replica()
    for args in (
        ("sync", S),
        ("status", S),
        ("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign"),
    ):
        result = world.acme.act(*args)
        assert result.exit_code == 6, result.output
        assert result.stderr.endswith(
            f"Error: the remotes file {path} is damaged: {cause}\nHint: {DAMAGED_HINT}\n"
        ), result.stderr
        assert "Traceback" not in result.output
    assert world.acme.replica() == before


def test_a_damaged_receipts_table_is_exit_6_for_a_write(
    world: World,  # noqa: F811
) -> None:
    path = remotes_path(source_of(str(world.acme.ledger)), world.acme.home)
    with sqlite3.connect(path) as db:
        db.executescript("DROP TABLE receipts; CREATE TABLE receipts (x)")
    db.close()
    before = world.acme.replica()

    result = world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign")

    assert result.exit_code == 6, result.output
    assert result.stderr.endswith(
        f"Error: the remotes file {path} is damaged: table receipts has 1 columns but 8 "
        f"values were supplied; the relay may hold seq 3 already\nHint: run `accord sync {S}` "
        "to see whether it was recorded before trying again\n"
    ), result.stderr
    assert world.acme.replica() == before  # the relay holds it: the next sync brings it in


@pytest.mark.parametrize("command", ["sync", "status"])
def test_sync_and_status_of_a_project_name_that_is_not_utf8_are_usage_errors(
    world: World,  # noqa: F811
    command: str,
) -> None:
    before = world.acme.replica()

    result = world.acme.act(command, "\udcff")

    assert (result.exit_code, result.stderr) == (
        2,
        "Error: project slug '\\udcff' is not valid\n"
        "Hint: use 1-64 characters: lower-case letters, digits and inner hyphens "
        "(no-whopper-day)\n",
    )
    assert world.acme.replica() == before


def test_a_relay_process_refuses_a_newline_after_a_time_or_a_slug_and_stores_nothing(
    serve: Any, tmp_path: Path, partner: Ledger, signers: dict[str, Signer], kit: Any
) -> None:
    served = serve(str(tmp_path / "relay.db"))
    acme = signers["acme"]
    log = kit.started(partner, signers, statements=0)
    late = kit.next_entry(acme, seq=3, prev=log[-1].hash)
    data = {**late.data, "at": late.data["at"] + "\n"}
    timed = entry_mod.sign(data, acme.private_key)
    named = entry_mod.sign({**log[0].data, "project": S + "\n"}, acme.private_key)
    entries = f"/v1/projects/{S}/entries"
    with httpx.Client(base_url=served.url, timeout=30) as client:
        assert client.post("/v1/projects", content=kit.rows_body(log[:1]), headers=kit.NDJSON)
        assert client.post(entries, content=kit.rows_body(log[1:]), headers=kit.NDJSON)
        at = client.post(entries, content=kit.rows_body([timed]), headers=kit.NDJSON)
        slug = client.post("/v1/projects", content=kit.rows_body([named]), headers=kit.NDJSON)
        other = client.get(f"/v1/projects/{S}%0A/checkpoint", auth=kit.MemberAuth(acme))
        note = client.get(f"/v1/projects/{S}/checkpoint", auth=kit.MemberAuth(acme))

    assert (at.status_code, at.json()["message"]) == (
        400,
        "entry field 'at' is malformed",
    )
    assert (slug.status_code, slug.json()["message"]) == (400, "row 1 names no valid project")
    assert other.status_code == 404
    assert note.text.splitlines()[1] == "2"  # nothing was stored


def test_status_checks_one_cosignature_row_per_member_however_many_the_relay_sends(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows: list[dict[str, object]] = []

    def many(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if request.method == "GET" and request.path == f"/v1/projects/{S}/cosignatures":
            real = json.loads(forward().body)["cosignatures"]
            rows.extend(real)
            return Answer(200, json.dumps({"cosignatures": real * 500}).encode())
        return None

    roots = 0
    real_differs = relay.sync.differs

    def counting(*args: object, **kwargs: object) -> bool:
        nonlocal roots
        roots += 1
        return real_differs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(relay.sync, "differs", counting)
    world.relay.lie(many)
    result = world.acme.act("status", S, "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cosigned"] == {"acme": 2, "burgerco": 2}
    # status pulls first (one root), checks the relay's checkpoint (one), then one row a member
    assert roots <= 2 + len(rows)
