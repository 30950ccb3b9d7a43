"""``accord todo``: what waits for one party, with the command to run next."""

from __future__ import annotations

import json

from cli_helpers import SLUG, Accord, assert_refused, csv_header, past_due, start_project, unpinned


def _rows(accord: Accord, *args: str) -> list[dict]:
    return list(accord.json("todo", *args))


def test_each_kind_of_waiting_item_with_the_command_to_run(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    accord.ok(
        "pledge", "add", SLUG, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    accord.ok("deliver", SLUG, "4", "--summary", "Drafts", "--quantity", "10", "--as", "acme")
    accord.ok(
        "pledge", "add", SLUG, "Rent", "--weight", "500", "--unit", "eur",
        "--due", "2020-01-31", "--to", "acme", "--as", "burgerco", stderr=past_due("2020-01-31"),
    )  # fmt: skip
    accord.ok("statement", "propose", SLUG, "--title", "Joint", "--text", "Yes.", "--as", "acme")

    rows = _rows(accord, "--as", "burgerco")

    assert [(r["waiting"], r["seq"]) for r in rows] == [
        ("decide", 5),
        ("sign statement", 7),
        ("deliver", 6),
    ]
    assert rows[0]["about"] == (
        "deliverable by acme on pledge 4 'Posters': 10 hours, 'Drafts', no evidence"
    )
    assert rows[0]["next"] == (
        f"accord approve {SLUG} 5 --as burgerco  "
        f"(or: accord reject {SLUG} 5 --reason R --as burgerco)"
    )
    assert rows[1]["next"] == f"accord statement sign {SLUG} 7 --as burgerco"
    assert rows[2] == {
        "project": SLUG,
        "seq": 6,
        "waiting": "deliver",
        "about": "pledge 'Rent': 0 of 500 eur approved (overdue)",
        "due": "2020-01-31",
        "overdue": True,
        "next": f"accord deliver {SLUG} 6 --summary TEXT --as burgerco",
    }
    # acme proposed the statement, which signed it (seq 8), and owes posters not due soon
    assert [(r["waiting"], r["seq"]) for r in _rows(accord, "--as", "acme")] == []
    assert [(r["waiting"], r["seq"]) for r in _rows(accord, "--as", "acme", "--within", "4000w")][
        -1
    ] == ("deliver", 4)

    accord.ok("close", SLUG, "--accept-open", "4,6", "--as", "acme")
    veggie = _rows(accord, "--as", "veggie")
    assert [(r["waiting"], r["seq"]) for r in veggie] == [("sign statement", 7), ("sign close", 8)]
    assert veggie[1]["about"] == "the close at head seq 8, signed by acme"


def test_an_invitation_waits_until_joined_and_a_closed_project_has_nothing(
    initialised: Accord,
) -> None:
    accord = initialised
    accord.ok(
        "project", "propose", SLUG, "--title", "Spring", "--member", "burgerco", "--as", "acme",
        stderr=unpinned("burgerco"),
    )  # fmt: skip

    rows = _rows(accord, SLUG, "--as", "burgerco")

    assert rows == [
        {
            "project": SLUG,
            "seq": 1,
            "waiting": "join",
            "about": "the invitation to 'Spring' from acme",
            "due": None,
            "overdue": False,
            "next": f"accord project join {SLUG} --invite TOKEN --as burgerco",
        }
    ]
    assert _rows(accord, SLUG, "--as", "veggie") == []  # not a member


def test_every_project_when_no_slug_is_given_and_the_table_and_csv(initialised: Accord) -> None:
    accord = initialised
    start_project(accord, "alpha")
    start_project(accord, "beta")
    for slug in ("alpha", "beta"):
        accord.ok("statement", "propose", slug, "--title", "J", "--text", "Y.", "--as", "acme")

    assert [(r["project"], r["seq"]) for r in _rows(accord, "--as", "veggie")] == [
        ("alpha", 4),
        ("beta", 4),
    ]
    table = accord.ok("todo", "--as", "veggie").stdout
    assert table.splitlines()[0].split() == [
        "project", "seq", "waiting", "about", "due", "overdue", "next"
    ]  # fmt: skip
    assert "accord statement sign beta 4 --as veggie" in table
    assert csv_header(accord.ok("todo", "--as", "veggie", "--format", "csv").stdout) == [
        "project", "seq", "waiting", "about", "due", "overdue", "next"
    ]  # fmt: skip
    assert accord.ok("todo", "--as", "nobody").stdout == "(nothing waits for nobody)\n"


def test_fail_if_overdue_exits_8_naming_the_late_pledges(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    assert accord.ok("todo", "--as", "veggie", "--fail-if-overdue").stdout
    accord.ok(
        "pledge", "add", SLUG, "Rent", "--weight", "5", "--unit", "eur",
        "--due", "2020-01-31", "--as", "veggie", stderr=past_due("2020-01-31"),
    )  # fmt: skip

    result = accord("todo", "--as", "veggie", "--fail-if-overdue", "--format", "json")

    assert result.exit_code == 8
    assert json.loads(result.stdout)[0]["overdue"] is True
    assert result.stderr == f"Error: 1 overdue pledge of veggie: {SLUG} seq 4\n"


def test_bad_input_is_refused_with_one_error_line(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    assert_refused(
        accord("todo", "nope", "--as", "acme"),
        3,
        "no project 'nope' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )
    bad = accord("todo", "--as", "Bad Handle!")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: party 'Bad Handle!'")
    assert_refused(
        accord("todo", "--as", "acme", "--within", "soon"),
        2,
        "--within 'soon' is not a number of days",
        "write 14d or 2w",
    )
    result = accord("todo", env={"ACCORD_PARTY": None})
    assert result.exit_code == 2


def test_a_value_to_approve_waits_for_every_other_joined_member(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    accord.ok(
        "project", "value", SLUG, "--unit", "hours", "--worth", "80", "--in", "EUR",
        "--reason", "Day rate / 8", "--as", "acme",
    )  # fmt: skip

    rows = _rows(accord, "--as", "burgerco")

    assert rows == [
        {
            "project": SLUG,
            "seq": 4,
            "waiting": "decide",
            "about": "value by acme: 1 hour = 80 EUR; reason 'Day rate / 8'",
            "due": None,
            "overdue": False,
            "next": f"accord approve {SLUG} 4 --as burgerco  "
            f"(or: accord reject {SLUG} 4 --reason R --as burgerco)",
        }
    ]
    assert _rows(accord, "--as", "acme") == []  # proposing is the proposer's agreement
    accord.ok("approve", SLUG, "4", "--as", "burgerco")
    assert _rows(accord, "--as", "burgerco") == []
    assert [r["seq"] for r in _rows(accord, "--as", "veggie")] == [4]


def test_a_close_short_to_decide_and_a_dispute_to_resolve(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    accord.ok(
        "pledge", "add", SLUG, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    accord.ok("deliver", SLUG, "4", "--summary", "Drafts", "--quantity", "10", "--as", "acme")
    accord.ok("reject", SLUG, "5", "--reason", "Old logo", "--as", "burgerco")  # 6
    accord.ok("pledge", "close-short", SLUG, "4", "--reason", "Enough", "--as", "acme")  # 7

    assert [(r["waiting"], r["seq"], r["about"]) for r in _rows(accord, "--as", "burgerco")] == [
        (
            "decide",
            7,
            "close-short by acme of pledge 4 'Posters' at 0 of 30 hours approved; reason 'Enough'",
        ),
    ]
    accord.ok("reject", SLUG, "7", "--reason", "Not yet", "--as", "burgerco")  # 8
    accord.ok("dispute", SLUG, "6", "--reason", "The logo is new", "--as", "acme")  # 9

    row = _rows(accord, "--as", "burgerco")[0]
    assert (row["waiting"], row["seq"]) == ("resolve", 9)
    assert row["about"] == (
        "dispute by acme of the refusal of deliverable 5 on pledge 4 'Posters'; "
        "reason 'The logo is new' (signed: nobody yet)"
    )
    assert row["next"] == (
        f"accord resolve {SLUG} 9 --outcome upheld|dismissed --reason R --as burgerco"
    )
    accord.ok("resolve", SLUG, "9", "--outcome", "dismissed", "--reason", "Old", "--as", "burgerco")
    assert [r["waiting"] for r in _rows(accord, "--as", "burgerco")] == []
    [mine] = [r for r in _rows(accord, "--as", "acme") if r["waiting"] == "resolve"]
    assert mine["about"].endswith("(signed: burgerco dismissed)")
    accord.ok("resolve", SLUG, "9", "--outcome", "upheld", "--reason", "New", "--as", "acme")
    # they disagree: the dispute waits for both until they sign the same outcome
    assert [r["waiting"] for r in _rows(accord, "--as", "burgerco")] == ["resolve"]
    assert "resolve" in [r["waiting"] for r in _rows(accord, "--as", "acme")]
    assert _rows(accord, "--as", "veggie") == []  # not a party to the dispute


def test_the_todo_table_says_yes_or_no_for_overdue_never_true_or_false(
    initialised: Accord, project: str
) -> None:
    initialised.ok(
        "pledge", "add", project, "One hour", "--weight", "1", "--unit", "hours",
        "--due", "2020-01-01", "--as", "acme", stderr=past_due("2020-01-01"),
    )  # fmt: skip
    initialised.ok(
        "pledge", "add", project, "Later", "--weight", "2", "--unit", "hours",
        "--due", "2099-01-01", "--as", "acme", "--to", "burgerco",
    )  # fmt: skip
    table = initialised.ok("todo", project, "--as", "acme", "--within", "36500d").stdout
    start = table.splitlines()[0].index("overdue")
    overdue = [line[start:].split()[0] for line in table.splitlines()[2:]]
    assert "True" not in table and "False" not in table
    assert overdue == ["yes", "no"], table
    delivered = initialised.ok(
        "deliver", project, "4", "--summary", "Done", "--quantity", "1", "--as", "acme"
    ).stdout
    assert "delivered 1 hour on pledge 4" in delivered
    approved = initialised.ok("approve", project, "6", "--as", "burgerco").stdout
    assert "approved deliverable seq 6 by acme: 1 hour on pledge 4" in approved


def test_a_decision_row_carries_the_essentials_of_what_is_decided(
    initialised: Accord, tmp_path
) -> None:
    accord = initialised
    start_project(accord)
    accord.ok(
        "pledge", "add", SLUG, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(b"x")
    accord.ok(
        "deliver", SLUG, "4", "--summary", "Drafts\x1b]0;owned\x07", "--quantity", "10",
        "--evidence", "a.pdf", "--evidence", "b.pdf", "--as", "acme",
    )  # fmt: skip  # 5
    accord.ok(
        "pledge", "amend", SLUG, "4", "--weight", "40", "--title", "Big posters",
        "--reason", "More halls", "--as", "acme",
    )  # fmt: skip  # 6

    rows = _rows(accord, "--as", "burgerco")

    assert [(r["waiting"], r["seq"], r["about"]) for r in rows] == [
        ("decide", 5, "deliverable by acme on pledge 4 'Posters': 10 hours, "
         "'Drafts\\x1b]0;owned\\x07', 2 evidence files "
         f"(fetch: accord evidence get {SLUG} 5 --as burgerco)"),
        ("decide", 6, "amendment by acme of pledge 4 'Posters': title 'Posters' → 'Big posters', "
         "weight 30 → 40 hours; reason 'More halls'"),
    ]  # fmt: skip
    table = accord.ok("todo", "--as", "burgerco").stdout
    assert "\x1b" not in table and "\x07" not in table
    assert "'Drafts\\x1b]0;owned\\x07', 2 evidence files" in table


def test_the_promisor_sees_a_rejection_with_its_reason_until_it_answers(
    initialised: Accord,
) -> None:
    accord = initialised
    start_project(accord)
    accord.ok(
        "pledge", "add", SLUG, "Posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme",
    )  # fmt: skip
    accord.ok("deliver", SLUG, "4", "--summary", "Drafts", "--quantity", "10", "--as", "acme")
    assert _rows(accord, "--as", "acme") == []
    accord.ok("reject", SLUG, "5", "--reason", "Old logo", "--as", "burgerco")  # 6

    rows = _rows(accord, "--as", "acme")

    assert rows == [
        {
            "project": SLUG,
            "seq": 6,
            "waiting": "rejected",
            "about": "your deliverable 5 on pledge 4 'Posters' (10 hours) was rejected by "
            "burgerco; reason 'Old logo'",
            "due": None,
            "overdue": False,
            "next": f"accord deliver {SLUG} 4 --summary TEXT --as acme  "
            f"(or: accord dispute {SLUG} 6 --reason R --as acme)",
        }
    ]
    assert _rows(accord, "--as", "veggie") == []  # not the promisor
    # delivering again answers it
    accord.ok("deliver", SLUG, "4", "--summary", "New logo", "--quantity", "10", "--as", "acme")
    assert [r["waiting"] for r in _rows(accord, "--as", "acme")] == []
    # a second rejection waits again; a dispute answers it (the dispute waits for burgerco)
    accord.ok("reject", SLUG, "7", "--reason", "Still old", "--as", "burgerco")  # 8
    assert [(r["waiting"], r["seq"]) for r in _rows(accord, "--as", "acme")] == [("rejected", 8)]
    accord.ok("dispute", SLUG, "8", "--reason", "The logo is new", "--as", "acme")  # 9
    assert [r["waiting"] for r in _rows(accord, "--as", "acme")] == ["resolve"]
    assert [r["waiting"] for r in _rows(accord, "--as", "burgerco")] == ["resolve"]


def test_a_pledge_submitted_in_full_is_not_overdue_for_its_promisor(initialised: Accord) -> None:
    accord = initialised
    start_project(accord)
    for title, weight in (("Posters", "30"), ("Flyers", "10")):
        accord.ok(
            "pledge", "add", SLUG, title, "--weight", weight, "--unit", "hours",
            "--due", "2020-01-31", "--to", "burgerco", "--as", "acme",
            stderr=past_due("2020-01-31"),
        )  # fmt: skip  # 4, 5
    accord.ok("deliver", SLUG, "4", "--summary", "All posters", "--as", "acme")  # 6: in full
    accord.ok("deliver", SLUG, "5", "--summary", "Some", "--quantity", "4", "--as", "acme")  # 7

    statuses = [(r["seq"], r["status"], r["days_late"]) for r in accord.json("obligations", SLUG)]
    assert statuses[0] == (4, "submitted", 0)
    assert statuses[1][:2] == (5, "overdue")
    assert [(r["waiting"], r["seq"]) for r in _rows(accord, "--as", "acme")] == [("deliver", 5)]
    assert [(r["waiting"], r["seq"]) for r in _rows(accord, "--as", "burgerco")] == [
        ("decide", 6),
        ("decide", 7),
    ]
    result = accord("obligations", SLUG, "--fail-if-overdue", "--format", "json")
    assert (result.exit_code, result.stderr) == (
        8,
        f"Error: 1 overdue obligation in {SLUG}: seq 5 (acme)\n",
    )
    result = accord("todo", "--as", "acme", "--fail-if-overdue", "--format", "json")
    assert (result.exit_code, result.stderr) == (
        8,
        f"Error: 1 overdue pledge of acme: {SLUG} seq 5\n",
    )

    accord.ok("deliver", SLUG, "5", "--summary", "The rest", "--as", "acme")  # 8: 6 more

    assert [r["status"] for r in accord.json("obligations", SLUG)] == ["submitted", "submitted"]
    accord.ok("obligations", SLUG, "--fail-if-overdue")
    accord.ok("todo", "--as", "acme", "--fail-if-overdue")
    assert _rows(accord, "--as", "acme") == []
    # a rejection takes it back below its weight: overdue again, and the rejection is shown
    accord.ok("reject", SLUG, "8", "--reason", "Blurred", "--as", "burgerco")  # 9
    assert [(r["waiting"], r["seq"], r["overdue"]) for r in _rows(accord, "--as", "acme")] == [
        ("rejected", 9, False),
        ("deliver", 5, True),
    ]
    assert accord("obligations", SLUG, "--fail-if-overdue").exit_code == 8
