"""Invitations on the relay: the invite key reads its invitation, a pinned key finds its own.

``GET /v1/projects/{slug}/invitations/{handle}`` answers only a request signed by the invite
key of that seat while it still waits; anything else gets the same 404 as a project that does
not exist. ``GET /v1/invitations`` answers a signed request with the proposals still waiting
for a seat pinned to the signing key, and nothing about anyone else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from ledger import entry
from ledger.application import Ledger
from ledger.format import MAX_ENTRY_BYTES
from ledger.keys import Signer
from ledger.rows import RowReader
from ledger.rules.membership import new_invites
from relay import invitations as invitations_mod
from relay.auth import Message, authenticate_key
from relay.errors import NotReadableError

SLUG = "no-whopper-day"
NOT_FOUND = {"error": "not_found", "message": "no such project"}


def invite_signer(handle: str, token: str) -> Signer:
    """Whoever holds ``token`` signs with the invite key (what `accord join` does)."""
    return Signer(handle=handle, key_name="invite", private_key=entry.parse_invite_token(token))


@pytest.fixture
def proposed(relay: Any, partner: Ledger, signers: dict[str, Signer]) -> dict[str, Any]:
    """acme proposes SLUG: burgerco and veggie unpinned (with invites), mallory pinned."""
    members: dict[str, str | None] = {
        "burgerco": None,
        "veggie": None,
        "mallory": signers["mallory"].fingerprint,
    }
    tokens = new_invites(members, "acme")
    partner.propose_project(
        SLUG, title="No Whopper Day", purpose="One day", members=members, approval="all",
        close="all", signer=signers["acme"], invites=tokens,
    )  # fmt: skip
    log = [s.entry for s in partner.read_entries(SLUG)]
    assert relay.post(log).status_code == 201
    return {"tokens": tokens, "log": log}


def get(relay: Any, kit: Any, path: str, signer: Signer | None, **kwargs: Any) -> Any:
    auth = kit.MemberAuth(signer, offer_key=True) if signer is not None else None
    return relay.client.get(path, auth=auth, **kwargs)


def post_new(relay: Any, partner: Ledger, before: int) -> None:
    log = [s.entry for s in partner.read_entries(SLUG)]
    answer = relay.post(log[before:])
    assert answer.status_code == 201, answer.text


def test_the_invite_key_reads_the_proposal_the_head_and_the_signed_checkpoint(
    relay: Any, kit: Any, proposed: dict[str, Any], partner: Ledger, signers: dict[str, Signer]
) -> None:
    partner.join_project(SLUG, signer=signers["mallory"])  # seq 2: the head moves on
    post_new(relay, partner, 1)
    log = [s.entry for s in partner.read_entries(SLUG)]
    token = proposed["tokens"]["veggie"]
    answer = get(
        relay, kit, f"/v1/projects/{SLUG}/invitations/veggie", invite_signer("veggie", token)
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"project", "proposal", "head", "checkpoint"}
    first = log[0]
    assert body["project"] == SLUG
    assert body["proposal"] == {"entry": first.text, "sig": first.sig, "hash": first.hash}
    assert body["head"] == {"seq": 2, "hash": log[1].hash}
    assert kit.checkpoint_of(body["checkpoint"], relay.key) == (2, kit.rfc6962_root(log))
    assert "\n\n" in body["checkpoint"] and body["checkpoint"].count("\n— ") == 1  # no cosigs


def test_the_invite_key_reads_nothing_else(relay: Any, kit: Any, proposed: dict[str, Any]) -> None:
    signer = invite_signer("veggie", proposed["tokens"]["veggie"])
    for path in ("entries", "checkpoint", "cosignatures", "tile/entries/0.p/1"):
        answer = get(relay, kit, f"/v1/projects/{SLUG}/{path}", signer)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path


def test_a_wrong_token_another_seats_token_or_no_signature_gets_the_404_of_no_project(
    relay: Any, kit: Any, proposed: dict[str, Any], signers: dict[str, Signer]
) -> None:
    tokens = proposed["tokens"]
    path = f"/v1/projects/{SLUG}/invitations/veggie"
    wrong = invite_signer("veggie", entry.new_invite()[0])
    answers = {
        "wrong token": get(relay, kit, path, wrong),
        "another seat's token": get(relay, kit, path, invite_signer("veggie", tokens["burgerco"])),
        "unsigned": get(relay, kit, path, None),
        "a member's key": get(relay, kit, path, signers["acme"]),
        "a pinned seat": get(
            relay, kit, f"/v1/projects/{SLUG}/invitations/mallory", signers["mallory"]
        ),
        "no such seat": get(
            relay,
            kit,
            f"/v1/projects/{SLUG}/invitations/nobody",
            invite_signer("x", tokens["veggie"]),
        ),
        "no such project": get(
            relay,
            kit,
            "/v1/projects/other/invitations/veggie",
            invite_signer("veggie", tokens["veggie"]),
        ),
    }
    for what, answer in answers.items():
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), what
    # The key signs but is not offered: the relay cannot learn it from the log.
    plain = relay.client.get(path, auth=kit.MemberAuth(invite_signer("veggie", tokens["veggie"])))
    assert (plain.status_code, plain.json()) == (404, NOT_FOUND)


def test_a_used_token_reads_nothing_once_the_seat_is_taken_or_declined(
    relay: Any, kit: Any, proposed: dict[str, Any], partner: Ledger, signers: dict[str, Signer]
) -> None:
    tokens = proposed["tokens"]
    veggie = Signer(handle="veggie", key_name="veggie", private_key=signers["veggie"].private_key)
    partner.join_project(SLUG, signer=veggie, invite=tokens["veggie"])
    partner.decline_project(
        SLUG, reason="no", signer=signers["burgerco"], invite=tokens["burgerco"]
    )
    post_new(relay, partner, 1)
    for handle in ("veggie", "burgerco"):
        answer = get(
            relay,
            kit,
            f"/v1/projects/{SLUG}/invitations/{handle}",
            invite_signer(handle, tokens[handle]),
        )
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), handle


def test_a_cancelled_proposal_is_no_invitation(
    relay: Any, kit: Any, proposed: dict[str, Any], partner: Ledger, signers: dict[str, Signer]
) -> None:
    partner.cancel_project(SLUG, reason="Wrong partners", signer=signers["acme"])
    post_new(relay, partner, 1)
    path = f"/v1/projects/{SLUG}/invitations/veggie"
    answer = get(relay, kit, path, invite_signer("veggie", proposed["tokens"]["veggie"]))
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    found = get(relay, kit, "/v1/invitations", signers["mallory"])
    assert found.json() == {"invitations": []}


# --- GET /v1/invitations ----------------------------------------------------------------------


def test_a_pinned_key_finds_its_waiting_invitation_and_nobody_else_learns_of_it(
    relay: Any, kit: Any, proposed: dict[str, Any], partner: Ledger, signers: dict[str, Signer]
) -> None:
    first = proposed["log"][0]
    mine = get(relay, kit, "/v1/invitations", signers["mallory"])
    assert mine.status_code == 200, mine.text
    assert mine.headers["cache-control"] == "no-store"
    assert mine.json() == {
        "invitations": [
            {
                "project": SLUG,
                "handle": "mallory",
                "proposal": {"entry": first.text, "sig": first.sig, "hash": first.hash},
            }
        ]
    }
    for stranger in ("veggie", "burgerco", "acme"):  # acme: the proposer's own key
        answer = get(relay, kit, "/v1/invitations", signers[stranger])
        assert (answer.status_code, answer.json()) == (200, {"invitations": []}), stranger
    token = proposed["tokens"]["veggie"]
    by_invite = get(relay, kit, "/v1/invitations", invite_signer("veggie", token))
    assert by_invite.json() == {"invitations": []}  # an invite key is not pinned anywhere
    partner.join_project(SLUG, signer=signers["mallory"])
    post_new(relay, partner, 1)
    after = get(relay, kit, "/v1/invitations", signers["mallory"])
    assert after.json() == {"invitations": []}


def test_an_unsigned_or_badly_signed_request_for_invitations_is_404(
    relay: Any, kit: Any, proposed: dict[str, Any], signers: dict[str, Signer]
) -> None:
    unsigned = relay.client.get("/v1/invitations")
    not_offered = relay.client.get("/v1/invitations", auth=kit.MemberAuth(signers["mallory"]))
    # mallory's key line offered, acme's key signs: the signature does not verify.
    lying = relay.client.get(
        "/v1/invitations",
        auth=kit.MemberAuth(signers["acme"]),
        headers={"Accord-Public-Key": signers["mallory"].public_key_line},
    )
    stale = relay.client.get(
        "/v1/invitations", auth=kit.MemberAuth(signers["mallory"], offer_key=True, age=400)
    )
    for answer in (unsigned, not_offered, lying, stale):
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)


def test_authenticate_key_refuses_a_weak_or_malformed_offered_key(
    signers: dict[str, Signer],
) -> None:
    for offered in ("ssh-ed25519 AAAA", "x" * 300, "ssh-ed25519 " + "A" * 68):
        message = Message(
            "GET",
            "http://relay.test/v1/invitations",
            (("accord-public-key", offered), ("signature", "x"), ("signature-input", "y")),
        )
        with pytest.raises(NotReadableError):
            authenticate_key(message, b"")


def test_the_newest_invitations_first_and_at_most_the_bound(
    relay: Any,
    kit: Any,
    partner: Ledger,
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invitations_mod, "MAX_INVITATIONS", 2)
    for slug in ("first", "second", "third"):
        partner.propose_project(
            slug, title=slug, purpose="", members={"veggie": signers["veggie"].fingerprint},
            approval="all", close="all", signer=signers["acme"],
        )  # fmt: skip
        assert relay.post([s.entry for s in partner.read_entries(slug)]).status_code == 201
    answer = get(relay, kit, "/v1/invitations", signers["veggie"])
    assert [i["project"] for i in answer.json()["invitations"]] == ["third", "second"]


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_another_relay_process_on_the_same_store_finds_what_this_one_stored(
    tmp_path: Path,
    kit: Any,
    partner: Ledger,
    signers: dict[str, Signer],
    store: str,
    request: pytest.FixtureRequest,
) -> None:
    """The index follows the store's notification log, not this process's own appends."""
    shared = request.getfixturevalue("postgres_url") if store == "postgres" else None
    app, _key, url, _home = kit.make_relay(tmp_path, url=shared)
    other, *_ = kit.make_relay(tmp_path, url=url)
    with start_blocking_portal() as portal:
        here, there = kit.InProcess(app, portal), kit.InProcess(other, portal)
        try:
            seen = there.get(
                "/v1/invitations", auth=kit.MemberAuth(signers["veggie"], offer_key=True)
            )
            assert seen.json() == {"invitations": []}  # the index has read the (empty) log
            partner.propose_project(
                SLUG, title="T", purpose="", members={"veggie": signers["veggie"].fingerprint},
                approval="all", close="all", signer=signers["acme"],
            )  # fmt: skip
            rows = kit.rows_body([s.entry for s in partner.read_entries(SLUG)])
            assert here.post("/v1/projects", content=rows, headers=kit.NDJSON).status_code == 201
            found = there.get(
                "/v1/invitations", auth=kit.MemberAuth(signers["veggie"], offer_key=True)
            )
            assert [(i["project"], i["handle"]) for i in found.json()["invitations"]] == [
                (SLUG, "veggie")
            ]
        finally:
            for client in (here, there):
                portal.call(client.client.aclose)
            app.state.close()
            other.state.close()


def test_a_stored_proposal_that_does_not_verify_is_never_offered(
    relay: Any, kit: Any, signers: dict[str, Signer]
) -> None:
    index = invitations_mod.InvitationIndex()
    assert invitations_mod._pins("not json") == []
    assert invitations_mod._pins(json.dumps({"project": "x"})) == []
    text = json.dumps(
        {
            "project": "Bad Slug",
            "by": "acme",
            "body": {"members": [{"handle": "veggie", "key": signers["veggie"].fingerprint}]},
        }
    )
    assert invitations_mod._pins(text) == []
    assert index.candidates(signers["veggie"].fingerprint) == []


def test_the_answer_holds_at_most_the_byte_bound_of_proposal_rows_but_always_one(
    relay: Any,
    kit: Any,
    partner: Ledger,
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for slug in ("first", "second", "third"):
        partner.propose_project(
            slug, title=slug, purpose="", members={"veggie": signers["veggie"].fingerprint},
            approval="all", close="all", signer=signers["acme"],
        )  # fmt: skip
        assert relay.post([s.entry for s in partner.read_entries(slug)]).status_code == 201
    with relay.store() as store:
        third = invitations_mod.proposal_row(store, "third")
    row = json.dumps(third, ensure_ascii=False, separators=(",", ":"))
    monkeypatch.setattr(invitations_mod, "MAX_INVITATION_BYTES", 2 * len(row.encode()) + 10)
    answer = get(relay, kit, "/v1/invitations", signers["veggie"])
    assert [i["project"] for i in answer.json()["invitations"]] == ["third", "second"]
    monkeypatch.setattr(invitations_mod, "MAX_INVITATION_BYTES", 1)
    answer = get(relay, kit, "/v1/invitations", signers["veggie"])
    assert [i["project"] for i in answer.json()["invitations"]] == ["third"]


def test_the_index_reads_stored_proposals_a_few_at_a_time(
    relay: Any,
    kit: Any,
    partner: Ledger,
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anyone may propose 512 KiB proposals: catching up never holds 1000 of them at once."""
    limits: list[int] = []
    original = RowReader.proposals

    def spy(self: RowReader, *, after: int, limit: int) -> Any:
        limits.append(limit)
        return original(self, after=after, limit=limit)

    monkeypatch.setattr(RowReader, "proposals", spy)
    slugs = [f"p{i}" for i in range(20)]
    for slug in slugs:
        partner.propose_project(
            slug, title=slug, purpose="", members={"veggie": signers["veggie"].fingerprint},
            approval="all", close="all", signer=signers["acme"],
        )  # fmt: skip
        assert relay.post([s.entry for s in partner.read_entries(slug)]).status_code == 201
    answer = get(relay, kit, "/v1/invitations", signers["veggie"])
    assert [i["project"] for i in answer.json()["invitations"]] == slugs[::-1]
    assert len(limits) >= 2  # the 20 proposals took more than one page
    assert max(limits) * MAX_ENTRY_BYTES <= 8 << 20


def test_a_proposal_the_store_contradicts_for_now_is_left_out_once_not_forgotten(
    relay: Any,
    kit: Any,
    proposed: dict[str, Any],
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from relay.errors import RelayStateError
    from relay.store import RelayStore

    real_state = RelayStore.state
    calls = {"n": 0}

    def flaky(self: RelayStore, slug: str) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # e.g. another relay process's append not yet verified here
            raise RelayStateError(f"seqs 2..2 of {slug!r} are not all verified")
        return real_state(self, slug)

    monkeypatch.setattr(RelayStore, "state", flaky)
    first = get(relay, kit, "/v1/invitations", signers["mallory"])
    assert (first.status_code, first.json()) == (200, {"invitations": []})
    again = get(relay, kit, "/v1/invitations", signers["mallory"])
    assert [i["project"] for i in again.json()["invitations"]] == [SLUG]
