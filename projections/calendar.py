"""Calendar events: one per open pledge, on its due date (rendered by ``accord calendar``).

An event is plain data; ``commands/calendar.py`` turns it into iCalendar (RFC 5545). Everything
in it is a pure function of the log, so the same entries give the same calendar, byte for byte:

* ``uid`` is ``pledge-<seq>-<genesis hash>@accord``: the pledge's seq within the project, and
  the hash of the project's first entry, which no other project shares (a slug can be reused
  in another ledger; a genesis hash cannot). Amendments never change it, so a calendar client
  that imports an updated calendar moves the event instead of adding a second one.
* ``sequence`` is how many amendments of the pledge took effect (RFC 5545 ``SEQUENCE``: a
  client keeps the event with the higher number).
* ``created`` is the claimed time of the pledge; ``stamp`` (``DTSTAMP`` and
  ``LAST-MODIFIED``) the latest claimed time among the pledge and the approvals that made its
  amendments take effect: it changes only when the event does.
* An overdue pledge says so in its summary and description: its ``sequence`` is one more and
  its ``stamp`` is the start of the day after its due date (the day the event changed), so
  the same log gives the same bytes on any day after that, and a calendar client that
  imports the file again updates the event.

A pledge is open while it is unfinished: not fulfilled, not withdrawn, not closed short.
Overdue pledges stay in the calendar, on the day they were due. A closed (or abandoned)
project has no open pledges: nothing can be delivered on them any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ledger import rules
from ledger.errors import NotFoundError
from ledger.open_items import open_values
from projections.obligations import FINISHED, obligation
from projections.replay import TimelineRow

if TYPE_CHECKING:
    from decimal import Decimal

    from ledger.rules import Pledge
    from projections.replay import Replay


@dataclass(frozen=True)
class PledgeEvent:
    """One open pledge as an all-day calendar event on its due date."""

    uid: str
    sequence: int
    created: datetime
    stamp: datetime
    due: date
    seq: int
    title: str
    promisor: str
    beneficiaries: tuple[str, ...]
    weight: Decimal
    unit: str
    overdue: bool = False
    days_late: int = 0


@dataclass(frozen=True)
class ProjectCalendar:
    """The events of one project (optionally of one party), in due-date then seq order."""

    slug: str
    title: str
    party: str | None
    events: tuple[PledgeEvent, ...]


def pledge_uid(genesis: str, seq: int) -> str:
    """The UID of pledge ``seq`` in the project whose first entry has the hash ``genesis``."""
    return f"pledge-{seq}-{genesis}@accord"


def _effective_amendments(replay: Replay, pledge: Pledge) -> list[int]:
    """The seqs of the approvals that made amendments of ``pledge`` take effect, in order."""
    decided = []
    for seq in pledge.amendments:
        decision = replay.state.decisions[seq]
        if decision.status == rules.ACCEPTED and decision.decided_seq is not None:
            decided.append(decision.decided_seq)
    return decided


def project_calendar(replay: Replay, today: date, *, party: str | None = None) -> ProjectCalendar:
    """The open pledges of the project (made by or to ``party``) as calendar events.

    Args:
        replay: the folded project.
        today: the day the obligations are judged on (see ``projections/obligations.py``).
        party: only pledges whose promisor or a beneficiary is this member.

    Raises:
        NotFoundError: ``party`` is not a member of the project.
    """
    state = replay.state
    if party is not None and party not in state.members:
        raise NotFoundError(
            f"party {party!r} is not a member of project {state.slug!r}",
            hint=f"`accord project show {state.slug}` lists the members",
        )
    genesis = TimelineRow.of(replay.timeline()[0]).hash
    events = []
    over = state.status in (rules.CLOSED, rules.ABANDONED)
    for pledge in () if over else open_values(state, "pledges"):  # a finished one is never open
        if party is not None and party != pledge.by and party not in pledge.beneficiaries:
            continue
        row = obligation(replay, pledge, today)
        if row.status in FINISHED:  # over: it leaves the calendar
            continue
        changes = _effective_amendments(replay, pledge)
        created = replay.at(pledge.seq)
        stamp = max([created, *(replay.at(seq) for seq in changes)])
        overdue = row.status == "overdue"
        if overdue:  # the event changed when the pledge fell due: a new revision, that day
            late = datetime.combine(row.due, time(), UTC) + timedelta(days=1)
            stamp = max(stamp, late) if row.due < date.max else stamp
        events.append(
            PledgeEvent(
                uid=pledge_uid(genesis, pledge.seq),
                sequence=len(changes) + overdue,
                created=created,
                stamp=stamp,
                due=row.due,
                seq=pledge.seq,
                title=pledge.title,
                promisor=pledge.by,
                beneficiaries=pledge.beneficiaries,
                weight=pledge.weight,
                unit=pledge.unit,
                overdue=overdue,
                days_late=row.days_late,
            )
        )
    events.sort(key=lambda e: (e.due, e.seq))
    return ProjectCalendar(slug=state.slug, title=state.title, party=party, events=tuple(events))
