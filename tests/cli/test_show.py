"""``accord show SLUG SEQ``: one entry in full, and refusals of decisions already taken.

The project of the ``with_pledge`` fixture: acme proposes (1), burgerco and veggie join (2, 3),
acme pledges 30 hours of posters to burgerco (4) and delivers 10 of them (5).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_helpers import (
    FP,
    Accord,
    already,
    assert_matches,
    assert_refused,
    assert_refused_like,
    assert_usage_error,
)

S = "spring-campaign"
POSTERS = "4 'Design the posters' by acme to burgerco"
SHA = hashlib.sha256(b"posters").hexdigest()
HOSTILE = "Final \x1b[31mposters\nForged: line"


@pytest.fixture
def disputed(initialised: Accord, with_pledge: str, tmp_path: Path) -> Accord:
    """6 acme delivers 20 more (hostile summary, evidence), 7 burgerco rejects it, 8 acme
    asks to amend pledge 4, 9 acme disputes the rejection, 10 burgerco signs dismissed."""
    accord = initialised
    (tmp_path / "posters.pdf").write_bytes(b"posters")
    accord.ok(
        "deliver", S, "4", "--summary", HOSTILE, "--quantity", "20", "--evidence",
        "posters.pdf", "--as", "acme",
    )  # fmt: skip
    accord.ok("reject", S, "6", "--reason", "Old logo", "--as", "burgerco")
    accord.ok(
        "pledge", "amend", S, "4", "--weight", "40", "--due", "2099-12-31", "--reason",
        "Bigger run", "--as", "acme",
    )  # fmt: skip
    accord.ok("dispute", S, "7", "--reason", "The logo is new", "--as", "acme")
    accord.ok(
        "resolve", S, "9", "--outcome", "dismissed", "--reason", "It is old", "--as", "burgerco"
    )
    return accord


def test_a_pending_deliverable_shows_what_it_waits_for(initialised: Accord, with_pledge: str):
    assert_matches(
        initialised.ok("show", S, "5").stdout,
        f"""{S} seq 5: a deliverable (deliverable.submitted)
signed by    acme, key {FP["acme"]}
claimed at   <time>
hash         <hash>
pledge       {POSTERS}
quantity     10 hours
summary      Poster drafts
evidence     none
status       pending: 0 of 1 approvals
waiting for  burgerco to approve or reject
""",
    )


def test_a_deliverable_in_full_partner_text_made_safe(disputed: Accord) -> None:
    assert_matches(
        disputed.ok("show", S, "6").stdout,
        f"""{S} seq 6: a deliverable (deliverable.submitted)
