"""``accord dispute``, ``accord resolve`` and ``accord pledge close-short`` end to end: the
receipts, the reads that show them, and every way they are refused (exit codes, one error
line, an unchanged ledger)."""

from __future__ import annotations

import pytest
from cli_helpers import (
    Accord,
    already,
    assert_matches,
    assert_refused,
    assert_refused_like,
    assert_usage_error,
    receipt,
)

S = "spring-campaign"
POSTERS = 'pledge 4 "Design the posters"'


@pytest.fixture
def accepted(initialised: Accord, with_pledge: str) -> Accord:
    """The project with acme's pledge 4 (30 hours to burgerco), deliverable 5 (10 hours)
    accepted by burgerco at seq 6."""
    initialised.ok("approve", S, "5", "--as", "burgerco")
    return initialised


def test_a_dispute_is_opened_shown_and_settled_through_the_cli(accepted: Accord) -> None:
    result = accepted.ok("dispute", S, "5", "--reason", "The drafts are last year's", "--as",
                         "burgerco")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(
            S, 7, "dispute.opened",
            about=f"disputed the acceptance of acme's deliverable 5: 10 hours on {POSTERS} "
            "(settled when acme, burgerco sign one outcome)",
        ),
    )  # fmt: skip
    [pledge] = accepted.json("obligations", S)
    assert (pledge["status"], pledge["delivered"], pledge["approved"]) == ("disputed", "10", "0")
    rows = {r["party"]: r for r in accepted.json("contributions", S)}
    assert (rows["acme"]["approved"], rows["acme"]["disputed"]) == ("0", "10")
    with accepted.unchanged():
        assert_refused(
            accepted("close", S, "--as", "acme"), 4,
            "dispute 7 is open; a project with an open dispute cannot close (seq 8)",
            f"its parties settle it first: `accord resolve {S} 7 --outcome upheld|dismissed "
            "--reason R --as HANDLE`",
        )  # fmt: skip
    result = accepted.ok("resolve", S, "7", "--outcome", "dismissed", "--reason", "They are new",
                         "--as", "acme")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(
            S, 8, "resolution.signed",
            about=f"dispute 7 on the acceptance of acme's deliverable 5: 10 hours on {POSTERS} "
            "stays open: signed acme dismissed; waiting for burgerco",
        ),
    )  # fmt: skip
    result = accepted.ok("resolve", S, "7", "--outcome", "dismissed", "--reason", "Checked",
                         "--as", "burgerco")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(
            S, 9, "resolution.signed", about="dispute 7 is dismissed: deliverable 5 is accepted"
        ),
    )
    [pledge] = accepted.json("obligations", S)
    assert (pledge["status"], pledge["approved"]) == ("open", "10")
    trail = accepted.json("trail", S, "--type", "resolution.signed")
    assert [(r["seq"], r["party"], r["summary"]) for r in trail] == [
        (8, "acme", "signed dismissed on dispute 7: They are new"),
        (9, "burgerco", "signed dismissed on dispute 7: Checked (dispute 7 is dismissed)"),
    ]
    accepted.ok("verify", S)
    for party in ("acme", "burgerco", "veggie"):
        accepted.ok("close", S, "--as", party, "--report-dir", str(accepted.tmp_path / "r"),
                    "--accept-open", "4")  # fmt: skip
    report = (accepted.tmp_path / "r" / "close-report.md").read_text(encoding="utf-8")
    assert (
        "approved by burgerco (seq 6); disputed by burgerco (seq 7): The drafts are last year's; "
        "dismissed at seq 9 (acme, burgerco)"
    ) in report
    with accepted.unchanged():
        assert_refused(
            accepted("dispute", S, "5", "--reason", "Again", "--as", "burgerco"), 4,
            f"project {S!r} is closed (seq 12); nothing more can be added",
            "start a new project for further work",
        )  # fmt: skip


