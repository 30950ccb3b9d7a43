"""The client against a hostile relay (issue 20, classes 7, 8 and 10): real HTTP, real CLI.

A real relay app runs in process behind :class:`hostile_relay.HostileRelay`, an HTTP server
on a free loopback port that lies when a test says so. acme and burgerco each keep their own
home and SQLite replica and run ``accord`` (CliRunner) against it. Every refusal is checked
for its exit code, its exact ``Error:``/``Hint:`` lines, and a replica left byte for byte as
it was; every hang is cut by a small ``ACCORD_RELAY_DEADLINE`` (no test waits on a timer).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hostile_relay import Answer, HostileRelay, Request

import relay.sync
from commands.cli import cli
from ledger import ed25519
from ledger import entry as entry_mod
from ledger.storage import source_of
from relay.client import PAGE
from relay.keys import RelayKey
from relay.merkle import inclusion_proof, leaf_hash, verify_inclusion
from relay.note import Checkpoint, parse_checkpoint, parse_note, sign_note, verify_note
from relay.remotes import RemoteStore

PASSPHRASE = "correct horse battery"
S = "no-whopper-day"
ROWS_CAP = 3000  # the hostile relay answers 503 after this many rows (so an old client ends)
STRANGER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # nobody's key
STRANGER_FP = ed25519.fingerprint(STRANGER.public_key())


@dataclass
class Party:
    """One organisation: its home, its replica, and ``accord`` run as it."""

    handle: str
    home: Path
    ledger: Path

    def __call__(self, *args: str, deadline: str | None = None) -> Result:
        env = {
            "ACCORD_HOME": str(self.home),
            "ACCORD_PASSPHRASE": PASSPHRASE,
            "ACCORD_LEDGER": str(self.ledger),
            "ACCORD_PARTY": None,
            "ACCORD_REMOTE": None,
            "ACCORD_RELAY_DEADLINE": deadline,
        }
        return CliRunner().invoke(cli, list(args), env=env, prog_name="accord")

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"accord {' '.join(args)}: {result.output}"
        return result

    def act(self, *args: str, deadline: str | None = None) -> Result:
        return self(*args, "--as", self.handle, deadline=deadline)

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def replica(self) -> dict[str, bytes]:
        """The bytes of the SQLite replica (and its journal files, if any)."""
        return {
            p.name: p.read_bytes()
            for p in sorted(self.ledger.parent.iterdir())
            if p.name.startswith(self.ledger.name)
        }

    def store(self) -> RemoteStore:
        return RemoteStore(source_of(str(self.ledger)), home=self.home)

    def hashes(self) -> list[str]:
        """The entry hashes of the replica, in seq order (from ``accord export``)."""
        rows = [json.loads(line) for line in self.ok("export", S, "-o", "-").stdout.splitlines()]
        return [row["hash"] for row in rows if set(row) == {"entry", "sig", "hash"}]


@dataclass
class World:
    relay: HostileRelay
    key: RelayKey
    acme: Party
    burgerco: Party


@pytest.fixture
def world(tmp_path: Path, kit: SimpleNamespace) -> Iterator[World]:
    """acme proposes (burgerco pinned), burgerco joins; both cosigned it through an honest relay."""
    app, key, _url, _home = kit.make_relay(tmp_path)
    hostile = HostileRelay(app)
    try:
        parties = {}
        for handle in ("acme", "burgerco"):
            (tmp_path / handle).mkdir()
            party = Party(handle, tmp_path / handle / "home", tmp_path / handle / "accord.db")
            party.ok("init")
            party.ok("key", "new", handle)
            party.ok("remote", "add", "hub", hostile.url)
            parties[handle] = party
        acme, burgerco = parties["acme"], parties["burgerco"]
        fingerprint = burgerco.json("key", "show", "burgerco")["fingerprint"]
        ok(acme.act("project", "propose", S, "--title", "T", "--member", f"burgerco={fingerprint}"))
        ok(burgerco.act("sync", S))
        ok(burgerco.act("project", "join", S))
        for party in (acme, burgerco, acme):  # both cosign size 2 and see it confirmed
            ok(party.act("sync", S))
        yield World(hostile, key, acme, burgerco)
    finally:
        hostile.close()
        app.state.close()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, code: int, error: str, hint: str) -> None:
    assert (result.exit_code, result.stderr) == (code, f"Error: {error}\nHint: {hint}\n"), (
        result.output
    )
    assert "Traceback" not in result.output


def resigned(key: RelayKey | Ed25519PrivateKey, checkpoint: Checkpoint) -> str:
    """The checkpoint signed under its origin by ``key`` (the relay's, or another)."""
    private = key.private_key if isinstance(key, RelayKey) else key
    return (
        sign_note(checkpoint.text(), name=checkpoint.origin, private_key=private).encode().decode()
    )


def served_checkpoint(forward: Callable[[], Answer]) -> Checkpoint:
    return parse_checkpoint(parse_note(forward().body).text)


def forged_rows(after: int, count: int, prev: str) -> bytes:
    """``count`` fresh rows after seq ``after``: well-formed, chained, signed by nobody's key."""
    lines = []
    for seq in range(after + 1, after + count + 1):
        data = {
            "v": 1, "project": S, "seq": seq, "prev": prev, "type": "statement.proposed",
            "by": "burgerco", "key": STRANGER_FP,
            "at": "2026-11-22T12:00:00Z", "body": {"title": f"S{seq}", "text": "x" * 200},
        }  # fmt: skip
        item = entry_mod.sign(data, STRANGER)
        lines.append(json.dumps({"entry": item.text, "sig": item.sig, "hash": item.hash}))
        prev = item.hash
    return ("\n".join(lines) + "\n").encode()


def entries_path(request: Request) -> bool:
    return request.method == "GET" and request.path == f"/v1/projects/{S}/entries"


def checkpoint_path(request: Request) -> bool:
    return request.method == "GET" and request.path == f"/v1/projects/{S}/checkpoint"


def post_path(request: Request) -> bool:
    return request.method == "POST" and request.path == f"/v1/projects/{S}/entries"


# --- class 7: pages and deadlines -----------------------------------------------------------


def test_a_relay_claiming_a_huge_tree_with_endless_fresh_rows_is_refused_after_one_page(
    world: World,
) -> None:
    ok(
        world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign")
    )  # seq 3
    head = world.burgerco.json("project", "show", S, "--offline")["head"]  # at seq 2

    def overclaim(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            real = served_checkpoint(forward)
            huge = Checkpoint(real.origin, 1_000_000, real.root_hash)
            return Answer(200, resigned(world.key, huge).encode())
        if entries_path(request):
            if world.relay.rows_served >= ROWS_CAP:
                return Answer(503, b'{"error": "unavailable", "message": "enough"}')
            after, limit = int(request.query["after"]), int(request.query["limit"])
            return Answer(200, forged_rows(after, limit, head))
        return None

    world.relay.lie(overclaim)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S)

    assert (result.exit_code, result.stderr) == (
        5,
        f"Error: key {STRANGER_FP} is not a current key of 'burgerco' (seq 3)\n"
        "Hint: `accord project show SLUG` lists each member's current signers and keys\n",
    ), result.output
    assert world.relay.rows_served <= PAGE  # one page asked, one page held, then refused
    assert world.burgerco.replica() == before


def test_rows_beyond_the_signed_tree_are_refused_and_never_asked_for(world: World) -> None:
    ok(
        world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign")
    )  # seq 3

    def beyond(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if entries_path(request):
            if world.relay.rows_served >= ROWS_CAP:
                return Answer(503, b'{"error": "unavailable", "message": "enough"}')
            assert int(request.query["limit"]) == 1  # the tree has one entry more
            real = forward().body  # seq 3, then fresh rows the tree does not hold
            third = json.loads(real.splitlines()[0])["hash"]
            return Answer(200, real + forged_rows(3, PAGE - 1, third))
        return None

    world.relay.lie(beyond)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S)

    assert (result.exit_code, result.stderr) == (
        5,
        f"Error: the relay served {PAGE} entries of '{S}' after seq 2 where 1 were asked "
        "(its signed tree has 3)\n",
    ), result.output
    assert world.relay.rows_served == PAGE
    assert world.burgerco.replica() == before


def test_a_relay_that_signs_more_than_it_serves_is_refused(world: World) -> None:
    def short(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            real = served_checkpoint(forward)
            return Answer(
                200, resigned(world.key, Checkpoint(real.origin, 5, real.root_hash)).encode()
            )
        return None

    world.relay.lie(short)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S)

    assert (result.exit_code, result.stderr) == (
        5,
        f"Error: the relay signed 5 entries of '{S}' but served 2\n",
    ), result.output
    assert [r for r in world.relay.requests if "/entries?" in r[1]] == [
        ("GET", f"/v1/projects/{S}/entries?after=2&limit=3")
    ]
    assert world.burgerco.replica() == before


def test_a_checkpoint_dripped_a_byte_at_a_time_fails_at_the_deadline(world: World) -> None:
    def drip(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            answer = forward()
            answer.drip = 0.2
            return answer
        return None

    world.relay.lie(drip)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S, deadline="1")

    refused(
        result,
        6,
        f"the relay at {world.relay.url} did not answer within the deadline of 1 s for this "
        "command's relay traffic",
        "the relay is slow or stalls: give it longer with ACCORD_RELAY_DEADLINE=SECONDS, or "
        "try again later",
    )
    assert world.burgerco.replica() == before


def test_a_status_line_and_headers_dripped_a_byte_at_a_time_fail_at_the_deadline(
    world: World,
) -> None:
    def drip(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            answer = forward()
            answer.drip, answer.whole = 0.2, True
            return answer
        return None

    world.relay.lie(drip)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S, deadline="1")

    assert not world.relay.drip_over.is_set()  # the relay was still dripping its headers
    refused(
        result,
        6,
        f"the relay at {world.relay.url} did not answer within the deadline of 1 s for this "
        "command's relay traffic",
        "the relay is slow or stalls: give it longer with ACCORD_RELAY_DEADLINE=SECONDS, or "
        "try again later",
    )
    assert world.burgerco.replica() == before


def test_a_write_whose_receipt_is_dripped_fails_at_the_deadline_and_records_nothing(
    world: World,
) -> None:
    def drip(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            answer = forward()
            answer.drip = 0.2
            return answer
        return None

    world.relay.lie(drip)
    before = world.acme.replica()

    result = world.acme.act(
        "statement", "propose", S, "--title", "T", "--text", "x", "--no-sign", deadline="1.5"
    )

    refused(
        result,
        6,
        f"the relay at {world.relay.url} did not answer within the deadline of 1.5 s for this "
        "command's relay traffic; the relay may hold seq 3 already",
        f"run `accord sync {S}` to see whether it was recorded before trying again; the relay "
        "is slow or stalls: give it longer with ACCORD_RELAY_DEADLINE=SECONDS, or try again later",
    )
    assert [m for m, _ in world.relay.requests].count("POST") == 1  # sent once, not retried
    assert world.acme.replica() == before


def test_a_malformed_deadline_is_a_usage_error_before_anything_is_asked(world: World) -> None:
    world.relay.lie(lambda request, forward: None)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S, deadline="soon")

    refused(
        result,
        2,
        "ACCORD_RELAY_DEADLINE must be a number of seconds above 0 and at most 86400, not 'soon'",
        "for example ACCORD_RELAY_DEADLINE=120, or unset it for 60 s",
    )
    assert world.relay.requests == []  # nothing was asked of the relay
    assert world.burgerco.replica() == before


# --- class 8: receipts ------------------------------------------------------------------------

RECEIPT_HINT = (
    "nothing was recorded here: the relay may not hold the entry; `accord sync "
    f"{S}` shows what it holds (tell your partners if it misbehaves)"
)


def write_through(world: World, hook: Any) -> tuple[Result, dict[str, bytes]]:
    world.relay.lie(hook)
    before = world.acme.replica()
    result = world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign")
    return result, before


def test_a_relay_that_drops_the_entry_and_answers_an_empty_receipt_records_nothing(
    world: World,
) -> None:
    def empty(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            return Answer(201, b'{"receipt": {}}', {"Content-Type": "application/json"})
        return None

    result, before = write_through(world, empty)

    refused(
        result,
        5,
        f"the relay at {world.relay.url} sent a receipt for seq 3 of '{S}' that does not name "
        "exactly the entry sent",
        RECEIPT_HINT,
    )
    assert world.acme.replica() == before
    assert [r.seq for r in world.acme.store().receipts("hub", S)] == [1]  # its proposal's


def test_a_receipt_whose_proof_is_for_another_entry_records_nothing(world: World) -> None:
    local = [leaf_hash(bytes.fromhex(h)) for h in world.acme.hashes()]

    def other_proof(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            answer = forward()
            body = answer.json()
            leaves = [*local, leaf_hash(bytes.fromhex(body["receipt"]["hashes"][0]))]
            proof = inclusion_proof(1, leaves)  # seq 2's, in the same tree of size 3
            body["receipt"]["inclusion"][0]["proof"] = [base64.b64encode(h).decode() for h in proof]
            return Answer(201, json.dumps(body).encode(), answer.headers)
        return None

    result, before = write_through(world, other_proof)

    refused(
        result,
        5,
        f"the relay at {world.relay.url} sent a receipt for seq 3 of '{S}' that does not prove "
        "it: its inclusion proof does not put this entry right after this replica's 2 entries "
        "in the signed tree of size 3",
        RECEIPT_HINT,
    )
    assert world.acme.replica() == before


def test_a_receipt_signed_by_another_key_records_nothing(world: World) -> None:
    def other_key(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            answer = forward()
            body = answer.json()
            checkpoint = parse_checkpoint(parse_note(body["receipt"]["checkpoint"]).text)
            body["receipt"]["checkpoint"] = resigned(Ed25519PrivateKey.generate(), checkpoint)
            return Answer(201, json.dumps(body).encode(), answer.headers)
        return None

    result, before = write_through(world, other_key)

    refused(
        result,
        5,
        f"the relay at {world.relay.url} sent a receipt for seq 3 of '{S}' that does not verify: "
        "the relay's checkpoint does not verify with the pinned relay key: no known key signed "
        "the note",
        RECEIPT_HINT,
    )
    assert world.acme.replica() == before


def test_a_receipt_with_a_checkpoint_that_does_not_cover_the_entry_records_nothing(
    world: World,
) -> None:
    def stale(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            return Answer(201, json.dumps(stale_receipt).encode(), {})
        return None

    # the receipt of acme's proposal as the relay gave it, re-labelled as seq 3's (its tree has 1)
    note = world.acme.store().receipts("hub", S)[-1].note
    stale_receipt = {"receipt": {"project": S, "seq": [3, 3], "hashes": ["?"], "checkpoint": note,
                                 "inclusion": [{"seq": 3, "proof": []}]}}  # fmt: skip

    def relabel(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if post_path(request):
            sent = json.loads(request.body.splitlines()[0])["hash"]
            stale_receipt["receipt"]["hashes"] = [sent]
            return stale(request, forward)
        return None

    result, before = write_through(world, relabel)

    refused(
        result,
        5,
        f"the relay at {world.relay.url} sent a receipt for seq 3 of '{S}' that holds a "
        "checkpoint of size 1, which does not cover it",
        RECEIPT_HINT,
    )
    assert world.acme.replica() == before


def test_a_good_receipt_is_verified_and_kept_as_evidence(world: World) -> None:
    ok(world.acme.act("statement", "propose", S, "--title", "T", "--text", "x", "--no-sign"))

    store = world.acme.store()
    receipts = store.receipts("hub", S)
    kept = {(k.size, k.root) for k in store.kept("hub", S)}
    hashes = world.acme.hashes()
    assert [(r.seq, r.hash, r.size) for r in receipts] == [(1, hashes[0], 1), (3, hashes[2], 3)]
    for item in receipts:
        note = parse_note(item.note)
        checkpoint = parse_checkpoint(note.text)
        verify_note(note, [world.key.verifier_key(checkpoint.origin)])
        proof = [base64.b64decode(h) for h in json.loads(item.proof)]
        leaf = leaf_hash(bytes.fromhex(item.hash))
        verify_inclusion(item.seq - 1, checkpoint.size, leaf, proof, checkpoint.root_hash)
        assert (checkpoint.size, checkpoint.root_hash.hex()) in kept


# --- class 10: a fork's notes on a terminal, a second signer's clock --------------------------


def test_a_forked_note_is_printed_indented_and_escaped(world: World) -> None:
    nasty = ("Error: forged by the relay", "\u202eevil\u202c", "c1\x85del\x7fend", "ls\u2028x")

    def fork(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            real = served_checkpoint(forward)
            other = Checkpoint(real.origin, real.size, bytes(32), nasty)
            return Answer(200, resigned(world.key, other).encode())
        return None

    world.relay.lie(fork)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S)

    kept = [k for k in world.burgerco.store().kept("hub", S) if not k.conflict and k.size == 2]
    served = next(k for k in world.burgerco.store().kept("hub", S) if k.conflict).note
    origin = parse_checkpoint(parse_note(served).text).origin
    signature = served.rsplit("\n", 2)[-2]
    assert result.exit_code == 5, result.output
    assert result.stderr == (
        "--- the kept signed note ---\n"
        + indented(kept[0].note)
        + "--- the served signed note ---\n"
        + f"  {origin}\n  2\n  {base64.b64encode(bytes(32)).decode()}\n"
        + "  Error: forged by the relay\n"
        + "  \\u202eevil\\u202c\n"
        + "  c1\\x85del\\x7fend\n"
        + "  ls\\u2028x\n"
        + "\n"
        + f"  {signature}\n"
        + f"Error: the relay forked '{S}': it signed another root at the same size (2) than the "
        "checkpoint of size 2 kept before\n"
        + "Hint: the relay is misbehaving or was rolled back: keep both signed notes (printed "
        "above) and compare them with your partners\n"
    )
    assert world.burgerco.replica() == before


def indented(note: str) -> str:
    """A note as a fork prints it: every line indented by two spaces (a blank one stays)."""
    return "".join(f"  {line}\n" if line else "\n" for line in note[:-1].split("\n"))


class _Behind:
    """The ``time`` module as seen by a machine whose clock is 60 s behind."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return time.time() - 60


def test_a_second_signer_whose_clock_is_behind_syncs_and_cosigns(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "alice").mkdir()
    alice = Party("acme", tmp_path / "alice" / "home", tmp_path / "alice" / "accord.db")
    alice.ok("init")
    alice.ok("key", "new", "acme")
    alice.ok("remote", "add", "hub", world.relay.url)
    line = str(alice.json("key", "show", "acme")["public_key"])
    ok(world.acme.act("project", "add-signer", S, "--label", "alice", "--public-key", line))
    ok(world.burgerco.act("sync", S))
    ok(world.acme.act("sync", S))  # the founder cosigns size 3 now

    monkeypatch.setattr(relay.sync, "time", _Behind())
    synced = alice.act("sync", S)  # alice's machine is a minute late

    assert synced.exit_code == 0, synced.output
    status = world.burgerco.json("status", S, "--as", "burgerco")
    assert (status["confirmed"], status["cosigned"]) == (3, {"acme": 3, "burgerco": 3})


# --- class 9: a served entry that breaks a rule is a verification failure -------------------


def test_a_served_entry_by_a_non_member_is_a_verification_failure_not_a_rule_violation(
    world: World,
) -> None:
    head = world.burgerco.json("project", "show", S)["head"]
    data = {
        "v": 1, "project": S, "seq": 3, "prev": head, "type": "statement.proposed",
        "by": "mallory", "key": STRANGER_FP,
        "at": "2026-11-22T12:00:00Z", "body": {"title": "Mine", "text": "x"},
    }  # fmt: skip
    forged = entry_mod.sign(data, STRANGER)
    row = json.dumps({"entry": forged.text, "sig": forged.sig, "hash": forged.hash}) + "\n"

    def serve(request: Request, forward: Callable[[], Answer]) -> Answer | None:
        if checkpoint_path(request):
            real = served_checkpoint(forward)
            return Answer(
                200, resigned(world.key, Checkpoint(real.origin, 3, real.root_hash)).encode()
            )
        if entries_path(request):
            return Answer(200, row.encode())
        return None

    world.relay.lie(serve)
    before = world.burgerco.replica()

    result = world.burgerco.act("sync", S)

    assert result.exit_code == 5, result.output
    assert result.stderr.startswith(
        f"Error: the relay served seq 3 of '{S}', which breaks a rule: "
    )
    assert result.stderr.endswith(
        "Hint: no replica may hold it: nothing was appended from it; keep `accord status` "
        "output as evidence and tell your partners and the relay's operator\n"
    )
    assert "mallory" in result.stderr
    assert world.burgerco.replica() == before
