"""Several people for one organisation, end to end: two ACCORD_HOMEs sharing one ledger file.

acme's founder keeps the fixture's home (key ``acme``); alice, a colleague at acme, has her own
home with her own key, also named ``acme``, so that ``--as acme`` picks it there. The rules
tell the two apart by the key.
"""

from __future__ import annotations

import re
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
    receipt,
)
from click.testing import Result

S = "spring-campaign"
LIST_HINT = "`accord project show SLUG` lists each member's current signers and keys"


class Colleague:
    """``accord`` run from alice's own home (her key is named ``acme`` there)."""

    def __init__(self, accord: Accord, home: Path) -> None:
        self.accord, self.home = accord, home

    def __call__(self, *args: str) -> Result:
        return self.accord(*args, env={"ACCORD_HOME": str(self.home)})

    def ok(self, *args: str, stderr: str = "") -> Result:
        return self.accord.ok(*args, stderr=stderr, env={"ACCORD_HOME": str(self.home)})

    def json(self, *args: str) -> object:
        return self.accord.json(*args, env={"ACCORD_HOME": str(self.home)})


@pytest.fixture
def alice(project: str, initialised: Accord, tmp_path: Path) -> Colleague:
    """alice's home with her own key named ``acme`` (not yet a signer of acme)."""
    colleague = Colleague(initialised, tmp_path / "alice-home")
    colleague.ok("key", "new", "acme")
    return colleague


def alice_key(alice: Colleague) -> tuple[str, str]:
    shown = alice.json("key", "show", "acme")
    assert isinstance(shown, dict)
    return str(shown["public_key"]), str(shown["fingerprint"])


@pytest.fixture
def with_alice(alice: Colleague, initialised: Accord) -> Colleague:
    """alice added as a signer of acme at seq 4."""
    line, _ = alice_key(alice)
    initialised.ok(
        "project", "add-signer", S, "--label", "alice", "--public-key", line, "--as", "acme"
    )
    return alice


