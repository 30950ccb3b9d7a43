"""A three-party collaboration from proposal to close, told through the CLI, and every read
in every format (table, JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import (
    FP,
    HASH,
    TIME,
    Accord,
    assert_matches,
    invite_lines,
    receipt,
    unpinned,
)

from ledger import entry

S = "spring-campaign"
JOINT_TEXT = "Acme, BurgerCo and Veggie answer together\nfor the whole campaign.\n"
FAQ_TEXT = "Q: Who pays?\nA: BurgerCo.\n"
RECEIPT_KEYS = ["project", "seq", "type", "hash", "by", "signer", "key", "at", "project_status"]
CLOSING = 'signed the close of "Spring campaign" at head seq {}'


class Story:
    """Runs each step; with ``check`` it also compares the whole output with a template."""

    def __init__(self, accord: Accord, *, check: bool) -> None:
        self.accord = accord
        self.check = check

    def __call__(self, *args: str, expect: str | None = None, stderr: str = "") -> str:
        output = self.accord.ok(*args, stderr=stderr).stdout
        if self.check and expect is not None:
            assert_matches(output, expect)
        return output

    def wrote(
        self,
        *args: str,
        seq: int,
        kind: str,
        status: str | None = None,
        about: str | None = None,
        stderr: str = "",
    ) -> str:
        return self(*args, expect=receipt(S, seq, kind, status, about), stderr=stderr)


def tell_story(accord: Accord, tmp_path: Path, *, check: bool, close: bool = True) -> None:
    """Propose, join, pledge, deliver, approve, reject, redeliver, amend, withdraw, state, close."""
    step = Story(accord, check=check)
    (tmp_path / "posters.pdf").write_bytes(b"%PDF-1.4 poster drafts\n")
    (tmp_path / "posts.csv").write_text("day,post\n1,new logo\n")
    (tmp_path / "statement.md").write_text(JOINT_TEXT)
    (tmp_path / "faq.md").write_text(FAQ_TEXT)

    step("init", expect=f"ledger ready at {tmp_path / 'accord.db'} (0 projects)\n")
    step(
        "project", "propose", S, "--title", "Spring campaign", "--purpose",
        "One day, three brands.", "--member", "burgerco", "--member", f"veggie={FP['veggie']}",
        "--as", "acme", expect=receipt(S, 1, "project.proposed", "proposed")
        + invite_lines("burgerco"), stderr=unpinned("burgerco"),
    )  # fmt: skip
    step(
        "project", "list",
        expect="project          title            status    members                 entries"
        "    head\n"
        "---------------  ---------------  --------  ----------------------  ---------  "
        f"{'-' * 64}\n"
        "spring-campaign  Spring campaign  proposed  acme, burgerco, veggie  1          <hash>\n",
    )  # fmt: skip
    step.wrote("project", "join", S, "--as", "burgerco", seq=2, kind="member.joined",
               status="proposed")  # fmt: skip
    joined = step("project", "join", S, "--as", "veggie", "--format", "csv")
    if check:
        assert_matches(
            joined,
            ",".join(RECEIPT_KEYS) + f"\n{S},3,member.joined,<hash>,veggie,veggie,{FP['veggie']},"
            "<time>,active\n",
        )

    # Pledges: one to burgerco only, two to every other member.
    step.wrote(
        "pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15", "--to", "burgerco", "--as", "acme", seq=4, kind="pledge.made",
    )  # fmt: skip
    step.wrote(
        "pledge", "add", S, "Media budget", "--weight", "20000", "--unit", "eur",
        "--due", "2099-12-20", "--as", "burgerco", seq=5, kind="pledge.made",
    )  # fmt: skip
    step.wrote(
        "pledge", "add", S, "Social posts", "--weight", "12", "--unit", "posts",
        "--due", "2099-12-10", "--as", "veggie", seq=6, kind="pledge.made",
    )  # fmt: skip

    # A delivery with evidence, approved by the one beneficiary.
    delivered = step(
        "deliver", S, "4", "--summary", "Poster drafts", "--quantity", "12",
        "--evidence", "posters.pdf", "--as", "acme", "--format", "json",
    )  # fmt: skip
    if check:
        data = json.loads(delivered)
        assert list(data) == [*RECEIPT_KEYS, "subject"]
        assert re.fullmatch(HASH, data.pop("hash"))
        assert re.fullmatch(TIME, data.pop("at"))
        assert data == {
            "project": S, "seq": 7, "type": "deliverable.submitted", "by": "acme",
            "signer": "acme", "key": FP["acme"], "project_status": "active",
            "subject": {"pledge": 4, "pledge_title": "Design the posters", "party": "acme",
                        "quantity": "12", "unit": "hours", "to": ["burgerco"]},
        }  # fmt: skip
    step.wrote("approve", S, "7", "--comment", "Looks great", "--as", "burgerco", seq=8,
               kind="approval.given", about='approved deliverable seq 7 by acme: 12 hours on '
               'pledge 4 "Design the posters" (accepted)')  # fmt: skip

    # A delivery refused with a reason, then delivered again and approved by both.
    posts = 'pledge 6 "Social posts"'
    step.wrote("deliver", S, "6", "--summary", "First posts", "--quantity", "6", "--as", "veggie",
               seq=9, kind="deliverable.submitted",
               about=f"delivered 6 posts on {posts} to acme, burgerco")  # fmt: skip
    step.wrote("reject", S, "9", "--reason", "Two posts use the old logo", "--as", "acme",
               seq=10, kind="approval.refused",
               about=f"rejected deliverable seq 9 by veggie: 6 posts on {posts} "
               "(rejected)")  # fmt: skip
    step.wrote(
        "deliver", S, "6", "--summary", "First posts, logo fixed", "--quantity", "6",
        "--evidence", "posts.csv", "--as", "veggie", seq=11, kind="deliverable.submitted",
        about=f"delivered 6 posts on {posts} to acme, burgerco",
    )  # fmt: skip
    step.wrote("approve", S, "11", "--as", "acme", seq=12, kind="approval.given",
               about=f"approved deliverable seq 11 by veggie: 6 posts on {posts} "
               "(1 of 2 approvals)")  # fmt: skip
    step(
        "pledge", "list", S,
        expect=pledge_table(
            ("4", "acme", "Design the posters", "30", "hours", "2099-12-15", "burgerco", "12",
             "12", "open"),
            ("5", "burgerco", "Media budget", "20000", "eur", "2099-12-20", "acme, veggie", "0",
             "0", "open"),
            ("6", "veggie", "Social posts", "12", "posts", "2099-12-10", "acme, burgerco", "6",
             "0", "submitted"),
        ),
    )  # fmt: skip
    step.wrote("approve", S, "11", "--as", "burgerco", seq=13, kind="approval.given",
               about=f"approved deliverable seq 11 by veggie: 6 posts on {posts} "
               "(accepted)")  # fmt: skip

    # An amendment takes effect once both beneficiaries approve it.
    step.wrote(
        "pledge", "amend", S, "5", "--weight", "15000", "--reason", "Budget cut by the board",
        "--as", "burgerco", seq=14, kind="pledge.amended",
    )  # fmt: skip
    step(
        "pledge", "list", S,
        expect=pledge_table(
            ("4", "acme", "Design the posters", "30", "hours", "2099-12-15", "burgerco", "12",
             "12", "open"),
            ("5", "burgerco", "Media budget", "20000", "eur", "2099-12-20", "acme, veggie", "0",
             "0", "amended-pending"),
            ("6", "veggie", "Social posts", "12", "posts", "2099-12-10", "acme, burgerco", "6",
             "6", "open"),
        ),
    )  # fmt: skip
    budget = 'amendment seq 14 by burgerco to pledge 5 "Media budget": weight 15000'
    step.wrote("approve", S, "14", "--as", "acme", seq=15, kind="approval.given",
               about=f"approved {budget} (1 of 2 approvals)")  # fmt: skip
    step.wrote("approve", S, "14", "--as", "veggie", seq=16, kind="approval.given",
               about=f"approved {budget} (accepted)")  # fmt: skip

    # A pledge made and withdrawn stays in the record.
    step.wrote(
        "pledge", "add", S, "Launch video", "--weight", "1", "--unit", "videos",
        "--due", "2099-12-30", "--as", "veggie", seq=17, kind="pledge.made",
    )  # fmt: skip
    step.wrote("pledge", "withdraw", S, "17", "--reason", "No budget for video", "--as", "veggie",
               seq=18, kind="pledge.withdrawn")  # fmt: skip
    step("pledge", "list", S, expect=FINAL_PLEDGES)

    # Statements: proposed from --text and --text-file (not signed yet: --no-sign), signed,
    # revised (voiding; the reviser signs the new version at once), re-signed.
    step.wrote("statement", "propose", S, "--title", "Joint statement", "--text",
               "We stand together.", "--no-sign", "--as", "acme", seq=19,
               kind="statement.proposed")  # fmt: skip
    step.wrote("statement", "propose", S, "--title", "FAQ", "--text-file", "faq.md",
               "--no-sign", "--as", "burgerco", seq=20, kind="statement.proposed")  # fmt: skip
    joint = 'statement 19 "Joint statement"'
    step.wrote("statement", "sign", S, "19", "--as", "acme", seq=21, kind="statement.signed",
               about=f"signed version 1 of {joint} (1 of 3 signatures)")  # fmt: skip
    step.wrote("statement", "sign", S, "19", "--as", "burgerco", seq=22, kind="statement.signed",
               about=f"signed version 1 of {joint} (2 of 3 signatures)")  # fmt: skip
    step(
        "statement", "list", S,
        expect="seq    title            by        version    signed_by       waiting_for"
        "             status\n"
        "-----  ---------------  --------  ---------  --------------  ----------------------"
        "  --------\n"
        "19     Joint statement  acme      1          acme, burgerco  veggie"
        "                  pending\n"
        "20     FAQ              burgerco  1                          acme, burgerco, veggie"
        "  pending\n",
    )  # fmt: skip
    step(
        "statement", "revise", S, "19", "--text-file", "statement.md", "--reason",
        "Legal review", "--as", "acme",
        expect=receipt(S, 23, "statement.revised")
        + receipt(S, 24, "statement.signed", about=f"signed version 2 of {joint} "
                  "(1 of 3 signatures)"),
    )  # fmt: skip
    step(
        "statement", "list", S,
        expect="seq    title            by        version    signed_by    waiting_for"
        "             status\n"
        "-----  ---------------  --------  ---------  -----------  ----------------------"
        "  --------\n"
        "19     Joint statement  acme      2          acme         burgerco, veggie"
        "        pending\n"
        "20     FAQ              burgerco  1                       acme, burgerco, veggie"
        "  pending\n",
    )  # fmt: skip
    for seq, party, standing in (
        (25, "burgerco", "2 of 3 signatures"),
        (26, "veggie", "in force: every member signed"),
    ):
        step.wrote("statement", "sign", S, "19", "--as", party, seq=seq, kind="statement.signed",
                   about=f"signed version 2 of {joint} ({standing})")  # fmt: skip
    step("statement", "list", S, expect=FINAL_STATEMENTS)
    if not close:
        return

    # The close: each member signs the final head; the third signature closes the project.
    # Pledges 4, 5 and 6 are still open: each signer accepts them by seq (ADR 0012).
    if check:
        refused = accord("close", S, "--as", "acme")
        assert (refused.exit_code, refused.stdout) == (4, "")
        assert refused.stderr.startswith(
            "Error: 3 pledges of 'spring-campaign' are still open: 4 \"Design the posters\" by "
            'acme (12 of 30 hours approved); 5 "Media budget" by burgerco (0 of 15000 eur '
            'approved); 6 "Social posts" by veggie (6 of 12 posts approved)\n'
        )
    step(
        "close", S, "--accept-open", "4,5,6", "--as", "acme",
        expect=receipt(S, 27, "close.signed", "active", CLOSING.format(26))
        + "close signatures on the final head: 1 of 3 needed\n",
    )  # fmt: skip
    step(
        "close", S, "--accept-open", "4,5,6", "--as", "burgerco",
        expect=receipt(S, 28, "close.signed", "active", CLOSING.format(26))
        + "close signatures on the final head: 2 of 3 needed\n",
    )  # fmt: skip
    reports = Path("accord-reports") / S
    step(
        "close", S, "--accept-open", "4,5,6", "--as", "veggie",
        expect=receipt(S, 29, "close.signed", "closed", CLOSING.format(26))
        + "".join(f"close report: {reports / f'close-report.{ext}'}\n"
                  for ext in ("md", "html", "json", "pdf")),
    )  # fmt: skip
    if check:
        for ext in ("md", "html", "json", "pdf"):
            assert (tmp_path / reports / f"close-report.{ext}").stat().st_size > 0
    step("project", "show", S, expect=project_show_table("closed", 29))
    step(
        "project", "list",
        expect="project          title            status    members                 entries"
        "    head\n"
        "---------------  ---------------  --------  ----------------------  ---------  "
        f"{'-' * 64}\n"
        "spring-campaign  Spring campaign  closed    acme, burgerco, veggie  29         <hash>\n",
    )  # fmt: skip


def pledge_table(*rows: tuple[str, ...]) -> str:
    """The ``pledge list`` table for rows given as (seq, party, title, weight, unit, due, to,
    delivered, approved, status); columns sized for the story's values, due dates far ahead."""
    status_width = max(9, *(len(r[9]) for r in rows))
    widths = [5, 8, 14, 18, 8, 6, 11, 10, 7, 10, status_width, 11]
    header = ("seq", "party", "to", "title", "weight", "unit", "delivered", "approved", "short",
              "due", "status", "days_late")  # fmt: skip

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"

    def reorder(r: tuple[str, ...]) -> tuple[str, ...]:
        seq, party, title, weight, unit, due, to, delivered, approved, status = r
        return (seq, party, to, title, weight, unit, delivered, approved, "", due, status, "0")

    return (
        line(header)
        + "  ".join("-" * w for w in widths)
        + "\n"
        + "".join(line(reorder(r)) for r in rows)
    )


