"""The relay refuses entries that bring in a weak public key, in process and as a real process.

A signer with a small-order key (the identity point here) would let anyone, the relay
included, sign in the party's name: the forged signature ``R`` = identity, ``S`` = 0
verifies with ``cryptography`` for every message. The relay runs the rules before storing,
so it refuses the entry that brings such a key in (403, a key problem, with its seq), and
with it every forgery that would follow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger import entry as entry_mod
from ledger.application import Ledger
from ledger.keys import Signer

SLUG = "no-whopper-day"
P = 2**255 - 19
FORGED = bytes([1]) + bytes(63)  # R = the identity point, S = 0
IDENTITY = bytes([1]) + bytes(31)
WEAK = {
    "identity": IDENTITY,
    "order-8": bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    "order-2-negative-zero": (P - 1 | 1 << 255).to_bytes(32, "little"),
    "identity-above-p": (P + 1).to_bytes(32, "little"),
}
REASONS = {
    "identity": "a point of small order: signatures would verify by it for many messages, "
    "without any private key",
    "order-8": "a point of small order: signatures would verify by it for many messages, "
    "without any private key",
    "order-2-negative-zero": "not canonically encoded: x is zero but its sign bit is set",
    "identity-above-p": "not canonically encoded: y is not below 2^255-19",
}
WEAK_HINT = (
    "use a key made by `accord key new` or `ssh-keygen -t ed25519`; a weak key would let "
    "anyone sign in its holder's name"
)
ENTRIES = f"/v1/projects/{SLUG}/entries"
NDJSON = {"Content-Type": "application/x-ndjson"}


def ssh_line(raw: bytes) -> str:
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", len(raw)) + raw
    return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")


def ssh_fingerprint(raw: bytes) -> str:
    blob = base64.b64decode(ssh_line(raw).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def forged(data: dict[str, Any]) -> entry_mod.SignedEntry:
    """``data`` with the forged signature (which the identity key accepts)."""
    text = entry_mod.canonical_bytes(data).decode("utf-8")
    return entry_mod.load(text, base64.b64encode(FORGED).decode("ascii"))


def bodies(raw: bytes, signer: Signer) -> dict[str, dict[str, Any]]:
    line = ssh_line(raw)
    return {
        "signer.added": {"label": "ghost", "public_key": line},
        "key.rotated": {"public_key": line},
        "key.revoked": {"fingerprint": signer.fingerprint, "reason": "x", "replacement": line},
    }


def ghost_pledge(prev: str, seq: int) -> entry_mod.SignedEntry:
    """An entry "by acme" signed by the identity key, forged."""
    return forged(
        {
            "v": 1, "project": SLUG, "seq": seq, "prev": prev, "type": "statement.proposed",
            "by": "acme", "key": ssh_fingerprint(IDENTITY), "at": "2026-11-22T12:00:00Z",
            "body": {"title": "Forged", "text": "signed by nobody"},
        }
    )  # fmt: skip


def expect_weak(answer: httpx.Response, name: str, seq: int = 4) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json() == {
        "error": "forbidden",
        "message": f"entry {seq} carries a weak public key ({REASONS[name]})",
        "seq": seq,
        "hint": WEAK_HINT,
    }


@pytest.mark.parametrize("name", list(WEAK))
@pytest.mark.parametrize("kind", ["signer.added", "key.rotated", "key.revoked"])
def test_the_relay_refuses_a_signer_rotation_or_replacement_to_a_weak_key(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer], kind: str, name: str
) -> None:
    log = kit.started(partner, signers)
    assert relay.post(log[:1]).status_code == 201
    assert relay.post(log[1:]).status_code == 201
    body = bodies(WEAK[name], signers["acme"])[kind]
    item = kit.next_entry(signers["acme"], seq=4, prev=log[-1].hash, kind=kind, body=body)

    expect_weak(relay.post([item]), name)

    forgery = relay.post([ghost_pledge(log[-1].hash, 4)])
    assert forgery.status_code == 403, forgery.text
    with relay.store() as store:
        assert store.state(SLUG).seq == 3
    rows = relay.get(ENTRIES, signers["burgerco"])
    assert [json.loads(line)["hash"] for line in rows.text.splitlines()] == [e.hash for e in log]


def test_the_relay_refuses_a_project_proposed_by_a_weak_key(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    proposal = forged(
        {
            "v": 1, "project": SLUG, "seq": 1, "prev": entry_mod.ZERO_HASH,
            "type": "project.proposed", "by": "acme", "key": ssh_fingerprint(IDENTITY),
            "at": "2026-11-22T12:00:00Z",
            "body": {
                "title": "T", "purpose": "", "approval": "all", "close": "all",
                "members": [
                    {"handle": "acme", "key": ssh_fingerprint(IDENTITY)},
                    {"handle": "burgerco", "key": signers["burgerco"].fingerprint},
                ],
                "public_key": ssh_line(IDENTITY),
            },
        }
    )  # fmt: skip

    expect_weak(relay.post([proposal]), "identity", seq=1)

    assert relay.get(f"/v1/projects/{SLUG}/checkpoint", signers["burgerco"]).status_code == 404
    # Nothing was stored: the slug is still free for the real proposal.
    assert relay.post(kit.started(partner, signers)[:1]).status_code == 201


@pytest.mark.slow
def test_a_real_relay_process_refuses_a_weak_signer_and_the_forgery_after_it(
    serve: Any, tmp_path: Path, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    served = serve(str(tmp_path / "relay.db"), "--rate", "0")
    log = kit.started(partner, signers)
    with httpx.Client(base_url=served.url, timeout=30) as client:
        created = client.post("/v1/projects", content=kit.rows_body(log[:1]), headers=NDJSON)
        assert created.status_code == 201, created.text
        assert client.post(ENTRIES, content=kit.rows_body(log[1:]), headers=NDJSON).is_success
        added = kit.next_entry(
            signers["acme"], seq=4, prev=log[-1].hash, kind="signer.added",
            body=bodies(IDENTITY, signers["acme"])["signer.added"],
        )  # fmt: skip
        expect_weak(
            client.post(ENTRIES, content=kit.rows_body([added]), headers=NDJSON), "identity"
        )
        both = kit.rows_body([added, ghost_pledge(added.hash, 5)])
        expect_weak(client.post(ENTRIES, content=both, headers=NDJSON), "identity")
        rows = client.get(ENTRIES, auth=kit.MemberAuth(signers["acme"]))
    assert rows.status_code == 200, rows.text
    assert [json.loads(line)["hash"] for line in rows.text.splitlines()] == [e.hash for e in log]
    assert served.stop() == 0
