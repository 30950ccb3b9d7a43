"""Every refused input: its exit code, one ``Error:`` line and its hint on stderr, nothing on
stdout, no traceback, and a ledger exactly as it was before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import (
    FP,
    Accord,
    already,
    assert_refused,
    assert_refused_like,
    assert_usage_error,
    unpinned,
)

S = "spring-campaign"
PLEDGE = ("--weight", "30", "--unit", "hours", "--due", "2099-12-15")
MEMBERS_HINT = "`accord project show SLUG` lists the members"
CLOSED = f"project '{S}' is closed (seq 8); nothing more can be added"
CLOSED_HINT = "start a new project for further work"
APPROVAL_HINT = "use all, any or a number from 1 to 9999"
CLOSE_HINT = "use all or a number from 1 to 9999"


def key_path(home: Path, name: str) -> Path:
    return home / "keys" / f"{name}.key"


# --- key problems ---------------------------------------------------------------------------


def test_a_wrong_passphrase_is_a_key_file_problem(
    initialised: Accord, project: str, home: Path
) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", *PLEDGE, "--as", "acme",
            env={"ACCORD_PASSPHRASE": "wrong-passphrase"},
        )  # fmt: skip

    assert_refused(
        result,
        7,
        f"wrong passphrase for key file {key_path(home, 'acme')}",
        "try the passphrase again",
    )


def test_a_wrong_passphrase_typed_at_the_prompt_is_a_key_file_problem(
    initialised: Accord, project: str, home: Path
) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", *PLEDGE, "--as", "acme",
            input="wrong passphrase\n", env={"ACCORD_PASSPHRASE": None},
        )  # fmt: skip

    assert result.exit_code == 7
    assert result.stdout == "Passphrase for key 'acme': \n"
    assert result.stderr == (
        f"Error: wrong passphrase for key file {key_path(home, 'acme')}\n"
        "Hint: try the passphrase again\n"
    )


def test_the_right_passphrase_typed_at_the_prompt_signs(initialised: Accord, project: str) -> None:
    result = initialised.ok(
        "pledge", "add", S, "Posters", *PLEDGE, "--as", "acme",
        input="test-passphrase\n", env={"ACCORD_PASSPHRASE": None},
    )  # fmt: skip

    assert result.output.startswith("Passphrase for key 'acme': \nrecorded spring-campaign seq 4")


@pytest.mark.parametrize(
    ("signer", "missing"),
    [(["--as", "stranger"], "stranger"), (["--as", "acme", "--key", "nokey"], "nokey")],
    ids=["unknown-party", "unknown-key-name"],
)
def test_signing_with_a_key_that_does_not_exist_is_not_found(
    initialised: Accord, project: str, home: Path, signer: list[str], missing: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, *signer)

    assert_refused(
        result,
        3,
        f"no key named {missing!r} in {home / 'keys'}",
        "`accord key list` shows your keys; `accord key new NAME` makes one",
    )


def test_a_deleted_key_file_is_not_found_before_any_prompt(
    initialised: Accord, project: str, home: Path
) -> None:
    key_path(home, "acme").unlink()

    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", *PLEDGE, "--as", "acme", env={"ACCORD_PASSPHRASE": None}
        )

    assert_refused(
        result,
        3,
        f"no key named 'acme' in {home / 'keys'}",
        "`accord key list` shows your keys; `accord key new NAME` makes one",
    )


def test_a_corrupt_key_file_is_a_key_file_problem(
    initialised: Accord, project: str, home: Path
) -> None:
    key_path(home, "acme").write_text("this is not a key any more\n")

    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "acme")

    assert_refused(
        result,
        7,
        f"key file {key_path(home, 'acme')} is not a readable private key",
        "accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
    )


def test_a_truncated_key_file_is_reported_as_corrupt_not_as_a_wrong_passphrase(
    initialised: Accord, project: str, home: Path
) -> None:
    pem = key_path(home, "acme").read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem  # the passphrase is right
    key_path(home, "acme").write_bytes(
        pem[: len(pem) // 2] + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )

    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "acme")

    assert_refused(
        result,
        7,
        f"key file {key_path(home, 'acme')} is not a readable private key",
        "accord reads OpenSSH (id_ed25519) and PKCS#8 PEM Ed25519 keys",
    )


def test_a_public_key_file_that_does_not_match_its_private_key_is_a_key_file_problem(
    initialised: Accord, project: str, home: Path
) -> None:
    (home / "keys" / "acme.pub").write_text((home / "keys" / "mallory.pub").read_text())

    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "acme")

    assert_refused(result, 7, "the public key file of 'acme' does not match its private key")


# --- things that do not exist ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["project", "show", "nope"],
        ["project", "join", "nope", "--as", "burgerco"],
        ["pledge", "add", "nope", "Posters", *PLEDGE, "--as", "acme"],
        ["pledge", "list", "nope"],
        ["deliver", "nope", "4", "--summary", "Posters", "--as", "acme"],
        ["approve", "nope", "5", "--as", "burgerco"],
        ["statement", "list", "nope"],
        ["statement", "show", "nope", "5"],
        ["close", "nope", "--as", "acme"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_an_unknown_project_is_not_found(
    initialised: Accord, project: str, command: list[str]
) -> None:
    with initialised.unchanged():
        result = initialised(*command)

    assert_refused(
        result,
        3,
        "no project 'nope' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )


@pytest.mark.parametrize(
    "command",
    [
        ["approve", S, "99", "--as", "burgerco"],
        ["reject", S, "99", "--reason", "Late", "--as", "burgerco"],
        ["deliver", S, "99", "--summary", "Posters", "--as", "acme"],
        ["deliver", S, "99", "--summary", "Posters", "--quantity", "3", "--as", "acme"],
        ["pledge", "amend", S, "99", "--weight", "3", "--reason", "More", "--as", "acme"],
        ["pledge", "withdraw", S, "99", "--reason", "No time", "--as", "acme"],
        ["statement", "sign", S, "99", "--as", "acme"],
        ["statement", "revise", S, "99", "--text", "New", "--reason", "Typo", "--as", "acme"],
    ],
    ids=lambda c: " ".join(c[:2]) + (" --quantity" if "--quantity" in c else ""),
)
def test_an_unknown_seq_is_not_found(
    initialised: Accord, with_pledge: str, command: list[str]
) -> None:
    with initialised.unchanged():
        result = initialised(*command)

    assert_refused(
        result, 3, f"no entry at seq 99 in project '{S}'", f"`accord trail {S}` lists every seq"
    )


@pytest.mark.parametrize(
    ("usage", "argument", "command"),
    [
        ("accord approve [OPTIONS] SLUG SEQ", "SEQ", ["approve", S, "{n}", "--as", "burgerco"]),
        ("accord reject [OPTIONS] SLUG SEQ", "SEQ",
         ["reject", S, "{n}", "--reason", "Late", "--as", "burgerco"]),
        ("accord deliver [OPTIONS] SLUG PLEDGE", "PLEDGE",
         ["deliver", S, "{n}", "--summary", "Posters", "--as", "acme"]),
        ("accord pledge amend [OPTIONS] SLUG PLEDGE", "PLEDGE",
         ["pledge", "amend", S, "{n}", "--weight", "3", "--reason", "More", "--as", "acme"]),
        ("accord pledge withdraw [OPTIONS] SLUG PLEDGE", "PLEDGE",
         ["pledge", "withdraw", S, "{n}", "--reason", "No time", "--as", "acme"]),
        ("accord statement sign [OPTIONS] SLUG STATEMENT", "STATEMENT",
         ["statement", "sign", S, "{n}", "--as", "acme"]),
        ("accord statement revise [OPTIONS] SLUG STATEMENT", "STATEMENT",
         ["statement", "revise", S, "{n}", "--text", "New", "--reason", "Typo", "--as", "acme"]),
        ("accord statement show [OPTIONS] SLUG STATEMENT", "STATEMENT",
         ["statement", "show", S, "{n}"]),
    ],
    ids=["approve", "reject", "deliver", "pledge amend", "pledge withdraw", "statement sign",
         "statement revise", "statement show"],
)  # fmt: skip
def test_a_seq_of_zero_is_a_usage_error(
    initialised: Accord, with_pledge: str, usage: str, argument: str, command: list[str]
) -> None:
    # (a negative seq such as -1 is taken for an option by click: "No such option '-1'")
    with initialised.unchanged():
        result = initialised(*(part.format(n="0") for part in command))

    assert_usage_error(
        result, f"Usage: {usage}", f"Invalid value for '{argument}': 0 is not in the range x>=1."
    )


def test_showing_an_unknown_statement_is_not_found(initialised: Accord, project: str) -> None:
    result = initialised("statement", "show", S, "99")

    assert_refused(
        result,
        3,
        f"no statement at seq 99 in project '{S}'",
        f"`accord statement list {S}` lists statements by seq",
    )


# --- who may sign ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["pledge", "add", S, "Posters", *PLEDGE, "--as", "mallory"],
        ["statement", "propose", S, "--title", "Mine", "--text", "Mine.", "--as", "mallory"],
        ["approve", S, "5", "--as", "mallory"],
        ["close", S, "--as", "mallory"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_non_member_cannot_sign_anything(
    initialised: Accord, with_pledge: str, command: list[str]
) -> None:
    with initialised.unchanged():
        result = initialised(*command)

    assert_refused(result, 4, f"'mallory' is not a member of project '{S}' (seq 6)", MEMBERS_HINT)


def test_a_non_member_cannot_sign_a_statement(initialised: Accord, project: str) -> None:
    initialised.ok(
        "statement", "propose", S, "--title", "Joint", "--text", "Together.", "--as", "acme"
    )

    with initialised.unchanged():
        result = initialised("statement", "sign", S, "4", "--as", "mallory")

    # seq 4 is the statement, seq 5 acme's signature of it (proposing signs it)
    assert_refused(result, 4, f"'mallory' is not a member of project '{S}' (seq 6)", MEMBERS_HINT)


def test_a_party_that_was_not_invited_cannot_join(initialised: Accord, project: str) -> None:
    with initialised.unchanged():
        result = initialised("project", "join", S, "--as", "mallory")

    assert_refused(
        result,
        4,
        f"'mallory' was not invited to project '{S}' (seq 4)",
        "only the members named in the proposal can join or decline",
    )


def test_an_invited_member_cannot_pledge_before_joining(initialised: Accord) -> None:
    initialised.ok(
        "project", "propose", S, "--title", "Spring", "--member", "burgerco", "--as", "acme",
        stderr=unpinned("burgerco"),
    )  # fmt: skip

    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "burgerco")

    assert_refused(
        result,
        4,
        f"'burgerco' is not a member of project '{S}' (invited but has not joined) (seq 2)",
        MEMBERS_HINT,
    )


def test_joining_twice_is_a_rule_violation(initialised: Accord, project: str) -> None:
    with initialised.unchanged():
        result = initialised("project", "join", S, "--as", "burgerco")

    tail, hint = already(S, 2, "burgerco")
    assert_refused_like(result, 4, f"'burgerco' has already joined project '{S}' {tail}", hint)


def test_a_pinned_fingerprint_that_does_not_match_the_joiners_key_is_refused(
    initialised: Accord,
) -> None:
    initialised.ok(
        "project", "propose", S, "--title", "Spring", "--member", "burgerco",
        "--member", f"veggie={FP['mallory']}", "--as", "acme", stderr=unpinned("burgerco"),
    )  # fmt: skip

    with initialised.unchanged():
        result = initialised("project", "join", S, "--as", "veggie")

    assert_refused(
        result,
        5,
        f"key {FP['veggie']} of 'veggie' does not match the fingerprint pinned in the proposal "
        f"({FP['mallory']}) (seq 2)",
        "join with the key the proposer pinned, or ask for a new proposal",
    )


def test_signing_as_a_member_with_another_members_key_is_refused(
    initialised: Accord, project: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--as", "burgerco",
                             "--key", "acme")  # fmt: skip

    assert_refused(
        result,
        5,
        f"key {FP['acme']} is not a current key of 'burgerco' (seq 4)",
        "`accord project show SLUG` lists each member's current signers and keys",
    )


def test_a_malformed_pinned_fingerprint_is_a_usage_error(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Spring", "--member", "burgerco",
            "--member", "veggie=SHA256:abc", "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        "pinned fingerprint 'SHA256:abc' of 'veggie' is not an OpenSSH SHA256 fingerprint",
        "copy it from `accord key show NAME` or `ssh-keygen -lf KEY.pub`",
    )


def test_proposing_a_slug_that_exists_is_a_rule_violation(
    initialised: Accord, project: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Again", "--member", "veggie", "--as", "burgerco"
        )

    assert_refused(
        result,
        4,
        f"project '{S}' exists already",
        "choose another slug; `accord project list` shows the taken ones",
    )


@pytest.mark.parametrize(
    ("option", "value", "error", "hint"),
    [
        ("--approval", "0", "approval policy '0' is not valid", APPROVAL_HINT),
        ("--approval", "most", "approval policy 'most' is not valid", APPROVAL_HINT),
        ("--close", "any", "close policy 'any' is not valid", CLOSE_HINT),
    ],
)
def test_a_malformed_policy_is_a_usage_error(
    initialised: Accord, option: str, value: str, error: str, hint: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", S, "--title", "Spring", "--member", "burgerco",
            option, value, "--as", "acme",
        )  # fmt: skip

    assert_refused(result, 2, error, hint)


def test_a_malformed_slug_is_a_usage_error(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "propose", "Spring Campaign", "--title", "Spring", "--member", "burgerco",
            "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        "project slug 'Spring Campaign' is not valid",
        "write it as spring-campaign (1-64 characters: lower-case letters, digits and inner "
        "hyphens)",
    )


# --- malformed values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "hint"),
    [
        ("2026-02-30", ""),
        ("2026-13-01", ""),
        ("15/12/2026", ": 2026-12-15"),
        ("tomorrow", ""),
        ("", ""),
    ],
)
def test_a_malformed_due_date_is_a_usage_error(
    initialised: Accord, project: str, due: str, hint: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", "--weight", "3", "--unit", "hours", "--due", due,
            "--as", "acme",
        )  # fmt: skip

    assert_refused(result, 2, f"due date {due!r} is not a date", f"write dates as YYYY-MM-DD{hint}")


def test_a_malformed_amended_due_date_is_a_usage_error(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "amend", S, "4", "--due", "2026-12-32", "--reason", "Later", "--as", "acme"
        )

    assert_refused(result, 2, "due date '2026-12-32' is not a date", "write dates as YYYY-MM-DD")


ZERO = ("must be greater than zero, not {value!r}", "give a positive {what}")
NOT_A_NUMBER = (
    "{value!r} is not a number",
    "give {what} as a plain decimal number such as 12 or 2.5",
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", ZERO),
        ("0.0", ZERO),
        ("-3", ZERO),
        ("-0.5", ZERO),
        ("abc", NOT_A_NUMBER),
        ("1e3", ("{value!r} is not a number", "write it as 1000: numbers take no exponent")),
        ("NaN", NOT_A_NUMBER),
        ("", NOT_A_NUMBER),
    ],
)
@pytest.mark.parametrize("what", ["weight", "quantity", "amended weight"])
def test_a_weight_or_quantity_that_is_not_a_positive_number_is_a_usage_error(
    initialised: Accord, with_pledge: str, what: str, value: str, message: tuple[str, str]
) -> None:
    commands = {
        "weight": ["pledge", "add", S, "More", "--weight", value, "--unit", "hours",
                   "--due", "2099-12-15", "--as", "acme"],
        "quantity": ["deliver", S, "4", "--summary", "More", "--quantity", value, "--as", "acme"],
        "amended weight": ["pledge", "amend", S, "4", "--weight", value, "--reason", "Change",
                           "--as", "acme"],
    }  # fmt: skip
    name = "quantity" if what == "quantity" else "weight"

    with initialised.unchanged():
        result = initialised(*commands[what])

    error, hint = message
    assert_refused(result, 2, f"{name} " + error.format(value=value), hint.format(what=name))


def test_a_negative_weight_is_reported_as_not_positive(initialised: Accord, project: str) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", "--weight", "-3", "--unit", "hours",
            "--due", "2099-12-15", "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result, 2, "weight must be greater than zero, not '-3'", "give a positive weight"
    )


def test_a_malformed_unit_is_a_usage_error(initialised: Accord, project: str) -> None:
    with initialised.unchanged():
        result = initialised(
            "pledge", "add", S, "Posters", "--weight", "3", "--unit", "Person Hours",
            "--due", "2099-12-15", "--as", "acme",
        )  # fmt: skip

    assert_refused(
        result,
        2,
        "unit 'Person Hours' is not valid",
        "write it as Person-Hours (1-32 letters, digits, currency symbols, -, _, % or /, "
        "without spaces)",
    )


def test_a_beneficiary_that_is_not_a_handle_is_a_usage_error(
    initialised: Accord, project: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "add", S, "Posters", *PLEDGE, "--to", "Burger Co",
                             "--as", "acme")  # fmt: skip

    assert_refused(
        result,
        2,
        "beneficiary 'Burger Co' is not valid",
        "use 1-32 characters: lower-case letters, digits and inner hyphens (acme-corp)",
    )


def test_an_amendment_that_changes_nothing_is_a_usage_error(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("pledge", "amend", S, "4", "--reason", "Nothing", "--as", "acme")

    assert_refused(
        result, 2, "an amendment must change something", "give --weight, --due or --title"
    )


@pytest.mark.parametrize("given", [[], ["--text", "Inline", "--text-file", "text.md"]],
                         ids=["neither", "both"])  # fmt: skip
def test_a_statement_needs_exactly_one_of_text_and_text_file(
    initialised: Accord, project: str, tmp_path: Path, given: list[str]
) -> None:
    (tmp_path / "text.md").write_text("From a file.\n")

    with initialised.unchanged():
        result = initialised("statement", "propose", S, "--title", "Joint", *given, "--as", "acme")

    assert_refused(
        result,
        2,
        "give exactly one of --text and --text-file",
        "--text TEXT for a short text, --text-file FILE for a long one",
    )


# --- approvals and refusals -----------------------------------------------------------------


def test_approving_your_own_deliverable_is_a_rule_violation(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("approve", S, "5", "--as", "acme")

    assert_refused(
        result,
        4,
        "'acme' cannot approve or reject its own deliverable (seq 5)",
        "a beneficiary of the pledge must decide",
    )


def test_approving_twice_is_a_rule_violation(initialised: Accord, project: str) -> None:
    initialised.ok("pledge", "add", S, "Posters", *PLEDGE, "--as", "acme")  # to both others
    initialised.ok("deliver", S, "4", "--summary", "Posters", "--as", "acme")
    initialised.ok("approve", S, "5", "--as", "burgerco")

    with initialised.unchanged():
        result = initialised("approve", S, "5", "--as", "burgerco")

    tail, hint = already(S, 6, "burgerco")
    assert_refused_like(result, 4, f"'burgerco' already approved seq 5 {tail}", hint)


def test_approving_a_deliverable_that_was_already_accepted_is_a_rule_violation(
    initialised: Accord, with_pledge: str
) -> None:
    initialised.ok("approve", S, "5", "--as", "burgerco")

    with initialised.unchanged():
        result = initialised("approve", S, "5", "--as", "burgerco")

    tail, hint = already(S, 6, "burgerco")
    assert_refused_like(result, 4, f"'burgerco' already approved seq 5 {tail}", hint)


def test_rejecting_after_approving_is_a_rule_violation(
    initialised: Accord, with_pledge: str
) -> None:
    initialised.ok("approve", S, "5", "--as", "burgerco")

    with initialised.unchanged():
        result = initialised("reject", S, "5", "--reason", "Changed my mind", "--as", "burgerco")

    tail, hint = already(S, 6, "burgerco")
    assert_refused_like(result, 4, f"'burgerco' already approved seq 5 {tail}", hint)


def test_a_member_who_is_not_a_beneficiary_cannot_approve(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("approve", S, "5", "--as", "veggie")

    assert_refused(
        result,
        4,
        "'veggie' is not a beneficiary of pledge 4; "
        "only its beneficiaries (burgerco) decide on it (seq 6)",
    )


def test_approving_an_entry_that_is_not_a_deliverable_or_amendment_is_a_rule_violation(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("approve", S, "4", "--as", "burgerco")

    assert_refused(
        result,
        4,
        "seq 4 is a pledge, not a deliverable, an amendment, a close-short or a value proposal",
        "only deliverables, amendments, close-short and value proposals are approved or rejected; "
        f"`accord trail {S}` lists every seq",
    )


def test_a_refusal_without_a_reason_option_is_a_usage_error(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised("reject", S, "5", "--as", "burgerco")

    assert_usage_error(
        result, "Usage: accord reject [OPTIONS] SLUG SEQ", "Missing option '--reason'."
    )


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "command",
    [
        ["reject", S, "5", "--as", "burgerco"],
        ["pledge", "withdraw", S, "4", "--as", "acme"],
        ["project", "decline", S, "--as", "veggie"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_an_empty_reason_is_a_usage_error(
    initialised: Accord, with_pledge: str, command: list[str], reason: str
) -> None:
    with initialised.unchanged():
        result = initialised(*command, "--reason", reason)

    assert_refused(result, 2, "the reason must not be empty", "give a reason")


# --- a closed project -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["pledge", "add", S, "Posters", *PLEDGE, "--as", "acme"],
        ["deliver", S, "4", "--summary", "Posters", "--quantity", "1", "--as", "acme"],
        ["statement", "sign", S, "5", "--as", "burgerco"],
        ["statement", "propose", S, "--title", "Late", "--text", "Late.", "--as", "veggie"],
        ["close", S, "--as", "acme"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_nothing_can_be_added_to_a_closed_project(
    initialised: Accord, closed_project: str, command: list[str]
) -> None:
    with initialised.unchanged():
        result = initialised(*command)

    assert_refused(result, 4, CLOSED, CLOSED_HINT)


# --- files and stores -----------------------------------------------------------------------


def test_an_evidence_file_that_does_not_exist_is_a_usage_error(
    initialised: Accord, with_pledge: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "deliver", S, "4", "--summary", "More", "--evidence", "nothere.pdf", "--as", "acme"
        )

    assert_usage_error(
        result,
        "Usage: accord deliver [OPTIONS] SLUG PLEDGE",
        "Invalid value for '--evidence': File 'nothere.pdf' does not exist.",
    )


def test_evidence_that_is_a_directory_is_a_usage_error(
    initialised: Accord, with_pledge: str, tmp_path: Path
) -> None:
    (tmp_path / "drafts").mkdir()

    with initialised.unchanged():
        result = initialised(
            "deliver", S, "4", "--summary", "More", "--evidence", "drafts", "--as", "acme"
        )

    assert_usage_error(
        result,
        "Usage: accord deliver [OPTIONS] SLUG PLEDGE",
        "Invalid value for '--evidence': File 'drafts' is a directory.",
    )


def test_a_statement_text_file_that_does_not_exist_is_a_usage_error(
    initialised: Accord, project: str
) -> None:
    with initialised.unchanged():
        result = initialised(
            "statement", "propose", S, "--title", "Joint", "--text-file", "nothere.md",
            "--as", "acme",
        )  # fmt: skip

    assert_usage_error(
        result,
        "Usage: accord statement propose [OPTIONS] SLUG",
        "Invalid value for '--text-file': File 'nothere.md' does not exist.",
    )


@pytest.mark.parametrize("where", ["option", "env"])
def test_a_ledger_path_in_a_missing_directory_cannot_be_created(accord: Accord, where: str) -> None:
    args = ["--ledger", "/nonexistent/x.db", "init"] if where == "option" else ["init"]
    env = {"ACCORD_LEDGER": "/nonexistent/x.db"} if where == "env" else None

    result = accord(*args, env=env)

    assert_refused(
        result,
        6,
        "cannot create the ledger /nonexistent/x.db: directory /nonexistent is not writable",
        "choose a writable location with --ledger",
    )
    assert not Path("/nonexistent/x.db").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_a_ledger_path_in_a_read_only_directory_cannot_be_created(
    accord: Accord, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)

    result = accord("--ledger", str(locked / "x.db"), "init")

    assert_refused(
        result,
        6,
        f"cannot create the ledger {locked / 'x.db'}: directory {locked} is not writable",
        "choose a writable location with --ledger",
    )


@pytest.mark.parametrize(
    "command",
    [["project", "list"], ["project", "show", S], ["pledge", "list", S],
     ["project", "propose", S, "--title", "Spring", "--member", "burgerco", "--as", "acme"]],
    ids=lambda c: " ".join(c[:2]),
)  # fmt: skip
def test_a_missing_ledger_file_is_not_found_and_is_not_created(
    accord: Accord, tmp_path: Path, command: list[str]
) -> None:
    result = accord(*command)

    assert_refused(
        result,
        3,
        f"no ledger at {tmp_path / 'accord.db'}",
        "run `accord init` here, or point --ledger / ACCORD_LEDGER at your ledger",
    )
    assert not (tmp_path / "accord.db").exists()


def test_a_mistyped_ledger_option_is_not_found_rather_than_a_new_empty_ledger(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    result = initialised("--ledger", "acord.db", "project", "list")

    assert_refused(
        result,
        3,
        "no ledger at acord.db",
        "run `accord init` here, or point --ledger / ACCORD_LEDGER at your ledger",
    )
    assert not (tmp_path / "acord.db").exists()


def test_an_unreachable_postgresql_server_is_storage_unavailable(accord: Accord) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=1"

    result = accord("--ledger", url, "project", "list")

    assert result.exit_code == 6, result.output
    assert result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"Error: cannot open the ledger {url}: ")
    assert hint == "Hint: check --ledger / ACCORD_LEDGER and that the store is reachable"
    assert "Traceback" not in result.output


def test_a_postgresql_url_without_a_database_is_a_usage_error(accord: Accord) -> None:
    result = accord("--ledger", "postgresql://postgres@127.0.0.1:1", "project", "list")

    assert_refused(
        result,
        2,
        "PostgreSQL URL 'postgresql://postgres@127.0.0.1:1' needs a host and a database",
        "write postgresql://USER@HOST:PORT/DBNAME",
    )


def test_a_postgresql_password_never_shows_in_an_error(accord: Accord) -> None:
    url = "postgresql://postgres:s3cret-pw@127.0.0.1:1/test?connect_timeout=1"

    result = accord("--ledger", url, "project", "list")

    assert result.exit_code == 6
    assert "s3cret-pw" not in result.output
    assert "postgresql://postgres:***@127.0.0.1:1/test" in result.stderr


def test_a_ledger_file_that_is_not_a_database_is_storage_unavailable(
    accord: Accord, tmp_path: Path
) -> None:
    notes = tmp_path / "accord.db"
    notes.write_text("these are my notes, not a ledger\n")

    result = accord("project", "list")

    assert_refused(
        result,
        6,
        f"cannot open the ledger {notes}: file is not a database",
        "check --ledger / ACCORD_LEDGER and that the store is reachable",
    )
    assert notes.read_text() == "these are my notes, not a ledger\n"


# --- unexpected errors and --debug ----------------------------------------------------------


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom")


def test_an_unexpected_error_is_one_line_with_a_hint_to_use_debug(
    initialised: Accord, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.storage.open_ledger", _boom)

    result = initialised("project", "list")

    assert_refused(
        result,
        1,
        "unexpected RuntimeError: boom",
        "rerun with --debug for the traceback, and report it",
    )


def test_debug_lets_an_unexpected_error_raise_with_its_traceback(
    initialised: Accord, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.storage.open_ledger", _boom)

    result = initialised("--debug", "project", "list")

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert result.exc_info is not None
    assert "Error: unexpected" not in result.output


def test_debug_prints_the_traceback_of_an_unexpected_error_in_a_real_process(
    initialised: Accord, project: str, tmp_path: Path
) -> None:
    script = (
        "import ledger.storage\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('boom')\n"
        "ledger.storage.open_ledger = boom\n"
        "from commands.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "COLUMNS": "100"}

    quiet = subprocess.run(
        [sys.executable, "-c", script, "project", "list"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    loud = subprocess.run(
        [sys.executable, "-c", script, "--debug", "project", "list"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip

    assert (quiet.returncode, quiet.stdout) == (1, "")
    assert quiet.stderr == (
        "Error: unexpected RuntimeError: boom\n"
        "Hint: rerun with --debug for the traceback, and report it\n"
    )
    assert loud.returncode == 1
    assert loud.stderr.startswith("Traceback (most recent call last):\n")
    assert loud.stderr.endswith("RuntimeError: boom\n")


def test_debug_keeps_the_exit_code_and_error_line_of_a_refusal(
    initialised: Accord, project: str
) -> None:
    result = initialised("--debug", "project", "show", "nope")

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith(
        "ledger.errors.ProjectNotFoundError: no project 'nope' in this ledger\n"
        "Error: no project 'nope' in this ledger\n"
        "Hint: `accord project list` shows the projects this ledger holds\n"
    )