FINAL_PLEDGES = pledge_table(
    ("4", "acme", "Design the posters", "30", "hours", "2099-12-15", "burgerco", "12", "12",
     "open"),
    ("5", "burgerco", "Media budget", "15000", "eur", "2099-12-20", "acme, veggie", "0", "0",
     "open"),
    ("6", "veggie", "Social posts", "12", "posts", "2099-12-10", "acme, burgerco", "6", "6",
     "open"),
    ("17", "veggie", "Launch video", "1", "videos", "2099-12-30", "acme, burgerco", "0", "0",
     "withdrawn"),
)  # fmt: skip

FINAL_STATEMENTS = (
    "seq    title            by        version    signed_by               waiting_for"
    "             status\n"
    "-----  ---------------  --------  ---------  ----------------------  ----------------------"
    "  --------\n"
    "19     Joint statement  acme      2          acme, burgerco, veggie"
    "                          in force\n"
    "20     FAQ              burgerco  1                                  acme, burgerco, veggie"
    "  pending\n"
)


def project_show_table(status: str, entries: int) -> str:
    """Every member has joined, so ``waiting_for`` is an empty list: an empty value."""
    return (
        f"project      {S}\n"
        "title        Spring campaign\n"
        "purpose      One day, three brands.\n"
        f"status       {status}\n"
        "proposer     acme\n"
        "approval     all\n"
        "close        all\n"
        f"entries      {entries}\n"
        "head         <hash>\n"
        "terms        <hash>\n"
        "waiting_for  \n"
        "\n"
        f"handle    status    signers{' ' * 55}pinned{' ' * 46}invite{' ' * 46}joined_seq\n"
        f"--------  --------  {'-' * 60}  {'-' * 50}  {'-' * 50}  {'-' * 12}\n"
        f"acme      joined    {'acme: ' + FP['acme']:<60}  {FP['acme']}{' ' * 54}1\n"
        f"burgerco  joined    burgerco: {FP['burgerco']}{' ' * 54}<fingerprint>  2\n"
        f"veggie    joined    {'veggie: ' + FP['veggie']:<60}  {FP['veggie']}{' ' * 54}3\n"
    )


