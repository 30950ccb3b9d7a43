"""The read commands end to end: obligations, contributions, trail, report, the close report,
and time travel with --as-of / --as-of-seq.

Entries are claimed at the real time of the run, so due dates are far in the past (2020-01-01:
always overdue) or far in the future (2099-...: never due during a run).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_helpers import FP, Accord, assert_refused, past_due

S = "spring-campaign"
TRAIL_KEYS = [
    "seq", "at", "received_at", "party", "signer", "key", "type", "summary", "hash", "verdict",
]  # fmt: skip


def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def reads(initialised: Accord, project: str) -> Accord:
    """The three-party project (1-3) with:

    4  acme pledges "Design the posters" 30 hours to burgerco, due 2099-12-31
    5  burgerco pledges "Media budget" 1000 eur to acme, due 2020-01-01 (overdue)
    6  veggie pledges "Recipe shoot" 10 hours to acme, due 2099-12-01
    7  acme delivers 26 hours on 4; 8 burgerco approves
    9  veggie delivers 4 hours on 6; 10 acme approves
    11 acme proposes statement "Joint statement"; 12 burgerco signs it
    """
    a = initialised
    a.ok("pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
         "--due", "2099-12-31", "--to", "burgerco", "--as", "acme")  # fmt: skip
    a.ok("pledge", "add", S, "Media budget", "--weight", "1000", "--unit", "eur",
         "--due", "2020-01-01", "--to", "acme", "--as", "burgerco",
         stderr=past_due("2020-01-01"))  # fmt: skip
    a.ok("pledge", "add", S, "Recipe shoot", "--weight", "10", "--unit", "hours",
         "--due", "2099-12-01", "--to", "acme", "--as", "veggie")  # fmt: skip
    a.ok("deliver", S, "4", "--summary", "Poster drafts", "--quantity", "26", "--as", "acme")
    a.ok("approve", S, "7", "--as", "burgerco")
    a.ok("deliver", S, "6", "--summary", "Shoot day", "--quantity", "4", "--as", "veggie")
    a.ok("approve", S, "9", "--as", "acme")
    a.ok("statement", "propose", S, "--title", "Joint statement", "--text", "Together.",
         "--no-sign", "--as", "acme")  # fmt: skip
    a.ok("statement", "sign", S, "11", "--as", "burgerco")
    return a


def late() -> int:
    return (today() - date(2020, 1, 1)).days


OBLIGATIONS_HEADER = (
    "seq    party     to        title               weight    unit    delivered    approved"
    "    short    due         status    days_late\n"
    "-----  --------  --------  ------------------  --------  ------  -----------  ----------"
    "  -------  ----------  --------  -----------\n"
)


def obligation_line(seq: int) -> str:
    return {
        4: "4      acme      burgerco  Design the posters  30        hours   26           26"
        "                   2099-12-31  open      0\n",
        5: "5      burgerco  acme      Media budget        1000      eur     0            0"
        f"                    2020-01-01  overdue   {late()}\n",
        6: "6      veggie    acme      Recipe shoot        10        hours   4            4"
        "                    2099-12-01  open      0\n",
    }[seq]


def obligation_row(seq: int) -> dict[str, object]:
    return {
        4: {"seq": 4, "party": "acme", "to": ["burgerco"], "title": "Design the posters",
            "weight": "30", "unit": "hours", "delivered": "26", "approved": "26",
            "due": "2099-12-31", "status": "open", "days_late": 0, "short": None},
        5: {"seq": 5, "party": "burgerco", "to": ["acme"], "title": "Media budget",
            "weight": "1000", "unit": "eur", "delivered": "0", "approved": "0",
            "due": "2020-01-01", "status": "overdue", "days_late": late(), "short": None},
        6: {"seq": 6, "party": "veggie", "to": ["acme"], "title": "Recipe shoot",
            "weight": "10", "unit": "hours", "delivered": "4", "approved": "4",
            "due": "2099-12-01", "status": "open", "days_late": 0, "short": None},
    }[seq]  # fmt: skip


# --- obligations ---------------------------------------------------------------------------


def test_obligations_read_as_a_table(reads: Accord) -> None:
    assert reads.ok("obligations", S).output == OBLIGATIONS_HEADER + "".join(
        obligation_line(seq) for seq in (4, 5, 6)
    )


def test_obligations_read_as_json(reads: Accord) -> None:
    assert reads.json("obligations", S) == [obligation_row(seq) for seq in (4, 5, 6)]


def test_obligations_read_as_csv(reads: Accord) -> None:
    assert reads.ok("obligations", S, "--format", "csv").output == (
        "seq,party,to,title,weight,unit,delivered,approved,short,due,status,days_late\n"
        "4,acme,burgerco,Design the posters,30,hours,26,26,,2099-12-31,open,0\n"
        f"5,burgerco,acme,Media budget,1000,eur,0,0,,2020-01-01,overdue,{late()}\n"
        "6,veggie,acme,Recipe shoot,10,hours,4,4,,2099-12-01,open,0\n"
    )


def test_obligations_filter_by_party_made_by_or_owed_to(reads: Accord) -> None:
    assert [r["seq"] for r in reads.json("obligations", S, "--party", "veggie")] == [6]
    assert [r["seq"] for r in reads.json("obligations", S, "--party", "burgerco")] == [4, 5]
    assert reads.ok("obligations", S, "--party", "mallory").output == (
        "(no matching obligations)\n"
    )


def test_obligations_filter_by_status(reads: Accord) -> None:
    assert reads.ok("obligations", S, "--status", "overdue").output == (
        "seq    party     to    title         weight    unit    delivered    approved    short"
        "    due         status    days_late\n"
        "-----  --------  ----  ------------  --------  ------  -----------  ----------  -------"
        "  ----------  --------  -----------\n"
        "5      burgerco  acme  Media budget  1000      eur     0            0                    "
        f"2020-01-01  overdue   {late()}\n"
    )
    assert reads.json("obligations", S, "--status", "fulfilled") == []


def test_an_unknown_status_is_a_usage_error(reads: Accord) -> None:
    result = reads("obligations", S, "--status", "late")
    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.stderr


@pytest.mark.parametrize("within", ["14d", "2w", "14", "0"])
def test_within_keeps_unfinished_pledges_due_soon_including_overdue_ones(
    reads: Accord, within: str
) -> None:
    assert reads.json("obligations", S, "--within", within) == [obligation_row(5)]


def test_within_in_weeks_reaches_far_enough(reads: Accord) -> None:
    weeks = str((date(2099, 12, 1) - today()).days // 7 + 1)
    rows = reads.json("obligations", S, "--within", f"{weeks}w")
    assert [r["seq"] for r in rows] == [5, 6]


@pytest.mark.parametrize("within", ["soon", "2 weeks", "-3d", "1.5w", ""])
def test_a_malformed_within_is_a_usage_error(reads: Accord, within: str) -> None:
    assert_refused(
        reads("obligations", S, "--within", within),
        2,
        f"--within {within!r} is not a number of days",
        "write 14d or 2w",
    )


def test_fail_if_overdue_exits_8_and_names_the_overdue_seqs(reads: Accord) -> None:
    result = reads("obligations", S, "--fail-if-overdue")
    assert result.exit_code == 8
    assert result.stdout == OBLIGATIONS_HEADER + "".join(obligation_line(s) for s in (4, 5, 6))
    assert result.stderr == "Error: 1 overdue obligation in spring-campaign: seq 5 (burgerco)\n"


def test_fail_if_overdue_lists_every_overdue_seq(reads: Accord) -> None:
    reads.ok("pledge", "add", S, "Old promise", "--weight", "1", "--unit", "posts",
             "--due", "2021-06-30", "--as", "veggie", stderr=past_due("2021-06-30"))  # fmt: skip
    result = reads("obligations", S, "--fail-if-overdue", "--format", "json")
    assert result.exit_code == 8
    assert [r["seq"] for r in json.loads(result.stdout)] == [4, 5, 6, 13]
    assert result.stderr == (
        "Error: 2 overdue obligations in spring-campaign: seq 5 (burgerco), seq 13 (veggie)\n"
    )


def test_fail_if_overdue_exits_0_when_nothing_is_overdue(reads: Accord) -> None:
    result = reads.ok("obligations", S, "--fail-if-overdue", "--party", "veggie")
    assert result.output == (
        "seq    party    to    title         weight    unit    delivered    approved    short"
        "    due         status    days_late\n"
        "-----  -------  ----  ------------  --------  ------  -----------  ----------  -------"
        "  ----------  --------  -----------\n"
        "6      veggie   acme  Recipe shoot  10        hours   4            4                    "
        "2099-12-01  open      0\n"
    )


def test_fail_if_overdue_exits_0_on_a_project_without_pledges(
    initialised: Accord, project: str
) -> None:
    result = initialised.ok("obligations", project, "--fail-if-overdue")
    assert result.output == "(no matching obligations)\n"


def test_obligations_of_an_unknown_project_are_not_found(reads: Accord) -> None:
    result = reads("obligations", "no-such-project")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: ")
    assert result.stdout == ""


# --- contributions -------------------------------------------------------------------------

CONTRIBUTIONS_HEADER = (
    "party     unit    pledged    delivered    approved    disputed    short    pledged_share"
    "    approved_share    fulfilment    on_time    guest_star\n"
    "--------  ------  ---------  -----------  ----------  ----------  -------  ---------------"
    "  ----------------  ------------  ---------  ------------\n"
)


def test_contributions_read_as_a_table_with_percentages_and_guest_stars(reads: Accord) -> None:
    # burgerco is alone in eur, where nothing is approved yet: not judged (on main it was a
    # guest star, for its 0% of the approved hours it never pledged). veggie and acme work
    # in hours: an equal share is 1/2, and veggie's 4/30 is below half of it.
    assert reads.ok("contributions", S).output == CONTRIBUTIONS_HEADER + (
        "burgerco  eur     1000       0            0           0           0        alone"
        "            n/a               0.0%          0.0%\n"
        "acme      hours   30         26           26          0           0        75.0%"
        "            86.7%             86.7%         n/a\n"
        "veggie    hours   10         4            4           0           0        25.0%"
        "            13.3%             40.0%         n/a        GUEST STAR\n"
    )


def test_contributions_read_as_json_with_exact_ratio_strings(reads: Accord) -> None:
    assert reads.json("contributions", S) == [
        {"party": "burgerco", "unit": "eur", "pledged": "1000", "delivered": "0",
         "approved": "0", "disputed": "0", "short": "0", "pledged_share": "1.0000",
         "approved_share": None, "fulfilment": "0.0000", "on_time": "0.0000",
         "guest_star": False, "peers": 1, "valued": None},
        {"party": "acme", "unit": "hours", "pledged": "30", "delivered": "26",
         "approved": "26", "disputed": "0", "short": "0", "pledged_share": "0.7500",
         "approved_share": "0.8667", "fulfilment": "0.8667", "on_time": None,
         "guest_star": False, "peers": 2, "valued": None},
        {"party": "veggie", "unit": "hours", "pledged": "10", "delivered": "4",
         "approved": "4", "disputed": "0", "short": "0", "pledged_share": "0.2500",
         "approved_share": "0.1333", "fulfilment": "0.4000", "on_time": None,
         "guest_star": True, "peers": 2, "valued": None},
    ]  # fmt: skip


def test_a_lower_threshold_clears_a_small_contributor(reads: Accord) -> None:
    # veggie has 4/30 of the approved hours: below 0.3 of an equal share of 1/2 (3/20) but
    # above 0.25 of it (1/8).
    assert reads.json("contributions", S, "--threshold", "0.3")[2]["guest_star"] is True
    assert reads.ok("contributions", S, "--threshold", "0.25", "--format", "csv").output == (
        "party,unit,pledged,delivered,approved,disputed,short,pledged_share,approved_share,"
        "fulfilment,on_time,guest_star,peers,valued\n"
        "burgerco,eur,1000,0,0,0,0,1.0000,,0.0000,0.0000,False,1,\n"
        "acme,hours,30,26,26,0,0,0.7500,0.8667,0.8667,,False,2,\n"
        "veggie,hours,10,4,4,0,0,0.2500,0.1333,0.4000,,False,2,\n"
    )


def test_a_threshold_can_be_a_fraction(reads: Accord) -> None:
    rows = reads.json("contributions", S, "--threshold", "4/15")  # bar 2/15: exactly 4/30
    assert [r["guest_star"] for r in rows] == [False, False, False]
    rows = reads.json("contributions", S, "--threshold", "3/10")
    assert [r["guest_star"] for r in rows] == [False, False, True]


@pytest.mark.parametrize(
    ("threshold", "error", "hint"),
    [
        ("abc", "--threshold 'abc' is not a number", "e.g. 0.5"),
        ("", "--threshold '' is not a number", "e.g. 0.5"),
        ("1/0", "--threshold '1/0' is not a number", "e.g. 0.5"),
        ("1.5", "--threshold must be between 0 and 1", "e.g. 0.5"),
        ("-0.1", "--threshold must be between 0 and 1", "e.g. 0.5"),
    ],
)
def test_a_bad_threshold_is_a_usage_error(
    reads: Accord, threshold: str, error: str, hint: str | None
) -> None:
    assert_refused(reads("contributions", S, "--threshold", threshold), 2, error, hint)


def test_contributions_of_a_project_without_pledges_list_every_member(
    initialised: Accord, project: str
) -> None:
    rows = initialised.json("contributions", project)
    assert [(r["party"], r["unit"], r["guest_star"]) for r in rows] == [
        ("acme", "-", False), ("burgerco", "-", False), ("veggie", "-", False),
    ]  # fmt: skip


# --- trail ---------------------------------------------------------------------------------

TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def normalise(text: str) -> str:
    """Replace the times and short hashes of a trail table, which differ per run."""
    return re.sub(r"\b[0-9a-f]{12}\b", "<hash12>", re.sub(TIME, "<time>", text))


def test_trail_reads_as_a_table_filtered_by_party(reads: Accord) -> None:
    output = normalise(reads.ok("trail", S, "--party", "veggie").output)
    assert output == (
        "seq    at                    received_at           party    type                   "
        "summary                                                   hash          verdict\n"
        "-----  --------------------  --------------------  -------  ---------------------  "
        "--------------------------------------------------------  ------------  ---------\n"
        "3      <time>  <time>  veggie   member.joined          joined, accepting the terms"
        "                               <hash12>  ok\n"
        '6      <time>  <time>  veggie   pledge.made            pledged "Recipe shoot": 10 '
        "hours to acme, due 2099-12-01  <hash12>  ok\n"
        "9      <time>  <time>  veggie   deliverable.submitted  delivered 4 hours on pledge 6: "
        '"Shoot day"                <hash12>  ok\n'
    )


def test_trail_filters_by_type(reads: Accord) -> None:
    rows = reads.json("trail", S, "--type", "approval.given")
    assert [(r["seq"], r["party"], r["summary"]) for r in rows] == [
        (8, "burgerco", "approved seq 7"),
        (10, "acme", "approved seq 9"),
    ]
    both = reads.json("trail", S, "--type", "approval.given", "--party", "acme")
    assert [r["seq"] for r in both] == [10]


def test_trail_json_has_every_field(reads: Accord) -> None:
    rows = reads.json("trail", S)
    assert [r["seq"] for r in rows] == list(range(1, 13))
    for row in rows:
        deliverable = row["type"] == "deliverable.submitted"
        assert list(row) == TRAIL_KEYS + (["evidence"] if deliverable else [])
        assert re.fullmatch(TIME, row["at"])
        assert re.fullmatch(r"[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z", row["received_at"])
        assert re.fullmatch("[0-9a-f]{64}", row["hash"])
        assert row["key"] == FP[row["party"]]
        assert row["signer"] == row["party"]  # each party's first signer has its handle
        assert row["verdict"] == "ok"
    assert rows[6]["type"] == "deliverable.submitted"
    assert rows[6]["summary"] == 'delivered 26 hours on pledge 4: "Poster drafts"'
    assert rows[6]["evidence"] == []  # name, size, sha256 of each file (issue 16)


def test_an_unknown_entry_type_is_a_usage_error(reads: Accord) -> None:
    result = reads("trail", S, "--type", "pledge.broken")
    assert result.exit_code == 2
    assert "Invalid value for '--type'" in result.stderr


# --- report and close ----------------------------------------------------------------------


def test_report_writes_the_asked_format_into_the_directory(reads: Accord, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = reads.ok("report", S, "-o", str(out), "--format", "html")
    assert result.output == f"wrote {out / 'close-report.html'}\n"
    assert sorted(p.name for p in out.iterdir()) == ["close-report.html"]
    page = (out / "close-report.html").read_text()
    assert "Interim report" in page
    assert page.count("<svg") == 2


def test_report_of_an_open_project_is_marked_interim(reads: Accord, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = reads.ok("report", S, "-o", str(out))
    assert result.output == "".join(
        f"wrote {out / name}\n"
        for name in (
            "close-report.md",
            "close-report.html",
            "close-report.json",
            "close-report.pdf",
        )
    )
    markdown = (out / "close-report.md").read_text()
    assert markdown.startswith("# Interim report: Spring campaign (spring-campaign)\n")
    data = json.loads((out / "close-report.json").read_text())
    assert (data["kind"], data["close"]["closed"], data["as_of"]["seq"]) == ("interim", False, 12)


def test_report_defaults_to_accord_reports_slug(reads: Accord, tmp_path: Path) -> None:
    result = reads.ok("report", S, "--format", "json", "--format", "md")
    where = Path("accord-reports") / S
    assert result.output == (
        f"wrote {where / 'close-report.json'}\nwrote {where / 'close-report.md'}\n"
    )
    assert (tmp_path / where / "close-report.json").exists()


def test_the_last_close_signature_writes_the_close_report(reads: Accord, tmp_path: Path) -> None:
    out = tmp_path / "closing"
    for party in ("acme", "burgerco"):
        result = reads.ok("close", S, "--report-dir", str(out), "--accept-open", "4,5,6",
                          "--as", party)  # fmt: skip
        assert "close report" not in result.output
    assert not out.exists()
    result = reads.ok(
        "close", S, "--report-dir", str(out), "--accept-open", "4", "--accept-open", "5,6",
        "--as", "veggie",
    )  # fmt: skip
    lines = result.output.splitlines()
    assert lines[0] == "recorded spring-campaign seq 15 close.signed"
    assert re.fullmatch("hash [0-9a-f]{64}", lines[1])
    assert lines[2:] == [
        'signed the close of "Spring campaign" at head seq 12',
        "project spring-campaign is closed",
        f"close report: {out / 'close-report.md'}",
        f"close report: {out / 'close-report.html'}",
        f"close report: {out / 'close-report.json'}",
        f"close report: {out / 'close-report.pdf'}",
    ]
    assert (
        (out / "close-report.md")
        .read_text()
        .startswith("# Close report: Spring campaign (spring-campaign)\n")
    )
    data = json.loads((out / "close-report.json").read_text())
    assert data["kind"] == "close"
    assert [s["seq"] for s in data["close"]["signatures"]] == [13, 14, 15]
    head = reads.json("project", "show", S)["head"]
    assert data["close"]["head"] == head
    assert data["close"]["signatures"][-1]["hash"] == head


def test_close_as_json_lists_the_report_paths(reads: Accord, tmp_path: Path) -> None:
    out = tmp_path / "closing"
    for party in ("acme", "burgerco"):
        reads.ok("close", S, "--report-dir", str(out), "--accept-open", "4,5,6", "--as", party)
    data = reads.json(
        "close", S, "--report-dir", str(out), "--accept-open", "4,5,6", "--as", "veggie"
    )
    assert data["project_status"] == "closed"
    assert data["report"] == [
        str(out / "close-report.md"),
        str(out / "close-report.html"),
        str(out / "close-report.json"),
        str(out / "close-report.pdf"),
    ]


# --- time travel ---------------------------------------------------------------------------


def test_obligations_as_of_a_seq_show_the_pledge_before_its_delivery(reads: Accord) -> None:
    rows = reads.json("obligations", S, "--as-of-seq", "6")
    assert [(r["seq"], r["delivered"], r["approved"], r["status"]) for r in rows] == [
        (4, "0", "0", "open"), (5, "0", "0", "overdue"), (6, "0", "0", "open"),
    ]  # fmt: skip
    assert reads.json("obligations", S, "--as-of-seq", "7")[0]["status"] == "submitted"


def test_obligations_as_of_a_future_day_judge_due_dates_against_that_day(
    reads: Accord,
) -> None:
    rows = reads.json("obligations", S, "--as-of", "2099-12-31")
    assert [(r["seq"], r["status"], r["days_late"]) for r in rows] == [
        (4, "open", 0),
        (5, "overdue", (date(2099, 12, 31) - date(2020, 1, 1)).days),
        (6, "overdue", 30),
    ]


@pytest.mark.parametrize(
    "command",
    [["obligations", S], ["contributions", S], ["pledge", "list", S], ["statement", "list", S]],
)
def test_reads_as_of_a_day_before_the_project_say_it_had_no_entries_yet(
    reads: Accord, command: list[str]
) -> None:
    result = reads(*command, "--as-of", "2000-01-01")
    assert_refused(
        result,
        3,
        f"project '{S}' had no entries yet on 2000-01-01",
        "pick a later --as-of date (its first entry is its proposal)",
    )


def test_the_trail_as_of_a_day_before_the_project_is_empty(reads: Accord) -> None:
    assert reads.ok("trail", S, "--as-of", "2000-01-01").output == "(no matching entries)\n"


def test_as_of_the_day_of_the_entries_includes_all_of_them(reads: Accord) -> None:
    day = reads.json("trail", S)[-1]["at"][:10]
    assert len(reads.json("trail", S, "--as-of", day)) == 12
    assert reads.json("project", "show", S, "--as-of", day)["entries"] == 12


def test_contributions_as_of_a_seq_before_any_approval_flag_nobody(reads: Accord) -> None:
    rows = reads.json("contributions", S, "--as-of-seq", "7")
    assert [(r["party"], r["unit"], r["approved"], r["guest_star"]) for r in rows] == [
        ("burgerco", "eur", "0", False),
        ("acme", "hours", "0", False),
        ("veggie", "hours", "0", False),
    ]
    assert [r["approved_share"] for r in rows] == [None, None, None]


def test_statement_list_as_of_a_seq_shows_the_signatures_then(reads: Accord) -> None:
    def signed(*as_of: str) -> list[list[str]]:
        return [r["signed_by"] for r in reads.json("statement", "list", S, *as_of)]

    assert signed("--as-of-seq", "10") == []
    assert signed("--as-of-seq", "11") == [[]]
    assert signed("--as-of-seq", "12") == [["burgerco"]]
    assert signed() == [["burgerco"]]


def test_trail_as_of_a_seq_stops_there(reads: Accord) -> None:
    assert [r["seq"] for r in reads.json("trail", S, "--as-of-seq", "3")] == [1, 2, 3]


def test_pledge_list_as_of_a_seq_lists_the_pledges_made_by_then(reads: Accord) -> None:
    assert [r["seq"] for r in reads.json("pledge", "list", S, "--as-of-seq", "5")] == [4, 5]


def test_project_show_as_of_a_seq_shows_who_had_not_joined_yet(reads: Accord) -> None:
    shown = reads.json("project", "show", S, "--as-of-seq", "2")
    assert (shown["status"], shown["entries"], shown["waiting_for"]) == (
        "proposed", 2, ["veggie"],
    )  # fmt: skip
    assert [m["status"] for m in shown["members"]] == ["joined", "joined", "invited"]


def test_project_show_as_of_a_day_before_the_project_says_it_did_not_exist_yet(
    reads: Accord,
) -> None:
    result = reads("project", "show", S, "--as-of", "2000-01-01")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    "command",
    [
        ["obligations", S],
        ["contributions", S],
        ["statement", "list", S],
        ["trail", S],
        ["pledge", "list", S],
        ["project", "show", S],
    ],
)
def test_as_of_and_as_of_seq_together_are_a_usage_error(reads: Accord, command: list[str]) -> None:
    result = reads(*command, "--as-of", "2026-11-22", "--as-of-seq", "3")
    assert_refused(result, 2, "give --as-of or --as-of-seq, not both")


@pytest.mark.parametrize(
    ("option", "value", "error", "hint"),
    [
        ("--as-of", "2026-13-01", "--as-of '2026-13-01' is not a date",
         "write dates as YYYY-MM-DD"),
        ("--as-of", "last week", "--as-of 'last week' is not a date",
         "write dates as YYYY-MM-DD"),
        ("--as-of-seq", "0", "--as-of-seq must be 1 or more, not 0", None),
    ],
)  # fmt: skip
def test_a_malformed_as_of_is_a_usage_error(
    reads: Accord, option: str, value: str, error: str, hint: str | None
) -> None:
    assert_refused(reads("obligations", S, option, value), 2, error, hint)


def test_a_non_numeric_as_of_seq_is_refused_by_click(reads: Accord) -> None:
    result = reads("trail", S, "--as-of-seq", "three")
    assert result.exit_code == 2
    assert "Invalid value for '--as-of-seq'" in result.stderr


def test_a_huge_within_is_not_an_unexpected_error(reads: Accord) -> None:
    result = reads("obligations", S, "--within", "99999999d")
    assert_refused(
        result, 2, "--within '99999999d' is more than 36500 days", "look at most 100 years ahead"
    )