signed by   acme, key {FP["acme"]}
claimed at  <time>
hash        <hash>
pledge      {POSTERS}
quantity    20 hours
summary     Final \\x1b[31mposters\\nForged: line
evidence    posters.pdf (7 bytes, SHA-256 {SHA})
disputes    seq 9 (open)
status      rejected at seq 7 by burgerco; disputed: dispute seq 9 is open
decided     burgerco rejected (seq 7, by burgerco at <time>): Old logo
""",
    )


def test_the_json_of_an_entry_is_exact_with_stable_keys(disputed: Accord) -> None:
    trail = {row["seq"]: row for row in disputed.json("trail", S)}
    shown = disputed.json("show", S, "6")
    assert shown == {
        "project": S,
        "seq": 6,
        "type": "deliverable.submitted",
        "noun": "a deliverable",
        "by": "acme",
        "signer": "acme",
        "signed_by": "acme",
        "key": FP["acme"],
        "at": trail[6]["at"],
        "hash": trail[6]["hash"],
        "prev": trail[5]["hash"],
        "summary": f'delivered 20 hours on pledge 4: "{HOSTILE}", 1 evidence file',
        "body": {
            "pledge": 4,
            "summary": HOSTILE,
            "quantity": "20",
            "evidence": [{"name": "posters.pdf", "sha256": SHA, "size": 7}],
        },
        "details": {
            "pledge": 4,
            "quantity": "20",
            "unit": "hours",
            "summary": HOSTILE,
            "evidence": [{"name": "posters.pdf", "size": 7, "sha256": SHA}],
            "disputes": [9],
        },
        "status": "rejected",
        "status_text": "rejected at seq 7 by burgerco; disputed: dispute seq 9 is open",
        "waiting_for": [],
        "decisions": [
            {
                "party": "burgerco",
                "decision": "rejected",
                "seq": 7,
                "signer": "burgerco",
                "signed_by": "burgerco",
                "at": trail[7]["at"],
                "note": "Old logo",
            }
        ],
    }
    assert "\x1b" not in disputed.ok("show", S, "6", "--format", "json").stdout  # as \u001b


def test_an_amendment_shows_its_old_and_new_values(disputed: Accord) -> None:
    template = f"""{S} seq 8: an amendment (pledge.amended)
signed by    acme, key {FP["acme"]}
claimed at   <time>
hash         <hash>
pledge       {POSTERS}
changes      weight 30 → 40 hours
             due 2099-12-15 → 2099-12-31
reason       Bigger run
status       pending: 0 of 1 approvals
waiting for  burgerco to approve or reject
"""
    assert_matches(disputed.ok("show", S, "8").stdout, template)
    disputed.ok("approve", S, "8", "--comment", "Fine", "--as", "burgerco")  # 11
    assert_matches(
        disputed.ok("show", S, "8").stdout,
        f"""{S} seq 8: an amendment (pledge.amended)
signed by   acme, key {FP["acme"]}
claimed at  <time>
hash        <hash>
pledge      4 'Design the posters' by acme to burgerco
changes     weight 30 → 40 hours
            due 2099-12-15 → 2099-12-31
reason      Bigger run
status      accepted at seq 11
decided     burgerco approved (seq 11, by burgerco at <time>): Fine
""",
    )
    # as it stood before the approval: pending, the same old and new values
    assert_matches(disputed.ok("show", S, "8", "--as-of-seq", "10").stdout, template)


def test_a_dispute_shows_its_reason_and_who_signed_an_outcome(disputed: Accord) -> None:
    assert_matches(
        disputed.ok("show", S, "9").stdout,
        f"""{S} seq 9: a dispute (dispute.opened)
signed by    acme, key {FP["acme"]}
claimed at   <time>
hash         <hash>
target       seq 7: a rejection by burgerco
deliverable  6 by acme: 20 hours on pledge 4 'Design the posters'
about        its refusal
reason       The logo is new
parties      acme, burgerco
status       open: settled when acme and burgerco sign one outcome
waiting for  acme to sign an outcome (upheld or dismissed)
decided      burgerco signed dismissed (seq 10, by burgerco at <time>): It is old
""",
    )
    assert_matches(
        disputed.ok("show", S, "7").stdout,
        f"""{S} seq 7: a rejection (approval.refused)
signed by   burgerco, key {FP["burgerco"]}
claimed at  <time>
hash        <hash>
target      deliverable seq 6 by acme: 20 hours on pledge 4 'Design the posters'
reason      Old logo
status      rejected at seq 7 by burgerco; disputed: dispute seq 9 is open
decided     burgerco rejected (seq 7, by burgerco at <time>): Old logo
""",
    )


def test_a_statement_keeps_its_line_breaks_and_says_who_signed(initialised: Accord, project):
    initialised.ok(
        "statement", "propose", S, "--title", "Joint", "--text", "We stand\ntogether.",
        "--as", "acme", "--no-sign",
    )  # fmt: skip
    initialised.ok("statement", "sign", S, "4", "--as", "veggie")  # 5
    assert_matches(
        initialised.ok("show", S, "4").stdout,
        f"""{S} seq 4: a statement (statement.proposed)
signed by    acme, key {FP["acme"]}
claimed at   <time>
hash         <hash>
title        Joint
version      1
text         We stand
             together.
status       pending: 1 of 3 signatures on version 1
waiting for  acme to sign version 1
             burgerco to sign version 1
decided      veggie signed version 1 (seq 5, by veggie at <time>)
""",
    )
    initialised.ok(
        "statement",
        "revise",
        S,
        "4",
        "--text",
        "Together.",
        "--reason",
        "Shorter",
        "--as",
        "acme",
        "--no-sign",
    )  # 6
    shown = initialised.json("show", S, "5")
    assert (shown["status"], shown["status_text"]) == (
        "void",
        "void: the text was revised at seq 6; the statement is pending: 0 of 3 signatures on "
        "version 2",
    )


def test_the_proposal_shows_the_seats_and_who_joined(initialised: Accord, project: str) -> None:
    assert_matches(
        initialised.ok("show", S, "1").stdout,
        f"""{S} seq 1: the project proposal (project.proposed)
signed by   acme, key {FP["acme"]}
claimed at  <time>
hash        <hash>
title       Spring campaign
purpose     (none)
members     acme (proposer, key {FP["acme"]})
            burgerco (unpinned, protected by invite <fingerprint>)
            veggie (pinned to key {FP["veggie"]})
approval    every beneficiary of a pledge approves
close       every member signs the close
status      active: every invitee joined or declined
decided     burgerco joined (seq 2, by burgerco at <time>)
            veggie joined (seq 3, by veggie at <time>)
""",
    )


def test_a_colleagues_signature_names_the_person(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    alice = {"ACCORD_HOME": str(tmp_path / "alice-home")}
    initialised.ok("key", "new", "acme", env=alice)
    line = json.loads(initialised.ok("key", "show", "acme", "--format", "json", env=alice).stdout)
    initialised.ok(
        "project", "add-signer", S, "--label", "alice", "--public-key", line["public_key"],
        "--as", "acme",
    )  # fmt: skip  # 4
    initialised.ok(
        "pledge", "add", S, "Posters", "--weight", "3", "--unit", "days", "--due", "2099-01-01",
        "--as", "acme", env=alice,
    )  # fmt: skip  # 5
    shown = initialised.json("show", S, "5")
    assert (shown["signer"], shown["signed_by"], shown["key"]) == (
        "alice",
        "acme (alice)",
        line["fingerprint"],
    )
    first = initialised.ok("show", S, "5").stdout.splitlines()[1]
    assert first == f"signed by      acme (alice), key {line['fingerprint']}"


def test_an_unknown_seq_or_project_is_not_found_and_changes_nothing(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        assert_refused(
            initialised("show", S, "6"),
            3,
            f"project '{S}' has no entry at seq 6 (it has 5)",
            f"`accord trail {S}` lists every seq",
        )
        assert_refused(
            initialised("show", S, "4", "--as-of-seq", "3"),
            3,
            f"project '{S}' has no entry at seq 4 (it has 3)",
            f"`accord trail {S}` lists every seq",
        )
        assert_refused(
            initialised("show", "nope", "1"),
            3,
            "no project 'nope' in this ledger",
            "`accord project list` shows the projects this ledger holds",
        )
        assert_usage_error(
            initialised("show", S, "0"),
            "Usage: accord show [OPTIONS] SLUG SEQ",
            "Invalid value for 'SEQ': 0 is not in the range x>=1.",
        )
        assert_usage_error(
            initialised("show", S, "5", "--format", "csv"),
            "Usage: accord show [OPTIONS] SLUG SEQ",
            "Invalid value for '--format': 'csv' is not one of 'table', 'json'.",
        )


# --- every refusal of a decision already taken says by whom and when, with a hint -------------


def test_every_decision_already_taken_is_refused_naming_who_took_it_and_when(
    disputed: Accord,
) -> None:
    accord = disputed
    accord.ok("approve", S, "5", "--as", "burgerco")  # 11
    accord.ok(
        "statement", "propose", S, "--title", "J", "--text", "Yes.", "--as", "acme", "--no-sign"
    )  # 12
    accord.ok("statement", "sign", S, "12", "--as", "veggie")  # 13
    accord.ok("resolve", S, "9", "--outcome", "upheld", "--reason", "Sure", "--as", "acme")  # 14
    cases = [
        (("approve", S, "5", "--as", "burgerco"), "'burgerco' already approved seq 5", 11,
         "burgerco", None),
        (("reject", S, "5", "--reason", "No", "--as", "burgerco"),
         "'burgerco' already approved seq 5", 11, "burgerco", None),
        (("approve", S, "6", "--as", "burgerco"), "deliverable seq 6 is already rejected", 7,
         "burgerco", None),
        (("statement", "sign", S, "12", "--as", "veggie"),
         "'veggie' already signed version 1 of statement 12", 13, "veggie", None),
        (("resolve", S, "9", "--outcome", "upheld", "--reason", "R", "--as", "acme"),
         "'acme' already signed upheld on dispute 9", 14, "acme",
         "the other parties concerned sign too; the dispute is settled when they agree"),
        (("project", "join", S, "--as", "veggie"),
         f"'veggie' has already joined project '{S}'", 3, "veggie", None),
    ]  # fmt: skip
    for args, stem, seq, by, hint in cases:
        with accord.unchanged():
            tail, full_hint = already(S, seq, by, hint)
            assert_refused_like(accord(*args), 4, f"{stem} {tail}", full_hint)
        # the hint's command shows the entry that took the decision, signed by that party
        assert accord.json("show", S, str(seq))["by"] == by
    accord.ok("resolve", S, "9", "--outcome", "upheld", "--reason", "Yes", "--as", "burgerco")
    # 15: the dispute is upheld
    with accord.unchanged():
        tail, hint = already(S, 15, "burgerco")
        assert_refused_like(
            accord("resolve", S, "9", "--outcome", "dismissed", "--reason", "R", "--as", "acme"),
            4,
            f"dispute 9 was already resolved: upheld {tail}",
            hint,
        )
    for party in ("acme", "burgerco"):
        accord.ok("close", S, "--accept-open", "4", "--as", party)  # 16, 17
    with accord.unchanged():
        tail, hint = already(S, 16, "acme")
        assert_refused_like(
            accord("close", S, "--as", "acme"),
            4,
            f"'acme' already signed the close of head seq 15 {tail}",
            hint,
        )
