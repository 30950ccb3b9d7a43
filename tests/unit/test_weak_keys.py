"""Weak Ed25519 public keys are refused wherever a key enters a project or is trusted.

``cryptography`` (OpenSSL) verifies a signature against any 32 bytes. For a public key of
small order it accepts signatures that no private key made: ``R`` = the identity, ``S`` = 0
verifies for every message whose hash is a multiple of the key's order (all messages for the
identity, one in eight for a point of order 8). Whoever registers such a key as a signer lets
anyone sign in the party's name. The vectors below are every encoding of the eight points of
small order (the eight canonical ones and the six non-canonical ones: y >= p, or x = 0 with
the sign bit set), the non-canonical encodings of ordinary points (y = p + k for the k < 19 on
the curve) and encodings that are no point at all.

Every small-order encoding is shown to be dangerous with ``cryptography`` itself (a forged
signature verifies), which also checks the vectors independently of the check under test.
Where the hex values come from: the canonical eight are the list libsodium refuses
(``ge25519_has_small_order``) and appear in "Taming the many EdDSAs"
(https://eprint.iacr.org/2020/1244), whose ed25519-speccheck vectors hold one of them and one
non-canonical encoding (``tests/vectors/ed25519-speccheck``); the test checks each on its own.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from ledger import ed25519, entry, rules
from ledger.errors import UsageError, WeakKeyError
from ledger.fold import verify_stream
from ledger.keys import Signer
from ledger.normalise import check_public_key
from ledger.rows import Row
from relay import auth
from relay.errors import NotReadableError
from relay.note import (
    COSIGNATURE_V1,
    ED25519,
    MalformedNoteError,
    Note,
    Signature,
    VerifierKey,
    key_id,
    parse_verifier_key,
    verify_cosignatures,
)
from relay.remotes import Remote
from relay.sync import relay_verifier

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P
SLUG = "no-whopper-day"
FORGED = bytes([1]) + bytes(63)  # R = the identity point, S = 0


def encode(y: int, sign: int = 0) -> bytes:
    """The 32-byte little-endian encoding of y with the x sign bit (any y below 2^255)."""
    return (y | sign << 255).to_bytes(32, "little")


def on_curve(y: int) -> bool:
    """Whether some x has -x^2 + y^2 = 1 + d x^2 y^2 (Euler's criterion, not the check's sqrt)."""
    y %= P
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    return x2 == 0 or pow(x2, (P - 1) // 2, P) == 1


# The eight points of small order, canonically encoded (order in the name).
SMALL_ORDER = {
    "identity-order-1": "0100000000000000000000000000000000000000000000000000000000000000",
    "order-2": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order-4-even": "0000000000000000000000000000000000000000000000000000000000000000",
    "order-4-odd": "0000000000000000000000000000000000000000000000000000000000000080",
    "order-8-a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order-8-b": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "order-8-c": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order-8-d": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}
# The same points under a second, non-canonical name.
SMALL_ORDER_NON_CANONICAL = {
    "identity-negative-zero": encode(1, 1).hex(),
    "order-2-negative-zero": encode(P - 1, 1).hex(),  # ed25519-speccheck cases 10 and 11
    "order-4-as-y-p": encode(P).hex(),
    "order-4-as-y-p-odd": encode(P, 1).hex(),
    "identity-as-y-p-plus-1": encode(P + 1).hex(),
    "identity-as-y-p-plus-1-odd": encode(P + 1, 1).hex(),
}
# Ordinary points under a non-canonical name: y = p + k (k = 2..18) where k is on the curve.
ORDINARY_NON_CANONICAL = {
    f"y-p-plus-{k}-sign-{sign}": encode(P + k, sign).hex()
    for k in range(2, 19)
    if on_curve(k)
    for sign in (0, 1)
}
# No point at all: a canonical y with no x on the curve (and the same y above p).
NOT_ON_CURVE = {f"y-{k}-off-curve": encode(k).hex() for k in range(2, 19) if not on_curve(k)} | {
    f"y-p-plus-{k}-off-curve": encode(P + k).hex() for k in range(2, 19) if not on_curve(k)
}

SMALL = "weak public key (a point of small order: signatures would verify by it for many messages, without any private key)"  # noqa: E501
ABOVE_P = "weak public key (not canonically encoded: y is not below 2^255-19)"
NEGATIVE_ZERO = "weak public key (not canonically encoded: x is zero but its sign bit is set)"
OFF_CURVE = "weak public key (not a point of the Ed25519 curve)"


def expected_reason(raw: bytes) -> str:
    """Which refusal each weak encoding gets (the first rule of the decoding it breaks)."""
    number = int.from_bytes(raw, "little")
    y, sign = number & ((1 << 255) - 1), number >> 255
    if y >= P:
        return ABOVE_P
    if not on_curve(y):
        return OFF_CURVE
    if y in (1, P - 1) and sign:
        return NEGATIVE_ZERO
    return SMALL


WEAK: dict[str, str] = (
    SMALL_ORDER | SMALL_ORDER_NON_CANONICAL | ORDINARY_NON_CANONICAL | NOT_ON_CURVE
)
WEAK_CASES = [pytest.param(bytes.fromhex(h), id=name) for name, h in WEAK.items()]
# One of each kind, for the entry points that are slower to drive.
SAMPLE = [
    pytest.param(bytes.fromhex(WEAK[name]), id=name)
    for name in (
        "identity-order-1",
        "order-8-d",
        "identity-negative-zero",
        "order-4-as-y-p",
        f"y-p-plus-{min(k for k in range(2, 19) if on_curve(k))}-sign-1",
        f"y-{min(k for k in range(2, 19) if not on_curve(k))}-off-curve",
    )
]


def ssh_line(raw: bytes) -> str:
    """The ``ssh-ed25519 AAAA...`` line of 32 raw bytes, built by hand (RFC 4253)."""
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", len(raw)) + raw
    return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")


def ssh_fingerprint(raw: bytes) -> str:
    blob = base64.b64decode(ssh_line(raw).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def forged_verifies(raw: bytes, messages: int = 64) -> bool:
    """Whether ``cryptography`` accepts the forged signature for one of a few messages."""
    public_key = Ed25519PublicKey.from_public_bytes(raw)
    for n in range(messages):
        try:
            public_key.verify(FORGED, b"message %d" % n)
        except InvalidSignature:
            continue
        return True
    return False


def raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


# --- the vectors and the one check -----------------------------------------------------------


def test_the_vectors_are_every_small_order_encoding_and_some_of_each_other_kind() -> None:
    assert len(SMALL_ORDER) == 8
    assert len(SMALL_ORDER_NON_CANONICAL) == 6
    assert len(ORDINARY_NON_CANONICAL) >= 10  # about half of 2..18 lie on the curve
    assert len(NOT_ON_CURVE) >= 10
    assert len(set(WEAK.values())) == len(WEAK)
    speccheck = json.loads((VECTORS / "ed25519-speccheck/cases.json").read_text("utf-8"))
    assert speccheck[0]["pub_key"] == SMALL_ORDER["order-8-d"]
    assert speccheck[10]["pub_key"] == SMALL_ORDER_NON_CANONICAL["order-2-negative-zero"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(bytes.fromhex(h), id=name)
        for name, h in (SMALL_ORDER | SMALL_ORDER_NON_CANONICAL).items()
    ],
)
def test_cryptography_accepts_a_signature_no_private_key_made_for_each_small_order_encoding(
    raw: bytes,
) -> None:
    # This is the danger, and the independent proof that each vector is of small order.
    assert forged_verifies(raw)
    with pytest.raises(WeakKeyError) as info:
        ed25519.check_public_key_bytes(raw)
    assert info.value.message == expected_reason(raw)


def test_no_ordinary_key_accepts_the_forged_signature() -> None:
    cases = json.loads((VECTORS / "rfc8032/ed25519_rfc8032_7_1.json").read_text("utf-8"))
    for case in cases["cases"]:
        assert not forged_verifies(bytes.fromhex(case["public_key"]))
    for hexed in ORDINARY_NON_CANONICAL.values():
        assert not forged_verifies(bytes.fromhex(hexed), messages=16)


@pytest.mark.parametrize("raw", WEAK_CASES)
def test_the_check_refuses_every_weak_encoding_with_its_reason(raw: bytes) -> None:
    with pytest.raises(WeakKeyError) as info:
        ed25519.check_public_key_bytes(raw)
    assert info.value.message == expected_reason(raw)
    assert info.value.hint == (
        "use a key made by `accord key new` or `ssh-keygen -t ed25519`; a weak key would let "
        "anyone sign in its holder's name"
    )
    # Every parser of public keys goes through it.
    with pytest.raises(WeakKeyError):
        ed25519.public_key_from_bytes(raw)
    with pytest.raises(WeakKeyError) as info:
        ed25519.parse_public_key_line(ssh_line(raw))
    assert info.value.message == expected_reason(raw)
    with pytest.raises(UsageError) as usage:
        check_public_key(ssh_line(raw))
    assert usage.value.message == f"the new key is not usable: {expected_reason(raw)}"
    assert usage.value.hint == info.value.hint


@pytest.mark.parametrize("raw", [b"", bytes(31), bytes(33), "01" * 32])
def test_the_check_refuses_anything_but_32_bytes(raw: Any) -> None:
    with pytest.raises(
        WeakKeyError, match=r"^weak public key \(an Ed25519 public key is 32 bytes\)$"
    ):
        ed25519.check_public_key_bytes(raw)


def test_the_check_accepts_every_valid_key_of_the_public_vectors_and_real_keys() -> None:
    wycheproof = json.loads((VECTORS / "wycheproof/ed25519_test.json").read_text("utf-8"))
    keys = {group["publicKey"]["pk"] for group in wycheproof["testGroups"]}
    rfc8032 = json.loads((VECTORS / "rfc8032/ed25519_rfc8032_7_1.json").read_text("utf-8"))
    keys |= {case["public_key"] for case in rfc8032["cases"]}
    speccheck = json.loads((VECTORS / "ed25519-speccheck/cases.json").read_text("utf-8"))
    refused = {SMALL_ORDER["order-8-d"], SMALL_ORDER_NON_CANONICAL["order-2-negative-zero"]}
    # speccheck's mixed-order key (a large-order point plus a small one) has no known
    # forgery and libsodium accepts it too: it is not weak.
    keys |= {case["pub_key"] for case in speccheck} - refused
    assert len(keys) == 56  # 48 Wycheproof groups share keys; 5 RFC 8032; 4 speccheck
    for hexed in sorted(keys):
        ed25519.check_public_key_bytes(bytes.fromhex(hexed))
    for seed in range(256):
        private_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(bytes([seed])).digest())
        raw = raw_public(private_key)
        ed25519.check_public_key_bytes(raw)
        assert (
            ed25519.parse_public_key_line(ssh_line(raw)).public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            == raw
        )


# --- the rules: every entry that brings a key in ---------------------------------------------


def party(handle: str, seed: int) -> Signer:
    return Signer(handle, handle, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


ACME, BURGERCO, VEGGIE = party("acme", 1), party("burgerco", 2), party("veggie", 3)


def sign(state: rules.ProjectState, by: str, key: str, kind: str, body: dict[str, Any],
         private_key: Ed25519PrivateKey | None) -> entry.SignedEntry:  # fmt: skip
    """The next entry after ``state``; without a private key, the forged signature."""
    data = {
        "v": 1,
        "project": SLUG,
        "seq": state.seq + 1,
        "prev": state.head,
        "type": kind,
        "by": by,
        "key": key,
        "at": "2026-11-22T12:00:00Z",
        "body": body,
    }
    if private_key is not None:
        return entry.sign(data, private_key)
    text = entry.canonical_bytes(data).decode("utf-8")
    return entry.load(text, base64.b64encode(FORGED).decode("ascii"))


def by(signer: Signer, state: rules.ProjectState, kind: str, body: dict[str, Any]) -> Any:
    return sign(state, signer.handle, signer.fingerprint, kind, body, signer.private_key)


def proposal(members: list[dict[str, Any]], public_key: str) -> dict[str, Any]:
    return {
        "title": "No Whopper Day",
        "purpose": "",
        "members": members,
        "approval": "all",
        "close": "all",
        "public_key": public_key,
    }


def seat(handle: str, key: str | None = None, invite: str | None = None) -> dict[str, Any]:
    return {"handle": handle, "key": key} | ({"invite": invite} if invite else {})


@pytest.fixture(scope="module")
def history() -> list[entry.SignedEntry]:
    """acme proposes (seq 1), burgerco and veggie join (seqs 2, 3)."""
    state = rules.new_state(SLUG)
    members = [seat("acme", ACME.fingerprint), seat("burgerco"), seat("veggie")]
    entries = [by(ACME, state, "project.proposed", proposal(members, ACME.public_key_line))]
    rules.apply(state, entries[-1])
    for signer in (BURGERCO, VEGGIE):
        body = {"terms": state.terms, "public_key": signer.public_key_line}
        entries.append(by(signer, state, "member.joined", body))
        rules.apply(state, entries[-1])
    return entries


@pytest.fixture(scope="module")
def active(history: list[entry.SignedEntry]) -> rules.ProjectState:
    """The project after its history: active."""
    state = rules.replay(SLUG, history)
    assert state.status == rules.ACTIVE
    return state


def refused(state: rules.ProjectState, item: entry.SignedEntry, message: str) -> None:
    """``rules.apply`` raises exactly WeakKeyError with ``message`` and leaves ``state`` alone."""
    before = copy.deepcopy(state)
    with pytest.raises(WeakKeyError) as info:
        rules.apply(state, item)
    assert type(info.value) is WeakKeyError
    assert (info.value.message, info.value.seq) == (message, item.seq)
    assert state == before


@pytest.mark.parametrize("raw", WEAK_CASES)
@pytest.mark.parametrize("kind", ["signer.added", "key.rotated", "key.revoked"])
def test_a_signer_rotation_or_replacement_to_a_weak_key_is_refused(
    active: rules.ProjectState, kind: str, raw: bytes
) -> None:
    state = copy.deepcopy(active)
    line = ssh_line(raw)
    body = {
        "signer.added": {"label": "ghost", "public_key": line},
        "key.rotated": {"public_key": line},
        "key.revoked": {"fingerprint": ACME.fingerprint, "reason": "leaked", "replacement": line},
    }[kind]
    refused(state, by(ACME, state, kind, body), f"entry 4 carries a {expected_reason(raw)}")


@pytest.mark.parametrize("raw", WEAK_CASES)
def test_a_proposal_by_a_weak_key_is_refused(raw: bytes) -> None:
    state = rules.new_state(SLUG)
    fingerprint = ssh_fingerprint(raw)
    body = proposal([seat("acme", fingerprint), seat("burgerco")], ssh_line(raw))
    item = sign(state, "acme", fingerprint, "project.proposed", body, None)
    refused(state, item, f"entry 1 carries a {expected_reason(raw)}")


@pytest.mark.parametrize("raw", WEAK_CASES)
@pytest.mark.parametrize("kind", ["member.joined", "member.declined"])
@pytest.mark.parametrize("pinned", [False, True], ids=["unpinned", "pinned"])
def test_a_join_or_decline_with_a_weak_key_is_refused_even_on_a_seat_pinned_to_it(
    raw: bytes, kind: str, pinned: bool
) -> None:
    state = rules.new_state(SLUG)
    fingerprint = ssh_fingerprint(raw)
    # A pinned fingerprint cannot be checked: the proposal is accepted, the join is not.
    members = [seat("acme", ACME.fingerprint), seat("burgerco", fingerprint if pinned else None)]
    rules.apply(state, by(ACME, state, "project.proposed", proposal(members, ACME.public_key_line)))
    body = {"terms": state.terms, "public_key": ssh_line(raw)}
    if kind == "member.declined":
        body["reason"] = "no"
    item = sign(state, "burgerco", fingerprint, kind, body, None)
    refused(state, item, f"entry 2 carries a {expected_reason(raw)}")


@pytest.mark.parametrize("raw", WEAK_CASES)
def test_an_invite_proof_by_a_weak_invite_key_is_refused(raw: bytes) -> None:
    state = rules.new_state(SLUG)
    members = [seat("acme", ACME.fingerprint), seat("burgerco", invite=ssh_fingerprint(raw))]
    rules.apply(state, by(ACME, state, "project.proposed", proposal(members, ACME.public_key_line)))
    proof = {"public_key": ssh_line(raw), "signature": base64.b64encode(FORGED).decode()}
    body = {"terms": state.terms, "public_key": BURGERCO.public_key_line, "invite_proof": proof}
    refused(
        state,
        by(BURGERCO, state, "member.joined", body),
        f"the invite proof of 'burgerco' carries a {expected_reason(raw)}",
    )


def ghost_log(history: list[entry.SignedEntry]) -> list[entry.SignedEntry]:
    """The history, acme adding a signer with the identity key (seq 4), and "it" pledging.

    The pledge (seq 5) carries the forged signature: nobody holds the ghost's private key.
    """
    identity = bytes.fromhex(SMALL_ORDER["identity-order-1"])
    state = rules.replay(SLUG, history)
    added = by(ACME, state, "signer.added", {"label": "ghost", "public_key": ssh_line(identity)})
    state.seq, state.head = added.seq, added.hash  # the chain as a forger writes it
    body = {
        "title": "Nothing",
        "weight": "1",
        "unit": "hours",
        "due": "2026-12-01",
        "beneficiaries": ["burgerco"],
    }
    pledge = sign(state, "acme", ssh_fingerprint(identity), "pledge.made", body, None)
    # What the check stops: cryptography verifies the forged signature of the pledge.
    Ed25519PublicKey.from_public_bytes(identity).verify(
        FORGED, entry.signing_input(pledge.text.encode("utf-8"))
    )
    return [*history, added, pledge]


def test_a_stored_log_with_a_weak_signer_fails_replay_and_verification(
    history: list[entry.SignedEntry],
) -> None:
    log = ghost_log(history)
    weak = f"entry 4 carries a {SMALL}"
    with pytest.raises(WeakKeyError) as info:
        rules.replay(SLUG, log)
    assert (info.value.message, info.value.seq) == (weak, 4)
    rows = [Row(position=n, text=e.text, sig=e.sig, hash=e.hash) for n, e in enumerate(log, 1)]
    report = verify_stream(SLUG, rows, workers=1)
    assert not report.sound
    identity = ssh_fingerprint(bytes.fromhex(SMALL_ORDER["identity-order-1"]))
    assert [(p.seq, p.kind, p.cause) for p in report.problems] == [
        (4, "key", weak),
        (5, "key", f"entry names unknown key {identity}"),
        (5, "key", f"key {identity} is not a current key of 'acme'"),
    ]


# --- the relay: note and cosignature keys, the pinned relay key, request-signing keys --------


@pytest.mark.parametrize("raw", WEAK_CASES)
@pytest.mark.parametrize("kind", [ED25519, COSIGNATURE_V1], ids=["note", "cosignature"])
def test_a_weak_note_or_cosignature_verifier_key_is_refused(raw: bytes, kind: int) -> None:
    name = "burgerco"
    message = f"key {name} is a {expected_reason(raw)}"
    with pytest.raises(MalformedNoteError) as info:
        VerifierKey(name=name, key_id=key_id(name, kind, raw), type=kind, public_key=raw)
    assert str(info.value) == message
    vkey = f"{name}+{key_id(name, kind, raw):08x}+{base64.b64encode(bytes([kind]) + raw).decode()}"
    with pytest.raises(MalformedNoteError) as info:
        parse_verifier_key(vkey)
    assert str(info.value) == message
    with pytest.raises(MalformedNoteError) as info:
        VerifierKey.from_public_key(name, Ed25519PublicKey.from_public_bytes(raw), type=kind)
    assert str(info.value) == message


def test_a_forged_cosignature_by_the_identity_key_never_reaches_verification() -> None:
    """Without the check the identity key's forged cosignature of any checkpoint verifies."""
    raw = bytes.fromhex(SMALL_ORDER["identity-order-1"])
    text = "accord.ledger/x\n1\n" + base64.b64encode(bytes(32)).decode() + "\n"
    timestamp = 1_700_000_000
    payload = struct.pack(">Q", timestamp) + FORGED
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    Ed25519PublicKey.from_public_bytes(raw).verify(FORGED, message)  # the danger
    line = Signature("burgerco", key_id("burgerco", COSIGNATURE_V1, raw), payload)
    with pytest.raises(MalformedNoteError):
        keys = [VerifierKey("burgerco", line.key_id, COSIGNATURE_V1, raw)]
        verify_cosignatures(Note(text, (line,)), keys, quorum=1)


