"""A project's history folded through the rules, with time travel.

``Replay`` is what every read view shares: the rules state of a project and access to its
verified entries. Built from a ledger it starts from this party's verified state (checked
against the store and brought up to date, so a read costs the new entries, not the history)
and reads entries, claimed times and hashes through the verified index, a page at a time.
Time travel (``--as-of``) folds the verified entries up to the point asked for. Built in
memory (``empty`` + ``apply``), it keeps the entries it was given; both give the same views.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, overload

from ledger import rules
from ledger.errors import NotFoundError, UsageError
from ledger.state_file import LogEntry
from ledger.summaries import summary

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ledger.application import Ledger, StoredEntry
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


@dataclass(frozen=True)
class AsOf:
    """A point in a project's past: a date (inclusive) or a seq (the first N entries)."""

    day: date | None = None
    seq: int | None = None

    @classmethod
    def parse(cls, day: str | None, seq: int | None) -> AsOf:
        """Build from the CLI's ``--as-of DATE`` and ``--as-of-seq N``.

        Raises:
            UsageError: both are given, the date is malformed, or N < 1.
        """
        if day is not None and seq is not None:
            raise UsageError("give --as-of or --as-of-seq, not both")
        if seq is not None and seq < 1:
            raise UsageError(f"--as-of-seq must be 1 or more, not {seq}")
        if day is None:
            return cls(seq=seq)
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day):
            raise UsageError(f"--as-of {day!r} is not a date", hint="write dates as YYYY-MM-DD")
        try:
            return cls(day=date.fromisoformat(day))
        except ValueError:
            raise UsageError(
                f"--as-of {day!r} is not a date", hint="write dates as YYYY-MM-DD"
            ) from None

    def includes(self, stored: StoredEntry) -> bool:
        """Whether ``stored`` belongs to the ledger as it stood at this point."""
        if self.seq is not None:
            return stored.entry.seq <= self.seq
        if self.day is not None:
            return claimed_day(stored) <= self.day
        return True

    @property
    def is_now(self) -> bool:
        """True when no point in the past was asked for."""
        return self.day is None and self.seq is None


def claimed_day(stored: StoredEntry) -> date:
    """The UTC date of the entry's claimed time (``at``)."""
    return date.fromisoformat(str(stored.entry.data["at"])[:10])


@dataclass(frozen=True)
class TimelineRow:
    """One row of the timeline, typed: :meth:`of` reads it from its JSON row.

    The timeline keeps its rows as JSON (dicts), streamed a page at a time into the report.
    """

    seq: int
    at: str
    party: str
    signer: str
    type: str
    summary: str
    hash: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> TimelineRow:
        """The typed form of a timeline row (as :meth:`Replay.timeline` gives it)."""
        return cls(
            seq=int(row["seq"]), at=str(row["at"]), party=str(row["party"]),
            signer=str(row["signer"]), type=str(row["type"]), summary=str(row["summary"]),
            hash=str(row["hash"]),
        )  # fmt: skip


def _timeline_row(
    seq: int, at: str, party: str, signer: str, kind: str, text: str, digest: str
) -> dict[str, Any]:
    return {
        "seq": seq, "at": at, "party": party, "signer": signer, "type": kind, "summary": text,
        "hash": digest,
    }  # fmt: skip


