"""The calendar of open pledges, on one hand-built project, read back with a real parser.

The ``memory_ledger`` clock claims 2026-11-22T10:00:00Z plus one minute per entry (seq n at
10:0n). The scenario:

| seq | entry                                                                          |
|-----|--------------------------------------------------------------------------------|
| 1-3 | acme proposes "Cal; demo, campaign"; burgerco and veggie join                  |
| 4   | acme pledges "Posters, flyers; more" 30 hours to burgerco, due 2026-12-15      |
| 5   | burgerco pledges "Media budget" 1000 eur to acme and veggie, due 2026-12-01    |
| 6   | veggie pledges "Recipe shoot" 10 hours to acme, due 2026-11-30                 |
| 7   | acme asks to move 4 to 2026-12-20; 8 burgerco approves: 4 moves (SEQUENCE 1)   |
| 9   | veggie withdraws 6: it leaves the calendar                                     |
| 10  | burgerco delivers 1000 eur on 5; 11 acme, 12 veggie approve: 5 is fulfilled    |
| 13  | acme pledges "Press copy" 8.50 hours (shown 8.5) to veggie, due 2026-11-25     |
| 14  | acme asks to rename 13 (pending: nothing changes, SEQUENCE stays 0)            |
| 15  | burgerco pledges "Brand review" 5 hours to acme, due 2026-11-20 (overdue)      |

So the calendar holds 15 (2026-11-20), 13 (2026-11-25) and 4 (2026-12-20), in that order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
import pytest

from commands.calendar import clean, to_ical
from ledger.application import Ledger
from ledger.errors import NotFoundError
from ledger.keys import Signer
from projections.calendar import project_calendar
from projections.replay import Replay

SLUG = "cal-demo"
TODAY = date(2026, 11, 22)


@pytest.fixture
def genesis(memory_ledger: Ledger, signers: dict[str, Signer]) -> str:
    """Build the scenario of the module docstring; return the hash of its first entry."""
    ledger = memory_ledger
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    first = ledger.propose_project(
        SLUG, title="Cal; demo, campaign", purpose="",
        members={"burgerco": None, "veggie": None}, approval="all", close="all", signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)

    def pledge(signer: Signer, title: str, weight: str, unit: str, due: str, to: list[str]) -> int:
        return ledger.add_pledge(
            SLUG, title=title, weight=weight, unit=unit, due=due, beneficiaries=to, signer=signer
        ).seq

    assert pledge(acme, "Posters, flyers; more", "30", "hours", "2026-12-15", ["burgerco"]) == 4
    assert pledge(burgerco, "Media budget", "1000", "eur", "2026-12-01", ["acme", "veggie"]) == 5
    assert pledge(veggie, "Recipe shoot", "10", "hours", "2026-11-30", ["acme"]) == 6
    moved = ledger.amend_pledge(
        SLUG, 4, title=None, weight=None, due="2026-12-20", reason="Printer late", signer=acme
    )
    assert moved.seq == 7
    assert ledger.approve(SLUG, 7, comment="", signer=burgerco).seq == 8
    assert ledger.withdraw_pledge(SLUG, 6, reason="Not needed", signer=veggie).seq == 9
    delivered = ledger.deliver(
        SLUG, 5, summary="Paid", quantity="1000", evidence=[], signer=burgerco
    )
    assert delivered.seq == 10
    assert ledger.approve(SLUG, 10, comment="", signer=acme).seq == 11
    assert ledger.approve(SLUG, 10, comment="", signer=veggie).seq == 12
    assert pledge(acme, "Press copy", "8.50", "hours", "2026-11-25", ["veggie"]) == 13
    renamed = ledger.amend_pledge(
        SLUG, 13, title="Press kit", weight=None, due=None, reason="Bigger", signer=acme
    )
    assert renamed.seq == 14
    assert pledge(burgerco, "Brand review", "5", "hours", "2026-11-20", ["acme"]) == 15
    return first.hash


def unfolded(data: bytes) -> list[str]:
    """The content lines of an iCalendar file, unfolded (RFC 5545 section 3.1)."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def expected_lines(genesis: str) -> list[str]:
    def event(
        seq: int, summary: str, start: str, end: str, stamp: str, sequence: int,
        created: str, description: list[str],
    ) -> list[str]:  # fmt: skip
        return [
            "BEGIN:VEVENT",
            f"SUMMARY:{summary}",
            f"DTSTART;VALUE=DATE:{start}",
            f"DTEND;VALUE=DATE:{end}",
            f"DTSTAMP:{stamp}",
            f"UID:pledge-{seq}-{genesis}@accord",
            f"SEQUENCE:{sequence}",
            f"CREATED:{created}",
            "DESCRIPTION:" + "\\n".join(description),
            f"LAST-MODIFIED:{stamp}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]

    return [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//accord//accord calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:accord: Cal\\; demo\\, campaign",
        "X-WR-CALNAME:accord: Cal\\; demo\\, campaign",
        *event(
            15,
            "OVERDUE: Brand review (burgerco to acme: 5 hours)",
            "20261120",
            "20261121",
            "20261122T101500Z",
            1,
            "20261122T101500Z",
            [
                "Pledge 15 of project cal-demo",
                "Title: Brand review",
                "Promisor: burgerco",
                "Beneficiaries: acme",
                "Weight: 5 hours",
                "Due: 2026-11-20 (overdue since 2026-11-21)",
                "Status: run accord obligations cal-demo --party burgerco",
            ],
        ),
        *event(
            13,
            "Press copy (acme to veggie: 8.5 hours)",
            "20261125",
            "20261126",
            "20261122T101300Z",
            0,
            "20261122T101300Z",
            [
                "Pledge 13 of project cal-demo",
                "Title: Press copy",
                "Promisor: acme",
                "Beneficiaries: veggie",
                "Weight: 8.5 hours",
                "Due: 2026-11-25",
                "Status: run accord obligations cal-demo --party acme",
            ],
        ),
        *event(
            4,
            "Posters\\, flyers\\; more (acme to burgerco: 30 hours)",
            "20261220",
            "20261221",
            "20261122T100800Z",
            1,
            "20261122T100400Z",
            [
                "Pledge 4 of project cal-demo",
                "Title: Posters\\, flyers\\; more",
                "Promisor: acme",
                "Beneficiaries: burgerco",
                "Weight: 30 hours",
                "Due: 2026-12-20",
                "Status: run accord obligations cal-demo --party acme",
            ],
        ),
        "END:VCALENDAR",
    ]


def test_the_calendar_holds_every_open_pledge_with_its_exact_properties(
    memory_ledger: Ledger, genesis: str
) -> None:
    data = to_ical(project_calendar(Replay.build(memory_ledger, SLUG), TODAY))
    assert unfolded(data) == expected_lines(genesis)
    assert all(len(line.encode()) <= 75 for line in data.decode().split("\r\n"))


def test_a_parser_reads_the_events_back_as_a_calendar_client_would(
    memory_ledger: Ledger, genesis: str
) -> None:
    data = to_ical(project_calendar(Replay.build(memory_ledger, SLUG), TODAY))
    parsed = icalendar.Calendar.from_ical(data)
    events = parsed.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        f"pledge-{seq}-{genesis}@accord" for seq in (15, 13, 4)
    ]
    moved = events[2]
    assert moved.decoded("DTSTART") == date(2026, 12, 20)
    assert moved.decoded("DTEND") == date(2026, 12, 21)
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTAMP") == datetime(2026, 11, 22, 10, 8, tzinfo=UTC)
    assert str(moved["SUMMARY"]) == "Posters, flyers; more (acme to burgerco: 30 hours)"
    # the parser keeps properties it does not type as they were written: escaped TEXT
    assert parsed["X-WR-CALNAME"].to_ical() == b"accord: Cal\\; demo\\, campaign"