# --- the story ------------------------------------------------------------------------------


def test_three_parties_take_a_project_from_proposal_to_close(
    accord: Accord, tmp_path: Path
) -> None:
    tell_story(accord, tmp_path, check=True)

    shown = accord.json("project", "show", S)
    assert shown["status"] == "closed"
    assert shown["entries"] == 29
    assert shown["waiting_for"] == []


def test_a_proposed_project_shows_who_it_is_waiting_for(initialised: Accord) -> None:
    initialised.ok(
        "project", "propose", S, "--title", "Spring campaign", "--member", "burgerco",
        "--member", f"veggie={FP['veggie']}", "--as", "acme", stderr=unpinned("burgerco"),
    )  # fmt: skip

    result = initialised.ok("project", "show", S)

    assert_matches(
        result.output,
        f"project      {S}\n"
        "title        Spring campaign\n"
        "purpose      \n"
        "status       proposed\n"
        "proposer     acme\n"
        "approval     all\n"
        "close        all\n"
        "entries      1\n"
        "head         <hash>\n"
        "terms        <hash>\n"
        "waiting_for  burgerco, veggie\n"
        "\n"
        f"handle    status    signers{' ' * 51}pinned{' ' * 46}invite{' ' * 46}joined_seq\n"
        f"--------  --------  {'-' * 56}  {'-' * 50}  {'-' * 50}  {'-' * 12}\n"
        f"acme      joined    acme: {FP['acme']}  {FP['acme']}{' ' * 54}1\n"
        f"burgerco  invited{' ' * 113}<fingerprint>\n"
        f"veggie    invited{' ' * 61}{FP['veggie']}\n",
    )
    shown = initialised.json("project", "show", S)
    assert shown["waiting_for"] == ["burgerco", "veggie"]
    assert shown["head"] == shown["terms"]


