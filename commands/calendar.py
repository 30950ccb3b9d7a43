"""``accord calendar``: the open pledges of a project as an iCalendar file (RFC 5545)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.files import write_atomically
from commands.options import fresh_read, pass_ledger
from commands.output import echo
from commands.reports import today_utc
from ledger.errors import StorageUnavailableError, UsageError
from ledger.normalise import normalise_handle
from ledger.numbers import decimal_text
from projections.calendar import ProjectCalendar, project_calendar
from projections.replay import Replay

if TYPE_CHECKING:
    from icalendar import Event

    from ledger.application import Ledger
    from projections.calendar import PledgeEvent

PRODID = "-//accord//accord calendar//EN"
# Characters a calendar must not carry: C0 controls (line breaks are handled first), DEL and
# C1 controls, and the bidi marks, embeddings, overrides and isolates (text must read as it
# was signed). Lone surrogates cannot be encoded at all.
_DROPPED = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029\t\v\f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(" {2,}")


def clean(text: str) -> str:
    """Return ``text`` as one line of plain text fit for an iCalendar TEXT value.

    Line breaks and tabs become spaces, control and bidi characters are dropped, a lone
    surrogate becomes U+FFFD, and runs of spaces shrink to one. Commas, semicolons and
    backslashes are kept: ``icalendar`` escapes them, and folds long lines.
    """
    text = _SURROGATES.sub("\ufffd", text)
    text = _DROPPED.sub("", _BREAKS.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def _to(event: PledgeEvent) -> str:
    return ", ".join(event.beneficiaries) if event.beneficiaries else "(nobody)"


def _summary(event: PledgeEvent) -> str:
    amount = f"{decimal_text(event.weight)} {clean(event.unit)}"
    late = "OVERDUE: " if event.overdue else ""
    return f"{late}{clean(event.title)} ({event.promisor} to {_to(event)}: {amount})"


def _description(slug: str, event: PledgeEvent) -> str:
    return "\n".join(
        [
            f"Pledge {event.seq} of project {slug}",
            f"Title: {clean(event.title)}",
            f"Promisor: {event.promisor}",
            f"Beneficiaries: {_to(event)}",
            f"Weight: {decimal_text(event.weight)} {clean(event.unit)}",
            f"Due: {event.due.isoformat()}"
            + (
                f" (overdue since {(event.due + timedelta(days=1)).isoformat()})"
                if event.overdue
                else ""
            ),
            f"Status: run accord obligations {slug} --party {event.promisor}",
        ]
    )


def _event(slug: str, item: PledgeEvent) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", item.stamp)
    event.add("created", item.created)
    event.add("last-modified", item.stamp)
    event.add("sequence", item.sequence)
    event.add("dtstart", item.due)
    if item.due < item.due.max:  # else one day by RFC 5545's default for a DATE start
        event.add("dtend", item.due + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("summary", _summary(item))
    event.add("description", _description(slug, item))
    return event


def to_ical(calendar: ProjectCalendar) -> bytes:
    """The calendar as iCalendar bytes (UTF-8, CRLF line ends, lines folded at 75 octets)."""
    from icalendar import Calendar, vText

    name = f"accord: {clean(calendar.title) or calendar.slug}"
    if calendar.party is not None:
        name += f" ({calendar.party})"
    ics = Calendar()
    ics.add("prodid", PRODID)
    ics.add("version", "2.0")
    ics.add("calscale", "GREGORIAN")
    ics.add("method", "PUBLISH")
    ics.add("name", vText(name))  # RFC 7986's name; vText: the library does not type it
    ics.add("x-wr-calname", vText(name))  # the name most clients read
    for item in calendar.events:
        ics.add_component(_event(calendar.slug, item))
    data: bytes = ics.to_ical()
    return data


@click.command(name="calendar")
@click.argument("slug")
@click.option(
    "--party",
    metavar="HANDLE",
    help="Only pledges made by or to HANDLE (a member of the project).",
)
@click.option(
    "-o",
    "--output",
    "target",
    required=True,
    metavar="FILE",
    help="The .ics file to write (replaced in one step), or - for standard output.",
)
@fresh_read
@pass_ledger
def calendar_command(ledger: Ledger, slug: str, party: str | None, target: str) -> None:
    """Write the open pledges of SLUG as an iCalendar (.ics) file for any calendar client.

    Each open pledge (not fulfilled, withdrawn or closed short) is an all-day event on its
    due date. An event keeps its UID when the pledge is amended, and its SEQUENCE counts
    the amendments that took effect, so importing the file again moves events instead of
    duplicating them. The same log gives the same bytes.

    \b
        accord calendar spring-campaign -o spring-campaign.ics
        accord calendar spring-campaign --party acme -o - > acme.ics
    """
    if not target:
        raise UsageError("-o needs a file name", hint="write -o FILE.ics, or -o - for stdout")
    if party is not None:
        party = normalise_handle(party, "party")
    replay = Replay.build(ledger, slug)
    calendar = project_calendar(replay, today_utc(), party=party)
    data = to_ical(calendar)
    if target == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
        return
    path = Path(target)
    try:
        write_atomically(path, data.decode("utf-8"))
    except OSError as exc:
        raise StorageUnavailableError(
            f"cannot write the calendar to {path}: {exc.strerror or exc}",
            hint="choose a writable file with -o FILE.ics (its directory must exist)",
        ) from None
    count = len(calendar.events)
    echo(f"wrote {path} ({count} event{'s' if count != 1 else ''})")
