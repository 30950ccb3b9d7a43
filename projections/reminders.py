"""Which to-do items are due for a reminder: a pure read over the to-do list and a sent-log.

The items come from :func:`projections.todo.todo` (so an item is listed exactly while it
still waits), each with who waits on it and since when. The reminder policy is "first after
``first`` days, then every ``every`` days" (``every`` 0: only once), judged against a clock
the caller passes in (``accord notify`` reads the wall clock, or ``--now`` in tests). The
sent-log is what the caller recorded after a send succeeded; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ledger import rules
from projections.todo import Todo, todo

if TYPE_CHECKING:
    from projections.replay import Replay


@dataclass(frozen=True)
class Waiting:
    """One to-do item of a party, with who waits on it and since when."""

    item: Todo
    party: str  # the party it waits for (whose to-do list it is on)
    title: str  # the project's title (partner text)
    waits: str  # who waits on the party: handles, comma-separated
    since: datetime

    def key(self, recipient: str) -> str:
        """The item's key in the sent-log of ``recipient``."""
        return f"{recipient}|{self.item.project}|{self.item.seq}|{self.item.waiting}"

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row (the to-do row and the reminder's facts)."""
        return {
            **self.item.as_row(),
            "party": self.party,
            "title": self.title,
            "waits": self.waits,
            "since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True)
class Sent:
    """What the sent-log holds for one item of one recipient."""

    last: datetime
    count: int


@dataclass(frozen=True)
class Policy:
    """First reminder ``first`` days after the item started waiting, then every ``every``."""

    first: int = 0
    every: int = 7


def waiting(replay: Replay, handle: str, today: date, within: int) -> list[Waiting]:
    """The to-do list of ``handle`` in one project, each item with who waits and since when.

    ``since`` is the claimed time of the entry that started the wait (the proposal for an
    invitation, the latest revision of a statement, the first close signature); for one's
    own pledge, the later of the pledge's time and the day it came within ``within`` days of
    its due date.
    """
    state = replay.state
    rows = []
    for item in todo(replay, handle, today, within):
        waits, seq = _who_and_when(state, item, handle)
        since = replay.at(seq)
        if item.waiting == "deliver" and item.due is not None:
            try:
                horizon = item.due - timedelta(days=within)
            except OverflowError:
                horizon = date.min
            since = max(since, datetime.combine(horizon, time(), tzinfo=UTC))
        rows.append(Waiting(item, handle, state.title, waits, since.astimezone(UTC)))
    return rows


def _who_and_when(state: rules.ProjectState, item: Todo, handle: str) -> tuple[str, int]:
    """Who waits on ``item`` and the seq of the entry its wait started with."""
    seq = item.seq
    if item.waiting == "join":
        return state.proposer, 1
    if item.waiting == "decide":
        decision = state.decisions.get(seq) or state.values.get(seq)
        return (decision.by if decision is not None else ""), seq
    if item.waiting == "resolve":
        dispute = state.disputes.get(seq)
        others = sorted(p for p in (dispute.parties if dispute else ()) if p != handle)
        return ", ".join(others), seq
    if item.waiting == "rejected":
        refusers = [
            d.refusal[0]
            for d in state.decisions.values()
            if isinstance(d, rules.Deliverable) and d.refusal is not None and d.refusal[1] == seq
        ]
        return ", ".join(refusers), seq
    if item.waiting == "sign statement":
        statement = state.statements[seq]
        signed = sorted(statement.signatures) or [statement.by]
        return ", ".join(signed), max([statement.seq, *statement.revisions])
    if item.waiting == "sign close":
        closers = state.close_signatures
        return ", ".join(sorted(closers)), min(closers.values(), default=seq)
    pledge = state.pledges.get(seq)  # deliver: one's own pledge
    return (", ".join(pledge.beneficiaries) if pledge else ""), seq


def due(
    items: list[Waiting],
    *,
    recipient: str,
    sent: Mapping[str, Sent],
    policy: Policy,
    now: datetime,
) -> list[Waiting]:
    """The items of ``items`` a reminder is due for at ``now``, under ``policy``.

    Never sent: due once ``first`` days have passed since the item started waiting. Sent
    before: due again ``every`` days after the last send (never again when ``every`` is 0).
    """
    result = []
    for entry in items:
        previous = sent.get(entry.key(recipient))
        if previous is None:
            if now >= entry.since + timedelta(days=policy.first):
                result.append(entry)
        elif policy.every > 0 and now >= previous.last + timedelta(days=policy.every):
            result.append(entry)
    return result
