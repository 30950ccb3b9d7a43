"""What waits for one party: decisions to take, statements and closes to sign, work due.

A read over the verified state of each project (the same state the rules use), so a row
appears exactly when the rules would accept the action it names. It reads the open items
only (``ledger.open_items``): its cost follows what waits, not the length of the history.
Every row carries the command to run next, made of a slug and a handle (both validated
formats) and seqs, never free text from the log. The ``about`` text carries the essentials of
what is decided, in one line (a deliverable's quantity, summary and evidence count, an
amendment's old and new values, a dispute's reason and who signed an outcome, a value's
worth): titles, summaries and reasons in it are partner text, quoted, and made safe by the
renderer like any cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.numbers import decimal_text
from ledger.open_items import open_values
from projections.entry_view import amendment_changes, amount, changes_words, evidence_words
from projections.obligations import obligations

if TYPE_CHECKING:
    from projections.replay import Replay

DEFAULT_WITHIN_DAYS = 14  # own pledges due within this many days are listed (`accord todo`)

# The order rows of one project are listed in: what others wait for first.
_ORDER = ("join", "decide", "resolve", "rejected", "sign statement", "sign close", "deliver")


@dataclass(frozen=True)
class Todo:
    """One thing that waits for the party."""

    project: str
    seq: int
    waiting: str  # one of _ORDER
    about: str
    due: date | None
    overdue: bool
    next: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "project": self.project,
            "seq": self.seq,
            "waiting": self.waiting,
            "about": self.about,
            "due": self.due.isoformat() if self.due else None,
            "overdue": self.overdue,
            "next": self.next,
        }


def todo(replay: Replay, handle: str, today: date, within: int) -> list[Todo]:
    """What waits for ``handle`` in one project, in a fixed order.

    Args:
        replay: the folded project (its verified state).
        handle: the party asking.
        today: the day due dates are judged against.
        within: own pledges due within this many days (and overdue ones) are listed.
    """
    state = replay.state
    member = state.members.get(handle)
    if member is None or state.status in (rules.CLOSED, rules.ABANDONED, rules.CANCELLED):
        return []
    slug = state.slug
    rows: list[Todo] = []
    if member.status == rules.INVITED:
        invite = " --invite TOKEN" if member.pinned is None and member.invite else ""
        rows.append(
            Todo(
                slug,
                1,
                "join",
                f"the invitation to {state.title!r} from {state.proposer}",
                None,
                False,
                f"accord project join {slug}{invite} --as {handle}",
            )
        )
        return rows
    if member.status != rules.JOINED:
        return []
    rows.extend(_decisions(replay, handle))
    rows.extend(_values(state, handle))
    rows.extend(_disputes(state, handle))
    rows.extend(_rejections(state, handle))
    rows.extend(_statements(state, handle))
    if state.close_signatures and handle not in state.close_signatures:
        signed = ", ".join(sorted(state.close_signatures))
        rows.append(
            Todo(
                slug,
                state.final_head_seq,
                "sign close",
                f"the close at head seq {state.final_head_seq}, signed by {signed}",
                None,
                False,
                f"accord close {slug} --as {handle}",
            )
        )
    rows.extend(_own_pledges(replay, handle, today, within))
    return sorted(rows, key=lambda r: (_ORDER.index(r.waiting), r.seq))


def _decisions(replay: Replay, handle: str) -> list[Todo]:
    state = replay.state
    rows = []
    for decision in open_values(state, "decisions"):
        if decision.status != rules.PENDING or decision.by == handle:
            continue
        pledge = state.pledges[decision.pledge]
        if handle not in pledge.beneficiaries or handle in decision.approvals:
            continue
        if isinstance(decision, rules.Deliverable):
            what = (
                f"deliverable by {decision.by} on pledge {pledge.seq} {pledge.title!r}: "
                f"{amount(decimal_text(decision.quantity), pledge.unit)}, {decision.summary!r}, "
                f"{evidence_words(len(decision.evidence))}"
            )
            if decision.evidence:  # issue 16 (evidence): how to fetch and check the files
                what += f" (fetch: accord evidence get {state.slug} {decision.seq} --as {handle})"
        elif isinstance(decision, rules.ShortClose):
            what = (
                f"close-short by {decision.by} of pledge {pledge.seq} {pledge.title!r} at "
                f"{decimal_text(pledge.approved)} of "
                f"{amount(decimal_text(pledge.weight), pledge.unit)} approved; "
                f"reason {decision.reason!r}"
            )
        elif isinstance(decision, rules.Amendment):
            changes = changes_words(amendment_changes(replay, decision), pledge.unit)
            what = (
                f"amendment by {decision.by} of pledge {pledge.seq} {pledge.title!r}: {changes}; "
                f"reason {decision.reason!r}"
            )
        else:  # pragma: no cover - the rules know these three kinds only
            what = f"{decision.kind} by {decision.by} of pledge {pledge.seq} {pledge.title!r}"
        rows.append(
            Todo(
                state.slug,
                decision.seq,
                "decide",
                what,
                None,
                False,
                _decide(state.slug, decision.seq, handle),
            )
        )
    return rows


def _decide(slug: str, seq: int, handle: str) -> str:
    return (
        f"accord approve {slug} {seq} --as {handle}  "
        f"(or: accord reject {slug} {seq} --reason R --as {handle})"
    )


def _values(state: rules.ProjectState, handle: str) -> list[Todo]:
    rows = []
    for proposal in state.values.values():
        if proposal.status != rules.PENDING or handle in proposal.approvals:
            continue
        if handle not in rules.value_approvers(state, proposal):
            continue
        rows.append(
            Todo(
                state.slug,
                proposal.seq,
                "decide",
                f"value by {proposal.by}: {amount('1', proposal.unit)} = "
                f"{decimal_text(proposal.worth)} {proposal.reference}; reason {proposal.reason!r}",
                None,
                False,
                _decide(state.slug, proposal.seq, handle),
            )
        )
    return rows


def _disputes(state: rules.ProjectState, handle: str) -> list[Todo]:
    """Open disputes ``handle`` is a party to and has not yet agreed on with the others."""
    rows = []
    for seq in sorted(state.open_disputes):
        dispute = state.disputes[seq]
        if handle not in dispute.parties:
            continue
        outcomes = {outcome for outcome, _ in dispute.votes.values()}
        if handle in dispute.votes and len(outcomes) == 1:
            continue  # signed; the others have not signed a different outcome
        pledge = state.pledges[dispute.pledge]
        signed = ", ".join(f"{p} {o}" for p, (o, _) in sorted(dispute.votes.items()))
        rows.append(
            Todo(
                state.slug,
                dispute.seq,
                "resolve",
                f"dispute by {dispute.by} of the {dispute.about} of deliverable "
                f"{dispute.deliverable} on pledge {pledge.seq} {pledge.title!r}; reason "
                f"{dispute.reason!r} (signed: {signed or 'nobody yet'})",
                None,
                False,
                f"accord resolve {state.slug} {dispute.seq} --outcome upheld|dismissed "
                f"--reason R --as {handle}",
            )
        )
    return rows


def _rejections(state: rules.ProjectState, handle: str) -> list[Todo]:
    """``handle``'s deliverables refused while their pledge is still owed, until answered.

    A rejection is answered by a new delivery on the pledge or a dispute of the deliverable
    made after it; a pledge withdrawn, closed short or fulfilled needs no answer. Every
    rejected deliverable is an open item (``ledger.open_items``), so only those are read.
    """
    rows = []
    for deliverable in open_values(state, "decisions"):
        if not isinstance(deliverable, rules.Deliverable) or deliverable.refusal is None:
            continue
        if deliverable.status != rules.REJECTED or deliverable.by != handle:
            continue  # the promisor delivers: another party's rejection is not read further
        pledge = state.pledges[deliverable.pledge]
        if pledge.by != handle or pledge.status != "open" or pledge.approved >= pledge.weight:
            continue
        seq = deliverable.seq
        party, refused, reason = deliverable.refusal
        if any(later > refused for later in (*pledge.deliverables, *deliverable.disputes)):
            continue
        rows.append(
            Todo(
                state.slug,
                refused,
                "rejected",
                f"your deliverable {seq} on pledge {pledge.seq} {pledge.title!r} "
                f"({amount(decimal_text(deliverable.quantity), pledge.unit)}) was rejected by "
                f"{party}; reason {reason!r}",
                None,
                False,
                f"accord deliver {state.slug} {pledge.seq} --summary TEXT --as {handle}  "
                f"(or: accord dispute {state.slug} {refused} --reason R --as {handle})",
            )
        )
    return rows


def _statements(state: rules.ProjectState, handle: str) -> list[Todo]:
    return [
        Todo(
            state.slug,
            statement.seq,
            "sign statement",
            f"statement {statement.title!r} version {statement.version} by {statement.by}",
            None,
            False,
            f"accord statement sign {state.slug} {statement.seq} --as {handle}",
        )
        for statement in open_values(state, "statements")
        if handle not in statement.signatures
    ]


def _own_pledges(replay: Replay, handle: str, today: date, within: int) -> list[Todo]:
    try:
        horizon = today + timedelta(days=within)
    except OverflowError:
        horizon = date.max
    slug = replay.state.slug
    rows = []
    for item in obligations(replay, today, party=handle, within=within):
        owed = item.status in ("open", "overdue") or (
            item.status in ("submitted", "disputed", "amended-pending")
            and item.delivered < item.weight
        )  # submitted in full: it waits for the beneficiaries, not for the promisor
        if item.party != handle or not owed:
            continue
        if item.due > horizon:
            continue
        rows.append(
            Todo(
                slug,
                item.seq,
                "deliver",
                f"pledge {item.title!r}: {decimal_text(item.approved)} of "
                f"{decimal_text(item.weight)} {item.unit} approved ({item.status})",
                item.due,
                item.status == "overdue",
                f"accord deliver {slug} {item.seq} --summary TEXT --as {handle}",
            )
        )
    return rows
