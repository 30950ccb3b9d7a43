"""Appending through the relay: 201 with receipts, 200 on a resend, 409, 422, 403, 400, 413."""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.application import Ledger
from ledger.entry import SignedEntry, sign
from ledger.keys import Signer
from relay.merkle import leaf_hash, verify_inclusion
from relay.note import origin_for
from relay.server import RelayConfig

SLUG = "no-whopper-day"


def check_receipt(
    kit: Any, relay: Any, receipt: dict, entries: list[SignedEntry], log: list
) -> None:
    size, root = kit.checkpoint_of(receipt["checkpoint"], relay.key)
    assert (size, root) == (len(log), kit.rfc6962_root(log))
    assert receipt["project"] == SLUG
    assert receipt["seq"] == [entries[0].seq, entries[-1].seq]
    assert receipt["hashes"] == [e.hash for e in entries]
    for item, proof in zip(entries, receipt["inclusion"], strict=True):
        assert proof["seq"] == item.seq
        hashes = [base64.b64decode(h) for h in proof["proof"]]
        verify_inclusion(item.seq - 1, size, leaf_hash(bytes.fromhex(item.hash)), hashes, root)


def test_a_new_project_is_stored_with_a_receipt_whose_checkpoint_verifies(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)

    created = relay.post(log[:1])

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/projects/{SLUG}"
    check_receipt(kit, relay, created.json()["receipt"], log[:1], log[:1])
    note = created.json()["receipt"]["checkpoint"]
    assert note.startswith(origin_for(log[0].hash) + "\n1\n")


def test_several_rows_are_applied_at_once_with_a_proof_of_each(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=5)
    assert relay.post(log[:1]).status_code == 201

    stored = relay.post(log[1:])

    assert stored.status_code == 201, stored.text
    check_receipt(kit, relay, stored.json()["receipt"], log[1:], log)


def test_a_resend_of_stored_entries_is_answered_200_with_a_receipt_for_the_current_checkpoint(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=3)
    relay.post(log[:1])
    relay.post(log[1:])

    again = relay.post(log[2:4])
    genesis_again = relay.post(log[:1])

    assert (again.status_code, genesis_again.status_code) == (200, 200)
    check_receipt(kit, relay, again.json()["receipt"], log[2:4], log)
    check_receipt(kit, relay, genesis_again.json()["receipt"], log[:1], log)


def test_a_stale_head_gets_409_with_a_checkpoint_that_verifies_and_matches_the_entries(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=2)
    relay.post(log[:1])
    relay.post(log[1:])
    text = {"title": "S", "text": "another"}
    rival = sign({**log[-1].data, "body": text}, signers["acme"].private_key)
    ahead = kit.next_entry(signers["acme"], seq=len(log) + 2, prev=log[-1].hash)

    taken, skipping = relay.post([rival]), relay.post([ahead])

    for answer in (taken, skipping):
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert body["error"] == "conflict"
        assert kit.checkpoint_of(body["checkpoint"], relay.key) == (
            len(log),
            kit.rfc6962_root(log),
        )
    assert taken.json()["message"] == f"seq {len(log)} of '{SLUG}' is taken by another entry"


def test_a_conflict_is_not_shown_to_a_key_that_is_not_a_members(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)
    relay.post(log[:1])
    relay.post(log[1:])
    stranger = Signer(handle="acme", key_name="m", private_key=signers["mallory"].private_key)

    answer = relay.post([kit.next_entry(stranger, seq=2, prev=log[0].hash)])

    assert answer.status_code == 403
    assert "checkpoint" not in answer.json()


def test_an_entry_that_breaks_a_rule_gets_422_and_nothing_of_the_batch_is_stored(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)
    relay.post(log[:1])
    relay.post(log[1:2])
    good = kit.next_entry(signers["acme"], seq=3, prev=log[1].hash)
    own_approval = kit.next_entry(
        signers["acme"], seq=4, prev=good.hash, kind="approval.given",
        body={"target": 3, "target_hash": good.hash, "comment": ""},
    )  # fmt: skip

    refused = relay.post([good, own_approval])

    assert refused.status_code == 422, refused.text
    assert (refused.json()["error"], refused.json()["seq"]) == ("rule", 4)
    with relay.store() as store:
        assert store.state(SLUG).seq == 2


