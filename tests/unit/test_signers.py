"""Several signers per party: signer.added, signer.removed, and keys per signer.

A party is an organisation; each of its current signers (a label and a key) may sign for
it. Policies count parties, never people. The project used throughout: acme proposes (seq 1),
burgerco and veggie join (seqs 2 and 3), approval and close policy "all".
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from commands.reporting import render_html, render_markdown
from ledger import entry, rules
from ledger.application import Ledger, Receipt
from ledger.codec import decode_core, encode_core
from ledger.errors import (
    AlreadyDecidedError,
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.rules.schema import check_entry
from projections import audit
from projections.replay import Replay
from projections.report import report_data
from relay.auth import Message, check_signer, reader_keys
from relay.cosigning import cosigner_keys

SLUG = "no-whopper-day"
DUE = "2026-12-01"


def person(handle: str, seed: int) -> Signer:
    """Another person's key for ``handle`` (seeds 1-4 are the fixture's parties)."""
    return Signer(
        handle=handle,
        key_name=f"{handle}-{seed}",
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32),
    )


def hashes(ledger: Ledger) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(SLUG)]


def refused(
    ledger: Ledger, error: type[LedgerError], message: str, action: Callable[[], Any]
) -> LedgerError:
    """Run ``action``: exactly ``error`` with ``message``, and the stream unchanged."""
    before = hashes(ledger)
    with pytest.raises(error) as info:
        action()
    assert type(info.value) is error
    assert info.value.message == message
    assert hashes(ledger) == before
    return info.value


def pledge(ledger: Ledger, signer: Signer, beneficiaries: list[str] | None = None) -> Receipt:
    return ledger.add_pledge(
        SLUG,
        title="Campaign video",
        weight="30",
        unit="hours",
        due=DUE,
        beneficiaries=beneficiaries,
        signer=signer,
    )


def add(ledger: Ledger, label: str, new: Signer, by: Signer) -> Receipt:
    return ledger.add_signer(SLUG, label=label, public_key=new.public_key_line, signer=by)


def remove(ledger: Ledger, label: str, by: Signer) -> Receipt:
    return ledger.remove_signer(SLUG, label=label, reason="left the company", signer=by)


@pytest.fixture
def ledger(memory_ledger: Ledger, signers: dict[str, Signer]) -> Ledger:
    memory_ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="A joint campaign",
        members={"burgerco": None, "veggie": None},
        approval="all",
        close="all",
        signer=signers["acme"],
    )
    memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    memory_ledger.join_project(SLUG, signer=signers["veggie"])
    return memory_ledger


ALICE = person("acme", 11)
BOB = person("burgerco", 12)


# --- adding a signer --------------------------------------------------------------------------


def test_a_party_starts_with_one_signer_labelled_with_its_handle(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    state = ledger.get_state(SLUG)
    acme = state.members["acme"]
    assert list(acme.signers) == ["acme"]
    seat = acme.signers["acme"]
    assert (seat.label, seat.key, seat.public_key, seat.since_seq) == (
        "acme", signers["acme"].fingerprint, signers["acme"].public_key_line, 1,
    )  # fmt: skip
    assert state.members["veggie"].signers["veggie"].since_seq == 3


def test_a_second_signers_entries_are_accepted_and_name_the_person(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    receipt = add(ledger, "alice", ALICE, signers["acme"])
    assert (receipt.seq, receipt.type, receipt.by, receipt.key) == (
        4, "signer.added", "acme", signers["acme"].fingerprint,
    )  # fmt: skip
    assert receipt.subject == {
        "party": "acme",
        "label": "alice",
        "key": ALICE.fingerprint,
        "signers": ["acme", "alice"],
    }
    receipt = pledge(ledger, ALICE)  # alice signs for acme
    assert (receipt.seq, receipt.by, receipt.key) == (5, "acme", ALICE.fingerprint)
    state = ledger.get_state(SLUG)
    assert state.pledges[5].by == "acme"
    assert state.labels[ALICE.fingerprint] == "alice"
    assert state.members["acme"].current_keys() == {
        signers["acme"].fingerprint: signers["acme"].public_key_line,
        ALICE.fingerprint: ALICE.public_key_line,
    }
    rows = audit.trail(ledger, SLUG)
    assert [(r.seq, r.party, r.signer, r.summary) for r in rows[3:]] == [
        (4, "acme", "acme", f"added signer alice (key {ALICE.fingerprint})"),
        (5, "acme", "alice", f'pledged "Campaign video": 30 hours to burgerco, veggie, due {DUE}'),
    ]  # fmt: skip
    assert [(e.by, e.signer) for e in ledger.verified.timeline(SLUG, upto=5)][3:] == [
        ("acme", "acme"),
        ("acme", "alice"),
    ]
    # A replay from the log alone reaches the same signers.
    replayed = rules.replay(SLUG, [s.entry for s in ledger.read_entries(SLUG)])
    assert replayed.members["acme"].signers == state.members["acme"].signers


def test_a_signer_added_by_the_new_signer_itself_is_refused(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    refused(
        ledger,
        KeyNotValidError,
        f"key {ALICE.fingerprint} is not a current key of 'acme'",
        lambda: add(ledger, "alice", ALICE, ALICE),
    )


def test_a_label_is_unique_among_a_partys_current_signers(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    other = person("acme", 13)
    refused(
        ledger,
        RuleViolationError,
        f"'acme' already has a signer labelled 'alice' (key {ALICE.fingerprint})",
        lambda: add(ledger, "alice", other, signers["acme"]),
    )
    refused(
        ledger,
        RuleViolationError,
        f"'acme' already has a signer labelled 'acme' (key {signers['acme'].fingerprint})",
        lambda: add(ledger, "acme", other, ALICE),
    )
    # Another party may use the same label.
    assert add(ledger, "alice", BOB, signers["burgerco"]).seq == 5


def test_a_key_serves_one_signer_of_one_party_only(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    refused(
        ledger,
        RuleViolationError,
        f"key {signers['veggie'].fingerprint} was used in this project before (by 'veggie'); "
        "a key serves one signer only",
        lambda: add(ledger, "val", signers["veggie"], signers["acme"]),
    )
    refused(
        ledger,
        RuleViolationError,
        f"key {signers['acme'].fingerprint} was used in this project before (by 'acme'); "
        "a key serves one signer only",
        lambda: add(ledger, "again", signers["acme"], signers["acme"]),
    )


def test_a_label_and_a_key_are_checked_before_signing(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    refused(
        ledger,
        UsageError,
        "signer label 'Alice' is not valid",
        lambda: add(ledger, "Alice", ALICE, signers["acme"]),
    )
    refused(
        ledger,
        UsageError,
        "the signer's public key is not usable: public key is not an 'ssh-ed25519 AAAA...' line",
        lambda: ledger.add_signer(
            SLUG, label="alice", public_key="ssh-rsa AAAA", signer=signers["acme"]
        ),
    )
    # A comment after the key (as `accord key show` prints it) is dropped from the entry.
    receipt = ledger.add_signer(
        SLUG,
        label="alice",
        public_key=f"{ALICE.public_key_line} alice@acme",
        signer=signers["acme"],
    )
    [stored] = [s.entry for s in ledger.read_entries(SLUG) if s.entry.seq == receipt.seq]
    assert stored.body == {"label": "alice", "public_key": ALICE.public_key_line}


def test_the_body_of_a_signer_entry_has_exactly_its_fields() -> None:
    base: dict[str, Any] = {
        "v": 1, "project": SLUG, "seq": 4, "prev": "0" * 64, "type": "signer.added",
        "by": "acme", "key": ALICE.fingerprint, "at": "2026-11-22T10:00:00Z",
    }  # fmt: skip
    check_entry({**base, "body": {"label": "alice", "public_key": ALICE.public_key_line}})
    check_entry({**base, "type": "signer.removed", "body": {"label": "alice", "reason": "gone"}})
    for body in (
        {"label": "Alice", "public_key": ALICE.public_key_line},
        {"label": "alice", "public_key": f"{ALICE.public_key_line} comment"},
        {"label": "alice"},
        {"label": "alice", "public_key": ALICE.public_key_line, "extra": 1},
    ):
        with pytest.raises(VerificationError):
            check_entry({**base, "body": body})
    with pytest.raises(VerificationError):
        check_entry({**base, "type": "signer.removed", "body": {"label": "alice", "reason": " "}})


# --- removing a signer ------------------------------------------------------------------------


def test_a_removed_signers_later_entries_are_refused_and_its_earlier_ones_stay_valid(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    pledge(ledger, ALICE)  # seq 5
    receipt = remove(ledger, "alice", signers["acme"])  # seq 6
    assert (receipt.seq, receipt.type) == (6, "signer.removed")
    assert receipt.subject == {
        "party": "acme",
        "label": "alice",
        "key": ALICE.fingerprint,
        "signers": ["acme"],
    }
    error = refused(
        ledger,
        KeyNotValidError,
        f"key {ALICE.fingerprint} belongs to signer 'alice', removed from 'acme' at seq 6",
        lambda: pledge(ledger, ALICE),
    )
    assert error.seq == 7
    state = ledger.get_state(SLUG)
    assert state.removed == {ALICE.fingerprint: 6}
    assert state.revoked == {}
    assert list(state.members["acme"].signers) == ["acme"]
    assert state.pledges[5].by == "acme"  # what alice signed stays
    replayed = rules.replay(SLUG, [s.entry for s in ledger.read_entries(SLUG)])
    assert replayed.removed == {ALICE.fingerprint: 6}
    # The removed key never comes back, not even for another label.
    refused(
        ledger,
        RuleViolationError,
        f"key {ALICE.fingerprint} was used in this project before (by 'acme'); "
        "a key serves one signer only",
        lambda: add(ledger, "alice2", ALICE, signers["acme"]),
    )
    # The label is free again, for a new key.
    assert add(ledger, "alice", person("acme", 14), signers["acme"]).seq == 7


def test_a_signer_may_remove_another_or_itself_but_never_the_last(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    refused(
        ledger,
        RuleViolationError,
        "'acme' is the last signer of 'acme'; a party cannot remove its last signer",
        lambda: remove(ledger, "acme", signers["acme"]),
    )
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    assert remove(ledger, "acme", ALICE).seq == 5  # alice removes the founder's key
    refused(
        ledger,
        KeyNotValidError,
        f"key {signers['acme'].fingerprint} belongs to signer 'acme', removed from 'acme' at seq 5",
        lambda: remove(ledger, "alice", signers["acme"]),
    )
    refused(
        ledger,
        RuleViolationError,
        "'alice' is the last signer of 'acme'; a party cannot remove its last signer",
        lambda: remove(ledger, "alice", ALICE),
    )


def test_removing_an_unknown_label_or_another_partys_signer_is_not_found(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "bob", BOB, signers["burgerco"])  # seq 4
    refused(
        ledger,
        NotFoundError,
        f"'acme' has no current signer labelled 'bob' in project {SLUG!r}",
        lambda: remove(ledger, "bob", signers["acme"]),
    )
    refused(
        ledger,
        UsageError,
        "the reason must not be empty",
        lambda: ledger.remove_signer(SLUG, label="bob", reason=" ", signer=signers["burgerco"]),
    )


# --- policies count parties, never people -----------------------------------------------------


def test_two_signers_of_one_party_count_one_approval(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "bob", BOB, signers["burgerco"])  # seq 4
    pledge(ledger, signers["acme"])  # seq 5, to burgerco and veggie
    ledger.deliver(SLUG, 5, summary="Done", quantity="30", evidence=[], signer=signers["acme"])
    # bob approves deliverable 6 for burgerco (seq 7); burgerco's founder cannot add a second.
    receipt = ledger.approve(SLUG, 6, comment="", signer=BOB)
    assert receipt.subject is not None
    assert (receipt.subject["approvals"], receipt.subject["approvals_needed"]) == (1, 2)
    refused(
        ledger,
        AlreadyDecidedError,
        "'burgerco' already approved seq 6 (seq 7, by burgerco (bob) at 2026-11-22T10:07:00Z)",
        lambda: ledger.approve(SLUG, 6, comment="", signer=signers["burgerco"]),
    )
    refused(
        ledger,
        AlreadyDecidedError,
        "'burgerco' already approved seq 6 (seq 7, by burgerco (bob) at 2026-11-22T10:07:00Z)",
        lambda: ledger.reject(SLUG, 6, reason="changed my mind", signer=signers["burgerco"]),
    )
    assert ledger.get_state(SLUG).decisions[6].status == rules.PENDING
    receipt = ledger.approve(SLUG, 6, comment="", signer=signers["veggie"])
    state = ledger.get_state(SLUG)
    assert state.decisions[6].status == rules.ACCEPTED
    assert state.decisions[6].approvals == {"burgerco": 7, "veggie": 8}


def test_a_party_cannot_approve_its_own_work_through_another_signer(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    pledge(ledger, signers["veggie"], ["acme"])  # seq 5
    ledger.deliver(SLUG, 5, summary="Done", quantity="1", evidence=[], signer=signers["veggie"])
    pledge(ledger, signers["acme"])  # seq 7
    ledger.deliver(SLUG, 7, summary="Done", quantity="1", evidence=[], signer=ALICE)  # seq 8
    refused(
        ledger,
        RuleViolationError,
        "'acme' cannot approve or reject its own deliverable (seq 8)",
        lambda: ledger.approve(SLUG, 8, comment="", signer=signers["acme"]),
    )


def test_one_close_signature_per_party_whoever_signs_it(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    state = ledger.get_state(SLUG)
    assert state.closes_needed() == 3  # parties, not signers
    ledger.sign_close(SLUG, signer=ALICE)  # seq 5
    refused(
        ledger,
        AlreadyDecidedError,
        "'acme' already signed the close of head seq 4 "
        "(seq 5, by acme (alice) at 2026-11-22T10:05:00Z)",
        lambda: ledger.sign_close(SLUG, signer=signers["acme"]),
    )
    ledger.sign_close(SLUG, signer=signers["burgerco"])
    receipt = ledger.sign_close(SLUG, signer=signers["veggie"])
    assert receipt.status == rules.CLOSED
    assert ledger.get_state(SLUG).close_signatures == {"acme": 5, "burgerco": 6, "veggie": 7}


def test_statement_signatures_count_one_per_party(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    ledger.propose_statement(SLUG, title="We", text="Together.", signer=signers["acme"])  # 5
    ledger.sign_statement(SLUG, 5, signer=ALICE)  # seq 6
    refused(
        ledger,
        AlreadyDecidedError,
        "'acme' already signed version 1 of statement 5 "
        "(seq 6, by acme (alice) at 2026-11-22T10:06:00Z)",
        lambda: ledger.sign_statement(SLUG, 5, signer=signers["acme"]),
    )


# --- rotation and revocation, per key ---------------------------------------------------------


def test_rotating_replaces_only_the_signing_key_and_keeps_its_label(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    laptop = person("acme", 15)
    ledger.rotate_key(SLUG, new_public_key=laptop.public_key_line, signer=ALICE)  # seq 5
    acme = ledger.get_state(SLUG).members["acme"]
    assert {label: s.key for label, s in acme.signers.items()} == {
        "acme": signers["acme"].fingerprint,
        "alice": laptop.fingerprint,
    }
    assert acme.signers["alice"].since_seq == 5
    assert acme.keys == [signers["acme"].fingerprint, ALICE.fingerprint, laptop.fingerprint]
    refused(
        ledger,
        KeyNotValidError,
        f"key {ALICE.fingerprint} was replaced by a newer key",
        lambda: pledge(ledger, ALICE),
    )
    assert pledge(ledger, laptop).seq == 6
    assert audit.trail(ledger, SLUG)[5].signer == "alice"
    assert pledge(ledger, signers["acme"]).seq == 7  # the founder's key is untouched


def test_revoking_a_key_removes_its_signer_and_a_replacement_keeps_the_label(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    ledger.revoke_key(
        SLUG, ALICE.fingerprint, reason="laptop stolen", replacement=None, signer=ALICE
    )  # seq 5
    state = ledger.get_state(SLUG)
    assert list(state.members["acme"].signers) == ["acme"]
    assert (state.revoked, state.removed) == ({ALICE.fingerprint: 5}, {})
    refused(
        ledger,
        KeyNotValidError,
        f"key {ALICE.fingerprint} was revoked at seq 5",
        lambda: pledge(ledger, ALICE),
    )
    replacement = person("acme", 16)
    ledger.revoke_key(
        SLUG,
        signers["acme"].fingerprint,
        reason="leaked",
        replacement=replacement.public_key_line,
        signer=signers["acme"],
    )  # seq 6
    acme = ledger.get_state(SLUG).members["acme"]
    assert {label: s.key for label, s in acme.signers.items()} == {"acme": replacement.fingerprint}


# --- the verified state and the relay ---------------------------------------------------------


def test_the_verified_state_keeps_signers_labels_and_removals(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    add(ledger, "carol", person("acme", 17), ALICE)  # seq 5
    remove(ledger, "carol", ALICE)  # seq 6
    state = ledger.get_state(SLUG)
    restored = rules.new_state(SLUG)
    decode_core(SLUG, json.loads(json.dumps(encode_core(state))), restored)
    assert restored.members == state.members
    assert (restored.labels, restored.removed) == (state.labels, state.removed)


def test_the_relay_reads_and_cosigns_with_every_current_signer_and_no_removed_one(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    state = ledger.get_state(SLUG)
    keys, handles = reader_keys(state, Message("GET", "https://relay.test/", ()))
    assert handles[ALICE.fingerprint] == handles[signers["acme"].fingerprint] == "acme"
    assert sorted(f for f, _ in cosigner_keys(state)["acme"].values()) == sorted(
        [ALICE.fingerprint, signers["acme"].fingerprint]
    )
    signed = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 5,
            "prev": state.head,
            "type": "pledge.withdrawn",
            "by": "acme",
            "key": ALICE.fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"pledge": 4, "reason": "x"},
        },
        ALICE.private_key,
    )
    check_signer(state, signed)  # a current signer's entry may learn the checkpoint
    remove(ledger, "alice", signers["acme"])  # seq 5
    state = ledger.get_state(SLUG)
    keys, handles = reader_keys(state, Message("GET", "https://relay.test/", ()))
    assert ALICE.fingerprint not in keys
    assert [f for f, _ in cosigner_keys(state)["acme"].values()] == [signers["acme"].fingerprint]
    with pytest.raises(KeyNotValidError):
        check_signer(state, signed)


def test_a_forged_signer_added_signed_by_its_own_key_learns_nothing_from_the_relay(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    state = ledger.get_state(SLUG)
    mallory = person("burgerco", 18)  # burgerco's seat is unpinned
    forged = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 3,
            "prev": state.head,
            "type": "signer.added",
            "by": "burgerco",
            "key": mallory.fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"label": "mallory", "public_key": mallory.public_key_line},
        },
        mallory.private_key,
    )
    with pytest.raises(KeyNotValidError):
        check_signer(state, forged)
    before = copy.deepcopy(state)
    with pytest.raises(VerificationError):
        rules.apply(state, forged)  # seq 3 is taken
    assert state == before


# --- the close report -------------------------------------------------------------------------


def test_the_close_report_names_each_person_and_the_removed_signers(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    add(ledger, "alice", ALICE, signers["acme"])  # seq 4
    pledge(ledger, ALICE)  # seq 5
    add(ledger, "carol", person("acme", 19), ALICE)  # seq 6
    remove(ledger, "alice", signers["acme"])  # seq 7
    for closer in (person("acme", 19), signers["burgerco"], signers["veggie"]):
        ledger.sign_close(SLUG, signer=closer, accept_open=[5])  # 8: carol closes for acme
    data = report_data(Replay.build(ledger, SLUG))
    [acme] = [p for p in data.as_row()["parties"] if p["handle"] == "acme"]
    assert acme["signers"] == [
        {"label": "acme", "key": signers["acme"].fingerprint, "since_seq": 1},
        {"label": "carol", "key": person("acme", 19).fingerprint, "since_seq": 6},
    ]
    assert acme["removed_signers"] == [
        {"label": "alice", "key": ALICE.fingerprint, "removed_seq": 7}
    ]
    assert [(t["seq"], t["party"], t["signer"]) for t in data.as_row()["timeline"][3:8]] == [
        (4, "acme", "acme"),
        (5, "acme", "alice"),
        (6, "acme", "alice"),
        (7, "acme", "acme"),
        (8, "acme", "carol"),
    ]
    assert data.as_row()["close"]["signatures"][0]["signer"] == "carol"
    markdown = render_markdown(data)
    assert re.search(r"\| 5 +\| [^|]+\| acme \(alice\) +\| pledge\.made ", markdown)
    assert "| removed signer alice: left the company" in markdown
    assert re.search(
        r"\| acme +\| joined \| [^|]+\| acme: SHA256:\S+, carol: SHA256:\S+ +"
        r"\| alice \(seq 7\)",
        markdown,
    )
    assert "<td>acme (carol)</td>" in render_html(data)


def test_a_key_pinned_to_an_invitees_seat_cannot_be_taken_before_it_joins(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    memory_ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="",
        members={"burgerco": None, "veggie": signers["veggie"].fingerprint},
        approval="all",
        close="all",
        signer=signers["acme"],
    )
    refused(
        memory_ledger,
        RuleViolationError,
        f"key {signers['veggie'].fingerprint} is pinned to the seat of 'veggie', who has not "
        "joined yet",
        lambda: add(memory_ledger, "val", signers["veggie"], signers["acme"]),
    )
    refused(
        memory_ledger,
        RuleViolationError,
        f"key {signers['veggie'].fingerprint} is pinned to the seat of 'veggie', who has not "
        "joined yet",
        lambda: memory_ledger.rotate_key(
            SLUG, new_public_key=signers["veggie"].public_key_line, signer=signers["acme"]
        ),
    )
    assert memory_ledger.join_project(SLUG, signer=signers["veggie"]).seq == 2


@pytest.mark.parametrize("handle", ["acme", "burgerco"])
def test_a_forged_join_carrying_a_non_current_key_learns_nothing_from_the_relay(
    ledger: Ledger, signers: dict[str, Signer], handle: str
) -> None:
    # The key in a join's body counts only for an invitee taking its seat: a stranger's key
    # (or a removed or rotated-away one) on a joined member's seat gets no checkpoint.
    state = ledger.get_state(SLUG)
    stranger = person(handle, 19)
    forged = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 3,
            "prev": state.head,
            "type": "member.joined",
            "by": handle,
            "key": stranger.fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"terms": state.terms, "public_key": stranger.public_key_line},
        },
        stranger.private_key,
    )
    assert state.members[handle].status == rules.JOINED
    with pytest.raises(KeyNotValidError, match="is not a current key of"):
        check_signer(state, forged)
