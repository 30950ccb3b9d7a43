"""A field of format v1 is exactly its pattern: a trailing newline (which ``$`` lets through
``re.match``) makes it another value, refused by the format, the rules, verify and a replay.

Found by the second reading of issue 20: ``"at": "...Z\\n"`` was accepted (verify said sound,
then ``report`` and the report of a ``close`` exited 1), so were ``"weight": "5\\n"`` (a number
that is not canonical), a handle, a slug, hashes, fingerprints and key lines with a newline.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import keys as key_store
from ledger.application import Ledger
from ledger.errors import UsageError, VerificationError
from ledger.keys import Signer
from ledger.rules import schema

SLUG = "spring-campaign"
H = "a" * 64
FP = "SHA256:" + "A" * 43
LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + "A" * 43
SIG = "A" * 86 + "=="
PLEDGE = {
    "v": 1, "project": SLUG, "seq": 3, "prev": H, "type": "pledge.made", "by": "acme",
    "key": FP, "at": "2026-11-22T12:00:00Z",
    "body": {"title": "t", "weight": "5", "unit": "h", "due": "2030-01-01",
             "beneficiaries": ["burgerco"]},
}  # fmt: skip
PROPOSAL = {
    **PLEDGE, "seq": 1, "type": "project.proposed",
    "body": {"title": "t", "purpose": "", "approval": "all", "close": "all", "public_key": LINE,
             "members": [{"handle": "acme", "key": FP},
                         {"handle": "burgerco", "key": None, "invite": FP}]},
}  # fmt: skip
JOIN = {
    **PLEDGE, "seq": 2, "type": "member.joined",
    "body": {"terms": H, "public_key": LINE,
             "invite_proof": {"public_key": LINE, "signature": SIG}},
}  # fmt: skip
FIELDS = [
    (PLEDGE, ("project",)),
    (PLEDGE, ("prev",)),
    (PLEDGE, ("by",)),
    (PLEDGE, ("key",)),
    (PLEDGE, ("at",)),
    (PLEDGE, ("body", "weight")),
    (PLEDGE, ("body", "due")),
    (PLEDGE, ("body", "beneficiaries", 0)),
    (PROPOSAL, ("body", "public_key")),
    (PROPOSAL, ("body", "members", 0, "handle")),
    (PROPOSAL, ("body", "members", 0, "key")),
    (PROPOSAL, ("body", "members", 1, "invite")),
    (PROPOSAL, ("body", "close")),
    (JOIN, ("body", "terms")),
    (JOIN, ("body", "invite_proof", "public_key")),
    (JOIN, ("body", "invite_proof", "signature")),
]


def _with_newline(entry: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    data = copy.deepcopy(entry)
    holder: Any = data
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = holder[path[-1]] + "\n"
    return data


@pytest.mark.parametrize(("entry", "path"), FIELDS, ids=[".".join(map(str, p)) for _, p in FIELDS])
def test_a_field_with_a_trailing_newline_is_malformed(
    entry: dict[str, Any], path: tuple[Any, ...]
) -> None:
    schema.check_entry(copy.deepcopy(entry))  # the entry itself is well-formed

    with pytest.raises(VerificationError, match="malformed"):
        schema.check_entry(_with_newline(entry, path))


@pytest.mark.parametrize(
    "pattern",
    [
        fmt.HANDLE_RE, fmt.SLUG_RE, fmt.HASH_RE, fmt.FINGERPRINT_RE, fmt.PUBLIC_KEY_RE,
        fmt.DECIMAL_RE, fmt.DATE_RE, fmt.TIME_RE, fmt.POLICY_RE, fmt.SIGNATURE_RE,
        key_store.KEY_NAME_RE,
    ],
)  # fmt: skip
def test_no_pattern_of_the_format_matches_a_value_with_a_trailing_newline(
    pattern: Any,
) -> None:
    examples = {
        fmt.HANDLE_RE: "acme", fmt.SLUG_RE: SLUG, fmt.HASH_RE: H, fmt.FINGERPRINT_RE: FP,
        fmt.PUBLIC_KEY_RE: LINE, fmt.DECIMAL_RE: "12.5", fmt.DATE_RE: "2030-01-01",
        fmt.TIME_RE: "2026-11-22T12:00:00Z", fmt.POLICY_RE: "2", fmt.SIGNATURE_RE: SIG,
        key_store.KEY_NAME_RE: "acme-2026",
    }  # fmt: skip
    assert pattern.match(examples[pattern])
    assert pattern.match(examples[pattern] + "\n") is None


def test_a_signed_entry_claiming_a_time_with_a_newline_is_refused_and_changes_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    memory_ledger.propose_project(
        SLUG, title="Spring", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    state = memory_ledger.verified_state(SLUG)
    acme = signers["acme"]
    data = {
        "v": 1, "project": SLUG, "seq": 3, "prev": state.head, "type": "statement.proposed",
        "by": "acme", "key": acme.fingerprint, "at": "2026-11-22T12:00:00Z\n",
        "body": {"title": "T", "text": "x"},
    }  # fmt: skip
    item = entry_mod.sign(data, acme.private_key)

    with pytest.raises(VerificationError) as info:
        memory_ledger.append_signed(SLUG, [item])

    assert info.value.message == "entry field 'at' is malformed"
    assert info.value.seq == 3
    assert memory_ledger.verified_state(SLUG).seq == 2


def test_a_key_name_with_a_trailing_newline_is_not_valid() -> None:
    with pytest.raises(UsageError):
        key_store.check_key_name("acme\n")
