"""Three organisations, three homes and replicas, one real relay: the client end to end.

acme, burgerco and veggie each keep their own ACCORD_HOME (keys made by ``accord key new``)
and their own SQLite replica, and reach one ``accord relay serve`` process through
``accord remote``, ``accord sync`` and writes that go through the relay.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from commands.cli import cli
from ledger.ed25519 import parse_public_key_line
from ledger.storage import source_of
from relay.merkle import leaf_hash, verify_inclusion
from relay.note import VerifierKey, parse_checkpoint, parse_note, verify_note
from relay.remotes import RemoteStore

PASSPHRASE = "correct horse battery"
S = "no-whopper-day"
PARTIES = ("acme", "burgerco", "veggie")

pytestmark = pytest.mark.slow


@dataclass
class Party:
    """One organisation: its home, its replica, and ``accord`` run as it."""

    handle: str
    home: Path
    ledger: Path

    def __call__(self, *args: str) -> Result:
        env = {
            "ACCORD_HOME": str(self.home),
            "ACCORD_PASSPHRASE": PASSPHRASE,
            "ACCORD_LEDGER": str(self.ledger),
            "ACCORD_PARTY": None,
            "ACCORD_REMOTE": None,
        }
        return CliRunner().invoke(cli, list(args), env=env, prog_name="accord")

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"accord {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def act(self, *args: str) -> Result:
        return self.ok(*args, "--as", self.handle)


@pytest.fixture
def parties(tmp_path: Path, serve: Any) -> dict[str, Party]:
    """Three homes with a key each, a replica each, and the relay added as remote ``hub``."""
    relay = serve(str(tmp_path / "relay.db"))
    found = {}
    for handle in PARTIES:
        (tmp_path / handle).mkdir()
        party = Party(handle, tmp_path / handle / "home", tmp_path / handle / "accord.db")
        party.ok("init")
        party.ok("key", "new", handle)
        added = party.ok("remote", "add", "hub", relay.url)
        assert "trust on first use" in added.stdout
        found[handle] = party
    found["relay"] = relay  # type: ignore[assignment]
    return found


def fingerprint(party: Party) -> str:
    return str(party.json("key", "show", party.handle)["fingerprint"])


def story(p: dict[str, Party]) -> None:
    acme, burgerco, veggie = p["acme"], p["burgerco"], p["veggie"]
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    veggie.act("sync", S)
    veggie.act("project", "join", S)
    acme.act(
        "pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15",
    )  # fmt: skip
    acme.act("deliver", S, "4", "--summary", "Posters")
    burgerco.act("approve", S, "5")
    veggie.act("approve", S, "5")
    for party in (acme, burgerco, veggie):
        party.act("close", S, "--report-dir", str(party.home.parent / "report"))


def test_three_parties_run_a_project_through_one_relay_and_all_see_it_confirmed(
    parties: dict[str, Party],
) -> None:
    story(parties)
    people = [parties[h] for h in PARTIES]
    for party in people:
        party.act("sync", S)
    heads = {p.handle: p.json("project", "show", S)["head"] for p in people}
    assert len(set(heads.values())) == 1
    for party in people:
        status = party.json("status", S, "--as", party.handle)
        assert status["local_head"] == status["relay_head"] == status["confirmed"] == 10
        assert status["not_cosigned"] == []
        assert status["cosigned"] == {"acme": 10, "burgerco": 10, "veggie": 10}
    assert parties["acme"].json("project", "show", S)["status"] == "closed"


def test_status_names_who_has_not_cosigned_the_relay_head(parties: dict[str, Party]) -> None:
    acme, burgerco, veggie = (parties[h] for h in PARTIES)
    acme.act(
        "project", "propose", S, "--title", "T",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    burgerco.act("sync", S)
    status = acme.json("status", S, "--as", "acme")  # a read: it pulls seq 2 first
    assert (status["local_head"], status["relay_head"], status["confirmed"]) == (2, 2, 0)
    assert status["not_cosigned"] == [{"party": "acme", "cosigned_size": 0, "since": None}]
    acme.act("sync", S)
    status = acme.json("status", S, "--as", "acme")
    assert (status["local_head"], status["relay_head"], status["confirmed"]) == (2, 2, 2)
    assert status["cosigned"] == {"acme": 2, "burgerco": 2}


def test_a_write_on_a_stale_replica_pulls_and_retries_through_the_relay(
    parties: dict[str, Party],
) -> None:
    acme, burgerco, veggie = (parties[h] for h in PARTIES)
    acme.act(
        "project", "propose", S, "--title", "T",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    veggie.act("sync", S)
    veggie.act("project", "join", S)  # veggie's replica had seq 1 only: it pulls seq 2 first
    assert veggie.json("project", "show", S)["entries"] == 3
    acme.act("sync", S)
    assert acme.json("project", "show", S)["entries"] == 3


def test_sync_without_a_member_key_is_refused_by_the_relay(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    acme = parties["acme"]
    acme.act("project", "propose", S, "--title", "T", "--member", "burgerco")
    (tmp_path / "mallory").mkdir()
    outsider = Party("mallory", tmp_path / "mallory" / "home", tmp_path / "mallory" / "accord.db")
    outsider.ok("init")
    outsider.ok("key", "new", "mallory")
    outsider.ok("remote", "add", "hub", parties["relay"].url)  # type: ignore[attr-defined]
    result = outsider("sync", S, "--as", "mallory")
    assert result.exit_code == 3, result.output
    assert "only to its members" in result.stderr


def test_a_relay_that_serves_a_shorter_history_after_a_cosign_is_caught_as_a_fork(
    parties: dict[str, Party], tmp_path: Path, serve: Any
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    relay_db = tmp_path / "relay.db"
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    acme.act("sync", S)
    with sqlite3.connect(relay_db) as live, sqlite3.connect(tmp_path / "old.db") as old:
        live.backup(old)  # the relay's store as it was at size 1
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    acme.act("sync", S)  # acme cosigns size 2
    old_home = tmp_path / "old-home" / "relay"
    old_home.mkdir(parents=True)
    shutil.copy(tmp_path / "home" / "relay" / "relay.key", old_home / "relay.key")
    rolled_back = serve(str(tmp_path / "old.db"), home=tmp_path / "old-home")
    key_line = acme.json("remote", "list")[0]["relay_key"]
    acme.ok("remote", "remove", "hub")
    acme.ok("remote", "add", "hub", rolled_back.url, "--relay-key", key_line)
    result = acme("sync", S, "--as", "acme")
    assert result.exit_code == 5, result.output
    assert "forked" in result.stderr
    assert result.stderr.count("\u2014 accord.ledger/") == 2  # both relay-signed notes
    assert "--- the kept signed note ---" in result.stderr
    assert acme.json("project", "show", S, "--offline")["entries"] == 2  # nothing was lost
    again = acme("sync", S, "--as", "acme")
    assert again.exit_code == 5  # still a fork: the conflicting note is evidence, not trust


def test_reads_say_how_much_is_not_yet_confirmed_by_every_member(
    parties: dict[str, Party],
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    shown = burgerco.ok("project", "show", S)
    assert shown.stderr == (
        f"Note: entries 1-2 of {S} are not yet confirmed by every member (never "
        f"checked); `accord sync {S}` cosigns, `accord status {S}` checks again\n"
    )
    burgerco.act("sync", S)  # burgerco cosigns seq 2; acme has cosigned nothing yet
    assert "Note: entries 1-2 of" in burgerco.ok("obligations", S).stderr
    assert burgerco.act("statement", "propose", S, "--title", "T", "--text", "x").stderr == ""
    acme.act("sync", S)
    burgerco.act("sync", S)
    acme.act("sync", S)
    burgerco.act("status", S)
    assert burgerco.ok("obligations", S).stderr == ""  # all confirmed, nothing to say


def test_two_relays_with_one_key_showing_two_histories_get_neither_confirmed(
    parties: dict[str, Party], tmp_path: Path, serve: Any
) -> None:
    """A split view: one relay key, two stores that diverge after seq 2, one party on each."""
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    acme.act("sync", S)
    burgerco.act("sync", S)  # both cosigned size 2 on the honest relay
    with sqlite3.connect(tmp_path / "relay.db") as live, sqlite3.connect(tmp_path / "b.db") as b:
        live.backup(b)
    b_home = tmp_path / "b-home" / "relay"
    b_home.mkdir(parents=True)
    shutil.copy(tmp_path / "home" / "relay" / "relay.key", b_home / "relay.key")
    other = serve(str(tmp_path / "b.db"), home=tmp_path / "b-home")  # same key, its own store
    key_line = burgerco.json("remote", "list")[0]["relay_key"]
    burgerco.ok("remote", "remove", "hub")
    burgerco.ok("remote", "add", "hub", other.url, "--relay-key", key_line)
    acme.act("statement", "propose", S, "--title", "A", "--text", "acme's seq 3", "--no-sign")
    burgerco.act(
        "statement", "propose", S, "--title", "B", "--text", "burgerco's seq 3", "--no-sign"
    )
    acme.act("sync", S)
    burgerco.act("sync", S)
    for party in (acme, burgerco):  # each sees its own seq 3, cosigned by itself alone
        status = party.json("status", S, "--as", party.handle)
        assert (status["local_head"], status["relay_head"], status["confirmed"]) == (3, 3, 2)
    # the party that is shown the other history sees the contradiction and keeps both notes
    acme.ok("remote", "remove", "hub")
    acme.ok("remote", "add", "hub", other.url, "--relay-key", key_line)
    seen = acme("sync", S, "--as", "acme")
    assert seen.exit_code == 5, seen.output
    assert "forked" in seen.stderr
    assert seen.stderr.count("\u2014 accord.ledger/") == 2
    assert acme.json("project", "show", S, "--offline")["entries"] == 3  # replica unchanged
    status = acme("status", S, "--as", "acme")
    assert status.exit_code == 5, status.output
    assert "forked" in status.stderr


def test_a_restored_home_checks_the_relays_copy_of_its_latest_cosignature(
    parties: dict[str, Party],
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    acme.act("sync", S)  # acme cosigns size 2
    key_line = acme.json("remote", "list")[0]["relay_key"]
    shutil.rmtree(acme.home / "remotes")  # the kept checkpoints are lost with the home
    acme.ok("remote", "add", "hub", parties["relay"].url, "--relay-key", key_line)
    acme.act("statement", "propose", S, "--title", "S", "--text", "We agree.", "--no-sign")

    acme.act("sync", S)

    from ledger.storage import source_of
    from relay.remotes import RemoteStore

    store = RemoteStore(source_of(str(acme.ledger)), home=acme.home)
    kept = [(k.size, k.cosigned) for k in store.kept("hub", S)]
    store.close()
    assert (2, True) in kept  # the relay's copy of acme's cosignature, verified and kept
    assert (3, True) in kept


def test_a_second_signer_of_a_party_reads_writes_and_cosigns_through_the_relay(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    acme, burgerco, veggie = (parties[h] for h in PARTIES)
    relay = parties["relay"]
    # alice works at acme: her own home and replica, her own key, named like her party.
    (tmp_path / "alice").mkdir()
    alice = Party("acme", tmp_path / "alice" / "home", tmp_path / "alice" / "accord.db")
    alice.ok("init")
    alice.ok("key", "new", "acme")
    alice.ok("remote", "add", "hub", relay.url)  # type: ignore[attr-defined]
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    for party in (burgerco, veggie):
        party.act("sync", S)
        party.act("project", "join", S)
    # Before she is added, the relay lets her read nothing.
    refused = alice("sync", S, "--as", "acme")
    assert refused.exit_code == 3, refused.output
    line = str(alice.json("key", "show", "acme")["public_key"])
    acme.act("project", "add-signer", S, "--label", "alice", "--public-key", line)  # seq 4
    alice.act("sync", S)
    alice.act(
        "pledge", "add", S, "Posters", "--weight", "10", "--unit", "hours",
        "--due", "2099-12-15",
    )  # fmt: skip
    for party in (alice, burgerco, veggie):  # acme's founder does not sync: alice cosigns
        party.act("sync", S)
    rows = veggie.json("trail", S, "--type", "pledge.made")
    assert [(r["seq"], r["party"], r["signer"]) for r in rows] == [(5, "acme", "alice")]
    # One cosignature per party: alice's stands for acme as much as the founder's.
    status = veggie.json("status", S, "--as", "veggie")
    assert status["cosigned"] == {"acme": 5, "burgerco": 5, "veggie": 5}
    assert status["confirmed"] == 5
    acme.act("project", "remove-signer", S, "--label", "alice", "--reason", "left acme")
    removed = alice("sync", S, "--as", "acme")
    assert removed.exit_code == 3, removed.output
    assert alice.json("project", "show", S)["entries"] == 5  # she saw nothing more


def test_every_write_through_the_relay_keeps_its_verified_receipt(
    parties: dict[str, Party],
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint(burgerco)}"
    )
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    acme.act("statement", "propose", S, "--title", "S", "--text", "We agree.", "--no-sign")
    relay_key = acme.json("remote", "list")[0]["relay_key"]
    lines = acme.ok("export", S, "-o", "-").stdout.splitlines()
    hashes = [row["hash"] for row in map(json.loads, lines) if "sig" in row]

    store = RemoteStore(source_of(str(acme.ledger)), home=acme.home)
    receipts, kept = store.receipts("hub", S), store.kept("hub", S)
    store.close()
    assert [(r.seq, r.hash, r.size) for r in receipts] == [(1, hashes[0], 1), (3, hashes[2], 3)]
    public = parse_public_key_line(relay_key)
    for item in receipts:
        note = parse_note(item.note)
        checkpoint = parse_checkpoint(note.text)
        verify_note(note, [VerifierKey.from_public_key(checkpoint.origin, public)])
        proof = [base64.b64decode(h) for h in json.loads(item.proof)]
        leaf = leaf_hash(bytes.fromhex(item.hash))
        verify_inclusion(item.seq - 1, checkpoint.size, leaf, proof, checkpoint.root_hash)
        assert (checkpoint.size, checkpoint.root_hash.hex()) in {(k.size, k.root) for k in kept}
