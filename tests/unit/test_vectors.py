"""Public test vectors: Ed25519 (Wycheproof, RFC 8032, ed25519-speccheck) and RFC 8785 (JCS).

The vectors live in ``tests/vectors/`` (see its README for sources and licences). accord does
Ed25519 only through the ``cryptography`` package and JCS only through ``rfc8785``; these tests
pin the verdicts of both, and run them through ledger code wherever the ledger takes raw input.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger import ed25519, entry
from ledger.errors import VerificationError

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load_json(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _openssh_line(raw_public_key: bytes) -> str:
    """Return the ``ssh-ed25519 AAAA...`` line for a raw 32-byte key, built by hand (RFC 4253)."""
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", len(raw_public_key))
    blob += raw_public_key
    return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")


def _accepts(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# --- Wycheproof -----------------------------------------------------------------------------

WYCHEPROOF = _load_json("wycheproof/ed25519_test.json")
WYCHEPROOF_CASES = [
    pytest.param(group["publicKey"]["pk"], test, id=f"tcId-{test['tcId']}")
    for group in WYCHEPROOF["testGroups"]
    for test in group["tests"]
]


def test_the_wycheproof_file_holds_all_151_ed25519_cases() -> None:
    assert WYCHEPROOF["algorithm"] == "EDDSA"
    assert WYCHEPROOF["numberOfTests"] == 151
    assert len(WYCHEPROOF_CASES) == 151
    results = [case.values[1]["result"] for case in WYCHEPROOF_CASES]
    assert (results.count("valid"), results.count("invalid")) == (88, 63)


@pytest.mark.parametrize(("pk_hex", "case"), WYCHEPROOF_CASES)
def test_cryptography_gives_the_wycheproof_verdict(pk_hex: str, case: dict[str, Any]) -> None:
    signature, message = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
    try:
        public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(pk_hex))
        public_key.verify(signature, message)
    except (InvalidSignature, ValueError):
        verdict = "invalid"
    else:
        verdict = "valid"
    assert verdict == case["result"], case["comment"]


@pytest.mark.parametrize(("pk_hex", "case"), WYCHEPROOF_CASES)
def test_a_wycheproof_key_read_from_its_openssh_line_gives_the_same_verdict(
    pk_hex: str, case: dict[str, Any]
) -> None:
    # accord reads keys only from OpenSSH lines, so run every vector through that path too.
    line = _openssh_line(bytes.fromhex(pk_hex))
    public_key = ed25519.parse_public_key_line(line)
    assert public_key.public_bytes_raw() == bytes.fromhex(pk_hex)
    accepted = _accepts(public_key, bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
    assert ("valid" if accepted else "invalid") == case["result"], case["comment"]


# --- RFC 8032 section 7.1 ---------------------------------------------------------------------

RFC8032 = _load_json("rfc8032/ed25519_rfc8032_7_1.json")["cases"]
RFC8032_CASES = [pytest.param(case, id=case["name"]) for case in RFC8032]


def test_the_rfc8032_file_holds_the_five_section_7_1_cases() -> None:
    names = [case["name"] for case in RFC8032]
    assert names == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]


@pytest.mark.parametrize("case", RFC8032_CASES)
def test_an_rfc8032_seed_derives_its_public_key(case: dict[str, str]) -> None:
    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key"]))
    assert private_key.public_key().public_bytes_raw().hex() == case["public_key"]


@pytest.mark.parametrize("case", RFC8032_CASES)
def test_signing_an_rfc8032_message_reproduces_its_signature(case: dict[str, str]) -> None:
    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key"]))
    assert private_key.sign(bytes.fromhex(case["message"])).hex() == case["signature"]


@pytest.mark.parametrize("case", RFC8032_CASES)
def test_an_rfc8032_signature_verifies_with_the_key_from_its_openssh_line(
    case: dict[str, str],
) -> None:
    line = _openssh_line(bytes.fromhex(case["public_key"]))
    public_key = ed25519.parse_public_key_line(line)
    assert ed25519.public_key_line(public_key) == line
    message, signature = bytes.fromhex(case["message"]), bytes.fromhex(case["signature"])
    public_key.verify(signature, message)
    assert not _accepts(public_key, signature, message + b"\x00")


def test_the_rfc8032_sha_abc_message_is_the_sha512_of_abc() -> None:
    import hashlib

    (case,) = [case for case in RFC8032 if case["name"] == "TEST SHA(abc)"]
    assert case["message"] == hashlib.sha512(b"abc").hexdigest()


# --- ed25519-speccheck ------------------------------------------------------------------------

SPECCHECK = _load_json("ed25519-speccheck/cases.json")
# The verdicts of pyca/cryptography (OpenSSL), row by row; see tests/vectors/README.md.
SPECCHECK_VERDICTS = ["V", "V", "V", "V", "X", "X", "X", "X", "X", "X", "X", "V"]


def test_the_speccheck_file_holds_twelve_cases() -> None:
    assert len(SPECCHECK) == len(SPECCHECK_VERDICTS) == 12


@pytest.mark.parametrize(
    ("index", "expected"), list(enumerate(SPECCHECK_VERDICTS)), ids=lambda v: str(v)
)
def test_cryptography_keeps_its_pinned_speccheck_verdict(index: int, expected: str) -> None:
    case = SPECCHECK[index]
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(case["pub_key"]))
    accepted = _accepts(
        public_key, bytes.fromhex(case["signature"]), bytes.fromhex(case["message"])
    )
    assert ("V" if accepted else "X") == expected


# --- RFC 8785 (JCS) ---------------------------------------------------------------------------

JCS = VECTORS / "json-canonicalization" / "testdata"
JCS_NAMES = ["arrays", "french", "structures", "unicode", "values", "weird"]
# Cases whose input holds a non-integer JSON number (56.0 in structures; five in values).
JCS_FLOAT_NAMES = {"structures", "values"}


def _jcs(name: str) -> tuple[Any, bytes, bytes]:
    parsed = json.loads((JCS / "input" / f"{name}.json").read_text(encoding="utf-8"))
    output = (JCS / "output" / f"{name}.json").read_bytes()
    outhex = bytes.fromhex((JCS / "outhex" / f"{name}.txt").read_text(encoding="ascii"))
    return parsed, output, outhex


def _holds_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_holds_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_float(item) for item in value)
    return False


def test_the_jcs_test_data_has_exactly_the_six_cases() -> None:
    for directory, suffix in (("input", ".json"), ("output", ".json"), ("outhex", ".txt")):
        names = sorted(p.name.removesuffix(suffix) for p in (JCS / directory).iterdir())
        assert names == JCS_NAMES


@pytest.mark.parametrize("name", JCS_NAMES)
def test_rfc8785_produces_the_reference_bytes(name: str) -> None:
    parsed, output, outhex = _jcs(name)
    assert output == outhex
    assert rfc8785.dumps(parsed) == output


@pytest.mark.parametrize("name", JCS_NAMES)
def test_a_jcs_case_holds_floats_only_if_it_is_listed_as_a_float_case(name: str) -> None:
    parsed, _, _ = _jcs(name)
    assert _holds_float(parsed) == (name in JCS_FLOAT_NAMES)


@pytest.mark.parametrize("name", sorted(set(JCS_NAMES) - JCS_FLOAT_NAMES))
def test_canonical_bytes_produces_the_reference_bytes(name: str) -> None:
    parsed, output, outhex = _jcs(name)
    assert entry.canonical_bytes(parsed) == output == outhex


@pytest.mark.parametrize("name", sorted(JCS_FLOAT_NAMES))
def test_canonical_bytes_refuses_a_jcs_case_with_floats(name: str) -> None:
    parsed, _, _ = _jcs(name)
    with pytest.raises(VerificationError, match="floats"):
        entry.canonical_bytes(parsed)


@pytest.mark.parametrize("name", ["french", "unicode", "weird"])
def test_load_accepts_the_reference_output_as_canonical_text(name: str) -> None:
    _, output, _ = _jcs(name)
    signature = base64.b64encode(bytes(64)).decode("ascii")
    loaded = entry.load(output.decode("utf-8"), signature)
    assert loaded.text.encode("utf-8") == output
    assert loaded.hash == entry.entry_hash(output, bytes(64))


@pytest.mark.parametrize("name", ["french", "unicode", "weird"])
def test_load_refuses_the_reference_input_as_not_canonical(name: str) -> None:
    text = (JCS / "input" / f"{name}.json").read_text(encoding="utf-8")
    signature = base64.b64encode(bytes(64)).decode("ascii")
    with pytest.raises(VerificationError, match="canonical"):
        entry.load(text, signature)


def test_the_openssh_line_built_by_hand_matches_the_one_cryptography_writes() -> None:
    public_key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    written = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")
    assert _openssh_line(public_key.public_bytes_raw()) == written
