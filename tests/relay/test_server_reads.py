"""Reads are for members: RFC 9421 signed requests by keys learnt from the log; others 404."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.keys import Signer

SLUG = "no-whopper-day"
ENTRIES = f"/v1/projects/{SLUG}/entries"
CHECKPOINT = f"/v1/projects/{SLUG}/checkpoint"


@pytest.fixture
def stored(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> list:
    log = kit.started(partner, signers, statements=3)
    assert relay.post(log[:1]).status_code == 201
    assert relay.post(log[1:]).status_code == 201
    return log


def rows(answer: Any) -> list[dict]:
    return [json.loads(line) for line in answer.text.splitlines()]


def test_a_member_reads_the_entries_as_bundle_rows_a_page_at_a_time(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    everything = relay.get(ENTRIES, signers["burgerco"])
    page = relay.get(ENTRIES, signers["acme"], params={"after": 2, "limit": 2})
    past_the_end = relay.get(ENTRIES, signers["acme"], params={"after": 99})

    assert everything.status_code == 200, everything.text
    assert everything.headers["content-type"] == "application/x-ndjson"
    assert rows(everything) == [{"entry": e.text, "sig": e.sig, "hash": e.hash} for e in stored]
    assert [r["hash"] for r in rows(page)] == [e.hash for e in stored[2:4]]
    assert (past_the_end.status_code, past_the_end.text) == (200, "")


def test_a_member_reads_the_checkpoint_as_a_note_the_relay_key_verifies(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    answer = relay.get(CHECKPOINT, signers["acme"])

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert kit.checkpoint_of(answer.text, relay.key) == (len(stored), kit.rfc6962_root(stored))


def test_a_non_member_an_unsigned_request_and_a_missing_project_get_the_same_404(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    answers = [
        relay.get(CHECKPOINT, signers["mallory"]),
        relay.get(CHECKPOINT, None),
        relay.get(ENTRIES, signers["veggie"]),
        relay.get(f"/v1/projects/{SLUG}/cosignatures", None),
        relay.get(f"/v1/projects/{SLUG}/tile/0/000.p/5", signers["mallory"]),
        relay.get("/v1/projects/no-such-project/checkpoint", signers["acme"]),
        relay.get(CHECKPOINT, signers["mallory"], params={"limit": "nonsense"}),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert len({a.text for a in answers}) == 1
    assert answers[0].json() == {"error": "not_found", "message": "no such project"}


def test_a_stale_a_replayed_or_a_tampered_signature_gets_404(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    stale = relay.client.get(CHECKPOINT, auth=kit.MemberAuth(signers["acme"], age=400))
    signed = relay.client.client.build_request("GET", ENTRIES)
    next(kit.MemberAuth(signers["acme"]).auth_flow(signed))
    replayed = relay.client.get(CHECKPOINT, headers=dict(signed.headers))
    tampered = dict(signed.headers)
    label, _, value = tampered["signature"].partition("=:")
    raw = bytearray(base64.b64decode(value.rstrip(":")))
    raw[0] ^= 1
    tampered["signature"] = f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"
    tampered_answer = relay.client.get(ENTRIES, headers=tampered)
    genuine = relay.client.get(ENTRIES, headers=dict(signed.headers))

    assert [stale.status_code, replayed.status_code, tampered_answer.status_code] == [404] * 3
    assert genuine.status_code == 200


def test_a_signature_a_little_ahead_of_the_relays_clock_is_accepted(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    answer = relay.client.get(CHECKPOINT, auth=kit.MemberAuth(signers["acme"], age=-200))

    assert answer.status_code == 200


def test_an_invited_member_reads_with_its_pinned_key_until_it_joins(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    partner.propose_project(
        kit.SLUG, title="T", purpose="", members={"veggie": signers["veggie"].fingerprint},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    genesis = [s.entry for s in partner.read_entries(kit.SLUG)]
    relay.post(genesis)
    offered = kit.MemberAuth(signers["veggie"], offer_key=True)
    impostor = Signer(handle="veggie", key_name="x", private_key=signers["mallory"].private_key)

    pinned = relay.client.get(ENTRIES, auth=offered)
    without_key = relay.get(ENTRIES, signers["veggie"])
    wrong_key = relay.client.get(ENTRIES, auth=kit.MemberAuth(impostor, offer_key=True))

    assert pinned.status_code == 200
    assert rows(pinned)[0]["hash"] == genesis[0].hash
    assert [without_key.status_code, wrong_key.status_code] == [404, 404]


def test_bad_query_parameters_get_400_for_a_member(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}, {"after": "1e3"}):
        answer = relay.get(ENTRIES, signers["acme"], params=params)
        assert (answer.status_code, answer.json()["error"]) == (400, "malformed"), params
    twice = relay.get(ENTRIES + "?after=1&after=2", signers["acme"])
    assert twice.status_code == 400


def test_the_relay_key_and_health_are_public(relay: Any) -> None:
    key = relay.client.get("/v1/relay/key")
    health = relay.client.get("/healthz")

    assert key.json() == {
        "public_key": relay.key.public_key_line,
        "fingerprint": relay.key.fingerprint,
    }
    assert health.json() == {"status": "ok"}


def test_unknown_endpoints_and_methods_get_json_errors(relay: Any) -> None:
    missing = relay.client.get("/v1/nothing")
    wrong_method = relay.client.request("DELETE", ENTRIES)

    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")
