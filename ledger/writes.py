"""The write engine: every entry a ledger records goes through here.

Every write follows the same path: bring the project's verified state up to date (check the
store still holds what this party verified, verify only the entries appended since), build
and sign the new entry, check it through the rules, and append it with the store's
compare-and-swap on ``(project, seq)``. If another writer took the seq first, the whole path
runs again, a bounded number of times. A write costs its own work plus the new entries,
never the history. With an upstream (a relay, ``ledger/upstream.py``) the entry is ordered
there first. Entries signed elsewhere (``append_signed``) and verified bundles
(``import_entries``) are appended by the same compare-and-swap.

:class:`Writes` works on the ledger it belongs to through :class:`Replica` (the reads of the
verified state, the aggregate, the store's save), so this module never imports the
application.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import normalise, rules
from ledger.errors import (
    AlreadyDecidedError,
    ConflictError,
    DeadlineExceededError,
    KeyNotValidError,
    RuleViolationError,
    StorageUnavailableError,
    StoreDamagedError,
    UsageError,
    VerificationError,
)
from ledger.project import SNAPSHOT_INTERVAL, Project
from ledger.records import AppendOutcome, Receipt
from ledger.rows import unavailable
from ledger.rules import membership, schema
from ledger.subjects import subject_of
from ledger.summaries import log_entry, signed_by

if TYPE_CHECKING:
    from ledger.keys import Signer
    from ledger.rows import Row, RowReader
    from ledger.rules import ProjectState
    from ledger.rules.types import Build
    from ledger.state_file import LogEntry, VerifiedStore
    from ledger.upstream import Upstream

Review = Callable[[dict[str, Any], "ProjectState"], None]
"""Sees each entry a write built, unsigned, with the state it follows; raises to refuse it."""

MAX_ATTEMPTS = 8
SUBMIT_ATTEMPTS = 3  # sends of one signed entry when the relay's answer is lost
IMPORT_CHUNK = 1000


class Replica(Protocol):
    """What the write engine uses of the ledger it writes to (``ledger.application.Ledger``).

    Reads go through the ledger (not around it), so whatever the ledger reads with is what
    a write builds on.
    """

    rows: RowReader
    verified: VerifiedStore
    snapshots: Any
    wrote: bool

    @property
    def upstream(self) -> Upstream[Any] | None:
        """The relay that orders this ledger's writes first, if any."""

    def verified_state(self, slug: str) -> ProjectState:
        """The project's verified state, brought up to date."""

    def log_entry(self, slug: str, seq: int) -> LogEntry:
        """The verified log index entry at ``seq``."""

    def require_new(self, slug: str) -> None:
        """Refuse a slug that is taken."""

    def record_verified(
        self,
        state: ProjectState,
        *,
        base_seq: int,
        log: list[LogEntry],
        everything: bool = False,
    ) -> None:
        """Record the new verified state."""

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save aggregates' pending events atomically (the store's compare-and-swap)."""

    def _get_project(self, slug: str) -> Project:
        """The project's aggregate as the store has it."""


@dataclass(frozen=True)
class Draft:
    """An entry the write path built and did not sign: what a write would sign now."""

    entry: dict[str, Any]  # the unsigned entry: envelope and body, as it would be signed
    state: ProjectState  # the verified state it follows


class _Drafted(Exception):
    """Stops a write at its review, carrying the entry it built (see :meth:`Writes.draft`)."""

    def __init__(self, draft: Draft) -> None:
        super().__init__("drafted")
        self.draft = draft


