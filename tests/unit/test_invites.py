"""Invitations: an unpinned seat is protected by an invite key that only its member holds.

The ledger and ``rules.apply`` are driven with the proposal of ``propose_with_invite``
(burgerco unpinned with an invite, veggie pinned); every refusal is checked by class and
exact message, and leaves the stream (or the state) unchanged.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, entry, rules
from ledger.application import Ledger
from ledger.errors import (
    KeyNotValidError,
    LedgerError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.rules.membership import new_invites
from ledger.rules.schema import check_entry

HINT = "ask the proposer for your invite, then --invite TOKEN"
SLUG = "no-whopper-day"


def make_signer(handle: str, key: str) -> Signer:
    """``handle`` signing with another party's fixed-seed key (tests/conftest.py seeds)."""
    seed = ("acme", "burgerco", "veggie", "mallory").index(key) + 1
    return Signer(
        handle=handle,
        key_name=key,
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32),
    )


def hashes(ledger: Ledger, slug: str = SLUG) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(slug)]


def refused(
    ledger: Ledger, error: type[LedgerError], message: str, action: Callable[[], Any]
) -> LedgerError:
    """``action`` raises exactly ``error`` with ``message`` and the stream is unchanged."""
    before = hashes(ledger)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    assert hashes(ledger) == before
    return info.value


def build(
    state: rules.ProjectState, signer: Signer, kind: str, body: dict[str, Any]
) -> entry.SignedEntry:
    """Sign the next entry after ``state`` by ``signer``."""
    data = {
        "v": 1,
        "project": state.slug,
        "seq": state.seq + 1,
        "prev": state.head,
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": "2026-11-22T12:00:00Z",
        "body": body,
    }
    return entry.sign(data, signer.private_key)


def refused_by_apply(
    state: rules.ProjectState, item: entry.SignedEntry, error: type[LedgerError], message: str
) -> LedgerError:
    """``rules.apply`` raises exactly ``error`` with ``message`` and leaves ``state`` alone."""
    before = copy.deepcopy(state)
    with pytest.raises(error) as info:
        rules.apply(state, item)
    assert type(info.value) is error
    assert info.value.message == message
    assert state == before
    return info.value


def propose_with_invite(ledger: Ledger, signers: dict[str, Signer]) -> str:
    """Propose SLUG as acme: burgerco unpinned (with an invite), veggie pinned; the token."""
    members: dict[str, str | None] = {"burgerco": None, "veggie": signers["veggie"].fingerprint}
    invites = new_invites(members, "acme")
    assert list(invites) == ["burgerco"]
    ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="A joint campaign",
        members=members,
        approval="all",
        close="all",
        signer=signers["acme"],
        invites=invites,
    )
    return invites["burgerco"]


def proof(token: str, *, project: str = SLUG, terms: str, handle: str, key: str) -> dict[str, Any]:
    return entry.invite_proof(token, project=project, terms=terms, handle=handle, key=key)


def join_body(signer: Signer, terms: str, invite_proof: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"terms": terms, "public_key": signer.public_key_line}
    if invite_proof is not None:
        body["invite_proof"] = invite_proof
    return body


# --- tokens and the proposal ----------------------------------------------------------------


def test_an_invite_token_is_the_prefix_and_the_base64url_seed_and_gives_its_fingerprint() -> None:
    token, fingerprint = entry.new_invite()
    assert token.startswith("accord-invite-v1:")
    assert len(token) == len("accord-invite-v1:") + 43
    seed = base64.urlsafe_b64decode(token.removeprefix("accord-invite-v1:") + "=")
    assert len(seed) == 32
    assert entry.invite_fingerprint(token) == fingerprint
    assert entry.new_invite()[0] != token


@pytest.mark.parametrize(
    "token",
    ["", "accord-invite-v1:", "accord-invite-v2:" + "A" * 43, "accord-invite-v1:" + "A" * 42,
     "accord-invite-v1:" + "+" * 43, "A" * 43],
)  # fmt: skip
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(VerificationError):
        entry.parse_invite_token(token)