def test_an_upheld_dispute_shows_in_json_receipts(accepted: Accord) -> None:
    with accepted.unchanged():
        assert_refused(
            accepted("dispute", S, "6", "--reason", "Approved too fast", "--as", "burgerco"), 4,
            "'burgerco' cannot dispute its own approval (seq 6)",
            "a decision is disputed by another party concerned",
        )  # fmt: skip
    accepted.ok("dispute", S, "5", "--reason", "Wrong size", "--as", "burgerco")  # 7
    accepted.ok("resolve", S, "7", "--outcome", "upheld", "--reason", "Yes", "--as", "acme")
    data = accepted.json(
        "resolve", S, "7", "--outcome", "upheld", "--reason", "Yes", "--as", "burgerco"
    )
    assert data["subject"]["status"] == "upheld"
    assert data["subject"]["deliverable_status"] == "rejected"
    [pledge] = accepted.json("obligations", S)
    assert (pledge["delivered"], pledge["approved"], pledge["status"]) == ("0", "0", "open")


@pytest.mark.parametrize(
    ("args", "code", "error", "hint"),
    [
        (["dispute", "no-such", "5"], 3, "no project 'no-such' in this ledger",
         "`accord project list` shows the projects this ledger holds"),
        (["dispute", S, "99"], 3, f"no entry at seq 99 in project {S!r}",
         f"`accord trail {S}` lists every seq"),
        (["dispute", S, "4"], 4, "seq 4 is a pledge, not a deliverable, an approval or a rejection",
         "only the decision on a deliverable is disputed (an accepted amendment is changed by "
         f"another amendment); `accord trail {S}` lists every seq"),
        (["dispute", S, "5", "--as", "acme"], 4,
         "'acme' cannot dispute its own deliverable (seq 5)",
         "a decision is disputed by another party concerned"),
        (["dispute", S, "5", "--as", "veggie"], 4,
         "'veggie' is neither the promisor nor a beneficiary of pledge 4; only they dispute the "
         "decisions on it (seq 7)", None),
        (["dispute", S, "5", "--as", "mallory"], 4,
         f"'mallory' is not a member of project {S!r} (seq 7)",
         "`accord project show SLUG` lists the members"),
        (["resolve", S, "5", "--outcome", "upheld"], 4, "seq 5 is a deliverable, not a dispute",
         f"`accord trail {S} --type dispute.opened` lists the disputes"),
        (["resolve", S, "70", "--outcome", "upheld"], 3, f"no entry at seq 70 in project {S!r}",
         f"`accord trail {S}` lists every seq"),
        (["pledge", "close-short", S, "4", "--as", "burgerco"], 4,
         "pledge 4 belongs to 'acme'; only its promisor can close it (seq 7)", None),
        (["pledge", "close-short", S, "5", "--as", "acme"], 4,
         "seq 5 is a deliverable, not a pledge",
         f"`accord pledge list {S}` lists pledges by seq"),
        (["pledge", "close-short", S, "40", "--as", "acme"], 3,
         f"no entry at seq 40 in project {S!r}", f"`accord trail {S}` lists every seq"),
        (["dispute", S, "5", "--reason", " "], 2, "the reason must not be empty", "give a reason"),
    ],
)  # fmt: skip
def test_refused_disputes_resolutions_and_close_shorts_change_nothing(
    accepted: Accord, args: list[str], code: int, error: str, hint: str | None
) -> None:
    if "--reason" not in args:
        args = [*args, "--reason", "Because"]
    if "--as" not in args:
        args = [*args, "--as", "burgerco"]
    with accepted.unchanged():
        assert_refused(accepted(*args), code, error, hint)


@pytest.mark.parametrize(
    ("args", "usage", "error"),
    [
        (["dispute", S, "5", "--as", "burgerco"], "Usage: accord dispute [OPTIONS] SLUG SEQ",
         "Missing option '--reason'."),
        (["dispute", S, "0", "--reason", "x", "--as", "burgerco"],
         "Usage: accord dispute [OPTIONS] SLUG SEQ",
         "Invalid value for 'SEQ': 0 is not in the range x>=1."),
        (["resolve", S, "7", "--outcome", "maybe", "--reason", "x", "--as", "acme"],
         "Usage: accord resolve [OPTIONS] SLUG DISPUTE",
         "Invalid value for '--outcome': 'maybe' is not one of 'upheld', 'dismissed'."),
        (["resolve", S, "7", "--reason", "x", "--as", "acme"],
         "Usage: accord resolve [OPTIONS] SLUG DISPUTE", "Missing option '--outcome'. "
         "Choose from:\n\tupheld,\n\tdismissed"),
        (["pledge", "close-short", S, "4", "--as", "acme"],
         "Usage: accord pledge close-short [OPTIONS] SLUG PLEDGE", "Missing option '--reason'."),
    ],
)  # fmt: skip
def test_malformed_dispute_commands_are_usage_errors(
    accepted: Accord, args: list[str], usage: str, error: str
) -> None:
    with accepted.unchanged():
        assert_usage_error(accepted(*args), usage, error)