class Writes:
    """The write path of one ledger (see the module docstring)."""

    def __init__(self, ledger: Replica, *, clock: Callable[[], datetime]) -> None:
        """Write to ``ledger``, stamping entries with ``clock``."""
        self.ledger = ledger
        self.clock = clock
        self._review: Review | None = None

    @contextlib.contextmanager
    def reviewed(self, review: Review) -> Iterator[None]:
        """Within the block, every entry a write builds goes to ``review`` before it is signed.

        The review sees the entry exactly as it would be signed (envelope and body, after the
        rules' own checks of the unsigned entry); if it raises, nothing is signed or stored
        and the write raises what it raised. A review that passes lets the write go on.
        """
        previous, self._review = self._review, review
        try:
            yield
        finally:
            self._review = previous

    def draft(self, write: Callable[[], object]) -> Draft:
        """The entry ``write`` would sign now, built on the whole write path, never signed.

        ``write`` calls one of the ledger's write methods (``lambda: ledger.approve(...)``):
        its own checks run, then the write path (pull from the upstream, verified state, the
        body builder) and every rule the entry will meet once signed
        (:func:`ledger.rules.check_unsigned`); it stops before the key and the store.

        Raises:
            LedgerError: what the method or the write path refuses (as for a write).
            ConflictError: ``write`` built no entry.
        """

        def stop(entry: dict[str, Any], state: ProjectState) -> None:
            rules.check_unsigned(state, entry)
            raise _Drafted(Draft(entry=entry, state=state))

        with self.reviewed(stop):
            try:
                write()
            except _Drafted as drafted:
                return drafted.draft
        raise ConflictError("nothing was built to sign", hint="send the form again")

    def append(self, slug: str, kind: str, build: Build, signer: Signer) -> Receipt:
        """Build, sign, check and append one entry of ``kind`` by ``signer`` (the write path).

        ``build`` makes the body from the verified state the entry follows (a family's body
        builder, ``ledger/rules/``); a refusal there reads no clock and signs nothing. The
        whole path runs again when another writer (or the relay's head) moved first.

        Raises:
            LedgerError: the body builder, the rules, the store or the upstream refused.
            ConflictError: other writers kept appending (after :data:`MAX_ATTEMPTS`).
        """
        normalise.normalise_slug(slug)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            project: Project | None
            if self.ledger.upstream is not None:
                self.ledger.upstream.pull(self.ledger, slug, signer=signer)
            if kind == "project.proposed":
                project = None
                self.ledger.require_new(slug)
                state = rules.new_state(slug)
            else:
                state = self.ledger.verified_state(slug)
                rules.require_open(state)
                project = self.ledger._get_project(slug)
                if project.version > state.seq:
                    continue  # appended since the state was read: read again
                check_aggregate(slug, project, state)
            base = state.seq
            body = build(state)  # first: a refusal by a guard reads no clock
            data = {
                "v": fmt.VERSION,
                "project": slug,
                "seq": state.seq + 1,
                "prev": state.head,
                "type": kind,
                "by": signer.handle,
                "key": signer.fingerprint,
                "at": fmt.format_time(self.clock()),
                "body": body,
            }
            check_signable(data)
            if self._review is not None:
                self._review(data, state)
            signed = entry_mod.sign(data, signer.private_key)
            if project is None:
                project = Project.propose(signed)
                rules.apply(state, signed)
            else:
                try:
                    project.append(signed, state=state)
                except AlreadyDecidedError as exc:
                    self._explain(slug, exc)
                    raise
            if self.ledger.upstream is not None:
                try:
                    self._submit(slug, signed)
                except ConflictError:
                    continue  # the relay's head moved: pull, re-check, re-sign
            try:
                self._save(project)
            except IntegrityError:
                if self.ledger.upstream is None:
                    continue  # someone else took this seq: re-read, re-check, re-sign
                # The relay holds this very entry; a pull meanwhile stored it here first.
                self.ledger.upstream.pull(self.ledger, slug, signer=signer)
                if self.ledger.log_entry(slug, signed.seq).hash != signed.hash:
                    raise ConflictError(
                        f"seq {signed.seq} of {slug!r} here is not the entry the relay took",
                        hint=f"`accord sync {slug}` shows what the relay holds",
                    ) from None
                state = self.ledger.verified_state(slug)
            except PersistenceError as exc:
                raise unavailable(exc) from None
            else:
                self.ledger.record_verified(state, base_seq=base, log=[log_entry(signed, state)])
            self.ledger.wrote = True
            return Receipt(
                project=slug,
                seq=signed.seq,
                type=kind,
                hash=signed.hash,
                by=signer.handle,
                key=signer.fingerprint,
                at=str(data["at"]),
                status=state.status,
                attempts=attempt,
                closes=(len(state.close_signatures), state.closes_needed())
                if kind == "close.signed"
                else None,
                subject=subject_of(state, signed),
                signer=state.labels.get(signer.fingerprint, ""),
            )
        raise ConflictError(
            f"gave up after {MAX_ATTEMPTS} attempts: other writers kept appending to {slug!r}",
            hint="try again in a moment",
        )

    def _explain(self, slug: str, error: AlreadyDecidedError) -> None:
        """Name who signed the entry that took the decision already, and when (verified)."""
        decided = self.ledger.verified.log_entry(slug, error.decided_seq)
        if decided is not None:
            error.explain(slug, signed_by=signed_by(decided.by, decided.signer), at=decided.at)

    def append_signed(
        self,
        slug: str,
        entries: list[entry_mod.SignedEntry],
        *,
        also: Iterable[Any] = (),
        state: ProjectState | None = None,
    ) -> AppendOutcome:
        """Append entries signed elsewhere (a relay receiving them), all or none.

        The entries must continue the project's verified head in order; each is checked by
        the rules (signature, key, chain, every rule) against the verified state. The save is
        the store's compare-and-swap on ``(project, seq)``; ``also`` holds further
        aggregates saved in the same transaction (a relay's checkpoint). ``state`` is the
        verified state the caller has just read from this ledger (the relay checks it against
        the store before it builds the checkpoint): it is not read again, and the entries are
        applied to it.

        Returns:
            ``AppendOutcome`` with ``stored`` False and ``duplicate`` True when every entry is
            already stored with the same hash (an idempotent retry).

        Raises:
            ConflictError: the head moved (an entry's seq is taken by another, or is ahead).
            LedgerError: an entry breaks a rule or fails verification (nothing is saved).
        """
        if not entries:
            raise UsageError("nothing to append")
        if entries[0].type == "project.proposed":
            if self.ledger.rows.last(slug) is not None:
                state = self.ledger.verified_state(slug)
                if state.seq >= 1 and self.ledger.log_entry(slug, 1).hash == entries[0].hash:
                    return self._duplicate_or_conflict(slug, entries, state)
                raise ConflictError(f"project {slug!r} exists already with another history")
            state = rules.new_state(slug)
            project: Project | None = None
        else:
            if state is None:
                state = self.ledger.verified_state(slug)
            if entries[0].seq <= state.seq:
                return self._duplicate_or_conflict(slug, entries, state)
            if entries[0].seq != state.seq + 1:
                raise ConflictError(
                    f"seq {entries[0].seq} does not continue the head seq {state.seq} of {slug!r}",
                    hint="pull the new entries, re-check, re-sign and retry",
                )
            project = self.ledger._get_project(slug)
            if project.version > state.seq:
                raise ConflictError(f"the head of {slug!r} moved", hint="pull and retry")
            check_aggregate(slug, project, state)
        base = state.seq
        for item in entries:
            if project is None:
                project = Project.propose(item)
                rules.apply(state, item)
            else:
                project.append(item, state=state)
        assert project is not None  # noqa: S101 - entries is not empty
        try:
            pending = project.collect_events()
            self.ledger.save(*pending, *also)
        except IntegrityError:
            raise ConflictError(
                f"another entry took seq {entries[0].seq} of {slug!r}",
                hint="pull the new entries, re-check, re-sign and retry",
            ) from None
        except PersistenceError as exc:
            raise unavailable(exc) from None
        if any(e.originator_version % SNAPSHOT_INTERVAL == 0 for e in pending):
            with contextlib.suppress(PersistenceError, IntegrityError):
                if self.ledger.snapshots is not None:
                    self.ledger.snapshots.put([Project.Snapshot.take(project)])
        self.ledger.record_verified(
            state,
            base_seq=base,
            log=[log_entry(e, state) for e in entries],
        )
        return AppendOutcome(stored=True, duplicate=False, state=state)

    def _duplicate_or_conflict(
        self, slug: str, entries: list[entry_mod.SignedEntry], state: ProjectState
    ) -> AppendOutcome:
        for item in entries:
            if item.seq > state.seq or self.ledger.log_entry(slug, item.seq).hash != item.hash:
                raise ConflictError(
                    f"seq {item.seq} of {slug!r} is taken by another entry",
                    hint="pull the new entries, re-check, re-sign and retry",
                )
        return AppendOutcome(stored=False, duplicate=True, state=state)

    def import_entries(
        self,
        slug: str,
        rows: Iterable[Row],
        *,
        state: ProjectState,
        log: list[LogEntry],
    ) -> int:
        """Append the rows of a bundle that a full verification has just accepted, in order.

        ``state`` and ``log`` are that verification's result for the whole bundle; each row
        must still hash to the hash verified at its seq (the file may have changed since). The
        local copy (if any) must be verified and be a prefix of it; only the entries after
        it are added, in chunks of :data:`IMPORT_CHUNK` events so no single save grows with
        the bundle. Returns the number of entries added.

        Raises:
            RuleViolationError: this ledger holds a different history of ``slug``.
            ConflictError: someone appended to ``slug`` during the import.
        """
        mine = self.ledger.verified_state(slug) if self.ledger.rows.last(slug) is not None else None
        have = mine.seq if mine is not None else 0
        if mine is not None:
            common = min(have, len(log))
            for seq in (1, common):
                if log[seq - 1].hash != self.ledger.log_entry(slug, seq).hash or (
                    seq == common and have > len(log)
                ):
                    raise RuleViolationError(
                        f"this ledger holds a different history of {slug!r} (seq {seq} differs)",
                        hint="import into another ledger, and compare with `accord verify`",
                    )
        project = self.ledger._get_project(slug) if mine is not None else None
        if project is not None and mine is not None:
            check_aggregate(slug, project, mine)
        added = 0
        for seq, row in enumerate(rows, start=1):
            if seq <= have:
                continue
            item = (
                entry_mod.load_verified(row.text, row.sig, row.hash, log[seq - 1].hash)
                if seq <= len(log)
                else None
            )
            if item is None or item.seq != seq:
                raise VerificationError(
                    f"seq {seq} changed since the bundle was verified; nothing more was imported",
                    seq=seq,
                )
            if project is None:
                project = Project.propose(item)
            else:
                project.unsafe_append_verified(item)
            added += 1
            if added % IMPORT_CHUNK == 0:
                self._save_chunk(slug, project)
        if project is not None:
            self._save_chunk(slug, project)
        if added:
            self.ledger.record_verified(state, base_seq=0, log=log, everything=True)
        return added

    def _save_chunk(self, slug: str, project: Project) -> None:
        try:
            self._save(project)
        except IntegrityError:
            raise ConflictError(
                f"someone appended to {slug!r} during the import", hint="import again"
            ) from None
        except PersistenceError as exc:
            raise unavailable(exc) from None

    def _save(self, project: Project) -> None:
        """Save pending events (compare-and-swap) and snapshot at every interval.

        Raises:
            IntegrityError: another writer took the seq first.
        """
        count = len(project.pending_events)
        self.ledger.save(project)
        last = project.version
        crossed = last // SNAPSHOT_INTERVAL > (last - count) // SNAPSHOT_INTERVAL
        if crossed and self.ledger.snapshots is not None:
            # A snapshot only saves time; if it fails, the next interval takes another.
            with contextlib.suppress(PersistenceError, IntegrityError):
                self.ledger.snapshots.put([Project.Snapshot.take(project)])

    def _submit(self, slug: str, signed: entry_mod.SignedEntry) -> None:
        """Hand ``signed`` to the upstream, resending the same entry if the answer is lost.

        Resending is idempotent (the relay answers 200 for an entry it holds), so a dropped
        answer never leads to a second, re-signed entry.

        Raises:
            ConflictError: the upstream's head moved.
            StorageUnavailableError: the upstream stayed unreachable; the entry may be held.
            DeadlineExceededError: the deadline for upstream traffic passed (not retried).
            VerificationError: the upstream's receipt does not prove it holds the entry.
        """
        assert self.ledger.upstream is not None  # noqa: S101 - only called with an upstream
        for attempt in range(SUBMIT_ATTEMPTS):
            try:
                self.ledger.upstream.submit(self.ledger, slug, signed)
                return
            except StorageUnavailableError as exc:
                final = isinstance(exc, DeadlineExceededError)
                if final or attempt == SUBMIT_ATTEMPTS - 1:
                    hint = (
                        f"run `accord sync {slug}` to see whether it was recorded before "
                        "trying again"
                    )
                    error = DeadlineExceededError if final else StorageUnavailableError
                    raise error(
                        f"{exc.message}; the relay may hold seq {signed.seq} already",
                        hint=f"{hint}; {exc.hint}" if final and exc.hint else hint,
                    ) from None
                time.sleep(0.2 * (attempt + 1))