def test_a_number_beyond_the_bound_of_the_format_gets_422_and_nothing_is_stored(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)
    relay.post(log[:1])
    relay.post(log[1:2])
    pledge = {"title": "T", "unit": "hours", "due": "2099-12-15", "beneficiaries": ["burgerco"]}
    for weight, cause in (
        ("1" * 19, "the weight of a pledge has 19 digits before the point; accord records "
         "at most 18"),
        ("0." + "0" * 37 + "1", "the weight of a pledge has 38 digits after the point; accord "
         "records at most 12"),
    ):  # fmt: skip
        item = kit.next_entry(
            signers["acme"], seq=3, prev=log[1].hash, kind="pledge.made",
            body={**pledge, "weight": weight},
        )  # fmt: skip

        refused = relay.post([item])

        assert refused.status_code == 422, refused.text
        answer = refused.json()
        assert (answer["error"], answer["seq"], answer["message"]) == ("rule", 3, cause)
        with relay.store() as store:
            assert store.state(SLUG).seq == 2


def test_a_bad_signature_or_a_key_that_is_not_a_members_gets_403(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)
    relay.post(log[:1])
    relay.post(log[1:2])
    good = kit.next_entry(signers["acme"], seq=3, prev=log[1].hash)
    forged = sign(
        {**good.data, "body": {"title": "S", "text": "f"}}, signers["mallory"].private_key
    )
    mallory = kit.next_entry(signers["mallory"], seq=3, prev=log[1].hash)

    for entry in (forged, mallory):
        answer = relay.post([entry])
        assert answer.status_code == 403, answer.text
        assert (answer.json()["error"], answer.json()["seq"]) == ("forbidden", 3)


def test_malformed_bodies_get_400(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=2)
    relay.post(log[:1])
    relay.post(log[1:2])
    path = f"/v1/projects/{SLUG}/entries"
    row = json.loads(kit.rows_body(log[2:3]))
    cases = [
        b"",
        b"\n",
        b"not json\n",
        b"[1, 2]\n",
        b"[" * 100_000,
        json.dumps({**row, "hash": "0" * 64}).encode(),
        json.dumps({**row, "extra": 1}).encode(),
        json.dumps({**row, "entry": row["entry"].replace(":", ": ", 1)}).encode(),
        json.dumps({**row, "sig": "not base64"}).encode(),
        kit.rows_body([log[2], log[2]]),
        kit.rows_body([log[3], log[2]]),
        kit.rows_body([log[2]] * 101),
        b"\xff\xfe\n",
    ]
    for body in cases:
        answer = relay.client.post(path, content=body, headers=kit.NDJSON)
        assert (answer.status_code, answer.json()["error"]) == (400, "malformed"), body[:80]
    other = relay.client.post(
        "/v1/projects/other-project/entries", content=kit.rows_body(log[2:3]), headers=kit.NDJSON
    )
    not_genesis = relay.client.post(
        "/v1/projects", content=kit.rows_body(log[2:3]), headers=kit.NDJSON
    )
    wrong_type = relay.client.post(
        path, content=kit.rows_body(log[2:3]), headers={"Content-Type": "image/png"}
    )
    assert [r.status_code for r in (other, not_genesis, wrong_type)] == [400, 400, 400]


def test_a_body_over_the_limit_gets_413_from_its_length_or_while_reading(
    relay: Any, kit: Any
) -> None:
    path = f"/v1/projects/{SLUG}/entries"
    limit = RelayConfig().entries_limit
    declared = relay.client.post(path, content=b"x" * (limit + 1), headers=kit.NDJSON)

    async def chunks():
        for _ in range(limit // 65536 + 1):
            yield b"y" * 65536

    streamed = relay.client.post(path, content=chunks(), headers=kit.NDJSON)
    cosign = relay.client.post(f"/v1/projects/{SLUG}/cosignatures", content=b"z" * 70_000)

    assert [r.status_code for r in (declared, streamed, cosign)] == [413, 413, 413]
    assert declared.json()["error"] == "too_large"


def test_entries_of_a_project_the_relay_does_not_hold_get_404(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)

    answer = relay.post(log[1:])

    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