@pytest.mark.parametrize("raw", SAMPLE)
def test_a_weak_pinned_relay_key_verifies_no_checkpoint(raw: bytes) -> None:
    remote = Remote("hub", "http://relay.test", ssh_line(raw))
    with pytest.raises(WeakKeyError) as info:
        relay_verifier(remote, "accord.ledger/x")
    assert info.value.message == expected_reason(raw)


def forged_request(raw: bytes, slug: str = SLUG) -> auth.Message:
    """A GET signed (RFC 9421) by the weak key ``raw`` with the forged signature."""
    request = httpx.Request("GET", f"https://relay.test/v1/projects/{slug}/entries")
    request.headers[auth.PUBLIC_KEY_HEADER] = ssh_line(raw)
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_AnyKey()).sign(
        request,
        key_id=ssh_fingerprint(raw),
        covered_component_ids=("@method", "@target-uri"),
        created=datetime.now(UTC),
    )
    label, _ = request.headers["signature"].split("=", 1)
    request.headers["signature"] = f"{label}=:{base64.b64encode(FORGED).decode()}:"
    return auth.Message("GET", str(request.url), tuple(request.headers.items()))


class _AnyKey(HTTPSignatureKeyResolver):
    """Signs with a throwaway key: the signature is replaced by the forged one."""

    def resolve_private_key(self, key_id: str) -> Any:
        return ACME.private_key

    def resolve_public_key(self, key_id: str) -> Any:  # pragma: no cover - never verifies
        raise AssertionError("the forged request is only signed here, never verified")


def test_an_invitee_seat_pinned_to_a_weak_key_reads_nothing_with_a_forged_request() -> None:
    """A proposal may pin a weak fingerprint (it cannot be checked); reads with it fail."""
    raw = bytes.fromhex(SMALL_ORDER["identity-order-1"])
    state = rules.new_state(SLUG)
    members = [seat("acme", ACME.fingerprint), seat("burgerco", ssh_fingerprint(raw))]
    rules.apply(state, by(ACME, state, "project.proposed", proposal(members, ACME.public_key_line)))
    message = forged_request(raw)
    keys, handles = auth.reader_keys(state, message)
    assert ssh_fingerprint(raw) not in keys
    assert handles == {ACME.fingerprint: "acme"}
    with pytest.raises(NotReadableError):
        auth.authenticate(state, message, b"")
