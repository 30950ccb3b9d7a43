"""Properties of the signed entry: canonical form, sign -> verify, and tamper detection."""

from __future__ import annotations

import base64
import json
import random
import string
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, event, given
from hypothesis import strategies as st
from strategies import entries, private_keys, shuffled

from ledger import entry
from ledger.errors import SignatureInvalidError, VerificationError


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


@given(entries, st.randoms(use_true_random=False))
def test_canonical_bytes_do_not_depend_on_key_order(
    data: dict[str, Any], rnd: random.Random
) -> None:
    canonical = entry.canonical_bytes(data)
    assert entry.canonical_bytes(shuffled(data, rnd)) == canonical
    assert json.loads(canonical) == data


@given(entries, private_keys)
def test_a_signed_entry_loads_back_and_verifies_with_its_key(
    data: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    signed = entry.sign(data, key)
    loaded = entry.load(signed.text, signed.sig, signed.hash)
    entry.verify(loaded, key.public_key())
    assert loaded.data == data
    assert loaded.hash == signed.hash


@given(entries, private_keys, st.data())
def test_a_flipped_text_byte_fails_load_or_verification(
    data: dict[str, Any], key: Ed25519PrivateKey, draw: st.DataObject
) -> None:
    signed = entry.sign(data, key)
    raw = bytearray(signed.text.encode("utf-8"))
    index = draw.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="index")
    # An ASCII byte stays ASCII (so the text stays UTF-8); any other byte may become anything.
    top = 0x7F if raw[index] < 0x80 else 0xFF
    raw[index] ^= draw.draw(st.integers(min_value=1, max_value=top), label="mask")
    try:
        tampered = raw.decode("utf-8")
    except UnicodeDecodeError:
        assume(False)  # a stored text is a str: invalid UTF-8 cannot reach load()
    try:
        loaded = entry.load(tampered, signed.sig)
    except VerificationError:
        event("load refused the text")
        return  # no longer JSON, or no longer canonical
    event("the text still loads; verify must refuse it")
    with pytest.raises(SignatureInvalidError):
        entry.verify(loaded, key.public_key())


@given(
    entries,
    private_keys,
    st.integers(min_value=0, max_value=entry.SIGNATURE_SIZE - 1),
    st.integers(min_value=1, max_value=255),
)
def test_a_flipped_signature_byte_fails_verification(
    data: dict[str, Any], key: Ed25519PrivateKey, index: int, mask: int
) -> None:
    signed = entry.sign(data, key)
    raw = bytearray(base64.b64decode(signed.sig))
    raw[index] ^= mask
    loaded = entry.load(signed.text, base64.b64encode(raw).decode("ascii"))
    with pytest.raises(SignatureInvalidError):
        entry.verify(loaded, key.public_key())


@given(entries, st.lists(private_keys, min_size=2, max_size=2, unique_by=_public_bytes))
def test_another_partys_key_fails_verification(
    data: dict[str, Any], keys: list[Ed25519PrivateKey]
) -> None:
    key, other = keys
    signed = entry.sign(data, key)
    with pytest.raises(SignatureInvalidError):
        entry.verify(signed, other.public_key())


@given(
    entries,
    private_keys,
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=20),
    st.data(),
)
def test_one_changed_letter_in_a_still_canonical_text_fails_verification(
    data: dict[str, Any], key: Ed25519PrivateKey, title: str, draw: st.DataObject
) -> None:
    # Most random byte flips break the JSON; this one keeps the text canonical, so only the
    # signature can catch it.
    signed = entry.sign({**data, "title": title}, key)
    index = draw.draw(st.integers(min_value=0, max_value=len(title) - 1), label="index")
    letter = draw.draw(st.sampled_from(string.ascii_letters).filter(lambda c: c != title[index]))
    changed = title[:index] + letter + title[index + 1 :]
    tampered = entry.canonical_bytes({**data, "title": changed})
    original = signed.text.encode("utf-8")
    assert len(tampered) == len(original)
    assert sum(a != b for a, b in zip(tampered, original, strict=True)) == 1
    loaded = entry.load(tampered.decode("utf-8"), signed.sig)
    with pytest.raises(SignatureInvalidError):
        entry.verify(loaded, key.public_key())


_claims = st.fixed_dictionaries(
    {
        "project": st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
        "terms": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        "handle": st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True),
        "key": st.from_regex(r"SHA256:[A-Za-z0-9+/]{43}", fullmatch=True),
    }
)


@given(st.binary(min_size=32, max_size=32), _claims, _claims)
def test_an_invite_proof_for_one_claim_never_verifies_for_another(
    seed: bytes, claim: dict[str, str], other: dict[str, str]
) -> None:
    token = "accord-invite-v1:" + base64.urlsafe_b64encode(seed).decode().rstrip("=")
    proof = entry.invite_proof(token, **claim)
    assert entry.verify_invite_proof(proof, **claim) == entry.invite_fingerprint(token)
    assume(other != claim)
    event(", ".join(sorted(k for k in claim if claim[k] != other[k])))
    with pytest.raises(SignatureInvalidError):
        entry.verify_invite_proof(proof, **other)


@given(
    st.binary(min_size=32, max_size=32),
    _claims,
    st.sampled_from(["project", "terms", "handle", "key"]),
    st.data(),
)
def test_an_invite_proof_does_not_verify_when_one_field_of_the_claim_changes(
    seed: bytes, claim: dict[str, str], field: str, data: st.DataObject
) -> None:
    token = "accord-invite-v1:" + base64.urlsafe_b64encode(seed).decode().rstrip("=")
    proof = entry.invite_proof(token, **claim)
    changed = data.draw(_claims)[field]
    assume(changed != claim[field])
    with pytest.raises(SignatureInvalidError):
        entry.verify_invite_proof(proof, **{**claim, field: changed})