def test_the_proposal_records_the_invite_fingerprint_never_the_secret(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    token = propose_with_invite(memory_ledger, signers)
    [stored] = list(memory_ledger.read_entries(SLUG))
    assert stored.entry.body["members"] == [
        {"handle": "acme", "key": signers["acme"].fingerprint, "invite": None},
        {"handle": "burgerco", "key": None, "invite": entry.invite_fingerprint(token)},
        {"handle": "veggie", "key": signers["veggie"].fingerprint, "invite": None},
    ]
    assert token.removeprefix("accord-invite-v1:") not in stored.entry.text
    state = memory_ledger.get_state(SLUG)
    assert state.members["burgerco"].invite == entry.invite_fingerprint(token)
    assert state.members["veggie"].invite is None


def test_an_invite_for_a_pinned_seat_or_the_proposer_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    token, _ = entry.new_invite()
    for handle in ("veggie", "acme", "nobody"):
        with pytest.raises(UsageError) as info:
            memory_ledger.propose_project(
                SLUG,
                title="T",
                purpose="",
                members={"burgerco": None, "veggie": signers["veggie"].fingerprint},
                approval="all",
                close="all",
                signer=signers["acme"],
                invites={handle: token},
            )
        assert info.value.message == f"an invite is only for an unpinned seat, not for {handle!r}"


# --- the ledger: join and decline -----------------------------------------------------------


def test_a_join_with_the_invite_is_accepted_and_carries_a_valid_proof(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    token = propose_with_invite(memory_ledger, signers)
    memory_ledger.join_project(SLUG, signer=signers["burgerco"], invite=token)
    memory_ledger.join_project(SLUG, signer=signers["veggie"])
    state = memory_ledger.get_state(SLUG)
    assert state.status == rules.ACTIVE
    stored = list(memory_ledger.read_entries(SLUG))
    joined = stored[1].entry
    assert set(joined.body) == {"terms", "public_key", "invite_proof"}
    signer = entry.verify_invite_proof(
        joined.body["invite_proof"],
        project=SLUG,
        terms=state.terms,
        handle="burgerco",
        key=signers["burgerco"].fingerprint,
    )
    assert signer == entry.invite_fingerprint(token)
    assert token.removeprefix("accord-invite-v1:") not in joined.text
    assert "invite_proof" not in stored[2].entry.body


def test_a_join_without_the_invite_is_refused_before_anything_is_signed(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    propose_with_invite(memory_ledger, signers)
    error = refused(
        memory_ledger,
        UsageError,
        f"the seat of 'burgerco' in {SLUG!r} is protected by an invite",
        lambda: memory_ledger.join_project(SLUG, signer=signers["burgerco"]),
    )
    assert error.hint == HINT


def test_a_squatter_with_its_own_key_and_another_invite_is_refused(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    token = propose_with_invite(memory_ledger, signers)
    forged, _ = entry.new_invite()
    squatter = make_signer("burgerco", "mallory")
    refused(
        memory_ledger,
        RuleViolationError,
        f"this invite is not the one for the seat of 'burgerco' in {SLUG!r} "
        f"(the seat's invite is {entry.invite_fingerprint(token)})",
        lambda: memory_ledger.join_project(SLUG, signer=squatter, invite=forged),
    )
    refused(
        memory_ledger,
        UsageError,
        f"the seat of 'veggie' in {SLUG!r} has no invite",
        lambda: memory_ledger.join_project(SLUG, signer=signers["veggie"], invite=token),
    )
    refused(
        memory_ledger,
        UsageError,
        "the invite is malformed: an invite is accord-invite-v1: followed by 43 base64url "
        "characters",
        lambda: memory_ledger.join_project(SLUG, signer=squatter, invite="let me in"),
    )


def test_a_decline_needs_the_invite_too(memory_ledger: Ledger, signers: dict[str, Signer]) -> None:
    token = propose_with_invite(memory_ledger, signers)
    refused(
        memory_ledger,
        UsageError,
        f"the seat of 'burgerco' in {SLUG!r} is protected by an invite",
        lambda: memory_ledger.decline_project(
            SLUG, reason="No", signer=make_signer("burgerco", "mallory")
        ),
    )
    before = hashes(memory_ledger)
    memory_ledger.decline_project(
        SLUG, reason="No budget", signer=signers["burgerco"], invite=token
    )
    assert len(hashes(memory_ledger)) == len(before) + 1
    assert memory_ledger.get_state(SLUG).members["burgerco"].status == rules.DECLINED


# --- rules.apply on hand-built joins ----------------------------------------------------------


@pytest.fixture
def invited(memory_ledger: Ledger, signers: dict[str, Signer]) -> tuple[rules.ProjectState, str]:
    token = propose_with_invite(memory_ledger, signers)
    return memory_ledger.get_state(SLUG), token


def test_apply_accepts_a_join_with_a_valid_proof(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer]
) -> None:
    state, token = invited
    burgerco = signers["burgerco"]
    good = proof(token, terms=state.terms, handle="burgerco", key=burgerco.fingerprint)
    rules.apply(
        state, build(state, burgerco, "member.joined", join_body(burgerco, state.terms, good))
    )
    assert state.members["burgerco"].status == rules.JOINED


def test_apply_refuses_a_join_without_a_proof_on_an_invite_seat(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer]
) -> None:
    state, token = invited
    squatter = make_signer("burgerco", "mallory")
    error = refused_by_apply(
        state,
        build(state, squatter, "member.joined", join_body(squatter, state.terms, None)),
        KeyNotValidError,
        f"the seat of 'burgerco' is protected by an invite ({entry.invite_fingerprint(token)}); "
        "the entry carries no invite proof",
    )
    assert error.seq == 2
    assert error.hint == HINT


@pytest.mark.parametrize("other", ["project", "terms", "handle", "key"])
def test_apply_refuses_a_proof_made_for_another_claim(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer], other: str
) -> None:
    state, token = invited
    burgerco = signers["burgerco"]
    claim = {
        "project": SLUG,
        "terms": state.terms,
        "handle": "burgerco",
        "key": burgerco.fingerprint,
    }
    claim[other] = {
        "project": "another-project",
        "terms": "0" * 64,
        "handle": "veggie",
        "key": signers["mallory"].fingerprint,
    }[other]
    bad = proof(token, **claim)
    refused_by_apply(
        state,
        build(state, burgerco, "member.joined", join_body(burgerco, state.terms, bad)),
        KeyNotValidError,
        f"the invite proof of 'burgerco' does not verify for project {SLUG!r}, its terms, "
        f"handle 'burgerco' and key {burgerco.fingerprint}",
    )


def test_apply_refuses_a_proof_signed_by_another_invite_key(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer]
) -> None:
    state, token = invited
    forged, forged_fingerprint = entry.new_invite()
    squatter = make_signer("burgerco", "mallory")
    bad = proof(forged, terms=state.terms, handle="burgerco", key=squatter.fingerprint)
    refused_by_apply(
        state,
        build(state, squatter, "member.joined", join_body(squatter, state.terms, bad)),
        KeyNotValidError,
        f"the invite proof of 'burgerco' is signed by invite key {forged_fingerprint}, not by "
        f"the seat's invite {entry.invite_fingerprint(token)}",
    )


