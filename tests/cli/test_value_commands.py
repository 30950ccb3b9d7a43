"""``accord project value`` / ``project values`` end to end, and the overall shares that
``accord contributions`` and the report show once a value is agreed."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

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


@pytest.fixture
def valued(initialised: Accord, project: str) -> Accord:
    """The three-party project (1-3) with:

    4-6   acme pledges 10 hours to burgerco, delivers them, burgerco approves
    7-9   acme pledges 500 EUR to burgerco, delivers, burgerco approves
    10-12 burgerco pledges 300 EUR to acme, delivers, acme approves
    veggie pledges nothing.
    """
    a = initialised
    for by, to, weight, unit in (
        ("acme", "burgerco", "10", "hours"),
        ("acme", "burgerco", "500", "EUR"),
        ("burgerco", "acme", "300", "EUR"),
    ):
        seq = int(
            a.json("pledge", "add", S, f"{weight} {unit}", "--weight", weight, "--unit", unit,
                   "--due", "2099-12-31", "--to", to, "--as", by)["seq"]
        )  # fmt: skip
        a.ok("deliver", S, str(seq), "--summary", "Done", "--as", by)
        a.ok("approve", S, str(seq + 1), "--as", to)
    return a


def propose(a: Accord, *extra: str, worth: str = "80", unit: str = "hours", ref: str = "EUR"):
    return a(
        "project", "value", S, "--unit", unit, "--worth", worth, "--in", ref,
        "--reason", "Day rate / 8", *extra,
    )  # fmt: skip


def test_a_value_is_proposed_and_agreed_by_every_other_member(valued: Accord) -> None:
    result = propose(valued, "--as", "acme")
    assert result.exit_code == 0, result.output
    about = "value seq 13 by acme: 1 hour = 80 EUR"
    assert_matches(
        result.stdout,
        receipt(S, 13, "value.proposed", about=f"proposed {about} (0 of 2 approvals)"),
    )
    result = valued.ok("approve", S, "13", "--as", "burgerco")
    assert_matches(
        result.stdout,
        receipt(S, 14, "approval.given", about=f"approved {about} (1 of 2 approvals)"),
    )
    # Nothing overall until the value is agreed.
    assert all(not r["unit"].startswith("overall") for r in valued.json("contributions", S))
    result = valued.ok("approve", S, "13", "--as", "veggie")
    assert_matches(
        result.stdout, receipt(S, 15, "approval.given", about=f"approved {about} (agreed)")
    )


@pytest.fixture
def agreed(valued: Accord) -> Accord:
    """``valued`` with 1 hour = 80 EUR proposed by acme (13), approved (14, 15)."""
    assert propose(valued, "--as", "acme").exit_code == 0
    valued.ok("approve", S, "13", "--as", "burgerco")
    valued.ok("approve", S, "13", "--as", "veggie")
    return valued


CONTRIBUTIONS = (
    "party     unit         pledged    delivered    approved    disputed    short    pledged_sh"
    "are    approved_share    fulfilment    on_time    guest_star\n"
    "--------  -----------  ---------  -----------  ----------  ----------  -------  ----------"
    "-----  ----------------  ------------  ---------  ------------\n"
    "acme      EUR          500        500          500         0           0        62.5%     "
    "       62.5%             100.0%        100.0%\n"
    "burgerco  EUR          300        300          300         0           0        37.5%     "
    "       37.5%             100.0%        100.0%\n"
    "acme      hours        10         10           10          0           0        alone     "
    "       alone             100.0%        100.0%\n"
    "veggie    -            0          0            0           0           0        n/a       "
    "       n/a               n/a           n/a        GUEST STAR\n"
    "acme      overall EUR  1300       1300         1300        0           0        81.3%     "
    "       81.3%             100.0%        n/a\n"
    "burgerco  overall EUR  300        300          300         0           0        18.7%     "
    "       18.7%             100.0%        n/a\n"
    "veggie    overall EUR  0          0            0           0           0        0.0%      "
    "       0.0%              n/a           n/a        GUEST STAR\n"
)


def test_contributions_add_each_partys_overall_share_in_the_reference_unit(
    agreed: Accord,
) -> None:
    """acme: 10 h x 80 + 500 = 1300 EUR, burgerco 300, veggie 0: 13/16, 3/16, 0. Shown to a
    tenth of a percent, 812 + 187 + 0 thousandths leave one, which goes to the first of the
    two equal remainders (acme). veggie pledged nothing at all: a guest star, in its row of
    unit - and overall (0 of the three valued parties' work). acme is alone in hours."""
    assert agreed.ok("contributions", S).output == CONTRIBUTIONS


def test_contributions_as_json_and_csv_hold_the_overall_rows(agreed: Accord) -> None:
    rows = agreed.json("contributions", S)
    assert rows[4:] == [
        {"party": "acme", "unit": "overall EUR", "pledged": "1300", "delivered": "1300",
         "approved": "1300", "disputed": "0", "short": "0",
         "pledged_share": "0.8130", "approved_share": "0.8130",
         "fulfilment": "1.0000", "on_time": None, "guest_star": False, "peers": 3,
         "valued": "all"},
        {"party": "burgerco", "unit": "overall EUR", "pledged": "300", "delivered": "300",
         "approved": "300", "disputed": "0", "short": "0",
         "pledged_share": "0.1870", "approved_share": "0.1870",
         "fulfilment": "1.0000", "on_time": None, "guest_star": False, "peers": 3,
         "valued": "all"},
        {"party": "veggie", "unit": "overall EUR", "pledged": "0", "delivered": "0",
         "approved": "0", "disputed": "0", "short": "0",
         "pledged_share": "0.0000", "approved_share": "0.0000",
         "fulfilment": None, "on_time": None, "guest_star": True, "peers": 3, "valued": "all"},
    ]  # fmt: skip
    csv = agreed.ok("contributions", S, "--format", "csv").output.splitlines()
    assert csv[5:] == [
        "acme,overall EUR,1300,1300,1300,0,0,0.8130,0.8130,1.0000,,False,3,all",
        "burgerco,overall EUR,300,300,300,0,0,0.1870,0.1870,1.0000,,False,3,all",
        "veggie,overall EUR,0,0,0,0,0,0.0000,0.0000,,,True,3,all",
    ]
    # As of seq 14 the value was not yet agreed: no overall rows.
    before = agreed.json("contributions", S, "--as-of-seq", "14")
    assert [r["unit"] for r in before] == ["EUR", "EUR", "hours", "-"]


def test_project_values_lists_each_proposal_with_its_decision(agreed: Accord) -> None:
    assert propose(agreed, "--as", "burgerco", worth="90").exit_code == 0  # 16: pending
    agreed.ok("reject", S, "16", "--reason", "Too high", "--as", "veggie")  # 17
    propose(agreed, "--as", "veggie", worth="85")  # 18: pending
    assert agreed.ok("project", "values", S, "--format", "csv").output == (
        "seq,unit,worth,in,by,status,approved_by,refused_by,waiting_for,decided_seq,"
        "replaced_seq,reason\n"
        '13,hours,80,EUR,acme,agreed,"burgerco (seq 14), veggie (seq 15)",,,15,,Day rate / 8\n'
        "16,hours,90,EUR,burgerco,rejected,,veggie (seq 17): Too high,,17,,Day rate / 8\n"
        '18,hours,85,EUR,veggie,pending,,,"acme, burgerco",,,Day rate / 8\n'
    )
    rows = agreed.json("project", "values", S)
    assert rows[1]["refused_by"] == {"party": "veggie", "seq": 17, "reason": "Too high"}
    assert rows[2]["waiting_for"] == ["acme", "burgerco"]
    agreed.ok("approve", S, "18", "--as", "acme")
    agreed.ok("approve", S, "18", "--as", "burgerco")  # 20: 85 replaces 80
    statuses = [
        (r["seq"], r["status"], r["replaced_seq"]) for r in agreed.json("project", "values", S)
    ]
    assert statuses == [(13, "replaced", 20), (16, "rejected", None), (18, "agreed", None)]
    overall = [r for r in agreed.json("contributions", S) if r["unit"] == "overall EUR"]
    assert [r["approved"] for r in overall] == ["1350", "300", "0"]  # 10 h x 85 + 500


def test_project_values_of_a_project_without_values(initialised: Accord, project: str) -> None:
    assert initialised.ok("project", "values", project).output == "(no values yet)\n"
    assert initialised.json("project", "values", project) == []


def test_the_trail_and_the_report_show_the_values(agreed: Accord, tmp_path) -> None:
    rows = agreed.json("trail", S, "--type", "value.proposed")
    assert [(r["seq"], r["party"], r["summary"]) for r in rows] == [
        (13, "acme", "proposed 1 hour = 80 EUR: Day rate / 8")
    ]
    agreed.ok("report", S, "--format", "md", "-o", str(tmp_path / "out"))
    text = (tmp_path / "out" / "close-report.md").read_text()
    assert "| 13  |" in text and "approved by burgerco (seq 14), veggie (seq 15)" in text
    assert "## Agreed values" in text
    assert "| acme     | overall EUR | 1300    |" in text


# --- every error path: one Error line with a hint, a documented exit code, nothing recorded --


@pytest.mark.parametrize(
    ("worth", "error", "hint"),
    [
        ("0", "worth must be greater than zero, not '0'", "give a positive worth"),
        ("-80", "worth must be greater than zero, not '-80'", "give a positive worth"),
        ("eighty", "worth 'eighty' is not a number",
         "give worth as a plain decimal number such as 12 or 2.5"),
        ("80,5", "worth '80,5' is not a number",
         "write it as 80.5: decimals take a point, not a comma"),
        ("1" * 41, "worth has 41 digits before the point; accord records at most 18",
         "give worth in a larger unit (thousands, millions): numbers take at most 18 digits "
         "before the point and 12 after it, from 0.000000000001 to "
         "999999999999999999.999999999999"),
        ("0.0000001234567891", "worth has 16 digits after the point; accord records at most 12",
         "write it as 0.000000123457 (rounded to 12 decimals), or give worth in a smaller unit"),
        ("80 EUR", "worth '80 EUR' is not a number",
         "give the number alone, 80; the unit is given separately"),
    ],
)  # fmt: skip
def test_a_bad_worth_exits_2_before_signing(
    valued: Accord, worth: str, error: str, hint: str
) -> None:
    with valued.unchanged():
        assert_refused(propose(valued, "--as", "acme", worth=worth), 2, error, hint)


@pytest.mark.parametrize(
    ("unit", "ref", "error", "hint"),
    [
        ("hours", "eur", "unit 'eur' is spelled 'EUR' in project 'spring-campaign'; two "
         "spellings would split its contributions", "write the unit as EUR"),
        ("Hours", "EUR", "unit 'Hours' is spelled 'hours' in project 'spring-campaign'; two "
         "spellings would split its contributions", "write the unit as hours"),
        ("EUR", "EUR", "a unit is worth 1 of itself: 'EUR' cannot be valued in 'EUR'",
         "give with --in the unit every value of the project is agreed in"),
        ("person days", "EUR", "unit 'person days' is not valid",
         "write it as person-days (1-32 letters, digits, currency symbols, -, _, % or /, "
         "without spaces)"),
    ],
)  # fmt: skip
def test_a_bad_unit_exits_2_before_signing(
    valued: Accord, unit: str, ref: str, error: str, hint: str
) -> None:
    with valued.unchanged():
        assert_refused(propose(valued, "--as", "acme", unit=unit, ref=ref), 2, error, hint)


def test_an_empty_reason_exits_2(valued: Accord) -> None:
    with valued.unchanged():
        result = valued(
            "project", "value", S, "--unit", "hours", "--worth", "80", "--in", "EUR",
            "--reason", "  ", "--as", "acme",
        )  # fmt: skip
        assert_refused(result, 2, "the reason must not be empty", "give a reason")


def test_a_missing_option_is_a_usage_error(valued: Accord) -> None:
    with valued.unchanged():
        result = valued("project", "value", S, "--unit", "hours", "--worth", "80", "--as", "acme")
        assert_usage_error(
            result, "Usage: accord project value [OPTIONS] SLUG", "Missing option '--in'."
        )


def test_another_reference_unit_exits_4(agreed: Accord) -> None:
    with agreed.unchanged():
        assert_refused(
            propose(agreed, "--as", "veggie", unit="days", ref="USD"),
            4,
            "values in project 'spring-campaign' are agreed in EUR, not in USD (seq 16)",
            "give the value in EUR (one reference unit per project)",
        )


def test_the_worth_in_force_again_exits_4(agreed: Accord) -> None:
    with agreed.unchanged():
        assert_refused(
            propose(agreed, "--as", "veggie", worth="80.00"),
            4,
            "hours is already agreed at 80 EUR (seq 13)",
            "propose a different worth to replace it",
        )


def test_approving_ones_own_value_exits_4(valued: Accord) -> None:
    propose(valued, "--as", "acme")
    with valued.unchanged():
        assert_refused(
            valued("approve", S, "13", "--as", "acme"),
            4,
            "'acme' cannot approve or reject its own value proposal (seq 13)",
            "proposing a value counts as agreeing to it; the other members decide",
        )


def test_approving_a_value_twice_or_after_it_was_decided_exits_4(agreed: Accord) -> None:
    with agreed.unchanged():
        tail, hint = already(S, 15, "veggie")
        assert_refused_like(
            agreed("approve", S, "13", "--as", "veggie"), 4,
            f"'veggie' already approved seq 13 {tail}", hint,
        )  # fmt: skip
    propose(agreed, "--as", "acme", worth="90")  # 16
    propose(agreed, "--as", "burgerco", worth="95")  # 17 supersedes 16
    with agreed.unchanged():
        tail, hint = already(
            S, 17, "burgerco", f"`accord project values {S}` lists the values and proposals"
        )
        assert_refused_like(
            agreed("reject", S, "16", "--reason", "no", "--as", "veggie"),
            4,
            f"value proposal seq 16 is already superseded by a newer proposal for its unit {tail}",
            hint,
        )


def test_a_value_in_an_unknown_project_exits_3(valued: Accord) -> None:
    with valued.unchanged():
        result = valued(
            "project", "value", "no-such", "--unit", "hours", "--worth", "80", "--in", "EUR",
            "--reason", "r", "--as", "acme",
        )  # fmt: skip
        assert_refused(
            result,
            3,
            "no project 'no-such' in this ledger",
            "`accord project list` shows the projects this ledger holds",
        )


def test_a_value_from_a_non_member_exits_4(valued: Accord) -> None:
    with valued.unchanged():
        assert_refused(
            propose(valued, "--as", "mallory"),
            4,
            "'mallory' is not a member of project 'spring-campaign' (seq 13)",
            "`accord project show SLUG` lists the members",
        )


def test_a_value_in_a_closed_project_exits_4(initialised: Accord, closed_project: str) -> None:
    with initialised.unchanged():
        result = initialised(
            "project", "value", closed_project, "--unit", "hours", "--worth", "80", "--in",
            "EUR", "--reason", "late", "--as", "acme",
        )  # fmt: skip
        assert result.exit_code == 4
        assert result.stderr.startswith(f"Error: project {closed_project!r} is closed")


@pytest.mark.parametrize("worth", ["abc", 80, None, "1e3"])
def test_a_damaged_value_in_the_verified_state_is_rebuilt(
    agreed: Accord, home: Path, worth: object
) -> None:
    before = agreed.ok("contributions", S).output
    (path,) = (home / "verified").glob("*.sqlite3")
    with closing(sqlite3.connect(path)) as db, db:
        (core,) = db.execute("SELECT core FROM projects").fetchone()
        data = json.loads(core)
        data["values"][0]["worth"] = worth
        db.execute("UPDATE projects SET core = ?", (json.dumps(data),))
    result = agreed("contributions", S)
    assert result.exit_code == 0, result.output
    assert result.stdout == before
    assert result.stderr.startswith("Warning: the verified state of 'spring-campaign' is damaged")
    assert "Traceback" not in result.output
    assert agreed("contributions", S).stderr == ""  # rebuilt for good


def test_an_open_dispute_moves_valued_work_from_approved_to_disputed_overall(
    agreed: Accord,
) -> None:
    """burgerco disputes the acceptance of acme's 10 hours (seq 5): overall acme keeps only
    its 500 EUR approved and shows 10 x 80 = 800 EUR disputed; approved shares are then
    500 / 800 = 62.5% for acme and 300 / 800 = 37.5% for burgerco."""
    agreed.ok("dispute", S, "5", "--reason", "Not the hours we agreed", "--as", "burgerco")  # 16

    overall = {r["party"]: r for r in agreed.json("contributions", S) if r["unit"] == "overall EUR"}

    assert (overall["acme"]["approved"], overall["acme"]["disputed"]) == ("500", "800")
    assert (overall["burgerco"]["approved"], overall["burgerco"]["disputed"]) == ("300", "0")
    assert overall["acme"]["approved_share"] == "0.6250"
    assert overall["burgerco"]["approved_share"] == "0.3750"
    agreed.ok("resolve", S, "16", "--outcome", "dismissed", "--reason", "Fine", "--as", "acme")
    agreed.ok("resolve", S, "16", "--outcome", "dismissed", "--reason", "Fine", "--as", "burgerco")
    overall = {r["party"]: r for r in agreed.json("contributions", S) if r["unit"] == "overall EUR"}
    assert (overall["acme"]["approved"], overall["acme"]["disputed"]) == ("1300", "0")
