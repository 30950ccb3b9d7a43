"""Exact-value tests of the signed entry (ledger/entry.py) and its field formats (ledger/format.py).

The worked example's signing input, signature and hash are literals: they pin format v1
forever. ``tests/unit/worked_example.json`` holds the same values for the docs test.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, entry, normalise
from ledger.errors import (
    SignatureInvalidError,
    SignatureMissingError,
    UsageError,
    VerificationError,
)
from ledger.rules import schema

SEED = bytes(range(32))
FINGERPRINT = "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
SIGNING_INPUT = (
    b'accord/entry/v1\n{"at":"2026-11-22T10:00:00Z","body":{"approval":"all","close":"all",'
    b'"members":[{"handle":"acme","key":"SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"},'
    b'{"handle":"burgerco","key":null}],"public_key":"ssh-ed25519 '
    b'AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",'
    b'"purpose":"A joint campaign","title":"No Whopper Day"},"by":"acme",'
    b'"key":"SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg",'
    b'"prev":"0000000000000000000000000000000000000000000000000000000000000000",'
    b'"project":"no-whopper-day","seq":1,"type":"project.proposed","v":1}'
)
SIGNATURE_B64 = (
    "aXT2jjZJJavmN1xemnVJl49T2q2ku4kpOOQI/Hq5bMFHbvfnJRYE98liRYyu+spdlH0lQ6sZS+dAQLBo38aDCQ=="
)
HASH = "d617b3dec7bb487d1bcb7b540260d563ca00fbc9fd74918b40ee6568dad614e1"
WORKED_EXAMPLE_FILE = Path(__file__).resolve().parent / "worked_example.json"


def _worked_example() -> dict[str, Any]:
    return {
        "v": 1,
        "project": "no-whopper-day",
        "seq": 1,
        "prev": "0" * 64,
        "type": "project.proposed",
        "by": "acme",
        "key": FINGERPRINT,
        "at": "2026-11-22T10:00:00Z",
        "body": {
            "title": "No Whopper Day",
            "purpose": "A joint campaign",
            "members": [
                {"handle": "acme", "key": FINGERPRINT},
                {"handle": "burgerco", "key": None},
            ],
            "approval": "all",
            "close": "all",
            "public_key": PUBLIC_KEY,
        },
    }


def _pledge(**body_changes: Any) -> dict[str, Any]:
    body = {
        "title": "Thirty hours of video editing",
        "weight": "30",
        "unit": "hours",
        "due": "2026-12-01",
        "beneficiaries": ["acme", "burgerco"],
    }
    body.update(body_changes)
    return {
        "v": 1,
        "project": "no-whopper-day",
        "seq": 2,
        "prev": HASH,
        "type": "pledge.made",
        "by": "acme",
        "key": FINGERPRINT,
        "at": "2026-11-22T10:05:00Z",
        "body": body,
    }


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(SEED)


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


@pytest.fixture
def signed(key: Ed25519PrivateKey) -> entry.SignedEntry:
    return entry.sign(_worked_example(), key)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- the worked example -----------------------------------------------------------------------


def test_the_fixed_seed_key_has_the_pinned_fingerprint_and_public_key_line(
    key: Ed25519PrivateKey,
) -> None:
    assert ed25519.fingerprint(key.public_key()) == FINGERPRINT
    assert ed25519.public_key_line(key.public_key()) == PUBLIC_KEY


def test_the_worked_example_has_the_pinned_signing_input(signed: entry.SignedEntry) -> None:
    assert entry.signing_input(entry.canonical_bytes(_worked_example())) == SIGNING_INPUT
    assert entry.PREFIX + signed.text.encode("utf-8") == SIGNING_INPUT


def test_the_worked_example_has_the_pinned_signature(signed: entry.SignedEntry) -> None:
    assert signed.sig == SIGNATURE_B64


def test_the_worked_example_has_the_pinned_hash(signed: entry.SignedEntry) -> None:
    assert signed.hash == HASH
    # The hash is SHA-256 over the signing input followed by the raw signature.
    assert hashlib.sha256(SIGNING_INPUT + base64.b64decode(SIGNATURE_B64)).hexdigest() == HASH


def test_the_pinned_signature_verifies_over_the_pinned_signing_input(
    key: Ed25519PrivateKey,
) -> None:
    key.public_key().verify(base64.b64decode(SIGNATURE_B64), SIGNING_INPUT)


def test_the_worked_example_loads_back_with_its_hash_and_verifies(
    key: Ed25519PrivateKey,
) -> None:
    text = SIGNING_INPUT.removeprefix(entry.PREFIX).decode("utf-8")
    loaded = entry.load(text, SIGNATURE_B64, HASH)
    assert loaded.hash == HASH
    assert loaded.data == _worked_example()
    assert (loaded.seq, loaded.type, loaded.by, loaded.key) == (
        1,
        "project.proposed",
        "acme",
        FINGERPRINT,
    )
    entry.verify(loaded, ed25519.parse_public_key_line(PUBLIC_KEY))


def test_the_worked_example_file_holds_the_pinned_values() -> None:
    stored = json.loads(WORKED_EXAMPLE_FILE.read_text(encoding="utf-8"))
    assert stored == {
        "seed_hex": SEED.hex(),
        "entry": _worked_example(),
        "signing_input": SIGNING_INPUT.decode("utf-8"),
        "signature_b64": SIGNATURE_B64,
        "hash": HASH,
        "fingerprint": FINGERPRINT,
        "public_key": PUBLIC_KEY,
    }


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_the_fingerprint_is_what_ssh_keygen_prints(tmp_path: Path) -> None:
    pub = tmp_path / "acme.pub"
    pub.write_text(f"{PUBLIC_KEY} acme\n", encoding="ascii")
    result = subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[:2] == ["256", FINGERPRINT]


# --- canonical bytes --------------------------------------------------------------------------


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def test_canonical_bytes_ignore_the_insertion_order_of_keys() -> None:
    example = _worked_example()
    reordered = _reversed_keys(example)
    assert list(reordered) != list(example)
    assert entry.canonical_bytes(reordered) == entry.canonical_bytes(example)


def test_canonical_bytes_sort_keys_and_keep_list_order() -> None:
    assert entry.canonical_bytes({"b": [3, 1, 2], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[3,1,2]}'
    )


@pytest.mark.parametrize(
    "value",
    [1.5, 1.0, {"weight": 12.5}, {"body": {"items": [1, 2.0]}}],
    ids=["top-level", "whole-float", "in-an-object", "nested-in-a-list"],
)
def test_canonical_bytes_refuse_floats(value: Any) -> None:
    with pytest.raises(VerificationError, match="floats"):
        entry.canonical_bytes(value)


def test_canonical_bytes_refuse_integers_outside_the_safe_range() -> None:
    assert entry.canonical_bytes({"n": 2**53 - 1}) == b'{"n":9007199254740991}'
    with pytest.raises(VerificationError, match="canonicalised"):
        entry.canonical_bytes({"n": 2**53})


# --- load -------------------------------------------------------------------------------------


def test_load_refuses_text_with_extra_spaces(signed: entry.SignedEntry) -> None:
    spaced = json.dumps(signed.data, sort_keys=True)
    assert spaced != signed.text
    with pytest.raises(VerificationError, match="canonical"):
        entry.load(spaced, signed.sig)


def test_load_refuses_text_with_reordered_keys(signed: entry.SignedEntry) -> None:
    reordered = json.dumps(_reversed_keys(signed.data), separators=(",", ":"), ensure_ascii=False)
    assert reordered != signed.text
    with pytest.raises(VerificationError, match="canonical"):
        entry.load(reordered, signed.sig)


def test_load_refuses_unicode_that_jcs_would_not_escape(key: Ed25519PrivateKey) -> None:
    example = _worked_example()
    example["body"]["title"] = "Café"
    signed = entry.sign(example, key)
    assert '"Café"' in signed.text
    escaped = signed.text.replace("é", "\\u00e9")
    with pytest.raises(VerificationError, match="canonical"):
        entry.load(escaped, signed.sig)
    assert entry.load(signed.text, signed.sig).hash == signed.hash


def test_load_refuses_a_float_in_the_text(signed: entry.SignedEntry) -> None:
    with pytest.raises(VerificationError, match="not an integer"):
        entry.load(signed.text.replace('"seq":1', '"seq":1.0'), signed.sig)


@pytest.mark.parametrize("text", ["[1,2]", '"entry"', "{", ""])
def test_load_refuses_text_that_is_not_a_json_object(text: str) -> None:
    with pytest.raises(VerificationError):
        entry.load(text, SIGNATURE_B64)


def test_load_refuses_a_stored_hash_that_does_not_match(signed: entry.SignedEntry) -> None:
    wrong = ("0" if signed.hash[0] != "0" else "1") + signed.hash[1:]
    with pytest.raises(VerificationError, match="hash"):
        entry.load(signed.text, signed.sig, wrong)


@pytest.mark.parametrize(
    "sig",
    [
        base64.b64encode(bytes(63)).decode("ascii"),
        base64.b64encode(bytes(65)).decode("ascii"),
        "not base64!",
        SIGNATURE_B64.rstrip("="),
        base64.urlsafe_b64encode(b"\xfb" * 64).decode("ascii"),
        # 64 bytes, but the last character carries non-zero padding bits (not canonical).
        SIGNATURE_B64[:-3] + "R==",
    ],
    ids=["63-bytes", "65-bytes", "not-base64", "unpadded", "url-safe", "non-canonical"],
)
def test_load_refuses_a_signature_that_is_not_64_bytes_of_canonical_base64(
    signed: entry.SignedEntry, sig: str
) -> None:
    with pytest.raises(SignatureInvalidError):
        entry.load(signed.text, sig)


def test_load_refuses_an_empty_signature_as_missing(signed: entry.SignedEntry) -> None:
    with pytest.raises(SignatureMissingError) as caught:
        entry.load(signed.text, "")
    assert caught.value.seq == 1


# --- verify -----------------------------------------------------------------------------------


def test_verify_accepts_the_signers_key(signed: entry.SignedEntry, key: Ed25519PrivateKey) -> None:
    entry.verify(entry.load(signed.text, signed.sig, signed.hash), key.public_key())


def test_a_flipped_text_byte_fails_verification(
    signed: entry.SignedEntry, key: Ed25519PrivateKey
) -> None:
    tampered = signed.text.replace("No Whopper Day", "No Whopper Dax")
    loaded = entry.load(tampered, signed.sig)
    with pytest.raises(SignatureInvalidError) as caught:
        entry.verify(loaded, key.public_key())
    assert caught.value.seq == 1


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_a_flipped_signature_byte_fails_verification(
    signed: entry.SignedEntry, key: Ed25519PrivateKey, index: int
) -> None:
    raw = _flip(base64.b64decode(signed.sig), index)
    loaded = entry.load(signed.text, base64.b64encode(raw).decode("ascii"))
    with pytest.raises(SignatureInvalidError):
        entry.verify(loaded, key.public_key())


def test_another_partys_key_fails_verification(
    signed: entry.SignedEntry, other_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        entry.verify(signed, other_key.public_key())


def test_verify_refuses_an_entry_without_signature(
    signed: entry.SignedEntry, key: Ed25519PrivateKey
) -> None:
    unsigned = entry.SignedEntry(text=signed.text, sig="", hash="", data=signed.data)
    with pytest.raises(SignatureMissingError):
        entry.verify(unsigned, key.public_key())


# --- signature_report -------------------------------------------------------------------------


def _at_seq(seq: int, signer: Ed25519PrivateKey) -> entry.SignedEntry:
    data = copy.deepcopy(_worked_example())
    data["seq"] = seq
    data["key"] = ed25519.fingerprint(signer.public_key())
    return entry.sign(data, signer)


def test_signature_report_lists_every_entry_as_signed_when_all_verify(
    key: Ed25519PrivateKey,
) -> None:
    entries = [_at_seq(1, key), _at_seq(2, key)]
    report = entry.signature_report(entries, {FINGERPRINT: key.public_key()})
    assert (report.signed, report.missing, report.complete) == ((1, 2), (), True)


def test_signature_report_lists_unknown_keys_bad_and_absent_signatures_as_missing(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    good = _at_seq(1, key)
    unknown_key = _at_seq(2, other_key)
    forged = _at_seq(3, key)
    forged_sig = base64.b64encode(_flip(base64.b64decode(forged.sig), 10)).decode("ascii")
    forged = entry.SignedEntry(text=forged.text, sig=forged_sig, hash="", data=forged.data)
    absent = _at_seq(4, key)
    absent = entry.SignedEntry(text=absent.text, sig="", hash="", data=absent.data)
    report = entry.signature_report(
        [good, unknown_key, forged, absent], {FINGERPRINT: key.public_key()}
    )
    assert (report.signed, report.missing, report.complete) == ((1,), (2, 3, 4), False)


def test_signature_report_of_no_entries_is_complete() -> None:
    report = entry.signature_report([], {})
    assert (report.signed, report.missing, report.complete) == ((), (), True)


# --- schema.check_entry -----------------------------------------------------------------------


def test_check_entry_accepts_the_worked_example() -> None:
    schema.check_entry(_worked_example())


def test_check_entry_accepts_a_well_formed_pledge() -> None:
    schema.check_entry(_pledge())
    schema.check_entry(_pledge(weight="1.5"))


def test_check_entry_refuses_a_missing_envelope_key() -> None:
    example = _worked_example()
    del example["at"]
    with pytest.raises(VerificationError, match=r"missing \['at'\]"):
        schema.check_entry(example)


def test_check_entry_refuses_an_extra_envelope_key() -> None:
    example = _worked_example()
    example["note"] = "hello"
    with pytest.raises(VerificationError, match=r"extra \['note'\]"):
        schema.check_entry(example)


def test_check_entry_refuses_an_extra_body_key() -> None:
    example = _worked_example()
    example["body"]["colour"] = "red"
    with pytest.raises(VerificationError, match=r"extra \['colour'\]"):
        schema.check_entry(example)


def test_check_entry_refuses_a_missing_body_key() -> None:
    example = _worked_example()
    del example["body"]["close"]
    with pytest.raises(VerificationError, match=r"missing \['close'\]"):
        schema.check_entry(example)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", 2),
        ("v", "1"),
        ("prev", "0" * 63),
        ("prev", "0" * 65),
        ("prev", "A" * 64),
        ("prev", None),
        ("seq", 0),
        ("seq", True),
        ("seq", 2**53),
        ("at", "2026-11-22T10:00:00"),
        ("at", "2026-11-22T10:00:00+00:00"),
        ("at", "2026-11-22 10:00:00Z"),
        ("at", "2026-02-30T10:00:00Z"),
        ("at", "2026-11-22T25:00:00Z"),
        ("at", "2026-11-22T10:00:00.5Z"),
        ("key", "SHA256:short"),
        ("by", "Acme"),
        ("project", "No Whopper Day"),
        ("type", "project.deleted"),
    ],
)
def test_check_entry_refuses_a_malformed_envelope_field(field: str, value: Any) -> None:
    example = _worked_example()
    example[field] = value
    with pytest.raises(VerificationError, match=f"field '{field}'"):
        schema.check_entry(example)


def test_check_entry_refuses_a_boolean_version() -> None:
    example = _worked_example()
    example["v"] = True
    with pytest.raises(VerificationError, match="field 'v'"):
        schema.check_entry(example)


@pytest.mark.parametrize("weight", ["1.50", "01", "-1", "1e3", "0", "1.", ".5", " 1", 30])
def test_check_entry_refuses_a_pledge_weight_that_is_not_a_canonical_decimal(
    weight: Any,
) -> None:
    with pytest.raises(VerificationError, match="'weight'"):
        schema.check_entry(_pledge(weight=weight))


@pytest.mark.parametrize(
    "beneficiaries",
    [["burgerco", "acme"], ["acme", "acme"], []],
    ids=["unsorted", "duplicated", "empty"],
)
def test_check_entry_refuses_pledge_beneficiaries_that_are_not_a_sorted_set(
    beneficiaries: list[str],
) -> None:
    with pytest.raises(VerificationError, match="'beneficiaries'"):
        schema.check_entry(_pledge(beneficiaries=beneficiaries))


def test_check_entry_refuses_a_pledge_due_date_that_does_not_exist() -> None:
    with pytest.raises(VerificationError, match="'due'"):
        schema.check_entry(_pledge(due="2026-02-30"))


def test_check_entry_refuses_members_that_are_not_sorted_by_handle() -> None:
    example = _worked_example()
    example["body"]["members"].reverse()
    with pytest.raises(VerificationError, match="'members'"):
        schema.check_entry(example)


# --- format normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("12.50", "12.5"), ("12", "12"), ("100", "100"), ("0.50", "0.5"), ("3.000", "3")],
)
def test_normalise_decimal_returns_the_canonical_text(given: str, expected: str) -> None:
    assert normalise.normalise_decimal(given, "weight") == expected


@pytest.mark.parametrize("given", ["0", "0.0", "abc", "-1", "1e3", "", "1,5", "NaN", "Infinity"])
def test_normalise_decimal_refuses_what_is_not_a_positive_number(given: str) -> None:
    with pytest.raises(UsageError, match="weight"):
        normalise.normalise_decimal(given, "weight")


@pytest.mark.parametrize(
    "given",
    [
        "1.000000000001",
        "123456789012345678.123456789012",
        "999999999999999999.999999999999",
        "0.000000000001",
    ],
)
def test_normalise_decimal_keeps_every_digit_it_is_given(given: str) -> None:
    assert normalise.normalise_decimal(given, "weight") == given


def test_normalise_decimal_refuses_more_than_18_digits_before_or_12_after_the_point() -> None:
    assert normalise.normalise_decimal("9" * 18, "weight") == "9" * 18
    assert normalise.normalise_decimal("0" * 30 + "1." + "5" + "0" * 30, "weight") == "1.5"
    with pytest.raises(UsageError, match="19 digits before the point; accord records at most 18"):
        normalise.normalise_decimal("1" + "0" * 18, "weight")
    with pytest.raises(UsageError, match="13 digits after the point; accord records at most 12"):
        normalise.normalise_decimal("0.0000000000001", "weight")


def test_normalise_date_accepts_a_real_date() -> None:
    assert normalise.normalise_date("2028-02-29") == "2028-02-29"


@pytest.mark.parametrize("given", ["2026-02-30", "2026-13-01", "2026-1-1", "01/02/2026", ""])
def test_normalise_date_refuses_what_is_not_a_calendar_date(given: str) -> None:
    with pytest.raises(UsageError, match="not a date"):
        normalise.normalise_date(given)


# --- the one decoding of a stored signature (issue 20, class 10) -----------------------------


def test_decode_signature_accepts_only_the_canonical_encoding_of_64_bytes() -> None:
    raw = base64.b64decode(SIGNATURE_B64)
    assert entry.decode_signature(SIGNATURE_B64) == raw
    for loose in (SIGNATURE_B64[:-3] + "R==", SIGNATURE_B64.rstrip("="), " " + SIGNATURE_B64):
        with pytest.raises(SignatureInvalidError):
            entry.decode_signature(loose)
    with pytest.raises(SignatureMissingError):
        entry.decode_signature("")
    with pytest.raises(SignatureInvalidError, match="not text"):
        entry.decode_signature(None)


def test_load_verified_runs_the_same_row_check_as_load(signed: entry.SignedEntry) -> None:
    assert entry.load_verified(signed.text, signed.sig, signed.hash, signed.hash) == signed
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    loose = signed.sig[:-3] + alphabet[alphabet.index(signed.sig[-3]) ^ 1] + "=="
    assert base64.b64decode(loose) == base64.b64decode(signed.sig)
    assert entry.load_verified(signed.text, loose, signed.hash, signed.hash) is None
    upper = signed.hash.upper()
    assert entry.load_verified(signed.text, signed.sig, upper, signed.hash) is None


def test_text_that_utf8_cannot_encode_is_refused_not_a_crash(signed: entry.SignedEntry) -> None:
    broken = signed.text.replace("No Whopper Day", "No Whopper \ud800ay")
    with pytest.raises(VerificationError, match="lone surrogate"):
        entry.parse_text(broken)
    with pytest.raises(VerificationError, match="lone surrogate"):
        entry.load(broken, signed.sig)
    assert entry.load_verified(broken, signed.sig, signed.hash, signed.hash) is None
