"""Reads through the verified state: every command trusts only what this party verified.

(Longer than ~500 lines: one class, :class:`VerifiedReads`, whose head checks, catch-up and
rebuild share the invariants they protect; the fold itself is in ``ledger/fold.py``.)

Before anything is read or written, :meth:`VerifiedReads.verified_state` checks that the
store still holds, at the seq this party verified last, the entry with the hash it verified
(and the same genesis entry, and no missing positions), then verifies only the entries
appended since, through the one fold driver (``ledger/fold.py``) and the rules, and
records the new state in the home. A shorter or different history fails with a
:class:`~ledger.errors.VerificationError` naming the seq. A missing, damaged or outdated
state file is rebuilt by a full verification, never trusted and never silently reset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from ledger import entry as entry_mod
from ledger import known_heads, rules
from ledger.errors import (
    LedgerError,
    ProjectNotFoundError,
    RuleViolationError,
    StoreDamagedError,
    VerificationError,
)
from ledger.fold import STOP, Problem, VerifyReport, verify_stream
from ledger.format import SLUG_RE
from ledger.project import project_id
from ledger.records import ProjectSummary, RawEntry, StoredEntry
from ledger.rows import SIDE_STREAMS, Row, entry_slug, unavailable
from ledger.state_file import DamagedStateError, LogEntry
from ledger.summaries import log_entry as summarised

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.rows import RowReader
    from ledger.state_file import VerifiedStore

SMALL_CATCH_UP = 2000  # fewer new rows than this are checked in-process (no worker pool)
DAMAGE_HINT = (
    "`accord verify {slug}` lists every problem; the store was changed behind accord's back: "
    "restore it from a backup or from a partner's export"
)
FORGET_HINT = (
    "`accord verify {slug}` lists the problems; if you trust the store's history over what "
    "you verified, `accord state forget {slug}` starts again from scratch"
)


@dataclass(frozen=True)
class ProjectProblem:
    """A project (or a stream of the store) that cannot be shown as verified."""

    slug: str
    seq: int | None
    cause: str


class VerifiedReads:
    """The verified state and reads over it, held by :class:`ledger.application.Ledger`."""

    def __init__(
        self,
        rows: RowReader,
        verified: VerifiedStore,
        *,
        notices: list[str],
        progress: Callable[[str, int], Any] | None = None,
    ) -> None:
        """Read the store through ``rows``, trusting only what ``verified`` records.

        Args:
            rows: the store's rows (``ledger/rows.py``).
            verified: this party's verified state (``ledger/state_file.py``).
            notices: where warnings for the user go (the ledger's list).
            progress: a progress bar factory for long verifications (the CLI's), or None.
        """
        self.rows = rows
        self.verified = verified
        self.notices = notices
        self.progress = progress
        self.shown: dict[str, int] = {}  # the projects brought up to date, and their heads
        self.shown_upto: dict[str, int] = {}  # a read that shows less: the last seq it shows
        self.before_read: Callable[[str], None] | None = None  # a fresh read's pull

    # --- the verified state ------------------------------------------------------------------

    def verified_state(self, slug: str) -> rules.ProjectState:
        """The project's rules state, checked against the store and brought up to date.

        A read command's ledger first calls :attr:`before_read` with ``slug`` (it pulls
        what a relay holds beyond this replica, verified like every entry, once per
        project and command).

        Raises:
            ProjectNotFoundError: the store holds no such project and none was verified.
            VerificationError: the store contradicts what this party verified (shorter or
                different history), or a new entry fails verification.
            StorageUnavailableError: the store or the home cannot be read or written.
        """
        if self.before_read is not None:
            self.before_read(slug)
        state = self._verified_state(slug)
        if state.status != rules.CANCELLED:  # a cancelled proposal needs nobody's attention
            self.shown[slug] = state.seq
        return state

    def _verified_state(self, slug: str) -> rules.ProjectState:
        if not SLUG_RE.match(slug):  # no project has such a name (one not UTF-8 cannot be read)
            raise ProjectNotFoundError(slug)
        known, state = self._recall(slug)
        last = self.rows.last(slug)
        if last is None:
            if known is not None:
                raise VerificationError(
                    f"the store holds no entries of {slug!r} now, but this home verified "
                    f"{known.seq} on {known.verified_at} (history deleted)",
                    seq=1,
                    hint=FORGET_HINT.format(slug=slug),
                )
            raise ProjectNotFoundError(slug)
        if state is None:
            return self._rebuild(slug, last, known)
        self._check_below(slug, state, last, known.verified_at)
        if last.position is not None and last.position > state.seq:
            self._catch_up(slug, state, last.position)
        return state

    def _recall(self, slug: str) -> tuple[Any, rules.ProjectState | None]:
        """What this home verified of ``slug``: its head, and its state when it can be read.

        A state file that cannot be opened is removed and rebuilt project by project; a
        project whose state cannot be read keeps its verified head, which the full
        verification that rebuilds it must then agree with (a damaged file never resets
        what was verified).
        """
        try:
            known = self.verified.head(slug)
        except DamagedStateError as exc:
            self.notices.append(f"{exc.message}; rebuilding it by a full verification")
            self.verified.reset_file()
            return None, None
        if known is None:
            return None, None
        try:
            return known, self.verified.load(slug)
        except DamagedStateError as exc:
            self.notices.append(f"{exc.message}; rebuilding it by a full verification")
            return known, None

    def _check_below(
        self, slug: str, state: rules.ProjectState, last: Row, verified_at: str
    ) -> None:
        """Check that the store still holds the verified history (O(1) indexed reads).

        The head and the genesis entry are read; rows in between are checked by every read
        that shows them (``verified_entries``) and by ``verify`` (ADR 0005): counting them
        would make every command cost the history again.
        """
        hint = FORGET_HINT.format(slug=slug)
        position = last.position or 0
        if position < state.seq:
            raise VerificationError(
                f"the history of {slug!r} is shorter than this home verified: {position} "
                f"entries now, {state.seq} verified on {verified_at} (truncated)",
                seq=position + 1,
                hint=hint,
            )
        for seq in sorted({1, state.seq}):
            row = last if seq == position else self.rows.at(slug, seq)
            expected = state.head if seq == state.seq else self._log_hash(slug, seq)
            if row is not None and row.damage is not None:
                raise StoreDamagedError(
                    f"seq {seq} of {slug!r} in the store is damaged: {row.damage}",
                    seq=seq,
                    hint=DAMAGE_HINT.format(slug=slug),
                )
            if row is None or _row_hash(row) != expected:
                raise VerificationError(
                    f"seq {seq} of {slug!r} differs from the one this home verified on "
                    f"{verified_at} (history rewritten or forked)",
                    seq=seq,
                    hint=hint,
                )

    def _log_hash(self, slug: str, seq: int) -> str | None:
        item = self.verified.log_entry(slug, seq)
        return item.hash if item is not None else None

    def _catch_up(self, slug: str, state: rules.ProjectState, upto: int) -> None:
        base = state.seq
        log: list[LogEntry] = []
        new = upto - base
        report = verify_stream(
            slug,
            self.rows.pages(slug, after=base),
            state=state,
            policy=STOP,
            workers=1 if new < SMALL_CATCH_UP else None,
            on_applied=lambda e: log.append(summarised(e, state)),
            progress=self._progress(slug, new),
        )
        _raise_first(slug, report)
        self.record_verified(state, base_seq=base, log=log)

    def _rebuild(self, slug: str, last: Row, known: Any = None) -> rules.ProjectState:
        """A full verification from entry 1; the result becomes the verified state.

        It must agree with the head this home verified before (``known``, kept when only the
        state was damaged) and with a head remembered by the previous version.
        """
        log: list[LogEntry] = []
        legacy = known_heads.recall(self.verified.source, slug) if self.verified.path else None
        positions = [h.seq for h in (legacy, known) if h is not None and h.seq > 0]
        state = rules.new_state(slug)
        report = verify_stream(
            slug,
            self.rows.pages(slug),
            state=state,
            policy=STOP,
            workers=1 if (last.position or 0) < SMALL_CATCH_UP else None,
            on_applied=lambda e: log.append(summarised(e, state)),
            progress=self._progress(slug, last.position or 0),
            remember_positions=positions,
        )
        _raise_first(slug, report)
        known_heads.compare(report, legacy)
        if known is not None:
            known_heads.compare(
                report, known_heads.Remembered(known.seq, known.head, known.verified_at)
            )
        _raise_first(slug, report)
        self.record_verified(state, base_seq=0, log=log, everything=True)
        return state

    def _progress(self, slug: str, total: int) -> Callable[[int], None] | None:
        return self.progress(slug, total) if self.progress is not None else None

    def record_verified(
        self,
        state: rules.ProjectState,
        *,
        base_seq: int,
        log: list[LogEntry],
        everything: bool = False,
    ) -> None:
        """Record ``state`` as this party's verified state of its project.

        Raises:
            StorageUnavailableError: the home cannot be written.
        """
        self.verified.save(state, base_seq=base_seq, log=log, everything=everything)

    def require_new(self, slug: str) -> None:
        """Refuse to propose ``slug`` when the store or this home knows it already.

        Raises:
            RuleViolationError: the project exists (or existed) here.
        """
        if self.rows.last(slug) is not None or self.verified.head(slug) is not None:
            raise RuleViolationError(
                f"project {slug!r} exists already",
                hint="choose another slug; `accord project list` shows the taken ones",
            )

    # --- entries below the verified head -----------------------------------------------------

    def verified_entries(self, slug: str, *, upto: int) -> Iterator[StoredEntry]:
        """The stored entries 1..``upto`` (all verified), each checked to be the one verified.

        Streams a page at a time. Every row must hash to the hash this party verified at
        its seq, so nothing the store changed since is ever shown.

        Raises:
            VerificationError: a stored row differs from the verified one.
        """
        hashes = self.verified.log_hashes(slug, upto=upto)
        rows = self.rows.pages(slug, upto=upto)
        for seq, digest in hashes:
            row = next(rows, None)
            item = None
            if row is not None and not row.damage and row.position == seq:
                item = entry_mod.load_verified(row.text, row.sig, row.hash, digest)
            if item is None or row is None:
                raise VerificationError(
                    f"seq {seq} of {slug!r} in the store differs from the one this home "
                    "verified (altered below the head)",
                    seq=seq,
                    hint=FORGET_HINT.format(slug=slug),
                )
            received = row.received_at or datetime.fromisoformat("1970-01-01T00:00:00+00:00")
            yield StoredEntry(entry=item, received_at=received)

    def verified_entry(self, slug: str, seq: int) -> entry_mod.SignedEntry:
        """The stored entry ``seq``, checked to be the one this party verified.

        Raises:
            VerificationError: it differs, or ``seq`` was not verified.
        """
        expected = self.log_entry(slug, seq).hash
        row = self.rows.at(slug, seq)
        item = (
            entry_mod.load_verified(row.text, row.sig, row.hash, expected)
            if row and not row.damage
            else None
        )
        if item is None:
            raise VerificationError(
                f"seq {seq} of {slug!r} in the store differs from the one this home verified "
                "(altered below the head)",
                seq=seq,
                hint=FORGET_HINT.format(slug=slug),
            )
        return item

    def get_state(self, slug: str) -> rules.ProjectState:
        """The project's verified rules state (see :meth:`verified_state`).

        Raises:
            ProjectNotFoundError: no such project.
            VerificationError: the store contradicts what this party verified.
        """
        return self.verified_state(slug)

    def read_entries(self, slug: str) -> Iterator[StoredEntry]:
        """Every verified entry of the project, in seq order, with the store's receive times.

        Raises:
            ProjectNotFoundError: no such project.
            VerificationError: the store contradicts what this party verified.
        """
        state = self.verified_state(slug)
        return self.verified_entries(slug, upto=state.seq)

    def claimed_times(self, slug: str, *, upto: int) -> dict[int, str]:
        """The verified claimed time (``at``) of entries 1..``upto``, by seq, in one read."""
        return self.verified.claimed_times(slug, upto=upto)

    def signer_labels(self, slug: str, *, upto: int) -> dict[int, str]:
        """The verified signer label of entries 1..``upto``, by seq, in one read."""
        return self.verified.signer_labels(slug, upto=upto)

    def timeline(self, slug: str, *, upto: int, after: int = 0) -> Iterator[LogEntry]:
        """The verified log index of entries ``after``+1..``upto`` (no store read), in order."""
        return self.verified.timeline(slug, upto=upto, after=after)

    def log_entry(self, slug: str, seq: int) -> LogEntry:
        """The verified index entry at ``seq`` (type, claimed time, hash).

        Raises:
            VerificationError: ``seq`` was not verified.
        """
        item = self.verified.log_entry(slug, seq)
        if item is None:
            raise VerificationError(f"seq {seq} of {slug!r} is not verified here", seq=seq)
        return item

    def replay_verified(self, slug: str, upto: int) -> rules.ProjectState:
        """The rules state after the first ``upto`` verified entries (time travel).

        Raises:
            VerificationError: a stored row differs from the verified one.
        """
        state = rules.new_state(slug)
        for stored in self.verified_entries(slug, upto=upto):
            rules.apply(state, stored.entry, unsafe_skip_signature=True)
        return state

    # --- many projects -----------------------------------------------------------------------

    def list_slugs(self) -> list[str]:
        """The projects of the store, by their signed genesis entries, sorted.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        return self.scan_projects()[0]

    def list_projects(self) -> list[ProjectSummary]:
        """A summary of every project that verifies (see :meth:`project_summaries`).

        Raises:
            VerificationError: a project or stream fails verification.
        """
        summaries, problems = self.project_summaries()
        if problems:
            first = problems[0]
            raise VerificationError(f"{first.slug}: {first.cause}", seq=first.seq)
        return summaries

    def scan_projects(self) -> tuple[list[str], list[ProjectProblem]]:
        """The projects of the store (by their signed genesis entries) and streams that fail.

        Streams are found by an index skip scan; each is named by the ``project`` its
        first signed entry names, and must be stored under that project's id. Projects
        this home verified that the store no longer holds are problems too.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        slugs: set[str] = set()
        problems: list[ProjectProblem] = []

        def side_stream(stream: UUID) -> bool:
            """A registered side stream (``ledger.rows``): its topic AND the id it names."""
            try:
                found = list(self.rows._recorder.select_events(stream, limit=1))
            except PersistenceError as exc:
                raise unavailable(exc) from None
            kinds = [k for k in SIDE_STREAMS if found and found[0].topic in k.topics]
            if not kinds:
                return False
            try:
                data = json.loads(found[0].state)
            except (ValueError, RecursionError, TypeError):
                return False
            return isinstance(data, dict) and any(k.stream_id(data) == stream for k in kinds)

        for stream in self.rows.stream_ids():
            first = self.rows.stream_slug(stream)
            slug = entry_slug(first) if first is not None else None
            if (slug is None or project_id(slug) != stream) and side_stream(stream):
                continue
            if slug is None or project_id(slug) != stream:
                problems.append(
                    ProjectProblem(
                        slug=slug or f"stream {stream}",
                        seq=first.position if first is not None else None,
                        cause="a stored stream whose first entry does not name it (its "
                        "rows were moved or its entry is unreadable)",
                    )
                )
                continue
            slugs.add(slug)
        try:
            remembered = [h.project for h in self.verified.heads()]
        except DamagedStateError:
            remembered = []
        for slug in remembered:
            if slug not in slugs:
                problems.append(
                    ProjectProblem(
                        slug=slug,
                        seq=1,
                        cause="this home verified the project, but the store no longer "
                        "holds it (history deleted)",
                    )
                )
        return sorted(slugs), problems

    def project_summaries(self) -> tuple[list[ProjectSummary], list[ProjectProblem]]:
        """A summary of every project from its verified state, and the projects that fail.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        slugs, problems = self.scan_projects()
        summaries = []
        for slug in slugs:
            try:
                state = self.verified_state(slug)
            except VerificationError as exc:
                problems.append(ProjectProblem(slug=slug, seq=exc.seq, cause=exc.message))
                continue
            summaries.append(
                ProjectSummary(
                    slug=slug,
                    title=state.title,
                    status=state.status,
                    members=tuple(sorted(state.members)),
                    entries=state.seq,
                    head=state.head,
                )
            )
        return summaries, sorted(problems, key=lambda p: p.slug)

    # --- raw rows, for the full audit --------------------------------------------------------

    def iter_rows(self, slug: str) -> Iterator[Row]:
        """Stream the project's stored rows, unchecked, a page at a time (for ``verify``).

        Raises:
            ProjectNotFoundError: no such project.
        """
        if self.rows.last(slug) is None:
            raise ProjectNotFoundError(slug)
        return self.rows.pages(slug)

    def read_raw(self, slug: str) -> Iterator[RawEntry]:
        """Stream the project's stored rows, unchecked, with the store's receive times.

        Raises:
            ProjectNotFoundError: no such project.
        """
        epoch = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
        return (
            RawEntry(text=r.text, sig=r.sig, hash=r.hash, received_at=r.received_at or epoch)
            for r in self.iter_rows(slug)
        )

    def count_rows(self, slug: str) -> int:
        """The position of the project's last stored row (0 when none)."""
        last = self.rows.last(slug)
        return last.position or 0 if last is not None else 0


def _row_hash(row: Row) -> str | None:
    if row.damage is not None:
        return None
    try:
        return entry_mod.load(row.text, row.sig, row.hash).hash
    except LedgerError:
        return None


def _raise_first(slug: str, report: VerifyReport) -> None:
    if report.sound:
        return
    first: Problem = report.problems[0]
    raise VerificationError(
        first.cause,
        seq=first.seq,
        hint=f"`accord verify {slug}` lists every problem",
    )