def check_aggregate(slug: str, project: Project, state: ProjectState) -> None:
    """Refuse an aggregate that is not at the verified head (an altered record).

    Raises:
        StoreDamagedError: it is behind, or at the head with another hash.
    """
    if project.version < state.seq or getattr(project, "head", None) != state.head:
        raise StoreDamagedError(
            f"the store's aggregate of {slug!r} is not at the verified head seq "
            f"{state.seq} (a stored record was altered)",
            seq=state.seq,
            hint=f"`accord verify {slug}` checks the whole log",
        )


def check_signable(data: dict[str, Any]) -> None:
    """Refuse, before it is signed, an entry beyond the bounds of the format (exit 2).

    Raises:
        UsageError: the entry would be larger than an entry may be, or list too many items.
    """
    try:
        schema.check_bounds(data, len(entry_mod.canonical_bytes(data)))
    except RuleViolationError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None


def sign_seat_answer(
    proposal: entry_mod.SignedEntry,
    *,
    head: tuple[int, str],
    kind: str,
    signer: Signer,
    invite: str | None,
    reason: str | None,
    at: datetime,
) -> entry_mod.SignedEntry:
    """Sign the join or decline :func:`seat_answer_entry` builds (the same checks and raises)."""
    data = seat_answer_entry(
        proposal, head=head, kind=kind, signer=signer, invite=invite, reason=reason, at=at
    )
    return entry_mod.sign(data, signer.private_key)