def test_resolving_twice_or_as_a_stranger_is_refused(accepted: Accord) -> None:
    accepted.ok("dispute", S, "5", "--reason", "Wrong size", "--as", "burgerco")  # 7
    accepted.ok("resolve", S, "7", "--outcome", "upheld", "--reason", "Yes", "--as", "acme")  # 8
    with accepted.unchanged():
        tail, hint = already(
            S, 8, "acme",
            "the other parties concerned sign too; the dispute is settled when they agree",
        )  # fmt: skip
        assert_refused_like(
            accepted("resolve", S, "7", "--outcome", "upheld", "--reason", "Yes", "--as", "acme"),
            4, f"'acme' already signed upheld on dispute 7 {tail}", hint,
        )  # fmt: skip
        assert_refused(
            accepted("resolve", S, "7", "--outcome", "upheld", "--reason", "Y", "--as", "veggie"),
            4, "'veggie' is not a party to dispute 7; its parties (acme, burgerco) resolve it "
            "(seq 9)",
        )  # fmt: skip
        tail, hint = already(S, 7, "burgerco", "its parties resolve that dispute first")
        assert_refused_like(
            accepted("dispute", S, "5", "--reason", "Again", "--as", "burgerco"), 4,
            f"deliverable 5 is already disputed {tail}", hint,
        )  # fmt: skip
    accepted.ok("resolve", S, "7", "--outcome", "upheld", "--reason", "Y", "--as", "burgerco")
    with accepted.unchanged():
        assert_refused_like(
            accepted("resolve", S, "7", "--outcome", "dismissed", "--reason", "Y", "--as",
                     "acme"),
            4, f"dispute 7 was already resolved: upheld {already(S, 9, 'burgerco')[0]}",
            already(S, 9, "burgerco")[1],
        )  # fmt: skip


def test_a_pledge_is_closed_short_when_its_beneficiaries_approve(accepted: Accord) -> None:
    result = accepted.ok("pledge", "close-short", S, "4", "--reason", "Print run cancelled",
                         "--as", "acme")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(
            S, 7, "pledge.closed-short",
            about=f"asked to close {POSTERS} short at 10 of 30 hours approved; burgerco decide",
        ),
    )  # fmt: skip
    with accepted.unchanged():
        assert_refused(
            accepted("deliver", S, "4", "--summary", "More", "--quantity", "1", "--as", "acme"),
            4, "pledge 4 has a pending close-short proposal (seq 7); it cannot be delivered on "
            "meanwhile",
            "wait until the beneficiaries approve or reject it",
        )  # fmt: skip
    result = accepted.ok("approve", S, "7", "--as", "burgerco")
    assert_matches(
        result.stdout,
        receipt(
            S, 8, "approval.given",
            about=f"approved close-short seq 7 by acme of {POSTERS} at 10 of 30 hours approved "
            "(accepted)",
        ),
    )  # fmt: skip
    [pledge] = accepted.json("obligations", S)
    assert (pledge["status"], pledge["weight"], pledge["approved"], pledge["short"]) == (
        "closed-short", "30", "10", "20",
    )  # fmt: skip
    assert accepted.json("obligations", S, "--within", "365d") == []
    assert accepted.json("obligations", S, "--status", "closed-short")[0]["seq"] == 4
    rows = {r["party"]: r for r in accepted.json("contributions", S)}
    # the whole weight stays pledged; what was approved and the agreed shortfall show apart
    assert (rows["acme"]["pledged"], rows["acme"]["approved"], rows["acme"]["short"]) == (
        "30", "10", "20",
    )  # fmt: skip
    assert rows["acme"]["fulfilment"] == "0.3333"
    with accepted.unchanged():
        assert_refused(
            accepted("deliver", S, "4", "--summary", "More", "--quantity", "1", "--as", "acme"),
            4, "pledge 4 was closed short at seq 8; nothing more is owed or delivered on it",
            "make a new pledge for further work",
        )  # fmt: skip
    accepted.ok("verify", S)
