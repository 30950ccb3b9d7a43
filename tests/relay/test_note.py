"""C2SP signed notes, checkpoints and cosignatures against the published examples.

Vectors: ``tests/vectors/signed-note`` (C2SP spec examples and the Go ``sumdb/note`` reference
note); see ``tests/vectors/README.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from relay import note
from relay.note import (
    COSIGNATURE_V1,
    Checkpoint,
    MalformedNoteError,
    Note,
    NoteError,
    NoteSignatureError,
    VerifierKey,
)

VECTORS = json.loads(
    (
        Path(__file__).resolve().parent.parent
        / "vectors"
        / "signed-note"
        / "signed_note_vectors.json"
    ).read_text("utf-8")
)
CASES = {case["name"]: case for case in VECTORS["cases"]}
ROOT = hashlib.sha256(b"root").digest()
GENESIS = hashlib.sha256(b"genesis").hexdigest()
ORIGIN = note.origin_for(GENESIS)


def _key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)


def _go_private_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse Go's ``PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)`` (test helper only)."""
    _, _, name, _, blob = skey.split("+", 4)
    raw = base64.b64decode(blob)
    assert raw[0] == note.ED25519
    return name, Ed25519PrivateKey.from_private_bytes(raw[1:])


def _checkpoint_note(size: int = 5, *, sign: bool = True) -> Note:
    text = Checkpoint(origin=ORIGIN, size=size, root_hash=ROOT).text()
    return note.sign_note(text, name=ORIGIN, private_key=_key(1)) if sign else Note(text)


RELAY = VerifierKey.from_public_key(ORIGIN, _key(1).public_key())
WITNESS_A = VerifierKey.from_public_key("acme", _key(2).public_key(), type=COSIGNATURE_V1)
WITNESS_B = VerifierKey.from_public_key("globex", _key(3).public_key(), type=COSIGNATURE_V1)


# --- published vectors ------------------------------------------------------------------------


def test_the_c2sp_example_note_verifies_with_its_vkey() -> None:
    case = CASES["c2sp-signed-note-example"]
    parsed = note.parse_note(case["note"].encode("utf-8"))
    verified = note.verify_note(parsed, [note.parse_verifier_key(case["vkey"])])
    assert parsed.text == case["text"]
    assert [v.key.name for v in verified] == ["example.com/foo"]


def test_signing_the_go_reference_text_reproduces_its_note_byte_for_byte() -> None:
    case = CASES["go-sumdb-note-PeterNeumann"]
    name, private_key = _go_private_key(case["skey"])
    signed = note.sign_note(case["text"], name=name, private_key=private_key)
    assert signed.encode() == case["note"].encode("utf-8")
    assert VerifierKey.from_public_key(name, private_key.public_key()).encode() == case["vkey"]
    note.verify_note(note.parse_note(case["note"]), [note.parse_verifier_key(case["vkey"])])


def test_unknown_signers_are_ignored_and_at_least_one_known_signer_is_required() -> None:
    case = CASES["go-sumdb-note-two-signers"]
    parsed = note.parse_note(case["note"])
    peter, enoch = (note.parse_verifier_key(v) for v in case["vkeys"])
    assert len(note.verify_note(parsed, [peter])) == 1
    assert len(note.verify_note(parsed, [peter, enoch])) == 2
    with pytest.raises(NoteSignatureError):
        note.verify_note(parsed, [])


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_vector_note_round_trips_byte_for_byte(name: str) -> None:
    text = CASES[name]["note"]
    assert note.parse_note(text).encode() == text.encode("utf-8")


def test_the_spec_checkpoint_and_its_witness_cosignature_parse() -> None:
    case = CASES["c2sp-checkpoint-with-cosignature-FORMAT-ONLY"]
    parsed = note.parse_note(case["note"])
    checkpoint = note.parse_checkpoint(parsed.text)
    assert checkpoint.origin == case["parsed"]["origin"]
    assert checkpoint.size == case["parsed"]["tree_size"]
    assert base64.b64encode(checkpoint.root_hash).decode() == case["parsed"]["root_hash_b64"]
    witness = parsed.signatures[1]
    assert (witness.name, f"{witness.key_id:08x}") == ("witness.example.com/w1", "8d66cf3f")
    assert struct.unpack(">Q", witness.payload[:8])[0] == 1679315147
    assert len(witness.payload) == 72