def test_the_calendar_is_a_pure_function_of_the_log_and_of_what_is_overdue(
    memory_ledger: Ledger, genesis: str
) -> None:
    first = to_ical(project_calendar(Replay.build(memory_ledger, SLUG), date(2030, 1, 1)))
    later = to_ical(project_calendar(Replay.build(memory_ledger, SLUG), date(2031, 6, 1)))
    assert first == later
    assert first != to_ical(project_calendar(Replay.build(memory_ledger, SLUG), TODAY))


def test_a_party_sees_the_pledges_it_made_or_is_owed(memory_ledger: Ledger, genesis: str) -> None:
    replay = Replay.build(memory_ledger, SLUG)
    seqs = {p: [e.seq for e in project_calendar(replay, TODAY, party=p).events] for p in
            ("acme", "burgerco", "veggie")}  # fmt: skip
    assert seqs == {"acme": [15, 13, 4], "burgerco": [15, 4], "veggie": [13]}
    data = to_ical(project_calendar(replay, TODAY, party="veggie"))
    assert icalendar.Calendar.from_ical(data)["NAME"].to_ical() == (
        b"accord: Cal\\; demo\\, campaign (veggie)"
    )


def test_a_party_that_is_not_a_member_is_not_found(memory_ledger: Ledger, genesis: str) -> None:
    with pytest.raises(NotFoundError, match="party 'mallory' is not a member of project"):
        project_calendar(Replay.build(memory_ledger, SLUG), TODAY, party="mallory")


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("plain", "plain"),
        ("two\nlines", "two lines"),
        ("cr\rlf\r\nend", "cr lf end"),
        ("tab\there", "tab here"),
        ("esc\x1b[31mred\x07bell\x00nul\x7fdel\x9bcsi", "esc[31mredbellnuldelcsi"),
        ("bidi\u202eevil\u2066x\u2069", "bidievilx"),
        ("line\u2028para\u2029sep\x85nel", "line para sep nel"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("  many    spaces  ", "many spaces"),
        ("a,b;c\\d", "a,b;c\\d"),
    ],
)
def test_text_is_cleaned_of_what_a_calendar_cannot_carry(text: str, cleaned: str) -> None:
    assert clean(text) == cleaned


def test_an_event_says_overdue_from_the_day_after_its_due_date_as_a_new_revision(
    memory_ledger: Ledger, genesis: str
) -> None:
    replay = Replay.build(memory_ledger, SLUG)
    before = {e.seq: e for e in project_calendar(replay, date(2026, 11, 24)).events}
    after = {e.seq: e for e in project_calendar(replay, date(2026, 11, 26)).events}
    assert (before[13].overdue, after[13].overdue) == (False, True)
    assert after[13].sequence == before[13].sequence + 1
    assert after[13].stamp == datetime(2026, 11, 26, tzinfo=UTC)
    later = project_calendar(replay, date(2027, 1, 1))
    assert to_ical(later) == to_ical(project_calendar(replay, date(2027, 6, 1)))
    lines = unfolded(to_ical(project_calendar(replay, date(2026, 11, 26))))
    assert "SUMMARY:OVERDUE: Press copy (acme to veggie: 8.5 hours)" in lines