def test_apply_refuses_a_decline_without_a_proof_and_a_proof_on_a_seat_without_invite(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer]
) -> None:
    state, token = invited
    squatter = make_signer("burgerco", "mallory")
    body = {**join_body(squatter, state.terms, None), "reason": "Not us"}
    refused_by_apply(
        state,
        build(state, squatter, "member.declined", body),
        KeyNotValidError,
        f"the seat of 'burgerco' is protected by an invite ({entry.invite_fingerprint(token)}); "
        "the entry carries no invite proof",
    )
    veggie = signers["veggie"]
    stray = proof(token, terms=state.terms, handle="veggie", key=veggie.fingerprint)
    refused_by_apply(
        state,
        build(state, veggie, "member.joined", join_body(veggie, state.terms, stray)),
        KeyNotValidError,
        "the seat of 'veggie' has no invite, but the entry carries an invite proof",
    )


# --- format ----------------------------------------------------------------------------------


def _proposal(members: list[dict[str, Any]], signer: Signer) -> dict[str, Any]:
    return {
        "v": 1,
        "project": SLUG,
        "seq": 1,
        "prev": "0" * 64,
        "type": "project.proposed",
        "by": "acme",
        "key": signer.fingerprint,
        "at": "2026-11-22T12:00:00Z",
        "body": {
            "title": "T",
            "purpose": "",
            "members": members,
            "approval": "all",
            "close": "all",
            "public_key": signer.public_key_line,
        },
    }


