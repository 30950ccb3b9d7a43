"""``accord calendar`` end to end, read back with icalendar as a calendar client reads it.

Entries are claimed at the real time of the run; the due dates are far in the future.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
from cli_helpers import Accord, assert_refused

S = "spring-campaign"


@pytest.fixture
def pledged(initialised: Accord, project: str) -> Accord:
    """The three-party project (1-3) with:

    4  acme pledges "Design the posters" 30 hours to burgerco, due 2099-12-15
    5  burgerco pledges "Media budget" 1000 eur to acme, due 2099-11-01
    6  veggie pledges "Recipe shoot" 10 hours to acme, due 2099-10-01
    """
    a = initialised
    a.ok("pledge", "add", S, "Design the posters", "--weight", "30", "--unit", "hours",
         "--due", "2099-12-15", "--to", "burgerco", "--as", "acme")  # fmt: skip
    a.ok("pledge", "add", S, "Media budget", "--weight", "1000", "--unit", "eur",
         "--due", "2099-11-01", "--to", "acme", "--as", "burgerco")  # fmt: skip
    a.ok("pledge", "add", S, "Recipe shoot", "--weight", "10", "--unit", "hours",
         "--due", "2099-10-01", "--to", "acme", "--as", "veggie")  # fmt: skip
    return a


def read_calendar(accord: Accord, *args: str) -> tuple[bytes, icalendar.Calendar]:
    data = accord.ok("calendar", S, *args, "-o", "-").stdout_bytes
    return data, icalendar.Calendar.from_ical(data)


def events(calendar: icalendar.Calendar) -> dict[int, icalendar.Event]:
    """The events by pledge seq (read from the UID)."""
    return {int(str(e["UID"]).split("-")[1]): e for e in calendar.walk("VEVENT")}


def genesis(accord: Accord) -> str:
    return str(accord.json("trail", S)[0]["hash"])


def claimed(accord: Accord, seq: int) -> datetime:
    row = accord.json("trail", S)[seq - 1]
    return datetime.fromisoformat(row["at"].replace("Z", "+00:00"))


def test_the_calendar_file_has_one_all_day_event_per_open_pledge(
    pledged: Accord, tmp_path: Path
) -> None:
    result = pledged.ok("calendar", S, "-o", "spring.ics")
    assert result.stdout == "wrote spring.ics (3 events)\n"
    data = (tmp_path / "spring.ics").read_bytes()
    parsed = icalendar.Calendar.from_ical(data)
    found = events(parsed)
    assert list(found) == [6, 5, 4]  # by due date
    poster = found[4]
    assert str(poster["UID"]) == f"pledge-4-{genesis(pledged)}@accord"
    assert poster.decoded("DTSTART") == date(2099, 12, 15)
    assert poster.decoded("DTEND") == date(2099, 12, 16)
    assert poster.decoded("SEQUENCE") == 0
    assert poster.decoded("DTSTAMP") == claimed(pledged, 4)
    assert str(poster["SUMMARY"]) == "Design the posters (acme to burgerco: 30 hours)"
    assert str(poster["DESCRIPTION"]).splitlines() == [
        f"Pledge 4 of project {S}",
        "Title: Design the posters",
        "Promisor: acme",
        "Beneficiaries: burgerco",
        "Weight: 30 hours",
        "Due: 2099-12-15",
        f"Status: run accord obligations {S} --party acme",
    ]
    assert str(parsed["X-WR-CALNAME"]) == "accord: Spring campaign"


def test_standard_output_gets_the_same_bytes_as_the_file(pledged: Accord, tmp_path: Path) -> None:
    pledged.ok("calendar", S, "-o", "spring.ics")
    data, _ = read_calendar(pledged)
    assert data == (tmp_path / "spring.ics").read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")


def test_the_same_log_gives_the_same_bytes(pledged: Accord) -> None:
    first, _ = read_calendar(pledged)
    pledged.ok("trail", S)
    again, _ = read_calendar(pledged)
    assert first == again


def test_an_amended_due_date_moves_the_event_under_the_same_uid(pledged: Accord) -> None:
    _, before = read_calendar(pledged)
    pledged.ok("pledge", "amend", S, "4", "--due", "2099-12-20", "--reason", "Printer late",
               "--as", "acme")  # fmt: skip
    _, pending = read_calendar(pledged)
    assert events(pending)[4].decoded("DTSTART") == date(2099, 12, 15)  # not yet approved
    assert events(pending)[4].decoded("SEQUENCE") == 0
    pledged.ok("approve", S, "7", "--as", "burgerco")
    _, after = read_calendar(pledged)
    old, new = events(before)[4], events(after)[4]
    assert str(new["UID"]) == str(old["UID"])
    assert new.decoded("DTSTART") == date(2099, 12, 20)
    assert new.decoded("DTEND") == date(2099, 12, 21)
    assert new.decoded("SEQUENCE") == 1
    assert new.decoded("DTSTAMP") == claimed(pledged, 8)  # the approval that made it count
    assert new.decoded("CREATED") == claimed(pledged, 4)
    assert [str(e["UID"]) for e in after.walk("VEVENT")] == [
        str(e["UID"]) for e in before.walk("VEVENT")
    ]
    pledged.ok("pledge", "amend", S, "4", "--title", "Design the big posters",
               "--reason", "Bigger", "--as", "acme")  # fmt: skip
    pledged.ok("approve", S, "9", "--as", "burgerco")
    _, twice = read_calendar(pledged)
    assert events(twice)[4].decoded("SEQUENCE") == 2
    assert str(events(twice)[4]["SUMMARY"]).startswith("Design the big posters (")


def test_withdrawn_and_fulfilled_pledges_leave_the_calendar(pledged: Accord) -> None:
    pledged.ok("pledge", "withdraw", S, "6", "--reason", "Not needed", "--as", "veggie")
    pledged.ok("deliver", S, "5", "--summary", "Paid", "--quantity", "1000", "--as", "burgerco")
    _, submitted = read_calendar(pledged)
    assert list(events(submitted)) == [5, 4]  # submitted, not yet fulfilled
    pledged.ok("approve", S, "8", "--as", "acme")
    _, parsed = read_calendar(pledged)
    assert list(events(parsed)) == [4]


def test_a_party_gets_the_pledges_it_made_or_is_owed(pledged: Accord) -> None:
    assert list(events(read_calendar(pledged, "--party", "acme")[1])) == [6, 5, 4]
    assert list(events(read_calendar(pledged, "--party", "burgerco")[1])) == [5, 4]
    _, veggie = read_calendar(pledged, "--party", "veggie")
    assert list(events(veggie)) == [6]
    assert str(veggie["X-WR-CALNAME"]) == "accord: Spring campaign (veggie)"


def test_a_project_without_open_pledges_gives_an_empty_calendar(
    initialised: Accord, project: str
) -> None:
    result = initialised.ok("calendar", S, "-o", "empty.ics")
    assert result.stdout == "wrote empty.ics (0 events)\n"
    parsed = icalendar.Calendar.from_ical(Path("empty.ics").read_bytes())
    assert parsed.walk("VEVENT") == []


def test_hostile_titles_come_out_as_valid_icalendar(pledged: Accord) -> None:
    title = "Evil\r\nBEGIN:VEVENT\nUID:x;y,z\\ \x1b[31mred\x07 \u202eflip " + "long " * 60
    pledged.ok("pledge", "add", S, title, "--weight", "1", "--unit", "€/h",
               "--due", "2099-09-01", "--to", "acme", "--as", "burgerco")  # fmt: skip
    data, parsed = read_calendar(pledged)
    text = data.decode("utf-8")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    lines = text.replace("\r\n ", "").split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 4  # the title's "BEGIN:VEVENT" starts no line
    assert len(parsed.walk("VEVENT")) == 4
    hostile = events(parsed)[7]
    expected = "Evil BEGIN:VEVENT UID:x;y,z\\ [31mred flip " + " ".join(["long"] * 60)
    assert str(hostile["SUMMARY"]) == f"{expected} (burgerco to acme: 1 €/h)"
    assert str(hostile["DESCRIPTION"]).splitlines()[1] == f"Title: {expected}"


def test_an_unknown_project_is_not_found(initialised: Accord) -> None:
    with initialised.unchanged():
        result = initialised("calendar", "no-such-project", "-o", "x.ics")
    assert_refused(
        result, 3, "no project 'no-such-project' in this ledger",
        "`accord project list` shows the projects this ledger holds",
    )  # fmt: skip
    assert not Path("x.ics").exists()


def test_a_party_that_is_not_a_member_is_not_found(pledged: Accord) -> None:
    result = pledged("calendar", S, "--party", "mallory", "-o", "x.ics")
    assert_refused(
        result, 3, f"party 'mallory' is not a member of project '{S}'",
        f"`accord project show {S}` lists the members",
    )  # fmt: skip
    assert not Path("x.ics").exists()


def test_a_malformed_party_is_a_usage_error(pledged: Accord) -> None:
    result = pledged("calendar", S, "--party", "Not A Handle", "-o", "x.ics")
    assert_refused(
        result, 2, "party 'Not A Handle' is not valid",
        "use 1-32 characters: lower-case letters, digits and inner hyphens (acme-corp)",
    )  # fmt: skip


def test_the_output_file_is_required(pledged: Accord) -> None:
    result = pledged("calendar", S)
    assert result.exit_code == 2
    assert "Error: Missing option '-o' / '--output'." in result.stderr


@pytest.mark.parametrize("target", ["missing-dir/x.ics", "a-directory"])
def test_an_unwritable_target_is_a_storage_error_and_leaves_nothing(
    pledged: Accord, tmp_path: Path, target: str
) -> None:
    (tmp_path / "a-directory").mkdir()
    result = pledged("calendar", S, "-o", target)
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith(f"Error: cannot write the calendar to {target}: ")
    assert result.stderr.endswith(
        "Hint: choose a writable file with -o FILE.ics (its directory must exist)\n"
    )
    assert result.stdout == ""
    assert list((tmp_path / "a-directory").iterdir()) == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_new_calendar_replaces_the_old_file(pledged: Accord, tmp_path: Path) -> None:
    (tmp_path / "spring.ics").write_text("old")
    pledged.ok("calendar", S, "-o", "spring.ics")
    assert (tmp_path / "spring.ics").read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


def test_a_closed_project_has_nothing_left_on_the_calendar(
    initialised: Accord, closed_project: str
) -> None:
    assert initialised.json("obligations", S)[0]["status"] == "open"  # still unfulfilled
    result = initialised.ok("calendar", S, "-o", "closed.ics")
    assert result.stdout == "wrote closed.ics (0 events)\n"
    assert icalendar.Calendar.from_ical(Path("closed.ics").read_bytes()).walk("VEVENT") == []
