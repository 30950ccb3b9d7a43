"""ADR 0012 end to end: the close guard, the proposer's signature, signer labels, fair reads.

Every test here fails on the accord before ADR 0012: `accord close` signed over open
pledges, `statement propose` recorded one entry, receipts and the report dropped the signer
label, and contributions called a lone unit a 100% share and unvalued work 0%.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import FP, Accord, assert_matches, assert_refused, receipt, start_project

from ledger.application import Ledger
from ledger.errors import StorageUnavailableError

S = "spring-campaign"
OPEN = (
    "2 pledges of 'spring-campaign' are still open: 4 \"Design the posters\" by acme (10 of 30 "
    'hours approved); 6 "Social posts" by veggie (0 of 12 posts approved, 3 awaiting a '
    "decision)"
)
ENDS = (
    "finish or end them first: `accord pledge close-short spring-campaign PLEDGE --reason R "
    "--as PROMISOR` (the beneficiaries then approve) or `accord pledge withdraw "
    "spring-campaign PLEDGE --reason R --as PROMISOR`; or close leaving them open: "
)


@pytest.fixture
def campaign(initialised: Accord) -> Accord:
    """The project (1-3): 4 acme pledges 30 hours to burgerco, 5 burgerco pledges 100 eur
    to acme, 6 veggie pledges 12 posts to acme; 7 acme delivers 10 hours, 8 burgerco
    approves; 9 burgerco delivers the 100 eur, 10 acme approves (fulfilled); 11 veggie
    delivers 3 posts."""
    a = initialised
    start_project(a)
    a.ok("pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
         "--due", "2099-12-15", "--to", "burgerco", "--as", "acme")  # fmt: skip
    a.ok("pledge", "add", S, "Media", "--weight", "100", "--unit", "eur", "--due",
         "2099-12-15", "--to", "acme", "--as", "burgerco")  # fmt: skip
    a.ok("pledge", "add", S, "Social posts", "--weight", "12", "--unit", "posts", "--due",
         "2099-12-15", "--to", "acme", "--as", "veggie")  # fmt: skip
    a.ok("deliver", S, "4", "--summary", "Drafts", "--quantity", "10", "--as", "acme")
    a.ok("approve", S, "7", "--as", "burgerco")
    a.ok("deliver", S, "5", "--summary", "Paid", "--as", "burgerco")
    a.ok("approve", S, "9", "--as", "acme")
    a.ok("deliver", S, "6", "--summary", "Three", "--quantity", "3", "--as", "veggie")
    return a


# --- accord close refuses while pledges are open ---------------------------------------------


def test_close_refuses_while_pledges_are_open_and_changes_nothing(campaign: Accord) -> None:
    for output in ("table", "json", "csv"):
        with campaign.unchanged():
            result = campaign("close", S, "--as", "burgerco", "--format", output)
        assert_refused(
            result, 4, OPEN, ENDS + "`accord close spring-campaign --accept-open 4,6 --as burgerco`"
        )
    assert not (campaign.tmp_path / "accord-reports").exists()


def test_each_open_pledge_must_be_accepted_by_seq(campaign: Accord) -> None:
    with campaign.unchanged():
        result = campaign("close", S, "--accept-open", "4", "--as", "acme")
    assert_refused(
        result,
        4,
        "1 pledge of 'spring-campaign' is still open: 6 \"Social posts\" by veggie (0 of 12 posts "
        "approved, 3 awaiting a decision)",
        "finish or end it first: `accord pledge close-short spring-campaign 6 --reason R --as "
        "veggie` (its beneficiaries then approve) or `accord pledge withdraw spring-campaign 6 "
        "--reason R --as veggie`; or close leaving it open: `accord close spring-campaign "
        "--accept-open 6 --as acme`",
    )
    result = campaign.ok("close", S, "--accept-open", "4", "--accept-open", " 6 ", "--as", "acme")
    assert_matches(
        result.stdout,
        receipt(S, 12, "close.signed", "active",
                'signed the close of "Spring campaign" at head seq 11')
        + "close signatures on the final head: 1 of 3 needed\n",
    )  # fmt: skip
    # a fulfilled pledge (5) may be named too: it changes nothing
    campaign.ok("close", S, "--accept-open", "4,5,6", "--as", "burgerco")
    closed = campaign.json("close", S, "--accept-open", "6,4", "--as", "veggie")
    assert (closed["seq"], closed["project_status"]) == (14, "closed")
    report = json.loads(Path(closed["report"][2]).read_text(encoding="utf-8"))
    assert [o["seq"] for o in report["open_obligations"]] == [4, 6]


@pytest.mark.parametrize("value", ["four", "4,,6", "0", "-4", "4;6", "", "4.0", "٤"])
def test_a_malformed_acceptance_is_a_usage_error_before_any_key_is_read(
    campaign: Accord, value: str
) -> None:
    with campaign.unchanged():
        result = campaign(
            "close", S, "--accept-open", value, "--as", "acme",
            env={"ACCORD_PASSPHRASE": "not the passphrase"},
        )  # fmt: skip
    assert_refused(
        result, 2, f"--accept-open {value!r} is not a list of pledge seqs",
        "name the open pledges by seq, e.g. --accept-open 4,6",
    )  # fmt: skip


def test_only_pledges_can_be_accepted(campaign: Accord) -> None:
    with campaign.unchanged():
        result = campaign("close", S, "--accept-open", "4,6,7", "--as", "acme")
    assert_refused(
        result, 2,
        "seq 7 is not a pledge of 'spring-campaign'; only pledges can be accepted as open",
        "`accord obligations spring-campaign` lists the pledges",
    )  # fmt: skip


def test_a_pledge_closed_short_or_withdrawn_is_not_open(campaign: Accord) -> None:
    campaign.ok("approve", S, "11", "--as", "acme")  # 12: 3 of 12 posts approved
    campaign.ok("pledge", "close-short", S, "6", "--reason", "Three were enough",
                "--as", "veggie")  # fmt: skip  # 13
    campaign.ok("approve", S, "13", "--as", "acme")  # 14: closed short
    campaign.ok("pledge", "withdraw", S, "4", "--reason", "Done in-house", "--as", "acme")  # 15
    for party in ("acme", "burgerco", "veggie"):
        campaign.ok("close", S, "--as", party)
    [posts] = campaign.json("obligations", S, "--status", "closed-short")
    assert (posts["weight"], posts["approved"], posts["short"]) == ("12", "3", "9")


# --- statement propose and revise sign what they record -------------------------------------


def test_statement_propose_also_signs_it_and_prints_both_receipts(campaign: Accord) -> None:
    result = campaign.ok("statement", "propose", S, "--title", "Joint", "--text", "Together.",
                         "--as", "acme")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(S, 12, "statement.proposed")
        + receipt(S, 13, "statement.signed",
                  about='signed version 1 of statement 12 "Joint" (1 of 3 signatures)'),
    )  # fmt: skip
    [row] = campaign.json("statement", "list", S)
    assert (row["signed_by"], row["waiting_for"]) == (["acme"], ["burgerco", "veggie"])
    refused = campaign("statement", "sign", S, "12", "--as", "acme")
    assert refused.exit_code == 4
    assert refused.stderr.startswith("Error: 'acme' already signed version 1 of statement 12")


def test_statement_propose_as_json_nests_the_signature_receipt(campaign: Accord) -> None:
    data = campaign.json("statement", "propose", S, "--title", "Joint", "--text", "Yes.",
                         "--as", "veggie")  # fmt: skip
    signature = data.pop("signature")
    assert (data["seq"], data["type"], data["by"], data["signer"]) == (
        12, "statement.proposed", "veggie", "veggie",
    )  # fmt: skip
    assert (signature["seq"], signature["type"], signature["by"], signature["key"]) == (
        13, "statement.signed", "veggie", FP["veggie"],
    )  # fmt: skip
    assert signature["subject"] == {
        "statement": 12, "statement_title": "Joint", "version": 1, "signatures": 1,
        "signatures_needed": 3, "status": "pending",
    }  # fmt: skip
    header, row = campaign.ok(
        "statement", "propose", S, "--title", "FAQ", "--text", "Q.", "--as", "acme",
        "--format", "csv",
    ).stdout.splitlines()  # fmt: skip
    assert header.split(",")[-1] == "signature"
    assert '""type"":""statement.signed""' in row


def test_no_sign_records_the_text_alone(campaign: Accord) -> None:
    data = campaign.json("statement", "propose", S, "--title", "Draft", "--text", "Maybe.",
                         "--no-sign", "--as", "acme")  # fmt: skip
    assert (data["seq"], "signature" in data) == (12, False)
    assert campaign.json("statement", "list", S)[0]["signed_by"] == []


def test_statement_revise_signs_the_new_version(campaign: Accord) -> None:
    campaign.ok("statement", "propose", S, "--title", "Joint", "--text", "V1.", "--as", "acme")
    campaign.ok("statement", "sign", S, "12", "--as", "burgerco")  # 14
    result = campaign.ok("statement", "revise", S, "12", "--text", "V2.", "--reason", "Better",
                         "--as", "veggie")  # fmt: skip
    assert_matches(
        result.stdout,
        receipt(S, 15, "statement.revised")
        + receipt(S, 16, "statement.signed",
                  about='signed version 2 of statement 12 "Joint" (1 of 3 signatures)'),
    )  # fmt: skip
    shown = campaign.json("statement", "show", S, "12")
    assert (shown["version"], shown["signed_by"]) == (2, ["veggie"])
    quiet = campaign.json("statement", "revise", S, "12", "--text", "V3.", "--reason", "Again",
                          "--no-sign", "--as", "acme")  # fmt: skip
    assert (quiet["seq"], "signature" in quiet) == (17, False)
    assert campaign.json("statement", "show", S, "12")["signed_by"] == []


def test_a_signature_that_fails_after_the_proposal_says_how_to_sign(
    campaign: Accord, monkeypatch: pytest.MonkeyPatch
) -> None:
    with campaign.unchanged():  # a refused proposal signs nothing either
        result = campaign("statement", "propose", S, "--title", "Joint", "--text", "X",
                          "--as", "mallory")  # fmt: skip
    assert (result.exit_code, result.stdout) == (4, "")

    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise StorageUnavailableError("relay unreachable", hint="try again")

    monkeypatch.setattr(Ledger, "sign_statement", unreachable)
    result = campaign("statement", "propose", S, "--title", "Joint", "--text", "X",
                      "--as", "acme")  # fmt: skip
    assert result.exit_code == 6
    assert_matches(result.stdout, receipt(S, 12, "statement.proposed"))
    assert result.stderr == (
        "Note: statement 12 of spring-campaign was recorded at seq 12 but not signed; sign it "
        "with `accord statement sign spring-campaign 12 --as acme`\n"
        "Error: relay unreachable\nHint: try again\n"
    )


# --- the signer label in receipts and in the report's pledge tables ----------------------------


def test_receipts_and_the_report_name_the_person_who_signed(
    campaign: Accord, tmp_path: Path
) -> None:
    alice_home = tmp_path / "alice-home"
    alice = {"ACCORD_HOME": str(alice_home)}
    campaign.ok("key", "new", "acme", env=alice)
    line = str(campaign.json("key", "show", "acme", env=alice)["public_key"])
    campaign.ok("project", "add-signer", S, "--label", "alice", "--public-key", line,
                "--as", "acme")  # fmt: skip  # 12
    made = campaign.ok("pledge", "add", S, "Stand", "--weight", "5", "--unit", "hours", "--due",
                       "2099-12-15", "--to", "burgerco", "--as", "acme", env=alice)  # fmt: skip
    assert_matches(made.stdout, receipt(S, 13, "pledge.made") + "signed by acme (alice)\n")
    data = campaign.json("deliver", S, "13", "--summary", "Booth", "--as", "acme", env=alice)
    assert (data["by"], data["signer"]) == ("acme", "alice")
    campaign.ok("approve", S, "14", "--as", "burgerco")
    campaign.ok("report", S, "-o", str(tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "close-report.json").read_text(encoding="utf-8"))
    stand = next(p for p in report["pledges"] if p["seq"] == 13)
    assert (stand["signer"], stand["deliverables"][0]["signer"]) == ("alice", "alice")
    assert stand["deliverables"][0]["approved_by"] == [
        {"party": "burgerco", "seq": 15, "signer": "burgerco"}
    ]
    markdown = (tmp_path / "out" / "close-report.md").read_text(encoding="utf-8")
    assert "acme (alice) to burgerco: 5 hours, due 2099-12-15." in markdown
    assert re.search(r"\| 14  \| \S+ \| acme \(alice\) \| 5 +\| Booth", markdown)
    html = (tmp_path / "out" / "close-report.html").read_text(encoding="utf-8")
    assert "<p>acme (alice) to burgerco: 5 hours" in html


# --- contributions in words ------------------------------------------------------------------


def test_contributions_say_alone_short_and_not_valued(campaign: Accord) -> None:
    """Each party is alone in its unit. Overall (an hour is 50 eur), acme and burgerco are
    compared: pledged 1500 and 100 (15/16, 1/16: shown 93.8% and 6.2%, the tie to acme),
    approved 500 and 100 (5/6, 1/6). veggie's posts have no value: not valued."""
    campaign.ok("approve", S, "11", "--as", "acme")  # 12
    campaign.ok("pledge", "close-short", S, "6", "--reason", "Enough", "--as", "veggie")  # 13
    campaign.ok("approve", S, "13", "--as", "acme")  # 14
    campaign.ok("project", "value", S, "--unit", "hours", "--worth", "50", "--in", "eur",
                "--reason", "Rate", "--as", "acme")  # fmt: skip  # 15
    for party in ("burgerco", "veggie"):
        campaign.ok("approve", S, "15", "--as", party)
    table = campaign.ok("contributions", S).stdout.splitlines()
    assert table[0].split() == [
        "party", "unit", "pledged", "delivered", "approved", "disputed", "short",
        "pledged_share", "approved_share", "fulfilment", "on_time", "guest_star",
    ]  # fmt: skip
    assert [line.split() for line in table[2:]] == [
        ["burgerco", "eur", "100", "100", "100", "0", "0", "alone", "alone", "100.0%", "100.0%"],
        ["acme", "hours", "30", "10", "10", "0", "0", "alone", "alone", "33.3%", "n/a"],
        ["veggie", "posts", "12", "3", "3", "0", "9", "alone", "alone", "25.0%", "100.0%"],
        ["acme", "overall", "eur", "1500", "500", "500", "0", "0", "93.8%", "83.3%", "33.3%",
         "n/a"],
        ["burgerco", "overall", "eur", "100", "100", "100", "0", "0", "6.2%", "16.7%",
         "100.0%", "n/a", "GUEST", "STAR"],  # 100 of the 600 eur approved: below 1/4
        ["veggie", "overall", "eur", "-", "-", "-", "-", "-", "not", "valued", "not", "valued",
         "n/a", "n/a", "not", "valued"],
    ]  # fmt: skip
