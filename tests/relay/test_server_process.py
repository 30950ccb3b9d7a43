"""The relay as a real ``accord relay serve`` process, and several relays on one store."""

from __future__ import annotations

import base64
import json
import random
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from ledger.application import Ledger
from ledger.keys import Signer
from relay import reads
from relay.aggregates import relay_stream_id
from relay.keys import load_or_create
from relay.merkle import leaf_hash, root, verify_inclusion
from relay.note import cosign, parse_checkpoint, parse_note
from relay.store import open_store

SLUG = "no-whopper-day"
CHECKPOINT = f"/v1/projects/{SLUG}/checkpoint"
ENTRIES = f"/v1/projects/{SLUG}/entries"
BUSY_TOLERATED = 20  # 503s in a row one writer retries before the race counts as failed
LOG_LINE = re.compile(r"^\S+ \S+ (GET|POST) (/\S*) (\d{3}) \d+\.\dms$")


def store_on(kit: Any, partner: Ledger, signers: dict[str, Signer], client: Any) -> list:
    log = kit.started(partner, signers, statements=1)
    created = client.post("/v1/projects", content=kit.rows_body(log[:1]), headers=kit.NDJSON)
    assert created.status_code == 201, created.text
    rest = client.post(ENTRIES, content=kit.rows_body(log[1:]), headers=kit.NDJSON)
    assert rest.status_code == 201, rest.text
    return log


def read_all(client: Any, kit: Any, signer: Signer) -> list[dict]:
    rows: list[dict] = []
    while True:
        page = client.get(ENTRIES, params={"after": len(rows)}, auth=kit.MemberAuth(signer))
        assert page.status_code == 200, page.text
        found = [json.loads(line) for line in page.text.splitlines()]
        rows += found
        if len(found) < 1000:
            return rows


def tree_root(rows: list[dict]) -> bytes:
    return root([leaf_hash(bytes.fromhex(r["hash"])) for r in rows])