def test_the_close_is_signed_by_each_member_and_only_the_last_signature_closes(
    initialised: Accord, project: str
) -> None:
    statuses = []
    for party in ("acme", "burgerco", "veggie"):
        statuses.append(initialised.json("close", project, "--as", party)["project_status"])

    assert statuses == ["active", "active", "closed"]
    result = initialised.ok("project", "list")
    assert "spring-campaign  Spring campaign  closed    acme, burgerco, veggie  6  " in (
        result.output
    )


# --- every read in every format ---------------------------------------------------------------


@pytest.fixture
def story(accord: Accord, tmp_path: Path) -> Accord:
    """The story up to (not including) the close: 26 entries, the project active."""
    tell_story(accord, tmp_path, check=False, close=False)
    return accord


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_project_list_reads_as_a_table(story: Accord) -> None:
    assert_matches(
        story.ok("project", "list").output,
        "project          title            status    members                 entries    head\n"
        "---------------  ---------------  --------  ----------------------  ---------  "
        f"{'-' * 64}\n"
        "spring-campaign  Spring campaign  active    acme, burgerco, veggie  26         <hash>\n",
    )


def test_project_list_reads_as_json_and_csv(story: Accord) -> None:
    head = story.json("project", "show", S)["head"]

    assert story.json("project", "list") == [
        {
            "project": S,
            "title": "Spring campaign",
            "status": "active",
            "members": ["acme", "burgerco", "veggie"],
            "entries": 26,
            "head": head,
        }
    ]
    assert story.ok("project", "list", "--format", "csv").output == (
        "project,title,status,members,entries,head\n"
        f'{S},Spring campaign,active,"acme, burgerco, veggie",26,{head}\n'
    )


