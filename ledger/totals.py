"""Running totals per party and unit: what ``accord contributions`` adds up, kept as it goes.

The contributions of a project (``projections/contributions.py``) are sums over its pledges,
per promisor and unit: pledged, delivered, approved, disputed and short quantities, and the
counts behind the on-time ratio. A long programme holds tens of thousands of pledges, so the
verified state file keeps these sums per party and unit (``ledger/state_file.py``), and
brings them up to date by the difference each changed pledge makes: a read of the
contributions then costs the parties and units, not the history.

Each pledge's part (:func:`pledge_facts`) depends on the pledge alone and on the claimed
days of the entries that fulfilled or closed it, which never change; whether a pledge still
without a fulfilment day is due depends on the day of the read, so those are counted per due
day (:attr:`UnitTotals.waiting`) and compared with the day when the totals are read.
Quantities are added and subtracted exactly (never rounded).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger import rules
from ledger.numbers import decimal_text, exact_difference, exact_sum

DayOf = Callable[[int], date]  # the claimed day (UTC) of entry ``seq``
Key = tuple[str, str]  # (party, unit)


def claimed_day(at: str) -> date:
    """The day of a claimed time (``at`` of an entry), as the read views date it."""
    return datetime.fromisoformat(at.replace("Z", "+00:00")).date()


def shortfall(pledge: rules.Pledge) -> Decimal:
    """What the beneficiaries agreed to forgo when they closed ``pledge`` short (else 0).

    The weight less what was approved and what is disputed on it, never below 0.
    """
    if pledge.status != rules.CLOSED_SHORT:
        return Decimal(0)
    rest = exact_difference(pledge.weight, exact_sum((pledge.approved, pledge.disputed)))
    return rest if rest > 0 else Decimal(0)


def fulfilling_seq(pledge: rules.Pledge) -> int | None:
    """The seq of the decision with which approved deliveries first reached the weight."""
    total = Decimal(0)
    for decided_seq, quantity in pledge.accepted:  # in the order they were accepted
        total = exact_sum((total, quantity))
        if total >= pledge.weight:
            return decided_seq
    return None


@dataclass(frozen=True, slots=True)
class PledgeFacts:
    """One pledge's part in its promisor's totals in its unit."""

    key: Key
    pledged: Decimal  # its weight, 0 once withdrawn
    delivered: Decimal  # approved, awaiting a decision, or disputed
    approved: Decimal
    disputed: Decimal
    short: Decimal
    counted: bool  # not withdrawn: it counts for the on-time ratio
    done: date | None  # the day it was fulfilled or closed short (the earlier)
    due: date


def pledge_facts(pledge: rules.Pledge, day_of: DayOf) -> PledgeFacts:
    """The part ``pledge`` plays in the totals (``day_of``: claimed day of an entry)."""
    withdrawn = pledge.status == rules.WITHDRAWN
    done: date | None = None
    if not withdrawn:
        fulfilled = fulfilling_seq(pledge)
        done = day_of(fulfilled) if fulfilled is not None else None
        if pledge.status == rules.CLOSED_SHORT and pledge.closed_short_seq is not None:
            closed = day_of(pledge.closed_short_seq)
            done = min(done, closed) if done is not None else closed
    return PledgeFacts(
        key=(pledge.by, pledge.unit),
        pledged=Decimal(0) if withdrawn else pledge.weight,
        delivered=exact_sum((pledge.approved, pledge.pending, pledge.disputed)),
        approved=pledge.approved,
        disputed=pledge.disputed,
        short=shortfall(pledge),
        counted=not withdrawn,
        done=done,
        due=date.fromisoformat(pledge.due),
    )


@dataclass(slots=True)
class UnitTotals:
    """The sums over one party's pledges in one unit."""

    pledges: int = 0  # how many pledges (any status): the row exists while there is one
    pledged: Decimal = Decimal(0)
    delivered: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    disputed: Decimal = Decimal(0)
    short: Decimal = Decimal(0)
    finished: int = 0  # counted pledges with a day they were done
    on_time: int = 0  # of those, done on or before their due day
    waiting: dict[str, int] = field(default_factory=dict)  # counted, not done: by due day

    def add(self, facts: PledgeFacts, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (``sign`` -1) one pledge's part."""
        combine = exact_sum if sign > 0 else _minus
        self.pledges += sign
        self.pledged = combine((self.pledged, facts.pledged))
        self.delivered = combine((self.delivered, facts.delivered))
        self.approved = combine((self.approved, facts.approved))
        self.disputed = combine((self.disputed, facts.disputed))
        self.short = combine((self.short, facts.short))
        if not facts.counted:
            return
        if facts.done is not None:
            self.finished += sign
            self.on_time += sign if facts.done <= facts.due else 0
            return
        due = facts.due.isoformat()
        count = self.waiting.get(due, 0) + sign
        if count:
            self.waiting[due] = count
        else:
            self.waiting.pop(due, None)

    def due_by(self, today: date) -> int:
        """How many counted pledges were done, or due on or before ``today``."""
        day = today.isoformat()
        return self.finished + sum(n for due, n in self.waiting.items() if due <= day)

    def encode(self) -> dict[str, Any]:
        """Plain JSON data (quantities as canonical decimal text)."""
        return {
            "pledges": self.pledges,
            "pledged": decimal_text(self.pledged),
            "delivered": decimal_text(self.delivered),
            "approved": decimal_text(self.approved),
            "disputed": decimal_text(self.disputed),
            "short": decimal_text(self.short),
            "finished": self.finished,
            "on_time": self.on_time,
            "waiting": dict(sorted(self.waiting.items())),
        }

    @classmethod
    def decode(cls, data: Any) -> UnitTotals:
        """Strictly read back :meth:`encode`'s data.

        Raises:
            ValueError: the data is not such totals.
        """
        if not isinstance(data, dict) or set(data) != set(_FIELDS):
            raise ValueError("totals without their fields")
        counts = [data[name] for name in ("pledges", "finished", "on_time")]
        waiting = data["waiting"]
        if not all(type(n) is int and n >= 0 for n in counts) or not isinstance(waiting, dict):
            raise ValueError("totals with a count that is not a whole number")
        if not all(
            isinstance(d, str) and _DAY.fullmatch(d) and type(n) is int and n > 0
            for d, n in waiting.items()
        ):
            raise ValueError("totals with a due day count that is not a whole number")
        figures: dict[str, Decimal] = {}
        for name in ("pledged", "delivered", "approved", "disputed", "short"):
            text = data[name]
            if not isinstance(text, str) or not _CANONICAL.fullmatch(text):
                raise ValueError(f"totals with a {name} quantity that is not a decimal")
            figures[name] = Decimal(text)
        return cls(
            pledges=counts[0],
            finished=counts[1],
            on_time=counts[2],
            waiting=dict(waiting),
            **figures,
        )


_CANONICAL = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")  # as decimal_text writes them
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FIELDS = (
    "pledges", "pledged", "delivered", "approved", "disputed", "short", "finished", "on_time",
    "waiting",
)  # fmt: skip


def _minus(values: tuple[Decimal, Decimal]) -> Decimal:
    return exact_difference(*values)


def add_up(facts: Iterable[PledgeFacts]) -> dict[Key, UnitTotals]:
    """The totals of these pledges, per (party, unit)."""
    totals: dict[Key, UnitTotals] = {}
    for item in facts:
        totals.setdefault(item.key, UnitTotals()).add(item)
    return totals


def apply_changes(
    totals: dict[Key, UnitTotals], before: Iterable[PledgeFacts], after: Iterable[PledgeFacts]
) -> set[Key]:
    """Take ``before`` (pledges as they were) away and add ``after``; return the keys changed.

    A key none of whose pledges is left is removed from ``totals``.
    """
    changed: set[Key] = set()
    for item in before:
        totals.setdefault(item.key, UnitTotals()).add(item, -1)
        changed.add(item.key)
    for item in after:
        totals.setdefault(item.key, UnitTotals()).add(item)
        changed.add(item.key)
    for key in changed:
        if totals[key].pledges == 0:
            del totals[key]
    return changed