class Timeline(Sequence[dict[str, Any]]):
    """The rows of a project's timeline, read a page at a time (never all in memory).

    A sequence: ``len``, indexing and slicing read only the rows asked for; iteration reads
    pages of :data:`TIMELINE_PAGE` rows.
    """

    def __init__(self, size: int, read: Callable[[int, int], list[dict[str, Any]]]) -> None:
        self._size = size
        self._read = read

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._size)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._read(start + 1, stop) if stop > start else []
        position = index + self._size if index < 0 else index
        if not 0 <= position < self._size:
            raise IndexError(index)
        return self._read(position + 1, position + 1)[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for first in range(1, self._size + 1, TIMELINE_PAGE):
            yield from self._read(first, min(first + TIMELINE_PAGE - 1, self._size))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


TIMELINE_PAGE = 5000


@dataclass
class Replay:
    """The state of one project after some prefix of its stream, and its entries."""

    slug: str
    state: ProjectState
    entries: list[StoredEntry] = field(default_factory=list)
    ledger: Ledger | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, slug: str) -> Replay:
        """A fold over no entries yet (in memory)."""
        return cls(slug=slug, state=rules.new_state(slug))

    @property
    def position(self) -> int:
        """The seq of the last entry applied (0 before the first)."""
        return self.state.seq

    def apply(self, stored: StoredEntry) -> None:
        """Apply the next entry through the rules (in memory).

        Raises:
            LedgerError: the entry breaks a rule or fails verification.
        """
        rules.apply(self.state, stored.entry)
        self.entries.append(stored)

    def extend(self, stored: Iterable[StoredEntry], as_of: AsOf | None = None) -> None:
        """Apply entries after the current position, stopping where ``as_of`` ends.

        With ``--as-of DATE`` the history is cut at the first entry claimed after that day,
        so the result is always a prefix of the stream.

        Raises:
            LedgerError: an entry breaks a rule or fails verification.
        """
        for item in stored:
            if item.entry.seq <= self.position:
                continue
            if as_of is not None and not as_of.includes(item):
                break
            self.apply(item)

    @classmethod
    def build(cls, ledger: Ledger, slug: str, as_of: AsOf | None = None) -> Replay:
        """The project as this party verified it (up to ``as_of``).

        Raises:
            ProjectNotFoundError: no such project.
            NotFoundError: the project had no entries yet at ``as_of``.
            VerificationError: the store contradicts what this party verified.
        """
        state = ledger.verified_state(slug)
        if as_of is None or as_of.is_now:
            return cls(slug=slug, state=state, ledger=ledger)
        if as_of.seq is not None:
            cut = min(as_of.seq, state.seq)
        else:
            day = as_of.day.isoformat() if as_of.day is not None else ""
            cut = ledger.verified.cut_after_day(slug, day)
        if cut == 0:
            when = f"on {as_of.day}" if as_of.day else "then"
            raise NotFoundError(
                f"project {slug!r} had no entries yet {when}",
                hint="pick a later --as-of date (its first entry is its proposal)",
            )
        if cut == state.seq:
            return cls(slug=slug, state=state, ledger=ledger)
        ledger.shown_upto[slug] = cut  # what the read shows ends there
        return cls(slug=slug, state=ledger.replay_verified(slug, cut), ledger=ledger)

    def catch_up(self, ledger: Ledger) -> None:
        """Apply whatever was appended since the last call (incremental, in memory).

        Raises:
            LedgerError: a new entry fails verification.
        """
        self.extend(ledger.read_entries(self.slug))

    def at(self, seq: int) -> datetime:
        """The claimed time of entry ``seq``."""
        if self.ledger is not None:
            text = self.ledger.log_entry(self.slug, seq).at
        else:
            text = str(self.entries[seq - 1].entry.data["at"])
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def log_entry(self, seq: int) -> LogEntry:
        """Who signed entry ``seq`` (party and signer label), when (claimed) and its type."""
        if self.ledger is not None:
            return self.ledger.log_entry(self.slug, seq)
        item = self.entries[seq - 1].entry
        label = self.state.labels.get(item.key, "")
        return LogEntry(seq, item.type, str(item.data["at"]), item.hash, item.by, "", label)

    def claimed_times(self) -> dict[int, str]:
        """The claimed time (``at``) of every entry up to the position, by seq (one read)."""
        if self.ledger is not None:
            return self.ledger.claimed_times(self.slug, upto=self.position)
        return {s.entry.seq: str(s.entry.data["at"]) for s in self.entries[: self.position]}

    def signer_labels(self) -> dict[int, str]:
        """The label of the signer (person) of every entry up to the position, by seq.

        The label the trail shows beside the party (``acme (alice)``; a party's first signer
        is labelled with its handle). One read of the verified log index.
        """
        if self.ledger is not None:
            return self.ledger.signer_labels(self.slug, upto=self.position)
        labels = self.state.labels
        return {s.entry.seq: labels.get(s.entry.key, "") for s in self.entries[: self.position]}

    def timeline(self) -> Timeline:
        """Every entry up to the position: seq, claimed time, party, type, summary, hash.

        Built from a ledger, it is read lazily, a page at a time, from the verified log index
        (each entry was summarised when it was verified), never from the store.
        """
        if self.ledger is not None:
            ledger, slug = self.ledger, self.slug
            return Timeline(
                self.position,
                lambda first, last: [
                    _timeline_row(r.seq, r.at, r.by, r.signer, r.type, r.summary, r.hash)
                    for r in ledger.timeline(slug, upto=last, after=first - 1)
                ],
            )
        rows = [
            _timeline_row(
                s.entry.seq, str(s.entry.data["at"]), s.entry.by,
                self.state.labels.get(s.entry.key, ""), s.entry.type,
                summary(s.entry.data, self.state), s.entry.hash,
            )
            for s in self.entries[: self.position]
        ]  # fmt: skip
        return Timeline(len(rows), lambda first, last: rows[first - 1 : last])

    def entry(self, seq: int) -> SignedEntry:
        """The verified entry ``seq``."""
        if self.ledger is not None:
            return self.ledger.verified_entry(self.slug, seq)
        return self.entries[seq - 1].entry

    def iter_entries(self) -> Iterator[StoredEntry]:
        """Every entry up to the position, in order (streamed when built from a ledger)."""
        if self.ledger is not None:
            return self.ledger.verified_entries(self.slug, upto=self.position)
        return iter(self.entries[: self.position])

    def has_entries(self) -> Any:
        """True when at least one entry was applied."""
        return self.position > 0

    def today(self, as_of: AsOf | None, clock: date) -> date:
        """The day the views should treat as "today" for due and overdue.

        Now, unless a point in the past was asked for: then that date, or the claimed date
        of the last entry of the prefix.
        """
        if as_of is None or as_of.is_now:
            return clock
        if as_of.day is not None:
            return as_of.day
        return self.at(self.position).date() if self.has_entries() else clock