def test_project_list_of_an_empty_ledger_says_so(initialised: Accord) -> None:
    assert initialised.ok("project", "list").output == "(no projects yet)\n"
    assert initialised.json("project", "list") == []
    assert initialised.ok("project", "list", "--format", "csv").output == (
        "project,title,status,members,entries,head\n"
    )


def test_project_show_reads_as_a_table(story: Accord) -> None:
    assert_matches(story.ok("project", "show", S).output, project_show_table("active", 26))


def test_project_show_reads_as_json(story: Accord) -> None:
    shown = story.json("project", "show", S)

    assert re.fullmatch(HASH, shown.pop("head"))
    assert re.fullmatch(HASH, shown.pop("terms"))
    invite = shown["members"][1]["invite"]
    assert invite == entry.invite_fingerprint(story.invites[(S, "burgerco")])
    assert shown == {
        "project": S,
        "title": "Spring campaign",
        "purpose": "One day, three brands.",
        "status": "active",
        "proposer": "acme",
        "approval": "all",
        "close": "all",
        "entries": 26,
        "waiting_for": [],
        "members": [
            {"handle": "acme", "status": "joined",
             "signers": [{"label": "acme", "key": FP["acme"], "since_seq": 1}],
             "pinned": FP["acme"], "invite": None, "joined_seq": 1},
            {"handle": "burgerco", "status": "joined",
             "signers": [{"label": "burgerco", "key": FP["burgerco"], "since_seq": 2}],
             "pinned": None, "invite": invite, "joined_seq": 2},
            {"handle": "veggie", "status": "joined",
             "signers": [{"label": "veggie", "key": FP["veggie"], "since_seq": 3}],
             "pinned": FP["veggie"], "invite": None, "joined_seq": 3},
        ],
    }  # fmt: skip


