"""The relay's evidence endpoints in process: who may upload what, and every refusal.

Entries are built by the partners' own ledger and posted; blobs are sealed with the members'
keys as `accord deliver` seals them, and sent signed (RFC 9421, covering Content-Digest).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from ledger.application import Evidence, Ledger
from ledger.keys import Signer
from ledger.sealing import ciphertext_bounds, recipients, seal, unseal

OTHER = "other-project"


def evidence_for(data: bytes, name: str) -> Evidence:
    import hashlib

    return Evidence(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


@pytest.fixture
def world(kit: SimpleNamespace, partner: Ledger, signers: dict[str, Signer]) -> SimpleNamespace:
    """acme and burgerco; pledge 4; deliverable 5 (two files), 6 rejected; another project."""
    kit.started(partner, signers, statements=0)  # seqs 1-2
    slug = kit.SLUG
    acme = signers["acme"]
    partner.add_pledge(
        slug, title="P", weight="10", unit="h", due="2099-01-01", beneficiaries=None, signer=acme
    )  # seq 3
    first, second = os.urandom(70_000), b"notes\n"
    partner.deliver(
        slug, 3, summary="d", quantity="1",
        evidence=[evidence_for(first, "posters.pdf"), evidence_for(second, "notes.txt")],
        signer=acme,
    )  # fmt: skip  # seq 4
    partner.deliver(
        slug, 3, summary="e", quantity="1", evidence=[evidence_for(second, "notes.txt")],
        signer=acme,
    )  # fmt: skip  # seq 5
    partner.reject(slug, 5, reason="no", signer=signers["burgerco"])  # seq 6
    partner.propose_project(
        OTHER, title="O", purpose="", members={"veggie": signers["veggie"].fingerprint},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    partner.join_project(OTHER, signer=signers["veggie"])
    partner.add_pledge(
        OTHER, title="P", weight="1", unit="h", due="2099-01-01", beneficiaries=None, signer=acme
    )
    partner.deliver(
        OTHER, 3, summary="d", quantity="1", evidence=[evidence_for(second, "notes.txt")],
        signer=acme,
    )  # fmt: skip  # seq 4 of OTHER
    state = partner.verified_state(slug)
    return SimpleNamespace(
        slug=slug, first=first, second=second, lines=recipients(state),
        entries={s: [e.entry for e in partner.read_entries(s)] for s in (slug, OTHER)},
    )  # fmt: skip


def sealed(data: bytes, lines: list[str]) -> bytes:
    out = io.BytesIO()
    seal(io.BytesIO(data), out, lines)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.fixture
def served(tmp_path: Path, kit: SimpleNamespace, world: SimpleNamespace) -> Any:
    """A relay in process (small limits) holding both projects."""
    app, key, url, home = kit.make_relay(
        tmp_path, max_evidence_size=200_000, evidence_quota=300_000
    )
    with start_blocking_portal() as portal:
        client = kit.InProcess(app, portal)
        relay = kit.Relay(client=client, key=key, url=url, home=home)
        for slug, entries in world.entries.items():
            assert relay.post(entries[:1], slug=slug).status_code == 201
            assert relay.post(entries[1:], slug=slug).status_code == 201
        try:
            yield relay
        finally:
            portal.call(client.client.aclose)
            app.state.close()


def put(relay: Any, kit: Any, signer: Signer | None, path: str, body: bytes) -> Any:
    auth = kit.MemberAuth(signer) if signer is not None else None
    return relay.client.request("PUT", path, content=body, auth=auth)


def test_a_member_uploads_and_another_member_fetches_the_same_bytes_and_decrypts_them(
    served: Any, kit: Any, world: Any, signers: dict[str, Signer]
) -> None:
    blob = sealed(world.first, world.lines)
    path = f"/v1/projects/{world.slug}/evidence/4/1"
    answer = put(served, kit, signers["acme"], path, blob)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"project": world.slug, "seq": 4, "index": 1, "size": len(blob)}
    fetched = served.get(path, signers["burgerco"])
    assert fetched.status_code == 200
    assert fetched.content == blob
    plain = io.BytesIO()
    unseal(io.BytesIO(fetched.content), plain, signers["burgerco"])  # type: ignore[arg-type]
    assert plain.getvalue() == world.first
    listing = served.get(f"/v1/projects/{world.slug}/evidence/4", signers["burgerco"])
    assert listing.json() == {"evidence": [{"index": 1, "size": len(blob)}]}
    # a re-upload (a share) replaces it
    again = sealed(world.first, world.lines)
    assert put(served, kit, signers["burgerco"], path, again).status_code == 201
    assert served.get(path, signers["acme"]).content == again


@pytest.mark.parametrize(
    ("who", "path", "status", "code"),
    [
        ("mallory", "/v1/projects/{slug}/evidence/4/1", 404, "not_found"),  # not a member
        (None, "/v1/projects/{slug}/evidence/4/1", 404, "not_found"),  # unsigned
        ("burgerco", "/v1/projects/other-project/evidence/4/1", 404, "not_found"),  # not its
        ("acme", "/v1/projects/{slug}/evidence/3/1", 404, "not_found"),  # a pledge
        ("acme", "/v1/projects/{slug}/evidence/4/3", 404, "not_found"),  # no third file
        ("acme", "/v1/projects/{slug}/evidence/4/0", 404, "not_found"),
        ("acme", "/v1/projects/{slug}/evidence/99/1", 404, "not_found"),
        ("acme", "/v1/projects/{slug}/evidence/5/1", 422, "rule"),  # rejected
    ],
)
def test_uploads_that_do_not_belong_to_a_stored_deliverable_are_refused(
    served: Any, kit: Any, world: Any, signers: dict[str, Signer], who: str | None,
    path: str, status: int, code: str,
) -> None:  # fmt: skip
    signer = signers[who] if who else None
    answer = put(served, kit, signer, path.format(slug=world.slug), sealed(b"notes\n", world.lines))
    assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
    assert served.get(f"/v1/projects/{world.slug}/evidence/4", signers["acme"]).json() == {
        "evidence": []
    }


def test_sizes_the_signed_file_cannot_make_and_bodies_that_are_not_age_are_refused(
    served: Any, kit: Any, world: Any, signers: dict[str, Signer]
) -> None:
    path = f"/v1/projects/{world.slug}/evidence/4/2"
    blob = sealed(world.second, world.lines)
    truncated = put(served, kit, signers["acme"], path, blob[:60])
    assert (truncated.status_code, truncated.json()["error"]) == (422, "rule")
    padded = put(served, kit, signers["acme"], path, blob + b"\0" * (70 << 10))
    assert (padded.status_code, padded.json()["error"]) == (422, "rule")
    least, _ = ciphertext_bounds(len(world.second))
    not_age = put(served, kit, signers["acme"], path, b"x" * len(blob))
    assert (not_age.status_code, not_age.json()["error"]) == (400, "malformed")
    assert "not an age file" in not_age.json()["message"]
    assert least <= len(blob)


def test_a_body_over_the_per_file_limit_is_refused(
    served: Any, kit: Any, world: Any, signers: dict[str, Signer]
) -> None:
    over = put(served, kit, signers["acme"], f"/v1/projects/{world.slug}/evidence/4/1",
               b"age-encryption.org/v1\n" + b"x" * 200_000)  # fmt: skip
    assert (over.status_code, over.json()["error"]) == (413, "too_large")


def test_a_body_that_does_not_match_its_signed_digest_is_refused(
    served: Any, kit: Any, world: Any, signers: dict[str, Signer]
) -> None:
    path = f"/v1/projects/{world.slug}/evidence/4/2"
    blob = sealed(world.second, world.lines)

    class Swapped(kit.MemberAuth):  # type: ignore[misc, name-defined]
        def auth_flow(self, request: Any) -> Any:
            flow = super().auth_flow(request)
            signed = next(flow)
            signed.stream = type(signed.stream)(blob[:-1] + bytes([blob[-1] ^ 1]))
            yield signed

    answer = served.client.request("PUT", path, content=blob, auth=Swapped(signers["acme"]))
    assert (answer.status_code, answer.json()["error"]) == (400, "malformed"), answer.text
    assert "Content-Digest" in answer.json()["message"]
    assert served.get(f"/v1/projects/{world.slug}/evidence/4", signers["acme"]).json() == {
        "evidence": []
    }


def test_the_project_quota_counts_every_stored_blob_but_the_one_replaced(
    tmp_path: Path, kit: SimpleNamespace, world: SimpleNamespace, signers: dict[str, Signer]
) -> None:
    first, second = sealed(world.first, world.lines), sealed(world.second, world.lines)
    app, key, url, home = kit.make_relay(tmp_path, evidence_quota=len(first) + 100)
    with start_blocking_portal() as portal:
        client = kit.InProcess(app, portal)
        relay = kit.Relay(client=client, key=key, url=url, home=home)
        try:
            entries = world.entries[world.slug]
            relay.post(entries[:1])
            relay.post(entries[1:])
            base = f"/v1/projects/{world.slug}/evidence/4"
            assert put(relay, kit, signers["acme"], base + "/2", second).status_code == 201
            answer = put(relay, kit, signers["acme"], base + "/1", first)
            assert (answer.status_code, answer.json()["error"]) == (507, "quota"), answer.text
            assert put(relay, kit, signers["acme"], base + "/2", second).status_code == 201
            listing = relay.get(base, signers["acme"]).json()
            assert listing == {"evidence": [{"index": 2, "size": len(second)}]}
        finally:
            portal.call(client.client.aclose)
            app.state.close()


@pytest.mark.postgres
def test_blobs_on_postgresql_stream_in_and_out_and_a_share_replaces_them_atomically(
    tmp_path: Path,
    kit: SimpleNamespace,
    world: SimpleNamespace,
    signers: dict[str, Signer],
    postgres_url: str,
) -> None:
    app, key, url, home = kit.make_relay(tmp_path, url=postgres_url)
    with start_blocking_portal() as portal:
        client = kit.InProcess(app, portal)
        relay = kit.Relay(client=client, key=key, url=url, home=home)
        try:
            entries = world.entries[world.slug]
            relay.post(entries[:1])
            relay.post(entries[1:])
            path = f"/v1/projects/{world.slug}/evidence/4/1"
            first = sealed(world.first, world.lines)
            assert put(relay, kit, signers["acme"], path, first).status_code == 201
            assert relay.get(path, signers["burgerco"]).content == first
            again = sealed(world.first, world.lines)
            assert put(relay, kit, signers["burgerco"], path, again).status_code == 201
            assert relay.get(path, signers["acme"]).content == again
            plain = io.BytesIO()
            unseal(io.BytesIO(again), plain, signers["acme"])
            assert plain.getvalue() == world.first
            listing = relay.get(f"/v1/projects/{world.slug}/evidence/4", signers["acme"]).json()
            assert listing == {"evidence": [{"index": 1, "size": len(again)}]}
        finally:
            portal.call(client.client.aclose)
            app.state.close()
