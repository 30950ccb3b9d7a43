"""Cosigning the relay's checkpoints: 204, 403, 409, 422, 400; served with the checkpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.keys import Signer
from relay.note import (
    COSIGNATURE_V1,
    Note,
    Signature,
    VerifierKey,
    cosign,
    parse_note,
    sign_note,
    verify_cosignatures,
    verify_note,
)

SLUG = "no-whopper-day"
CHECKPOINT = f"/v1/projects/{SLUG}/checkpoint"
COSIGNATURES = f"/v1/projects/{SLUG}/cosignatures"
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
def stored(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> list:
    log = kit.started(partner, signers, statements=2)
    relay.post(log[:1])
    relay.post(log[1:])
    return log


def served(relay: Any, signer: Signer) -> str:
    answer = relay.get(CHECKPOINT, signer)
    assert answer.status_code == 200, answer.text
    return answer.text


def cosigned(
    note_text: str, signer: Signer, *, name: str | None = None, at: int | None = None
) -> bytes:
    note = cosign(
        parse_note(note_text),
        name=name or signer.handle,
        private_key=signer.private_key,
        timestamp=at if at is not None else int(time.time()),
    )
    return note.encode()


def post(relay: Any, body: bytes) -> Any:
    return relay.client.post(COSIGNATURES, content=body, headers=TEXT)


def vkey(signer: Signer) -> VerifierKey:
    return VerifierKey.from_public_key(signer.handle, signer.public, type=COSIGNATURE_V1)


def test_a_members_cosignature_is_held_and_served_with_the_checkpoint(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    note = served(relay, signers["acme"])

    answer = post(relay, cosigned(note, signers["burgerco"], at=1_700_000_000))

    assert answer.status_code == 204, answer.text
    with_cosignature = parse_note(served(relay, signers["acme"]))
    verified = verify_cosignatures(with_cosignature, [vkey(signers["burgerco"])])
    assert verified[0].timestamp == 1_700_000_000
    listing = relay.get(COSIGNATURES, signers["acme"]).json()["cosignatures"]
    assert [(c["party"], c["key"], c["size"], c["time"]) for c in listing] == [
        ("burgerco", signers["burgerco"].fingerprint, len(stored), 1_700_000_000)
    ]
    assert parse_note(listing[0]["note"]).text == with_cosignature.text


def test_a_second_member_cosigns_the_note_as_served_with_the_first_ones_line(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    post(relay, cosigned(served(relay, signers["acme"]), signers["burgerco"]))
    note = served(relay, signers["acme"])

    answer = post(relay, cosigned(note, signers["acme"], at=1_700_000_100))
    resend = post(relay, cosigned(note, signers["acme"], at=1_700_000_095))

    assert answer.status_code == 204, answer.text
    assert resend.status_code == 204  # the same checkpoint, cosigned already: the later one stays
    listing = relay.get(COSIGNATURES, signers["acme"]).json()["cosignatures"]
    assert {c["party"]: c["time"] for c in listing}["acme"] == 1_700_000_100
    both = parse_note(served(relay, signers["burgerco"]))
    assert len(verify_cosignatures(both, [vkey(signers["acme"]), vkey(signers["burgerco"])])) == 2


def test_a_resend_of_a_held_cosignature_is_204(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    body = cosigned(served(relay, signers["acme"]), signers["burgerco"], at=1_700_000_000)

    assert [post(relay, body).status_code, post(relay, body).status_code] == [204, 204]


def test_a_cosignature_older_than_the_members_latest_gets_409(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    old = served(relay, signers["acme"])
    relay.post([kit.next_entry(signers["acme"], seq=len(stored) + 1, prev=stored[-1].hash)])
    new = served(relay, signers["acme"])
    assert post(relay, cosigned(new, signers["burgerco"])).status_code == 204

    answer = post(relay, cosigned(old, signers["burgerco"]))

    assert (answer.status_code, answer.json()["error"]) == (409, "conflict")


def test_a_cosignature_by_a_non_member_or_a_key_that_is_not_current_gets_403(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    note = served(relay, signers["acme"])
    other_key = Ed25519PrivateKey.generate()
    stranger = post(relay, cosigned(note, signers["mallory"]))
    wrong_key = post(relay, cosigned(note, Signer("burgerco", "b", other_key)))
    good = parse_note(cosigned(note, signers["burgerco"]))
    line = good.signatures[-1]
    broken = type(line)(line.name, line.key_id, line.payload[:8] + bytes(64))
    bad_signature = post(relay, type(good)(good.text, (*good.signatures[:-1], broken)).encode())

    assert [a.status_code for a in (stranger, wrong_key, bad_signature)] == [403, 403, 403]
    assert stranger.json()["error"] == "forbidden"


def test_a_checkpoint_this_relay_did_not_sign_gets_422(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    note = parse_note(served(relay, signers["acme"]))
    origin = note.signatures[0].name
    forged = sign_note(note.text, name=origin, private_key=Ed25519PrivateKey.generate())
    other_origin = sign_note(
        note.text.replace(origin, origin[:-1] + "0"),
        name="x",
        private_key=signers["acme"].private_key,
    )

    for fake in (forged, other_origin):
        answer = post(relay, cosigned(fake.encode().decode(), signers["burgerco"]))
        assert (answer.status_code, answer.json()["error"]) == (422, "unknown_checkpoint")


def test_a_malformed_cosignature_body_gets_400(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    note = served(relay, signers["acme"])
    two = cosign(parse_note(cosigned(note, signers["burgerco"])), name="acme",
                 private_key=signers["acme"].private_key, timestamp=1)  # fmt: skip
    future = cosigned(note, signers["burgerco"], at=int(time.time()) + 3600)
    for body in (b"", b"hello\n", note.encode(), b"\xff\n\n", two.encode(), future):
        answer = post(relay, body)
        assert (answer.status_code, answer.json()["error"]) == (400, "malformed"), body[:60]
    html = relay.client.post(
        COSIGNATURES,
        content=cosigned(note, signers["burgerco"]),
        headers={"Content-Type": "text/html"},
    )
    assert html.status_code == 400


def test_the_relay_line_held_is_the_one_that_verified_not_the_first_by_its_name(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    note = parse_note(served(relay, signers["acme"]))
    real = note.signatures[0]
    decoy = Signature(real.name, real.key_id ^ 1, bytes(64))  # the origin's name, another key
    posted = Note(note.text, (decoy, real))

    answer = post(relay, cosigned(posted.encode().decode(), signers["burgerco"]))

    assert answer.status_code == 204, answer.text
    [held] = relay.get(COSIGNATURES, signers["acme"]).json()["cosignatures"]
    kept = parse_note(held["note"])
    assert kept.signatures[0] == real
    verify_note(kept, [relay.key.verifier_key(real.name)])  # it proves what it says
    assert len(verify_cosignatures(kept, [vkey(signers["burgerco"])])) == 1


def test_a_second_signer_of_a_party_with_a_clock_behind_cosigns_the_same_checkpoint(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=1)
    alice = Signer("acme", "alice", Ed25519PrivateKey.generate())
    partner.add_signer(
        SLUG, label="alice", public_key=alice.public_key_line, signer=signers["acme"]
    )
    log = [s.entry for s in partner.read_entries(SLUG)]
    relay.post(log[:1])
    relay.post(log[1:])
    note = served(relay, signers["acme"])
    now = int(time.time())

    founder = post(relay, cosigned(note, signers["acme"], at=now))
    behind = post(relay, cosigned(note, alice, at=now - 60))  # the same checkpoint, a minute late

    assert (founder.status_code, behind.status_code) == (204, 204), behind.text
    listing = relay.get(COSIGNATURES, signers["burgerco"]).json()["cosignatures"]
    assert [(c["party"], c["key"], c["size"], c["time"]) for c in listing] == [
        ("acme", signers["acme"].fingerprint, len(log), now)
    ]
    later = post(relay, cosigned(note, alice, at=now + 5))  # a later time: it is held instead
    assert later.status_code == 204
    listing = relay.get(COSIGNATURES, signers["burgerco"]).json()["cosignatures"]
    assert [(c["key"], c["time"]) for c in listing] == [(alice.fingerprint, now + 5)]


def test_a_cosignature_of_an_older_tree_is_still_409_whatever_its_time(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=1)
    relay.post(log[:1])
    relay.post(log[1:])
    old = served(relay, signers["acme"])
    relay.post([kit.next_entry(signers["acme"], seq=len(log) + 1, prev=log[-1].hash)])
    assert post(relay, cosigned(served(relay, signers["acme"]), signers["acme"])).status_code == 204

    answer = post(relay, cosigned(old, signers["acme"], at=int(time.time()) + 60))

    assert (answer.status_code, answer.json()["error"]) == (409, "conflict")