def test_project_show_reads_as_csv_with_a_header_row(story: Accord) -> None:
    shown = story.json("project", "show", S)

    rows = parse_csv(story.ok("project", "show", S, "--format", "csv").output)

    assert rows[0] == [
        "project", "title", "purpose", "status", "proposer", "approval", "close", "entries",
        "head", "terms", "waiting_for", "members",
    ]  # fmt: skip
    assert len(rows) == 2
    assert rows[1] == [
        S, "Spring campaign", "One day, three brands.", "active", "acme", "all", "all", "26",
        shown["head"], shown["terms"], "",
        json.dumps(shown["members"], ensure_ascii=False, separators=(",", ":")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "nested"),
    [
        (["project", "show", S], ["members"]),
        (["statement", "show", S, "19"], ["signatures", "revisions"]),
    ],
)
def test_csv_cells_never_hold_python_reprs(
    story: Accord, command: list[str], nested: list[str]
) -> None:
    """Nested values (lists of records) are written as compact JSON, never as Python reprs."""
    shown = story.json(*command)
    output = story.ok(*command, "--format", "csv").output

    assert "{'" not in output
    assert "None" not in output
    header, row = parse_csv(output)
    cells = dict(zip(header, row, strict=True))
    for field in nested:
        assert shown[field], field  # a non-empty list of records
        assert cells[field] == json.dumps(shown[field], ensure_ascii=False, separators=(",", ":"))
        assert json.loads(cells[field]) == shown[field]


def test_pledge_list_reads_as_a_table(story: Accord) -> None:
    assert story.ok("pledge", "list", S).output == FINAL_PLEDGES


