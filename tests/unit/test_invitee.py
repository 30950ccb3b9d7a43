"""The invitee's checks: the invite line, the relay's invitation and its receipt (relay/invitee.py).

Nothing a relay answers is trusted: every answer here is crafted (as a hostile relay would)
and must be refused with exactly the error a user sees, or accepted when it proves what it
claims.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, entry
from ledger.application import Ledger
from ledger.errors import (
    KeyNotValidError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.rules.membership import new_invites
from ledger.writes import sign_seat_answer
from relay.invite_line import LINE_HINT, InviteLine
from relay.invitee import (
    Invitation,
    check_detached_receipt,
    verify_invitation,
)
from relay.merkle import inclusion_proof, leaf_hash, root
from relay.note import Checkpoint, origin_for, sign_note
from relay.remotes import Remote

SLUG = "no-whopper-day"
URL = "https://relay.example.org"


@pytest.fixture
def relay_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)


@pytest.fixture
def remote(relay_key: Ed25519PrivateKey) -> Remote:
    return Remote("relay", URL, ed25519.public_key_line(relay_key.public_key()))


@pytest.fixture
def proposal(memory_ledger: Ledger, signers: dict[str, Signer]) -> dict[str, Any]:
    """acme proposes SLUG: veggie and burgerco unpinned, with invites."""
    members: dict[str, str | None] = {"burgerco": None, "veggie": None}
    tokens = new_invites(members, "acme")
    memory_ledger.propose_project(
        SLUG, title="T", purpose="", members=members, approval="all", close="all",
        signer=signers["acme"], invites=tokens,
    )  # fmt: skip
    first = next(iter(memory_ledger.read_entries(SLUG))).entry
    return {"entry": first, "tokens": tokens}


def line_for(
    proposal: dict[str, Any], remote: Remote, seat: str = "veggie", token: str | None = None
) -> InviteLine:
    fingerprint = ed25519.fingerprint(ed25519.parse_public_key_line(remote.relay_key))
    invite = token if token is not None else proposal["tokens"][seat]
    return InviteLine(SLUG, seat, proposal["entry"].hash, remote.url, fingerprint, invite)


def note(key: Ed25519PrivateKey, origin: str, hashes: list[str]) -> str:
    leaves = [leaf_hash(bytes.fromhex(h)) for h in hashes]
    text = Checkpoint(origin, len(hashes), root(leaves)).text()
    return sign_note(text, name=origin, private_key=key).encode().decode("utf-8")


def answer(made: dict[str, Any], key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    first = made["entry"]
    body = {
        "project": SLUG,
        "proposal": {"entry": first.text, "sig": first.sig, "hash": first.hash},
        "head": {"seq": 1, "hash": first.hash},
        "checkpoint": note(key, origin_for(first.hash), [first.hash]),
    }
    body.update(changes)
    return body


# --- the invite line --------------------------------------------------------------------------


def test_an_invite_line_round_trips_and_escapes_a_comma_in_the_url(
    proposal: dict[str, Any], remote: Remote
) -> None:
    line = line_for(proposal, remote)
    text = line.text()
    assert text == (
        f"accord-join-v1,project={SLUG},seat=veggie,terms={proposal['entry'].hash},"
        f"relay={URL},relay-key={line.relay_key},invite={proposal['tokens']['veggie']}"
    )
    assert InviteLine.parse(f"  {text}\n") == line
    pinned = InviteLine(SLUG, "veggie", line.terms, URL + "/a,b", line.relay_key)
    assert ",relay=https://relay.example.org/a%2Cb,relay-key=" in pinned.text()
    assert not pinned.text().endswith(",invite=")
    # The URL comes back as it was: the comma, and an escape the URL itself holds.
    assert InviteLine.parse(pinned.text()).relay == URL + "/a,b"
    escaped = InviteLine(SLUG, "veggie", line.terms, URL + "/x%2Cy,z", line.relay_key)
    assert ",relay=https://relay.example.org/x%252Cy%2Cz,relay-key=" in escaped.text()
    assert InviteLine.parse(escaped.text()).relay == URL + "/x%2Cy,z"


ORDER = "its fields must be project, seat, terms, relay, relay-key, invite, in that order"
NOT_ONE_LINE = "it is not one line of printable ASCII without spaces"
TOKEN_FORM = "an invite is accord-invite-v1: followed by 43 base64url characters"
MALFORMED = [
    (
        lambda t: t.replace("accord-join-v1,", "accord-join-v2,"),
        "it does not start with accord-join-v1,",
    ),
    (lambda t: t + ",extra=1", "field 'extra' is unknown or repeated"),
    (lambda t: t.replace(",seat=veggie", "") + ",seat=veggie", ORDER),
    (lambda t: t + ",project=x", "field 'project' is unknown or repeated"),
    (
        lambda t: t.replace("project=no-whopper-day", "project=No_Whopper"),
        "the project is not a slug",
    ),
    (lambda t: t.replace("seat=veggie", "seat=Veg gie"), NOT_ONE_LINE),
    (lambda t: t.replace("seat=veggie", "seat=-veggie"), "the seat is not a handle"),
    (lambda t: t.replace(",terms=", ",terms=ab"), "the terms are not a 64-character hex hash"),
    (
        lambda t: t.replace("relay-key=SHA256:", "relay-key=MD5:"),
        "the relay key is not a SHA256 fingerprint",
    ),
    (
        lambda t: t.replace("relay=https://", "relay=ftp://"),
        "relay URL 'ftp://relay.example.org' is not http:// or https://",
    ),
    (lambda t: t.replace("invite=accord-invite-v1:", "invite=accord-invite-v1:!"), TOKEN_FORM),
    (lambda t: t.replace("seat", "séat"), NOT_ONE_LINE),
    (lambda t: t + "\n" + t, NOT_ONE_LINE),
    (lambda t: t + "A" * 1000, NOT_ONE_LINE),
    (lambda t: t.replace(",seat=veggie", ",seat"), "field 'seat' is unknown or repeated"),
    (lambda t: "", "it does not start with accord-join-v1,"),
]


@pytest.mark.parametrize(("change", "why"), MALFORMED)
def test_a_malformed_line_is_a_usage_error_that_never_quotes_the_token(
    proposal: dict[str, Any], remote: Remote, change: Any, why: str
) -> None:
    text = change(line_for(proposal, remote).text())
    with pytest.raises(UsageError) as info:
        InviteLine.parse(text)
    assert info.value.message == f"the invite line is malformed: {why}"
    assert info.value.hint == LINE_HINT
    assert proposal["tokens"]["veggie"].split(":")[1][:20] not in info.value.message


# --- the invitation ---------------------------------------------------------------------------


def test_a_true_invitation_verifies(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey
) -> None:
    found = verify_invitation(
        remote, line_for(proposal, remote), "veggie", answer(proposal, relay_key)
    )
    assert found.head == (1, proposal["entry"].hash)
    assert found.terms()["members"] == [
        {"handle": "acme", "seat": "proposer"},
        {"handle": "burgerco", "seat": "invite"},
        {"handle": "veggie", "seat": "invite"},
    ]


def where() -> str:
    return f"the relay at {URL} sent an invitation to {SLUG!r} that"


def test_an_invitation_that_is_not_the_proposal_the_line_names_is_refused(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey,
    memory_ledger: Ledger, signers: dict[str, Signer],
) -> None:  # fmt: skip
    # The relay learnt veggie's invite key from its read; it proposes the same slug itself.
    other = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    token = proposal["tokens"]["veggie"]
    other.propose_project(
        SLUG, title="Fake", purpose="", members={"veggie": None}, approval="all", close="all",
        signer=signers["mallory"], invites={"veggie": token},
    )  # fmt: skip
    fake = next(iter(other.read_entries(SLUG))).entry
    body = answer(
        proposal,
        relay_key,
        proposal={"entry": fake.text, "sig": fake.sig, "hash": fake.hash},
        checkpoint=note(relay_key, origin_for(fake.hash), [fake.hash]),
        head={"seq": 1, "hash": fake.hash},
    )
    with pytest.raises(VerificationError) as info:
        verify_invitation(remote, line_for(proposal, remote), "veggie", body)
    assert info.value.message == (
        f"{where()} is not the proposal the invite line names (terms "
        f"{proposal['entry'].hash[:12]}...)"
    )
    assert info.value.hint == (
        "do not join: the relay (or someone) shows other terms; tell the proposer"
    )
    other.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"proposal": "x"}, "is malformed"),
        ({"head": None}, "is malformed"),
        ({"checkpoint": 5}, "is malformed"),
        ({"proposal": {"entry": "{}", "sig": "", "hash": "0" * 64}}, "holds no proposal row"),
        ({"head": {"seq": 0, "hash": "0" * 64}}, "names a malformed head"),
        ({"head": {"seq": True, "hash": "0" * 64}}, "names a malformed head"),
        ({"head": {"seq": 1, "hash": "XYZ"}}, "names a malformed head"),
        ({"head": {"seq": 2, "hash": "0" * 64}}, "names a head other than its signed checkpoint's"),
        ({"head": {"seq": 1, "hash": "0" * 64}}, "names a head other than its signed checkpoint's"),
    ],
)  # fmt: skip
def test_a_malformed_invitation_is_a_verification_failure(
    proposal: dict[str, Any],
    remote: Remote,
    relay_key: Ed25519PrivateKey,
    change: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(VerificationError) as info:
        verify_invitation(
            remote, line_for(proposal, remote), "veggie", answer(proposal, relay_key, **change)
        )
    assert info.value.message == f"{where()} {message}"


def test_a_checkpoint_by_another_key_or_of_another_log_is_refused(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey
) -> None:
    first = proposal["entry"]
    stranger = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    for checkpoint in (
        note(stranger, origin_for(first.hash), [first.hash]),
        note(relay_key, origin_for("1" * 64), [first.hash]),
    ):
        with pytest.raises(VerificationError) as info:
            verify_invitation(
                remote,
                line_for(proposal, remote),
                "veggie",
                answer(proposal, relay_key, checkpoint=checkpoint),
            )
        assert "checkpoint" in info.value.message


def test_an_invite_the_proposal_does_not_record_for_the_seat_is_refused(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey
) -> None:
    line = line_for(proposal, remote, token=proposal["tokens"]["burgerco"])
    with pytest.raises(VerificationError) as info:
        verify_invitation(remote, line, "veggie", answer(proposal, relay_key))
    assert info.value.message == f"{where()} does not record this invite for the seat of 'veggie'"


# --- the answer and its receipt -----------------------------------------------------------------


def signed_join(
    proposal: dict[str, Any], signers: dict[str, Signer], head: tuple[int, str]
) -> entry.SignedEntry:
    from datetime import UTC, datetime

    veggie = Signer(handle="veggie", key_name="veggie", private_key=signers["veggie"].private_key)
    return sign_seat_answer(
        proposal["entry"], head=head, kind="member.joined", signer=veggie,
        invite=proposal["tokens"]["veggie"], reason=None, at=datetime(2026, 11, 22, tzinfo=UTC),
    )  # fmt: skip


def receipt_for(
    key: Ed25519PrivateKey, origin: str, hashes: list[str], index: int
) -> dict[str, Any]:
    leaves = [leaf_hash(bytes.fromhex(h)) for h in hashes]
    proof = [base64.b64encode(h).decode() for h in inclusion_proof(index, leaves)]
    return {
        "receipt": {
            "project": SLUG,
            "seq": [index + 1, index + 1],
            "hashes": [hashes[index]],
            "checkpoint": note(key, origin, hashes),
            "inclusion": [{"seq": index + 1, "proof": proof}],
        }
    }


def test_a_receipt_proves_the_answer_without_the_log(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey,
    signers: dict[str, Signer],
) -> None:  # fmt: skip
    first = proposal["entry"]
    middle = "ab" * 32  # an entry the invitee cannot read
    join = signed_join(proposal, signers, (2, middle))
    invitation = verify_invitation(
        remote, line_for(proposal, remote), "veggie", answer(proposal, relay_key)
    )
    origin = origin_for(first.hash)
    hashes = [first.hash, middle, join.hash, "cd" * 32]
    good = receipt_for(relay_key, origin, hashes, 2)
    _, checkpoint, proof = check_detached_receipt(remote, invitation, join, good)
    assert (checkpoint.size, len(proof)) == (4, 2)
    bad = {
        "another entry": receipt_for(relay_key, origin, [first.hash, middle, "ef" * 32], 2),
        "another key": receipt_for(
            Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32), origin, hashes, 2
        ),
        "another log": receipt_for(relay_key, origin_for("1" * 64), hashes, 2),
    }
    wrong_place = copy.deepcopy(good)
    wrong_place["receipt"]["inclusion"][0]["proof"].reverse()
    bad["a proof that does not lead to the root"] = wrong_place
    for what, body in bad.items():
        with pytest.raises(VerificationError) as info:
            check_detached_receipt(remote, invitation, join, body)
        assert info.value.message.startswith(
            f"the relay at {URL} sent a receipt for seq 3 of {SLUG!r} that"
        ), what


def test_an_answer_is_checked_before_it_is_signed(
    proposal: dict[str, Any], signers: dict[str, Signer]
) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 22, tzinfo=UTC)
    first = proposal["entry"]
    mallory = signers["mallory"]
    with pytest.raises(RuleViolationError) as info:
        sign_seat_answer(
            first, head=(1, first.hash), kind="member.joined", signer=mallory,
            invite=proposal["tokens"]["veggie"], reason=None, at=at,
        )  # fmt: skip
    assert info.value.message == "'mallory' was not invited to project 'no-whopper-day'"
    veggie = Signer(handle="veggie", key_name="v", private_key=signers["veggie"].private_key)
    with pytest.raises(RuleViolationError) as other:
        sign_seat_answer(
            first, head=(1, first.hash), kind="member.joined", signer=veggie,
            invite=proposal["tokens"]["burgerco"], reason=None, at=at,
        )  # fmt: skip
    assert other.value.message.startswith("this invite is not the one for the seat of 'veggie'")
    with pytest.raises(UsageError) as empty:
        sign_seat_answer(
            first, head=(1, first.hash), kind="member.declined", signer=veggie,
            invite=proposal["tokens"]["veggie"], reason=" ", at=at,
        )  # fmt: skip
    assert empty.value.message == "the reason must not be empty"
    declined = sign_seat_answer(
        first, head=(4, "ab" * 32), kind="member.declined", signer=veggie,
        invite=proposal["tokens"]["veggie"], reason="No budget", at=at,
    )  # fmt: skip
    assert (declined.seq, declined.data["prev"], declined.body["reason"]) == (
        5,
        "ab" * 32,
        "No budget",
    )
    assert set(declined.body) == {"terms", "public_key", "reason", "invite_proof"}


def test_a_pinned_seat_answered_with_another_key_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer], tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    memory_ledger.propose_project(
        "pinned", title="T", purpose="", members={"veggie": signers["veggie"].fingerprint},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    first = next(iter(memory_ledger.read_entries("pinned"))).entry
    impostor = Signer(handle="veggie", key_name="m", private_key=signers["mallory"].private_key)
    with pytest.raises(KeyNotValidError):
        sign_seat_answer(
            first, head=(1, first.hash), kind="member.joined", signer=impostor, invite=None,
            reason=None, at=datetime(2026, 11, 22, tzinfo=UTC),
        )  # fmt: skip
    assert json.loads(first.text)["project"] == "pinned"


def test_invitation_terms_name_every_seat(
    proposal: dict[str, Any], remote: Remote, relay_key: Ed25519PrivateKey
) -> None:
    found = verify_invitation(
        remote, line_for(proposal, remote), "veggie", answer(proposal, relay_key)
    )
    assert isinstance(found, Invitation)
    terms = found.terms()
    assert set(terms) == {
        "project", "title", "purpose", "proposer", "members", "approval", "close", "terms",
        "proposed_at",
    }  # fmt: skip
    assert "invite" not in json.dumps(terms).replace('"seat": "invite"', "")