def seat_answer_entry(
    proposal: entry_mod.SignedEntry,
    *,
    head: tuple[int, str],
    kind: str,
    signer: Signer,
    invite: str | None,
    reason: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The unsigned join or decline of ``signer``'s seat that follows ``head`` (seq, hash).

    For an invitee that may read only its proposal (through a relay, with its invite;
    docs/relay.md): the body is built and checked as :meth:`Ledger.join_project` and
    :meth:`Ledger.decline_project` build it (``membership.seat_answer_body``), against the
    state after the proposal alone.
    Nothing is signed or stored; the rules check the whole entry where it is appended (the
    relay, then this replica when it pulls the log).

    Raises:
        LedgerError: the proposal does not verify (format, signature, rules).
        UsageError: the seat needs an invite and none was given (or one it has none for),
            the token is malformed, or the reason of a decline is empty.
        RuleViolationError: the handle has no waiting seat in the proposal, or the invite
            is not the one of this seat.
        KeyNotValidError: the seat is pinned to another key.
    """
    slug = str(proposal.data.get("project"))
    state = rules.replay(slug, [proposal])
    member = state.members.get(signer.handle)
    if member is None or member.status != rules.INVITED:
        raise RuleViolationError(
            f"{signer.handle!r} was not invited to project {slug!r}",
            hint="join as the seat the invite names (--as HANDLE)",
        )
    if member.pinned is not None and member.pinned != signer.fingerprint:
        raise KeyNotValidError(
            f"key {signer.fingerprint} of {signer.handle!r} does not match the fingerprint "
            f"pinned in the proposal ({member.pinned})",
            hint="join with the key the proposer pinned, or ask for a new proposal",
        )
    build = membership.seat_answer_body(kind, signer=signer, invite=invite, reason=reason)
    data = {
        "v": fmt.VERSION,
        "project": slug,
        "seq": head[0] + 1,
        "prev": head[1],
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": fmt.format_time(at),
        "body": build(state),
    }
    check_signable(data)
    return data