def test_a_cosignature_signs_the_message_the_spec_shows() -> None:
    case = CASES["c2sp-checkpoint-with-cosignature-FORMAT-ONLY"]
    text = note.parse_note(case["note"]).text
    signature = note.cosignature(text, name="w", private_key=_key(2), timestamp=1679315147)
    expected = case["parsed"]["cosignature_signed_message_example"].encode("utf-8")
    _key(2).public_key().verify(signature.payload[8:], expected)


def test_verifier_keys_round_trip_and_a_wrong_key_id_is_refused() -> None:
    vkey = CASES["c2sp-signed-note-example"]["vkey"]
    assert note.parse_verifier_key(vkey).encode() == vkey
    with pytest.raises(MalformedNoteError):
        note.parse_verifier_key(vkey.replace("530d903a", "530d903b"))
    with pytest.raises(MalformedNoteError):
        note.parse_verifier_key(vkey.replace("530d903a", "530D903A"))


# --- hostile notes ------------------------------------------------------------------------------

GOOD = CASES["c2sp-signed-note-example"]["note"]
SIG = GOOD.split("\n\n")[1]
HOSTILE = {
    "not UTF-8": b"\xff\xfe\n\n" + SIG.encode(),
    "a NUL byte": f"a\x00b\n\n{SIG}",
    "a tab": f"a\tb\n\n{SIG}",
    "a carriage return": GOOD.replace("\n", "\r\n"),
    "an escape character": f"\x1b[31mred\n\n{SIG}",
    "no blank line": GOOD.replace("\n\n", "\n"),
    "no signature": "text\n\n",
    "a blank line after the signatures": GOOD + "\n",
    "no final newline": GOOD[:-1],
    "a hyphen instead of the em dash": GOOD.replace("\u2014", "-"),
    "an en dash instead of the em dash": GOOD.replace("\u2014", "\u2013"),
    "a plus in the key name": GOOD.replace("example.com/foo", "example.com+foo"),
    "a no-break space in the key name": GOOD.replace("example.com/foo", "example\u00a0com"),
    "an ideographic space in the key name": GOOD.replace("example.com/foo", "ex\u3000foo"),
    "an empty key name": GOOD.replace("example.com/foo", ""),
    "two spaces before the signature": GOOD.replace("foo ", "foo  "),
    "a signature that is not base64": GOOD.replace("Uw2Q", "Uw*Q"),
    "a signature without padding": GOOD.replace("=\n", "\n"),
    "a signature of four bytes": f"a\n\n\u2014 k {base64.b64encode(b'1234').decode()}\n",
    "an empty signature": "a\n\n\u2014 k \n",
    "the same key signing twice": GOOD + SIG,
    "101 signatures": "a\n\n"
    + "".join(f"\u2014 k{i} {base64.b64encode(b'12345').decode()}\n" for i in range(101)),
    "more than a mebibyte": "a" * (1 << 20) + "\n\n" + SIG,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_note_is_refused_as_malformed(name: str) -> None:
    with pytest.raises(MalformedNoteError):
        note.parse_note(HOSTILE[name])


def test_a_non_canonical_base64_signature_is_refused() -> None:
    blob = base64.b64encode(b"12345").decode()  # MTIzNDU= ; the last symbol carries spare bits
    assert blob == "MTIzNDU="
    with pytest.raises(MalformedNoteError):
        note.parse_note("a\n\n\u2014 k MTIzNDV=\n")


def test_a_note_with_16_signatures_is_accepted() -> None:
    text = "sixteen\n"
    signed = Note(text)
    for i in range(16):
        signed = note.sign_note(signed, name=f"k{i}", private_key=_key(i + 1))
    assert len(note.parse_note(signed.encode()).signatures) == 16


def test_text_without_a_final_newline_or_with_control_characters_cannot_be_signed() -> None:
    for text in ("no newline", "tab\there\n", ""):
        with pytest.raises(MalformedNoteError):
            note.sign_note(text, name="k", private_key=_key(1))
    with pytest.raises(MalformedNoteError):
        note.sign_note("fine\n", name="bad name", private_key=_key(1))


def test_a_tampered_text_or_signature_from_a_known_key_is_refused() -> None:
    signed = _checkpoint_note()
    tampered = Note(signed.text.replace("\n5\n", "\n6\n"), signed.signatures)
    with pytest.raises(NoteSignatureError):
        note.verify_note(tampered, [RELAY])
    sig = signed.signatures[0]
    flipped = note.Signature(sig.name, sig.key_id, bytes([sig.payload[0] ^ 1]) + sig.payload[1:])
    with pytest.raises(NoteSignatureError):
        note.verify_note(Note(signed.text, (flipped,)), [RELAY])


def test_a_bad_signature_from_a_known_key_rejects_the_note_even_beside_a_good_one() -> None:
    signed = note.sign_note(_checkpoint_note(), name="other", private_key=_key(9))
    other = VerifierKey.from_public_key("other", _key(8).public_key())
    bad = Note(signed.text, (signed.signatures[0], note.Signature("other", other.key_id, b"x")))
    with pytest.raises(NoteSignatureError):
        note.verify_note(bad, [RELAY, other])


def test_a_key_sharing_only_the_name_with_a_signer_is_treated_as_unknown() -> None:
    impostor = VerifierKey.from_public_key(ORIGIN, _key(7).public_key())
    with pytest.raises(NoteSignatureError, match="no known key"):
        note.verify_note(_checkpoint_note(), [impostor])


@given(st.text(alphabet=st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), max_size=80))
def test_any_valid_text_signs_parses_and_verifies(body: str) -> None:
    text = body.replace("\n", "") + "\n"
    signed = note.sign_note(text, name="example.com/k", private_key=_key(4))
    parsed = note.parse_note(signed.encode())
    assert parsed == signed
    key = VerifierKey.from_public_key("example.com/k", _key(4).public_key())
    note.verify_note(parsed, [note.parse_verifier_key(key.encode())])


