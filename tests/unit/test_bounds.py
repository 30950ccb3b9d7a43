"""The bounds of format v1 (docs/format.md "Bounds"): an entry's size, the lists in its body
and the signers of a party, checked by the rules (append, replay, verify, the relay) and
before anything is signed (the application)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.application import Ledger
from ledger.errors import RuleViolationError, UsageError
from ledger.evidence import Evidence
from ledger.fold import verify_stream
from ledger.keys import Signer
from ledger.rows import Row
from ledger.rules import schema
from ledger.rules.membership import new_invites

SLUG = "spring-campaign"
EMOJI = "\U0001f600"  # 4 bytes in UTF-8
ENTRY_SIZE_HINT = (
    "shorten its texts: an entry holds at most 512 KiB of canonical JSON (UTF-8, where a "
    "character outside ASCII takes 2 to 4 bytes)"
)
MEMBERS_HINT = (
    "a project has at most 64 members, the proposer included: propose a smaller collaboration"
)


def started(ledger: Ledger, signers: dict[str, Signer]) -> None:
    ledger.propose_project(
        SLUG, title="Spring", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])


def signed(
    state: rules.ProjectState, signer: Signer, kind: str, body: dict[str, Any]
) -> entry_mod.SignedEntry:
    """An entry after ``state`` signed with the member's own key, past the application."""
    data = {
        "v": 1, "project": state.slug, "seq": state.seq + 1, "prev": state.head, "type": kind,
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T11:00:00Z",
        "body": body,
    }  # fmt: skip
    return entry_mod.sign(data, signer.private_key)


def proposal(signer: Signer, others: int) -> entry_mod.SignedEntry:
    """A proposal by ``signer`` listing ``others`` unpinned members besides itself."""
    members = [{"handle": signer.handle, "key": signer.fingerprint}] + [
        {"handle": f"m{n:05d}", "key": None} for n in range(others)
    ]
    body = {
        "title": "Big", "purpose": "", "members": sorted(members, key=lambda m: m["handle"]),
        "approval": "all", "close": "all", "public_key": signer.public_key_line,
    }  # fmt: skip
    return signed(rules.new_state(SLUG), signer, "project.proposed", body)


def size_of(item: entry_mod.SignedEntry) -> int:
    return len(item.text.encode("utf-8"))


# --- the bounds themselves ------------------------------------------------------------------


def test_a_statement_of_the_longest_text_in_four_byte_characters_fits_one_entry() -> None:
    text = EMOJI * fmt.MAX_TEXT
    data = {
        "v": 1, "project": SLUG, "seq": 9, "prev": "0" * 64, "type": "statement.revised",
        "by": "acme", "key": "SHA256:" + "A" * 43, "at": "2026-11-22T11:00:00Z",
        "body": {"statement": 5, "text": text, "reason": "Typo " * 1000},
    }  # fmt: skip
    size = len(entry_mod.canonical_bytes(data))

    assert 4 * fmt.MAX_TEXT < size <= fmt.MAX_ENTRY_BYTES == 524_288
    schema.check_bounds(data, size)


def test_an_entry_one_byte_over_the_bound_is_a_rule_violation_naming_its_size() -> None:
    data = {"type": "statement.proposed", "seq": 7, "body": {}}
    schema.check_bounds(data, fmt.MAX_ENTRY_BYTES)

    with pytest.raises(RuleViolationError) as info:
        schema.check_bounds(data, fmt.MAX_ENTRY_BYTES + 1)

    assert info.value.message == (
        "the statement takes 524,289 bytes, more than the 524,288 bytes an entry may hold"
    )
    assert (info.value.seq, info.value.hint) == (7, ENTRY_SIZE_HINT)


@pytest.mark.parametrize(
    ("kind", "name", "most", "message"),
    [
        ("project.proposed", "members", 64, "the project proposal lists 65 members, more "
         "than the 64 it may list"),
        ("pledge.made", "beneficiaries", 63, "the pledge lists 64 beneficiaries, more than "
         "the 63 it may list"),
        ("deliverable.submitted", "evidence", 100, "the deliverable lists 101 evidence files, "
         "more than the 100 it may list"),
    ],
)  # fmt: skip
def test_every_list_of_a_body_has_a_bound(kind: str, name: str, most: int, message: str) -> None:
    schema.check_bounds({"type": kind, "seq": 1, "body": {name: [None] * most}}, 100)

    with pytest.raises(RuleViolationError) as info:
        schema.check_bounds({"type": kind, "seq": 1, "body": {name: [None] * (most + 1)}}, 100)

    assert info.value.message == message


def test_every_list_in_a_body_schema_is_bounded() -> None:
    """A new list in a body must get a bound: a list field is one whose check takes a list."""
    samples: list[Any] = [[], ["acme"], [{"handle": "acme", "key": None}]]
    schemas = [*schema.BODY_SCHEMAS.items(), *schema.OPTIONAL_BODY_KEYS.items()]
    lists = {
        (kind, name)
        for kind, schema in schemas
        for name, check in schema.items()
        if any(check(sample) for sample in samples)
    }
    assert lists == {(kind, bound[0]) for kind, bound in schema.LIST_BOUNDS.items()}


# --- the rules: append, replay, verify ------------------------------------------------------