def test_pledge_list_reads_as_json(story: Accord) -> None:
    def row(seq: int, party: str, title: str, weight: str, unit: str, due: str, to: list[str],
            delivered: str, approved: str, status: str) -> dict[str, Any]:  # fmt: skip
        return {"seq": seq, "party": party, "to": to, "title": title, "weight": weight,
                "unit": unit, "delivered": delivered, "approved": approved, "due": due,
                "status": status, "days_late": 0, "short": None}  # fmt: skip

    assert story.json("pledge", "list", S) == [
        row(4, "acme", "Design the posters", "30", "hours", "2099-12-15", ["burgerco"], "12",
            "12", "open"),
        row(5, "burgerco", "Media budget", "15000", "eur", "2099-12-20", ["acme", "veggie"], "0",
            "0", "open"),
        row(6, "veggie", "Social posts", "12", "posts", "2099-12-10", ["acme", "burgerco"], "6",
            "6", "open"),
        row(17, "veggie", "Launch video", "1", "videos", "2099-12-30", ["acme", "burgerco"], "0",
            "0", "withdrawn"),
    ]  # fmt: skip


def test_pledge_list_reads_as_csv_with_a_header_row(story: Accord) -> None:
    assert story.ok("pledge", "list", S, "--format", "csv").output == (
        "seq,party,to,title,weight,unit,delivered,approved,short,due,status,days_late\n"
        "4,acme,burgerco,Design the posters,30,hours,12,12,,2099-12-15,open,0\n"
        '5,burgerco,"acme, veggie",Media budget,15000,eur,0,0,,2099-12-20,open,0\n'
        '6,veggie,"acme, burgerco",Social posts,12,posts,6,6,,2099-12-10,open,0\n'
        '17,veggie,"acme, burgerco",Launch video,1,videos,0,0,,2099-12-30,withdrawn,0\n'
    )


def test_pledge_list_of_a_project_without_pledges_says_so(
    initialised: Accord, project: str
) -> None:
    assert initialised.ok("pledge", "list", project).output == "(no pledges yet)\n"
    assert initialised.json("pledge", "list", project) == []


def test_statement_list_reads_as_a_table(story: Accord) -> None:
    assert story.ok("statement", "list", S).output == FINAL_STATEMENTS


def test_statement_list_reads_as_json_and_csv(story: Accord) -> None:
    assert story.json("statement", "list", S) == [
        {"seq": 19, "title": "Joint statement", "by": "acme", "version": 2,
         "signed_by": ["acme", "burgerco", "veggie"], "waiting_for": [], "status": "in force"},
        {"seq": 20, "title": "FAQ", "by": "burgerco", "version": 1, "signed_by": [],
         "waiting_for": ["acme", "burgerco", "veggie"], "status": "pending"},
    ]  # fmt: skip
    assert story.ok("statement", "list", S, "--format", "csv").output == (
        "seq,title,by,version,signed_by,waiting_for,status\n"
        '19,Joint statement,acme,2,"acme, burgerco, veggie",,in force\n'
        '20,FAQ,burgerco,1,,"acme, burgerco, veggie",pending\n'
    )


def test_statement_list_of_a_project_without_statements_says_so(
    initialised: Accord, project: str
) -> None:
    assert initialised.ok("statement", "list", project).output == "(no statements yet)\n"


def test_statement_show_reads_as_a_table_with_text_signatures_and_revisions(story: Accord) -> None:
    assert_matches(
        story.ok("statement", "show", S, "19").output,
        "seq          19\n"
        "title        Joint statement\n"
        "by           acme\n"
        "version      2\n"
        "signed_by    acme, burgerco, veggie\n"
        "waiting_for  \n"
        "status       in force\n"
        "\n"
        f"{JOINT_TEXT}\n"
        "\n"
        "party     seq\n"
        "--------  -----\n"
        "acme      24\n"
        "burgerco  25\n"
        "veggie    26\n"
        "\n"
        f"version    seq    text_hash\n"
        f"---------  -----  {'-' * 64}\n"
        "1          19     <hash>\n"
        "2          23     <hash>\n",
    )