def story_against(served_url: str, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> int:
    """Append, read as a member, cosign, and be refused as a stranger; return requests made."""
    with httpx.Client(base_url=served_url, timeout=30) as client:
        log = store_on(kit, partner, signers, client)
        key = client.get("/v1/relay/key").json()
        note = client.get(CHECKPOINT, auth=kit.MemberAuth(signers["burgerco"]))
        stranger = client.get(CHECKPOINT, auth=kit.MemberAuth(signers["mallory"]))
        acme = signers["acme"].private_key
        cosigned = cosign(parse_note(note.text), name="acme", private_key=acme, timestamp=1 << 30)
        held = client.post(f"/v1/projects/{SLUG}/cosignatures", content=cosigned.encode())
        rows = read_all(client, kit, signers["acme"])
    assert key["public_key"].startswith("ssh-ed25519 ")
    checkpoint = parse_checkpoint(parse_note(note.text).text)
    assert (checkpoint.size, checkpoint.root_hash) == (len(log), kit.rfc6962_root(log))
    assert (stranger.status_code, held.status_code) == (404, 204)
    assert [r["hash"] for r in rows] == [e.hash for e in log]
    return 7


@pytest.mark.slow
def test_a_real_relay_process_serves_a_story_logs_one_line_per_request_and_stops(
    serve: Any, tmp_path: Path, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    served = serve(str(tmp_path / "relay.db"))

    requests = story_against(served.url, kit, partner, signers)
    code = served.stop()

    assert code == 0, "\n".join(served.lines)
    assert served.lines[-1] == "accord relay stopped"
    logged = [m for m in (LOG_LINE.match(line) for line in served.lines) if m]
    assert len([m for m in logged if m.group(2) != "/healthz"]) == requests
    assert all("?" not in m.group(2) for m in logged)
    assert (tmp_path / "home" / "relay" / "relay.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
@pytest.mark.postgres
def test_a_real_relay_process_serves_a_story_on_postgresql(
    serve: Any, postgres_url: str, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    served = serve(postgres_url)

    story_against(served.url, kit, partner, signers)

    assert served.stop() == 0, "\n".join(served.lines)


def hammer(
    clients: list[Any], kit: Any, signer: Signer, tag: int, count: int, out: list, errors: list
) -> None:
    """Append ``count`` entries as ``signer`` through random relays, retrying on 409.

    A 503 ("unavailable": the shared file was locked, or the other relay kept signing) is
    an answer a client retries too; a few are tolerated, a stream of them is a failure.
    """
    done = 0
    busy = 0
    try:
        while done < count:
            reader = random.choice(clients)
            note = reader.get(CHECKPOINT, auth=kit.MemberAuth(signer))
            if note.status_code == 200:
                size = parse_checkpoint(parse_note(note.text).text).size
                last = reader.get(
                    ENTRIES, params={"after": size - 1, "limit": 1}, auth=kit.MemberAuth(signer)
                )
            else:
                last = note
            if last.status_code == 503:
                busy += 1
                if busy > BUSY_TOLERATED:
                    errors.append(f"{busy} answers 503 in a row: {last.text}")
                    return
                time.sleep(0.05)
                continue
            assert last.status_code == 200, last.text
            busy = 0
            head = json.loads(last.text.splitlines()[0])["hash"]
            body = {"title": f"writer {tag}", "text": f"entry {done} of writer {tag}"}
            entry = kit.next_entry(signer, seq=size + 1, prev=head, body=body)
            answer = random.choice(clients).post(
                ENTRIES, content=kit.rows_body([entry]), headers=kit.NDJSON
            )
            if answer.status_code == 201:
                out.append((entry, answer.json()["receipt"]))
                done += 1
            elif answer.status_code == 409:
                out.append(None)
            elif answer.status_code == 503 and busy < BUSY_TOLERATED:
                busy += 1
                out.append(None)
            else:
                errors.append(answer.text)
                return
    except Exception as exc:  # reported by the test
        errors.append(repr(exc))


def race(clients: list[Any], kit: Any, signers: dict[str, Signer], count: int) -> list:
    out: list = []
    errors: list = []
    threads = [
        threading.Thread(target=hammer, args=(clients, kit, signers[h], n, count, out, errors))
        for n, h in enumerate(("acme", "burgerco", "acme", "burgerco"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors[:3]
    print(f"{out.count(None)} conflicts answered 409 and retried")
    return [item for item in out if item is not None]


def check_consistent(
    clients: list[Any], kit: Any, signers: dict[str, Signer], stored: list, key: Any
) -> list:
    rows = read_all(clients[0], kit, signers["acme"])
    assert read_all(clients[-1], kit, signers["burgerco"]) == rows
    assert {r["hash"] for r in rows} >= {e.hash for e, _ in stored}
    for client in clients:
        assert kit.checkpoint_of(
            client.get(CHECKPOINT, auth=kit.MemberAuth(signers["acme"])).text, key
        ) == (
            len(rows),
            tree_root(rows),
        )
    for entry, receipt in stored:
        size, signed_root = kit.checkpoint_of(receipt["checkpoint"], key)
        assert signed_root == tree_root(rows[:size])
        proof = [base64.b64decode(h) for h in receipt["inclusion"][0]["proof"]]
        verify_inclusion(
            entry.seq - 1, size, leaf_hash(bytes.fromhex(entry.hash)), proof, signed_root
        )
    return rows


def check_signed_history(store: Any, rows: list[dict]) -> None:
    """Every checkpoint either relay ever signed matches the entries, and none shrank."""
    sizes = []
    for event in store.ledger.events.get(relay_stream_id(SLUG)):
        if hasattr(event, "size"):
            assert bytes.fromhex(event.root) == tree_root(rows[: event.size])
            sizes.append(event.size)
    assert sizes == sorted(sizes) and sizes[-1] == len(rows)


def test_two_relays_on_one_sqlite_file_lose_nothing_and_sign_consistent_trees(
    tmp_path: Path, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    first = kit.make_relay(tmp_path / "a")
    (tmp_path / "b" / "relay-home" / "relay").mkdir(parents=True)
    shutil.copy2(first[1].path, tmp_path / "b" / "relay-home" / "relay" / "relay.key")
    second = kit.make_relay(tmp_path / "b", url=first[2])
    with start_blocking_portal() as portal:
        clients = [kit.InProcess(app, portal) for app in (first[0], second[0])]
        store_on(kit, partner, signers, clients[0])
        stored = race(clients, kit, signers, count=8)
        rows = check_consistent(clients, kit, signers, stored, first[1])
        for client in clients:
            portal.call(client.client.aclose)
    for app in (first[0], second[0]):
        app.state.close()
    assert len(rows) == 3 + 4 * 8
    with open_store(first[2], key=first[1], home=first[3]) as store:
        check_signed_history(store, rows)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_relay_processes_on_one_postgresql_lose_nothing_and_sign_consistent_trees(
    serve: Any,
    postgres_url: str,
    tmp_path: Path,
    kit: Any,
    partner: Ledger,
    signers: dict[str, Signer],
) -> None:
    one = serve(postgres_url, "--rate", "0", home=tmp_path / "one")
    (tmp_path / "two" / "relay").mkdir(parents=True)
    shutil.copy2(tmp_path / "one" / "relay" / "relay.key", tmp_path / "two" / "relay" / "relay.key")
    two = serve(postgres_url, "--rate", "0", home=tmp_path / "two")
    clients = [httpx.Client(base_url=s.url, timeout=60) for s in (one, two)]
    try:
        store_on(kit, partner, signers, clients[0])
        stored = race(clients, kit, signers, count=10)
        key = load_or_create(tmp_path / "one")
        rows = check_consistent(clients, kit, signers, stored, key)
    finally:
        for client in clients:
            client.close()
    assert len(rows) == 3 + 4 * 10
    assert (one.stop(), two.stop()) == (0, 0)
    with open_store(postgres_url, key=key, home=tmp_path / "one") as store:
        check_signed_history(store, rows)


@pytest.mark.slow
def test_killing_a_relay_mid_append_leaves_every_append_whole(
    serve: Any, tmp_path: Path, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    database = str(tmp_path / "relay.db")
    served = serve(database, "--rate", "0")
    client = httpx.Client(base_url=served.url, timeout=30)
    log = store_on(kit, partner, signers, client)
    head, seq, batches = log[-1].hash, len(log), 0

    def append_batches() -> None:
        nonlocal head, seq, batches
        try:
            while True:
                batch = []
                for _ in range(50):
                    seq += 1
                    entry = kit.next_entry(signers["acme"], seq=seq, prev=head)
                    batch.append(entry)
                    head = entry.hash
                answer = client.post(ENTRIES, content=kit.rows_body(batch), headers=kit.NDJSON)
                assert answer.status_code == 201
                batches += 1
        except (httpx.HTTPError, AssertionError):
            return

    writer = threading.Thread(target=append_batches)
    writer.start()
    while batches < 3:
        threading.Event().wait(0.01)
    served.process.kill()
    writer.join(timeout=60)
    client.close()

    home = tmp_path / "home"
    with open_store(database, key=load_or_create(home), home=home) as store:
        state = store.state(SLUG)
        signed_before_the_kill = store.ledger.repository.get(relay_stream_id(SLUG)).size
        checkpoint = store.checkpoint(SLUG)
        rows = [
            json.loads(line)
            for line in reads.entries(store, SLUG, after=0, limit=1000).splitlines()
        ]
    assert (state.seq - len(log)) % 50 == 0 and state.seq >= len(log) + 150
    assert signed_before_the_kill == checkpoint.size == state.seq
    assert bytes.fromhex(checkpoint.root) == tree_root(rows)