def test_a_colleague_signs_for_the_organisation_from_her_own_home(
    alice: Colleague, initialised: Accord
) -> None:
    line, alice_fp = alice_key(alice)
    result = initialised.ok(
        "project", "add-signer", S, "--label", "alice", "--public-key", f"{line} acme",
        "--as", "acme",
    )  # fmt: skip
    assert_matches(
        result.output,
        receipt(
            S, 4, "signer.added",
            about=f"added signer alice ({alice_fp}) of acme; its signers now: acme, alice",
        ),
    )  # fmt: skip
    result = alice.ok(
        "pledge", "add", S, "Posters", "--weight", "10", "--unit", "hours", "--due",
        "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    # The receipt names the person who signed for the party, as the trail does.
    assert_matches(result.output, receipt(S, 5, "pledge.made") + "signed by acme (alice)\n")
    # The trail names the party and the person; the founder's entries show the party alone.
    trail = initialised.ok("trail", S, "--party", "acme").output.splitlines()
    assert [re.split(r"\s{2,}", row)[3:5] for row in trail[2:]] == [
        ["acme", "project.proposed"],
        ["acme", "signer.added"],
        ["acme (alice)", "pledge.made"],
    ]
    rows = initialised.json("trail", S, "--type", "pledge.made")
    assert [(r["seq"], r["party"], r["signer"], r["key"]) for r in rows] == [
        (5, "acme", "alice", alice_fp)
    ]
    shown = initialised.json("project", "show", S)
    assert isinstance(shown, dict)
    assert shown["members"][0]["signers"] == [
        {"label": "acme", "key": FP["acme"], "since_seq": 1},
        {"label": "alice", "key": alice_fp, "since_seq": 4},
    ]
    table = initialised.ok("project", "show", S).output
    assert f"acme: {FP['acme']}, alice: {alice_fp}" in table
    # alice's home verified the same log on its own.
    assert alice.json("project", "show", S) == shown


def test_a_removed_colleague_can_sign_nothing_more_and_what_she_signed_stays(
    with_alice: Colleague, initialised: Accord
) -> None:
    _, alice_fp = alice_key(with_alice)
    with_alice.ok(
        "pledge", "add", S, "Posters", "--weight", "10", "--unit", "hours", "--due",
        "2099-12-15", "--as", "acme",
    )  # fmt: skip
    result = initialised.ok(
        "project", "remove-signer", S, "--label", "alice", "--reason", "left acme", "--as", "acme"
    )
    assert_matches(
        result.output,
        receipt(
            S, 6, "signer.removed",
            about=f"removed signer alice ({alice_fp}) of acme; its signers now: acme",
        ),
    )  # fmt: skip
    with initialised.unchanged():
        assert_refused(
            with_alice("deliver", S, "5", "--summary", "Drafts", "--as", "acme"),
            5,
            f"key {alice_fp} belongs to signer 'alice', removed from 'acme' at seq 6",
            LIST_HINT,
        )
    initialised.ok("verify", S)
    rows = initialised.json("trail", S)
    assert [(r["seq"], r["signer"], r["verdict"]) for r in rows[4:]] == [
        (5, "alice", "ok"),
        (6, "acme", "ok"),
    ]
    assert rows[5]["summary"] == "removed signer alice: left acme"


def test_two_people_of_one_party_give_one_approval(
    with_alice: Colleague, initialised: Accord
) -> None:
    # burgerco pledges to acme and veggie (approval "all": both parties must approve).
    initialised.ok(
        "pledge", "add", S, "Stand rent", "--weight", "500", "--unit", "EUR", "--due",
        "2099-12-15", "--as", "burgerco",
    )  # fmt: skip
    initialised.ok(
        "deliver", S, "5", "--summary", "Paid", "--quantity", "500", "--as", "burgerco"
    )  # seq 6
    with_alice.ok("approve", S, "6", "--as", "acme")  # seq 7
    with initialised.unchanged():
        tail, hint = already(S, 7, "acme (alice)")
        assert_refused_like(
            initialised("approve", S, "6", "--as", "acme"),
            4,
            f"'acme' already approved seq 6 {tail}",
            hint,
        )
    shown = initialised.json("pledge", "list", S)
    assert isinstance(shown, list)
    assert shown[0]["approved"] == "0"
    initialised.ok("approve", S, "6", "--as", "veggie")
    shown = initialised.json("pledge", "list", S)
    assert shown[0]["approved"] == "500"
    # One close signature per party, whichever person signs it.
    with_alice.ok("close", S, "--as", "acme")
    with initialised.unchanged():
        tail, hint = already(S, 9, "acme (alice)")
        assert_refused_like(
            initialised("close", S, "--as", "acme"),
            4,
            f"'acme' already signed the close of head seq 8 {tail}",
            hint,
        )


def test_add_signer_refusals(with_alice: Colleague, initialised: Accord, tmp_path: Path) -> None:
    line, alice_fp = alice_key(with_alice)
    other = Colleague(initialised, tmp_path / "bob-home")
    other.ok("key", "new", "acme")
    bob_line = str(other.json("key", "show", "acme")["public_key"])  # type: ignore[index]
    bob_fp = str(other.json("key", "show", "acme")["fingerprint"])  # type: ignore[index]
    veggie_line = str(initialised.json("key", "show", "veggie")["public_key"])
    with initialised.unchanged():
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "alice",
                "--public-key",
                bob_line,
                "--as",
                "acme",
            ),
            4,
            f"'acme' already has a signer labelled 'alice' (key {alice_fp}) (seq 5)",
            "choose another label, or remove that signer first",
        )
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "val",
                "--public-key",
                veggie_line,
                "--as",
                "acme",
            ),
            4,
            f"key {FP['veggie']} was used in this project before (by 'veggie'); a key serves "
            "one signer only (seq 5)",
            "each person signs with a key of their own: `accord key new NAME`",
        )
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "Bob",
                "--public-key",
                bob_line,
                "--as",
                "acme",
            ),
            2,
            "signer label 'Bob' is not valid",
            "use 1-32 characters: lower-case letters, digits and inner hyphens (acme-corp)",
        )
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "bob",
                "--public-key",
                "ssh-rsa AAAA",
                "--as",
                "acme",
            ),
            2,
            "the signer's public key is not usable: public key is not an 'ssh-ed25519 AAAA...' "
            "line",
            "give the whole line `accord key show NAME` prints (ssh-ed25519 AAAA...)",
        )
        # bob cannot add himself: his key is no signer of acme yet.
        assert_refused(
            other(
                "project",
                "add-signer",
                S,
                "--label",
                "bob",
                "--public-key",
                bob_line,
                "--as",
                "acme",
            ),
            5,
            f"key {bob_fp} is not a current key of 'acme' (seq 5)",
            LIST_HINT,
        )
        assert_refused(
            initialised(
                "project",
                "add-signer",
                "nope",
                "--label",
                "bob",
                "--public-key",
                bob_line,
                "--as",
                "acme",
            ),
            3,
            "no project 'nope' in this ledger",
            "`accord project list` shows the projects this ledger holds",
        )
        assert_usage_error(
            initialised("project", "add-signer", S, "--public-key", bob_line, "--as", "acme"),
            "Usage: accord project add-signer [OPTIONS] SLUG",
            "Missing option '--label'.",
        )
    # Another party may use the same label, and alice may add bob for acme.
    with_alice.ok(
        "project", "add-signer", S, "--label", "bob", "--public-key", bob_line, "--as", "acme"
    )
    assert line != bob_line