# --- checkpoints --------------------------------------------------------------------------------


@given(
    st.integers(min_value=0, max_value=note.MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(alphabet="abc xyz+/=", min_size=1, max_size=10), max_size=3),
)
def test_checkpoints_round_trip_through_their_text(
    size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(ORIGIN, size, root, tuple(extensions))
    assert note.parse_checkpoint(checkpoint.text()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n5\n",
        f"{ORIGIN}\n05\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n+5\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n 5\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n\u0665\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n5_0\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n{1 << 63}\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n\nextension\n",
        f"\n5\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        note.parse_checkpoint(text)


def test_accord_origins_come_from_the_genesis_hash() -> None:
    assert ORIGIN == "accord.ledger/" + GENESIS
    assert note.origin_hash(ORIGIN) == hashlib.sha256(ORIGIN.encode()).hexdigest()
    for bad in (GENESIS.upper(), GENESIS[:-1], GENESIS + "0", "g" * 64):
        with pytest.raises(NoteError):
            note.origin_for(bad)


# --- cosignatures -------------------------------------------------------------------------------


def test_a_cosigned_checkpoint_verifies_for_the_relay_and_each_cosigner() -> None:
    signed = note.cosign(_checkpoint_note(), name="acme", private_key=_key(2), timestamp=1_700)
    signed = note.cosign(signed, name="globex", private_key=_key(3), timestamp=1_800)
    parsed = note.parse_note(signed.encode())
    assert [v.key for v in note.verify_note(parsed, [RELAY])] == [RELAY]
    verified = note.verify_cosignatures(parsed, [WITNESS_A, WITNESS_B], quorum=2)
    assert {(v.key.name, v.timestamp) for v in verified} == {("acme", 1_700), ("globex", 1_800)}


def test_cosigner_keys_use_type_0x04_in_their_vkey_and_key_id() -> None:
    encoded = WITNESS_A.encode()
    raw = base64.b64decode(encoded.split("+")[2])
    assert raw[0] == 0x04
    digest = hashlib.sha256(b"acme\n\x04" + raw[1:]).digest()
    assert encoded.split("+")[1] == digest[:4].hex()
    assert note.parse_verifier_key(encoded) == WITNESS_A


def test_cosigning_again_replaces_the_cosigners_older_cosignature() -> None:
    once = note.cosign(_checkpoint_note(), name="acme", private_key=_key(2), timestamp=1)
    twice = note.cosign(once, name="acme", private_key=_key(2), timestamp=2)
    assert len(twice.signatures) == 2
    assert note.verify_cosignatures(twice, [WITNESS_A])[0].timestamp == 2


@pytest.mark.parametrize("part", ["text", "timestamp", "signature"])
def test_a_tampered_cosignature_is_refused(part: str) -> None:
    signed = note.cosign(_checkpoint_note(), name="acme", private_key=_key(2), timestamp=1_700)
    relay_sig, cosig = signed.signatures
    text, payload = signed.text, cosig.payload
    if part == "text":
        text = text.replace("\n5\n", "\n4\n")
    elif part == "timestamp":
        payload = struct.pack(">Q", 1_701) + payload[8:]
    else:
        payload = payload[:-1] + bytes([payload[-1] ^ 1])
    tampered = Note(text, (relay_sig, note.Signature(cosig.name, cosig.key_id, payload)))
    with pytest.raises(NoteSignatureError):
        note.verify_cosignatures(tampered, [WITNESS_A])


def test_a_cosignature_timestamp_above_2_63_or_a_short_payload_is_refused() -> None:
    signed = note.cosign(_checkpoint_note(), name="acme", private_key=_key(2), timestamp=1)
    cosig = signed.signatures[1]
    for payload in (struct.pack(">Q", 1 << 63) + cosig.payload[8:], cosig.payload[8:]):
        bad = Note(signed.text, (note.Signature(cosig.name, cosig.key_id, payload),))
        with pytest.raises(NoteSignatureError):
            note.verify_cosignatures(bad, [WITNESS_A])
    for timestamp in (-1, 1 << 63):
        with pytest.raises(MalformedNoteError):
            note.cosign(signed, name="acme", private_key=_key(2), timestamp=timestamp)


def test_too_few_cosignatures_fail_the_quorum_and_note_keys_are_not_cosigner_keys() -> None:
    signed = note.cosign(_checkpoint_note(), name="acme", private_key=_key(2), timestamp=1)
    with pytest.raises(NoteSignatureError):
        note.verify_cosignatures(signed, [WITNESS_A, WITNESS_B], quorum=2)
    assert note.verify_cosignatures(_checkpoint_note(), [WITNESS_A], quorum=0) == ()
    with pytest.raises(NoteError):
        note.verify_cosignatures(signed, [RELAY])


def test_a_note_signature_by_the_same_key_does_not_count_as_a_cosignature() -> None:
    as_note = note.sign_note(_checkpoint_note(), name="acme", private_key=_key(2))
    with pytest.raises(NoteSignatureError):
        note.verify_cosignatures(as_note, [WITNESS_A])


def test_only_checkpoints_can_be_cosigned() -> None:
    with pytest.raises(MalformedNoteError):
        note.cosignature("just text\n", name="acme", private_key=_key(2), timestamp=1)


def test_the_witness_response_line_parses_back_to_the_cosignature() -> None:
    line = note.cosignature(
        _checkpoint_note().text, name="acme", private_key=_key(2), timestamp=5
    ).line()
    assert line.startswith("\u2014 acme ") and line.endswith("\n")
    parsed = note.parse_signature_line(line[:-1])
    merged = note.add_signatures(_checkpoint_note(), [parsed])
    assert note.verify_cosignatures(merged, [WITNESS_A])[0].timestamp == 5