def test_format_allows_invite_only_as_a_fingerprint_on_an_unpinned_seat(
    signers: dict[str, Signer],
) -> None:
    acme = signers["acme"]
    me = {"handle": "acme", "key": acme.fingerprint}
    fingerprint = entry.new_invite()[1]
    check_entry(_proposal([me, {"handle": "bob", "key": None}], acme))
    check_entry(_proposal([{**me, "invite": None}, {"handle": "bob", "key": None}], acme))
    check_entry(_proposal([me, {"handle": "bob", "key": None, "invite": fingerprint}], acme))
    for bad in (
        {"handle": "bob", "key": acme.fingerprint, "invite": fingerprint},
        {"handle": "bob", "key": None, "invite": "SHA256:short"},
        {"handle": "bob", "key": None, "invite": 1},
        {"handle": "bob", "key": None, "invite": None, "extra": None},
    ):
        with pytest.raises(VerificationError, match="body field 'members' is malformed"):
            check_entry(_proposal([me, bad], acme))


def test_format_allows_invite_proof_only_in_its_one_shape(signers: dict[str, Signer]) -> None:
    burgerco = signers["burgerco"]
    token = entry.new_invite()[0]
    good = proof(token, terms="a" * 64, handle="burgerco", key=burgerco.fingerprint)
    data = {
        "v": 1,
        "project": SLUG,
        "seq": 2,
        "prev": "a" * 64,
        "type": "member.joined",
        "by": "burgerco",
        "key": burgerco.fingerprint,
        "at": "2026-11-22T12:00:00Z",
        "body": join_body(burgerco, "a" * 64, good),
    }
    check_entry(data)
    for bad in (
        None,
        {"public_key": good["public_key"]},
        {**good, "extra": "x"},
        {**good, "signature": "not base64"},
        {**good, "public_key": "ssh-rsa AAAA"},
    ):
        with pytest.raises(VerificationError, match="body field 'invite_proof' is malformed"):
            check_entry({**data, "body": {**data["body"], "invite_proof": bad}})
    with pytest.raises(VerificationError, match=r"extra \['invite'\]"):
        check_entry({**data, "body": {**data["body"], "invite": token}})


def test_the_worked_example_of_format_md_recomputes_byte_for_byte() -> None:
    text = (Path(__file__).parents[2] / "docs" / "format.md").read_text(encoding="utf-8")
    section = text[text.index("### Invitations") : text.index("## The rules")]

    def value(label: str) -> str:
        found = re.search(rf"- {re.escape(label)}: `([^`]+)`", section)
        assert found is not None, label
        return found.group(1)

    token = value("token")
    assert token == "accord-invite-v1:" + base64.urlsafe_b64encode(
        bytes(range(0x20, 0x40))
    ).decode().rstrip("=")
    private = entry.parse_invite_token(token)
    assert ed25519.public_key_line(private.public_key()) == value("invite public key")
    assert entry.invite_fingerprint(token) == value("invite fingerprint (the seat's `invite`)")
    joiner = Ed25519PrivateKey.from_private_bytes(bytes(range(0x40, 0x60)))
    key = ed25519.fingerprint(joiner.public_key())
    assert key == value("joiner's fingerprint")
    terms = "d617b3dec7bb487d1bcb7b540260d563ca00fbc9fd74918b40ee6568dad614e1"
    message = entry.invite_message("no-whopper-day", terms, "burgerco", key)
    block = re.search(r"```text\n(accord/invite/v1\n.*?)\n```", section, re.S)
    assert block is not None
    assert block.group(1).encode("utf-8") == message
    proof = entry.invite_proof(
        token, project="no-whopper-day", terms=terms, handle="burgerco", key=key
    )
    assert proof["signature"] == value("invite signature (base64)")
    assert proof["public_key"] == value("invite public key")


def test_the_relay_reveals_nothing_to_a_join_without_the_seats_invite(
    invited: tuple[rules.ProjectState, str], signers: dict[str, Signer]
) -> None:
    from relay.auth import check_signer

    state, token = invited
    squatter = make_signer("burgerco", "mallory")
    with pytest.raises(KeyNotValidError, match="protected by an invite"):
        check_signer(
            state, build(state, squatter, "member.joined", join_body(squatter, state.terms, None))
        )
    burgerco = signers["burgerco"]
    good = proof(token, terms=state.terms, handle="burgerco", key=burgerco.fingerprint)
    check_signer(
        state, build(state, burgerco, "member.joined", join_body(burgerco, state.terms, good))
    )