def test_remove_signer_refusals(with_alice: Colleague, initialised: Accord) -> None:
    with initialised.unchanged():
        assert_refused(
            initialised(
                "project", "remove-signer", S, "--label", "carol", "--reason", "x", "--as", "acme"
            ),
            3,
            f"'acme' has no current signer labelled 'carol' in project {S!r} (seq 5)",
            "its current signers are: acme, alice",
        )
        assert_refused(
            initialised(
                "project", "remove-signer", S, "--label", "alice", "--reason", " ", "--as", "acme"
            ),
            2,
            "the reason must not be empty",
            "give a reason",
        )
        assert_refused(
            initialised(
                "project",
                "remove-signer",
                S,
                "--label",
                "burgerco",
                "--reason",
                "x",
                "--as",
                "burgerco",
            ),
            4,
            "'burgerco' is the last signer of 'burgerco'; a party cannot remove its last "
            "signer (seq 5)",
            "add another signer first (`accord project add-signer`)",
        )
        assert_usage_error(
            initialised("project", "remove-signer", S, "--label", "alice", "--as", "acme"),
            "Usage: accord project remove-signer [OPTIONS] SLUG",
            "Missing option '--reason'.",
        )
    # alice removes the founder's key; then she is acme's last signer.
    with_alice.ok(
        "project", "remove-signer", S, "--label", "acme", "--reason", "retired", "--as", "acme"
    )
    with initialised.unchanged():
        assert_refused(
            with_alice(
                "project", "remove-signer", S, "--label", "alice", "--reason", "x", "--as", "acme"
            ),
            4,
            "'alice' is the last signer of 'acme'; a party cannot remove its last signer (seq 6)",
            "add another signer first (`accord project add-signer`)",
        )
        assert_refused(
            initialised("statement", "propose", S, "--title", "T", "--text", "x", "--as", "acme"),
            5,
            f"key {FP['acme']} belongs to signer 'acme', removed from 'acme' at seq 5",
            LIST_HINT,
        )


def test_a_closed_project_takes_no_new_signer(
    closed_project: str, alice: Colleague, initialised: Accord
) -> None:
    line, _ = alice_key(alice)
    with initialised.unchanged():
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "alice",
                "--public-key",
                line,
                "--as",
                "acme",
            ),
            4,
            f"project {S!r} is closed (seq 8); nothing more can be added",
            "start a new project for further work",
        )