def test_statement_show_table_says_when_nobody_has_signed_yet(story: Accord) -> None:
    output = story.ok("statement", "show", S, "20").output

    assert_matches(
        output,
        "seq          20\n"
        "title        FAQ\n"
        "by           burgerco\n"
        "version      1\n"
        "signed_by    \n"
        "waiting_for  acme, burgerco, veggie\n"
        "status       pending\n"
        "\n"
        f"{FAQ_TEXT}\n"
        "\n"
        "(no signatures yet)\n"
        "\n"
        f"version    seq    text_hash\n"
        f"---------  -----  {'-' * 64}\n"
        "1          20     <hash>\n",
    )


def test_statement_show_table_says_who_is_still_to_sign(story: Accord) -> None:
    output = story.ok("statement", "show", S, "20").output

    assert re.search(r"^signed_by {4}$", output, re.MULTILINE)
    assert re.search(r"^waiting_for  acme, burgerco, veggie$", output, re.MULTILINE)
    assert "\n\n(no signatures yet)\n\n" in output


def test_statement_show_reads_as_json(story: Accord) -> None:
    shown = story.json("statement", "show", S, "19")

    revisions = shown.pop("revisions")
    assert shown.pop("signatures") == [
        {"party": "acme", "seq": 24},
        {"party": "burgerco", "seq": 25},
        {"party": "veggie", "seq": 26},
    ]
    assert shown == {
        "seq": 19,
        "title": "Joint statement",
        "by": "acme",
        "version": 2,
        "signed_by": ["acme", "burgerco", "veggie"],
        "waiting_for": [],
        "status": "in force",
        "text": JOINT_TEXT,
    }
    assert [(r["version"], r["seq"]) for r in revisions] == [(1, 19), (2, 23)]
    assert all(re.fullmatch(HASH, r["text_hash"]) for r in revisions)


def test_statement_show_reads_as_csv_with_a_header_row(story: Accord) -> None:
    rows = parse_csv(story.ok("statement", "show", S, "20", "--format", "csv").output)

    assert rows[0] == [
        "seq", "title", "by", "version", "signed_by", "waiting_for", "status", "text",
        "signatures", "revisions",
    ]  # fmt: skip
    assert len(rows) == 2
    assert rows[1][:8] == ["20", "FAQ", "burgerco", "1", "", "acme, burgerco, veggie", "pending",
                           FAQ_TEXT]  # fmt: skip
    revisions = story.json("statement", "show", S, "20")["revisions"]
    assert rows[1][8:] == ["", json.dumps(revisions, ensure_ascii=False, separators=(",", ":"))]


def test_every_write_receipt_reads_as_json_and_csv(initialised: Accord, project: str) -> None:
    made = initialised.json(
        "pledge", "add", project, "Posters", "--weight", "2.50", "--unit", "hours",
        "--due", "2099-12-15", "--as", "acme",
    )  # fmt: skip
    assert list(made) == RECEIPT_KEYS
    assert (made["seq"], made["type"], made["by"]) == (4, "pledge.made", "acme")

    result = initialised.ok(
        "deliver", project, "4", "--summary", "Half", "--quantity", "1.25", "--as", "acme",
        "--format", "csv",
    )  # fmt: skip
    subject = (
        '"{""pledge"":4,""pledge_title"":""Posters"",""party"":""acme"",""quantity"":""1.25"",'
        '""unit"":""hours"",""to"":[""burgerco"",""veggie""]}"'
    )
    assert_matches(
        result.output,
        ",".join([*RECEIPT_KEYS, "subject"])
        + f"\n{project},5,deliverable.submitted,<hash>,acme,acme,{FP['acme']},<time>,active,"
        + subject
        + "\n",
    )
    pledges = initialised.json("pledge", "list", project)
    assert (pledges[0]["weight"], pledges[0]["delivered"]) == ("2.5", "1.25")