def test_the_rules_refuse_a_signed_entry_over_the_size_bound_and_change_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(memory_ledger, signers)
    state = memory_ledger.verified_state(SLUG)
    big = signed(state, signers["acme"], "statement.proposed", {"title": EMOJI * 40_000,
                 "text": EMOJI * 100_000})  # fmt: skip

    with pytest.raises(RuleViolationError) as info:
        rules.apply(state, big)

    assert info.value.message == (
        f"the statement takes {size_of(big):,} bytes, more than the 524,288 bytes an entry may hold"
    )
    assert (info.value.seq, state.seq) == (3, 2)
    with pytest.raises(RuleViolationError):
        memory_ledger.append_signed(SLUG, [big])
    assert memory_ledger.verified_state(SLUG).seq == 2


def test_a_stored_proposal_with_too_many_members_fails_verification() -> None:
    acme = Signer(
        handle="acme", key_name="acme", private_key=Ed25519PrivateKey.from_private_bytes(b"\1" * 32)
    )
    forged = proposal(acme, 64)  # 65 members
    row = Row(position=1, text=forged.text, sig=forged.sig, hash=forged.hash)

    report = verify_stream(SLUG, [row], workers=1)

    assert not report.sound
    assert [p.as_dict() for p in report.problems] == [
        {
            "seq": 1,
            "kind": "rule",
            "cause": "the project proposal lists 65 members, more than the 64 it may list",
        }
    ]
    assert verify_stream(SLUG, [Row(1, *_row(proposal(acme, 63)))], workers=1).sound


def _row(item: entry_mod.SignedEntry) -> tuple[str, str, str]:
    return item.text, item.sig, item.hash


def test_a_party_has_at_most_sixteen_signers(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(memory_ledger, signers)
    for n in range(1, fmt.MAX_SIGNERS):  # the first signer and 15 more
        key = Ed25519PrivateKey.from_private_bytes(bytes([100 + n]) * 32)
        memory_ledger.add_signer(
            SLUG, label=f"s{n}", public_key=ed25519.public_key_line(key.public_key()),
            signer=signers["acme"],
        )  # fmt: skip
    extra = Ed25519PrivateKey.from_private_bytes(bytes([200]) * 32)

    with pytest.raises(RuleViolationError) as info:
        memory_ledger.add_signer(
            SLUG, label="extra", public_key=ed25519.public_key_line(extra.public_key()),
            signer=signers["acme"],
        )  # fmt: skip

    assert info.value.message == "'acme' has 16 signers already, the most a party may have"
    assert info.value.hint == "remove a signer first (`accord project remove-signer`)"
    state = memory_ledger.verified_state(SLUG)
    assert (state.seq, len(state.members["acme"].signers)) == (17, 16)
    memory_ledger.remove_signer(SLUG, label="s1", reason="left", signer=signers["acme"])
    memory_ledger.add_signer(
        SLUG, label="extra", public_key=ed25519.public_key_line(extra.public_key()),
        signer=signers["acme"],
    )  # fmt: skip
    assert len(memory_ledger.verified_state(SLUG).members["acme"].signers) == 16


# --- the application: refused before anything is signed (exit 2) ----------------------------


def test_a_proposal_with_too_many_members_is_a_usage_error_before_any_invite_is_made(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    members: dict[str, str | None] = {f"m{n:02d}": None for n in range(64)}

    with pytest.raises(UsageError) as made:
        new_invites(members, "acme")
    with pytest.raises(UsageError) as proposed:
        memory_ledger.propose_project(
            SLUG, title="Big", purpose="", members=members, approval="all", close="all",
            signer=signers["acme"],
        )  # fmt: skip

    message = "the project proposal would list 65 members, more than the 64 a project may have"
    for info in (made, proposed):
        assert (info.value.message, info.value.hint) == (message, MEMBERS_HINT)
    assert memory_ledger.list_slugs() == []
    del members["m63"]
    memory_ledger.propose_project(
        SLUG, title="Big", purpose="", members=members, approval="all", close="all",
        signer=signers["acme"],
    )  # fmt: skip
    assert len(memory_ledger.verified_state(SLUG).members) == 64


def test_an_entry_over_the_size_bound_is_a_usage_error_before_it_is_signed(
    memory_ledger: Ledger, signers: dict[str, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    started(memory_ledger, signers)
    signing: list[Any] = []
    monkeypatch.setattr(entry_mod, "sign", lambda *a: signing.append(a))

    with pytest.raises(UsageError) as info:
        memory_ledger.propose_statement(
            SLUG, title=EMOJI * 40_000, text=EMOJI * 100_000, signer=signers["acme"]
        )

    assert info.value.message.startswith("the statement takes 560,")
    assert info.value.message.endswith(" bytes, more than the 524,288 bytes an entry may hold")
    assert info.value.hint == ENTRY_SIZE_HINT
    assert signing == []
    assert memory_ledger.verified_state(SLUG).seq == 2


def test_a_deliverable_with_too_many_evidence_files_is_a_usage_error(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(memory_ledger, signers)
    memory_ledger.add_pledge(
        SLUG, title="Posters", weight="3", unit="hours", due="2099-12-15", beneficiaries=None,
        signer=signers["acme"],
    )  # fmt: skip
    files = [Evidence(name=f"f{n}.pdf", sha256="0" * 64, size=n) for n in range(101)]

    with pytest.raises(UsageError) as info:
        memory_ledger.deliver(
            SLUG, 3, summary="Drafts", quantity="1", evidence=files, signer=signers["acme"]
        )

    assert info.value.message == (
        "the deliverable lists 101 evidence files, more than the 100 it may list"
    )
    assert memory_ledger.verified_state(SLUG).seq == 3
    memory_ledger.deliver(
        SLUG, 3, summary="Drafts", quantity="1", evidence=files[:100], signer=signers["acme"]
    )
    assert memory_ledger.verified_state(SLUG).seq == 4
