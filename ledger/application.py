"""The ``Ledger`` application: the one place commands go to record entries.

Every write follows the same path: bring the project's verified state up to date (check the
store still holds what this party verified, verify only the entries appended since), build
and sign the new entry, check it through the rules, and append it with the store's
compare-and-swap on ``(project, seq)``. If another writer took the seq first, the whole path
runs again, a bounded number of times. A write costs its own work plus the new entries,
never the history. Reads and the verified state are in ``ledger/queries.py``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, PersistenceError
from eventsourcing.utils import Environment

from ledger import ed25519, guards, normalise, numbers, rules
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.errors import (
    AlreadyDecidedError,
    ConflictError,
    DeadlineExceededError,
    KeyNotValidError,
    LedgerError,
    RuleViolationError,
    StorageUnavailableError,
    StoreDamagedError,
    UsageError,
    VerificationError,
)
from ledger.evidence import Evidence
from ledger.loader import AggregateLoader
from ledger.project import SNAPSHOT_INTERVAL, Project, project_id
from ledger.queries import DAMAGE_HINT, VerifiedReads
from ledger.records import ProjectSummary, RawEntry, Receipt, StoredEntry
from ledger.rows import Row, RowReader, SafeMapper, unavailable
from ledger.subjects import subject_of
from ledger.summaries import log_entry, signed_by
from ledger.verified import LogEntry, VerifiedStore

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper
    from eventsourcing.utils import EnvType

    from ledger.keys import Signer
    from ledger.rules import ProjectState
    from ledger.upstream import Upstream

__all__ = ["Evidence", "Ledger", "ProjectSummary", "RawEntry", "Receipt", "StoredEntry"]

MAX_ATTEMPTS = 8
SUBMIT_ATTEMPTS = 3  # sends of one signed entry when the relay's answer is lost


@dataclass(frozen=True)
class AppendOutcome:
    """What :meth:`Ledger.append_signed` did: stored the entries, or found them stored."""

    stored: bool
    duplicate: bool
    state: ProjectState


IMPORT_CHUNK = 1000
BodyBuilder = Callable[["ProjectState"], dict[str, Any]]


class Ledger(VerifiedReads, Application[Any]):
    """The accord application: records signed entries, one aggregate per project."""

    name = "accord"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        source: str | None = None,
        home: Path | None = None,
        upstream: Upstream | None = None,
        cached: int = 0,
    ):
        """Open the store described by ``env``.

        Args:
            env: eventsourcing settings (see ``ledger/storage.py``).
            clock: the time stamped into new entries (tests fix it).
            source: the ledger's identity for the verified state under the home (a
                resolved path or a redacted URL); None keeps the verified state in memory.
            home: ACCORD_HOME (default: the environment's).
            upstream: a relay that orders this ledger's writes first (``ledger/upstream.py``).
            cached: aggregates kept in memory between loads (a long-running process).

        Raises:
            StorageUnavailableError: the store cannot be opened.
        """
        self._clock = clock or (lambda: datetime.now(UTC))
        try:
            super().__init__(env)
        except (PersistenceError, sqlite3.Error) as exc:
            raise StorageUnavailableError(
                f"cannot open the ledger store: {exc}",
                hint="check --ledger / ACCORD_LEDGER and that the store is reachable",
            ) from None
        self.rows = RowReader(self.recorder, self.mapper)
        self.verified = VerifiedStore(source or "memory", home=home, memory=source is None)
        self.notices: list[str] = []
        self.loader = AggregateLoader(
            self.recorder,
            self.snapshots.recorder if self.snapshots is not None else None,
            self.mapper,
            cache=cached,
            report=self.notice,
        )
        self.shown: dict[str, int] = {}
        self.shown_upto: dict[str, int] = {}
        self.wrote = False  # set once this ledger recorded an entry
        self.before_read: Callable[[str], None] | None = None
        self.progress: Callable[[str, int], Any] | None = None
        self.upstream = upstream

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Use only the settings given (never the process environment)."""
        settings = dict(env or {})
        settings.setdefault("IS_SNAPSHOTTING_ENABLED", "y")
        return Environment(name, settings)

    def construct_mapper(self) -> Mapper[Any]:
        """Decode stored records through accord's own topics only (never an import)."""
        return SafeMapper(transcoder=self.construct_transcoder())

    def notice(self, message: str) -> None:
        """Keep a warning for the user (once), printed by the CLI after the command."""
        if message not in self.notices:
            self.notices.append(message)

    def close(self) -> None:
        """Close the store and the verified state file."""
        self.verified.close()
        super().close()

    # --- the write path ----------------------------------------------------------------------

    def _get_project(self, slug: str) -> Project:
        """The project's aggregate as the store has it (``ledger/loader.py``).

        Loaded from its latest snapshot when that checks out against the events (otherwise
        the snapshot is ignored, with a notice), through accord's own topics only.

        Raises:
            VerificationError: the store no longer holds the project.
            StoreDamagedError: a stored record of the project is not one accord wrote.
        """
        try:
            return self.loader.get(project_id(slug), Project, label=f"project {slug!r}", seqs=True)
        except AggregateNotFoundError:
            raise VerificationError(f"the store no longer holds project {slug!r}") from None
        except StoreDamagedError as exc:
            raise StoreDamagedError(
                exc.message, seq=exc.seq, hint=DAMAGE_HINT.format(slug=slug)
            ) from None

    def check_snapshot(self, slug: str) -> None:
        """Check the project's latest snapshot as a write would load it (a notice if not).

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        self.loader.check_snapshot(project_id(slug), Project, label=f"project {slug!r}")

    @staticmethod
    def _check_aggregate(slug: str, project: Project, state: ProjectState) -> None:
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

    def _save(self, project: Project) -> None:
        """Save pending events (compare-and-swap) and snapshot at every interval.

        Raises:
            IntegrityError: another writer took the seq first.
        """
        count = len(project.pending_events)
        self.save(project)
        last = project.version
        crossed = last // SNAPSHOT_INTERVAL > (last - count) // SNAPSHOT_INTERVAL
        if crossed and self.snapshots is not None:
            # A snapshot only saves time; if it fails, the next interval takes another.
            with contextlib.suppress(PersistenceError, IntegrityError):
                self.snapshots.put([Project.Snapshot.take(project)])

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
        assert self.upstream is not None  # noqa: S101 - only called with an upstream
        for attempt in range(SUBMIT_ATTEMPTS):
            try:
                self.upstream.submit(self, slug, signed)
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

    def _append(self, slug: str, kind: str, build: BodyBuilder, signer: Signer) -> Receipt:
        normalise.normalise_slug(slug)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            project: Project | None
            if self.upstream is not None:
                self.upstream.pull(self, slug, signer=signer)
            if kind == "project.proposed":
                project = None
                self.require_new(slug)
                state = rules.new_state(slug)
            else:
                state = self.verified_state(slug)
                rules.require_open(state)
                project = self._get_project(slug)
                if project.version > state.seq:
                    continue  # appended since the state was read: read again
                self._check_aggregate(slug, project, state)
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
                "at": fmt.format_time(self._clock()),
                "body": body,
            }
            _check_bounds(data)
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
            if self.upstream is not None:
                try:
                    self._submit(slug, signed)
                except ConflictError:
                    continue  # the relay's head moved: pull, re-check, re-sign
            try:
                self._save(project)
            except IntegrityError:
                if self.upstream is None:
                    continue  # someone else took this seq: re-read, re-check, re-sign
                # The relay holds this very entry; a pull meanwhile stored it here first.
                self.upstream.pull(self, slug, signer=signer)
                if self.log_entry(slug, signed.seq).hash != signed.hash:
                    raise ConflictError(
                        f"seq {signed.seq} of {slug!r} here is not the entry the relay took",
                        hint=f"`accord sync {slug}` shows what the relay holds",
                    ) from None
                state = self.verified_state(slug)
            except PersistenceError as exc:
                raise unavailable(exc) from None
            else:
                self.record_verified(state, base_seq=base, log=[log_entry(signed, state)])
            self.wrote = True
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
        decided = self.verified.log_entry(slug, error.decided_seq)
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
            if self.rows.last(slug) is not None:
                state = self.verified_state(slug)
                if state.seq >= 1 and self.log_entry(slug, 1).hash == entries[0].hash:
                    return self._duplicate_or_conflict(slug, entries, state)
                raise ConflictError(f"project {slug!r} exists already with another history")
            state = rules.new_state(slug)
            project: Project | None = None
        else:
            if state is None:
                state = self.verified_state(slug)
            if entries[0].seq <= state.seq:
                return self._duplicate_or_conflict(slug, entries, state)
            if entries[0].seq != state.seq + 1:
                raise ConflictError(
                    f"seq {entries[0].seq} does not continue the head seq {state.seq} of {slug!r}",
                    hint="pull the new entries, re-check, re-sign and retry",
                )
            project = self._get_project(slug)
            if project.version > state.seq:
                raise ConflictError(f"the head of {slug!r} moved", hint="pull and retry")
            self._check_aggregate(slug, project, state)
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
            self.save(*pending, *also)
        except IntegrityError:
            raise ConflictError(
                f"another entry took seq {entries[0].seq} of {slug!r}",
                hint="pull the new entries, re-check, re-sign and retry",
            ) from None
        except PersistenceError as exc:
            raise unavailable(exc) from None
        if any(e.originator_version % SNAPSHOT_INTERVAL == 0 for e in pending):
            with contextlib.suppress(PersistenceError, IntegrityError):
                if self.snapshots is not None:
                    self.snapshots.put([Project.Snapshot.take(project)])
        self.record_verified(
            state,
            base_seq=base,
            log=[log_entry(e, state) for e in entries],
        )
        return AppendOutcome(stored=True, duplicate=False, state=state)

    def _duplicate_or_conflict(
        self, slug: str, entries: list[entry_mod.SignedEntry], state: ProjectState
    ) -> AppendOutcome:
        for item in entries:
            if item.seq > state.seq or self.log_entry(slug, item.seq).hash != item.hash:
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
        mine = self.verified_state(slug) if self.rows.last(slug) is not None else None
        have = mine.seq if mine is not None else 0
        if mine is not None:
            common = min(have, len(log))
            for seq in (1, common):
                if log[seq - 1].hash != self.log_entry(slug, seq).hash or (
                    seq == common and have > len(log)
                ):
                    raise RuleViolationError(
                        f"this ledger holds a different history of {slug!r} (seq {seq} differs)",
                        hint="import into another ledger, and compare with `accord verify`",
                    )
        project = self._get_project(slug) if mine is not None else None
        if project is not None and mine is not None:
            self._check_aggregate(slug, project, mine)
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
            self.record_verified(state, base_seq=0, log=log, everything=True)
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

    # --- commands ----------------------------------------------------------------------------

    def propose_project(
        self,
        slug: str,
        *,
        title: str,
        purpose: str,
        members: dict[str, str | None],
        approval: str,
        close: str,
        signer: Signer,
        invites: dict[str, str] | None = None,
    ) -> Receipt:
        """Propose a new project; the proposer is a member whether or not listed.

        A numeric approval policy above the number of invited members other than the
        proposer, or a numeric close policy above the number of members, is refused here
        (no pledge could ever need that many); the rules cap an approval policy for pledges
        with fewer beneficiaries.

        ``invites`` maps unpinned seats to invite tokens (:func:`new_invites`); the proposal
        records each one's public fingerprint, never the token.

        Raises:
            UsageError: a handle, policy, pinned fingerprint, invite or text is malformed,
                a policy asks for more members than are invited, or an invite is for a seat
                that is pinned, the proposer's or not invited.
            RuleViolationError: the project exists or the terms break a rule.
        """
        invited = dict(members)
        for handle, pinned in invited.items():
            normalise.normalise_handle(handle, "member")
            if pinned is not None and not fmt.FINGERPRINT_RE.match(pinned):
                raise UsageError(
                    f"pinned fingerprint {pinned!r} of {handle!r} is not an OpenSSH "
                    "SHA256 fingerprint",
                    hint="copy it from `accord key show NAME` or `ssh-keygen -lf KEY.pub`",
                )
        if invited.get(signer.handle) not in (None, signer.fingerprint):
            raise UsageError(f"the pinned fingerprint of {signer.handle!r} is not its own key")
        invited[signer.handle] = signer.fingerprint
        normalise.check_member_count(len(invited))
        normalise.check_policy(approval, "approval", allow_any=True)
        normalise.check_policy(close, "close", allow_any=False)
        _check_policy_sizes(approval, close, others=len(invited) - 1)
        seats: dict[str, str] = {}
        for handle, token in (invites or {}).items():
            if invited.get(handle, "") is not None or handle == signer.handle:
                raise UsageError(f"an invite is only for an unpinned seat, not for {handle!r}")
            seats[handle] = _invite_key(token)
        body = {
            "title": normalise.required_text(title, "title"),
            "purpose": normalise.optional_text(purpose, "purpose"),
            "members": [_seat(h, invited[h], seats) for h in sorted(invited)],
            "approval": approval,
            "close": close,
            "public_key": signer.public_key_line,
        }
        return self._append(slug, "project.proposed", lambda _state: body, signer)

    def join_project(self, slug: str, *, signer: Signer, invite: str | None = None) -> Receipt:
        """Join ``slug`` as an invited member, accepting its terms.

        A seat protected by an invite needs its token (``invite``); it is checked before
        anything is signed, and the join carries a proof signed by the invite key.

        Raises:
            ProjectNotFoundError: no such project.
            UsageError: the seat needs an invite and none was given, or the token is
                malformed, or an invite was given for a seat without one.
            RuleViolationError: not invited, already joined or declined, or the invite is
                not the one of this seat.
            KeyNotValidError: the key does not match the pinned fingerprint.
        """

        def build(state: ProjectState) -> dict[str, Any]:
            return _seat_answer(state, "member.joined", signer, invite, None)

        return self._append(slug, "member.joined", build, signer)

    def decline_project(
        self, slug: str, *, reason: str, signer: Signer, invite: str | None = None
    ) -> Receipt:
        """Decline an invitation to ``slug`` (a seat with an invite needs its token too).

        Raises:
            ProjectNotFoundError: no such project.
            UsageError: as for :meth:`join_project`.
            RuleViolationError: not invited, already joined or declined, or a wrong invite.
        """
        reason = normalise.required_text(reason, "reason")

        def build(state: ProjectState) -> dict[str, Any]:
            return _seat_answer(state, "member.declined", signer, invite, reason)

        return self._append(slug, "member.declined", build, signer)

    def sign_seat_answer(
        self,
        proposal: entry_mod.SignedEntry,
        *,
        head: tuple[int, str],
        kind: str,
        signer: Signer,
        invite: str | None,
        reason: str | None = None,
    ) -> entry_mod.SignedEntry:
        """:func:`sign_seat_answer`, stamped with this ledger's clock."""
        return sign_seat_answer(
            proposal,
            head=head,
            kind=kind,
            signer=signer,
            invite=invite,
            reason=reason,
            at=self._clock(),
        )

    def cancel_project(self, slug: str, *, reason: str, signer: Signer) -> Receipt:
        """Cancel ``slug`` while it is still a proposal (``project.cancelled``).

        Only the proposer can, and only while the project is ``proposed`` (some invitee has
        neither joined nor declined); nothing can be added after it.

        Raises:
            ProjectNotFoundError: no such project.
            UsageError: the reason is empty or too long.
            RuleViolationError: not the proposer, or the project is no longer proposed.
        """
        body = {"reason": normalise.required_text(reason, "reason")}
        return self._append(slug, "project.cancelled", lambda _state: body, signer)

    def rotate_key(self, slug: str, *, new_public_key: str, signer: Signer) -> Receipt:
        """Replace the signer's key in ``slug`` with ``new_public_key`` (signed by the old key).

        Raises:
            UsageError: the new key is not an OpenSSH Ed25519 line, or is a weak key.
            RuleViolationError: not a member, or the new key was used in the project before
                (by any party) or is pinned to another invitee's seat.
        """
        body = {"public_key": normalise.check_public_key(new_public_key)}
        return self._append(slug, "key.rotated", lambda _state: body, signer)

    def revoke_key(
        self,
        slug: str,
        fingerprint: str,
        *,
        reason: str,
        replacement: str | None,
        signer: Signer,
    ) -> Receipt:
        """Revoke the key the signer signs with, optionally naming a replacement key.

        Raises:
            RuleViolationError: the fingerprint is not the signer's current key.
        """
        reason = normalise.required_text(reason, "reason")
        if replacement is not None:
            normalise.check_public_key(replacement)
        if not fmt.FINGERPRINT_RE.match(fingerprint):
            raise UsageError(
                f"{fingerprint!r} is not an OpenSSH SHA256 fingerprint",
                hint="copy it from `accord project show SLUG`",
            )
        body = {"fingerprint": fingerprint, "reason": reason, "replacement": replacement}
        return self._append(slug, "key.revoked", lambda _state: body, signer)

    def add_signer(self, slug: str, *, label: str, public_key: str, signer: Signer) -> Receipt:
        """Add a person (or device) who signs for the signer's party, with their own key.

        Signed by a current signer of the party. The label names the person in the trail and
        the report (``acme (alice)``); it is unique among the party's current signers.

        Raises:
            UsageError: the label is not 1-32 lower-case letters, digits and inner hyphens,
                or the public key is not an OpenSSH Ed25519 line or is a weak key.
            RuleViolationError: not a member, the label is taken, or the key was used in the
                project before (a key serves one signer only).
        """
        label = normalise.normalise_handle(label, "signer label")
        try:
            line = ed25519.public_key_line(ed25519.parse_public_key_line(public_key))
        except LedgerError as exc:
            raise UsageError(
                f"the signer's public key is not usable: {exc.message}",
                hint=exc.hint
                or "give the whole line `accord key show NAME` prints (ssh-ed25519 AAAA...)",
            ) from None
        body = {"label": label, "public_key": line}
        return self._append(slug, "signer.added", lambda _state: body, signer)

    def remove_signer(self, slug: str, *, label: str, reason: str, signer: Signer) -> Receipt:
        """Remove the signer ``label`` of the signer's party; entries it signed stay valid.

        Raises:
            UsageError: a malformed label or an empty reason.
            NotFoundError: the party has no current signer ``label``.
            RuleViolationError: not a member, or ``label`` is the party's last signer.
        """
        body = {
            "label": normalise.normalise_handle(label, "signer label"),
            "reason": normalise.required_text(reason, "reason"),
        }
        return self._append(slug, "signer.removed", lambda _state: body, signer)

    def add_pledge(
        self,
        slug: str,
        *,
        title: str,
        weight: str,
        unit: str,
        due: str,
        beneficiaries: list[str] | None,
        signer: Signer,
    ) -> Receipt:
        """Pledge work to the other members (or to ``beneficiaries`` only).

        The unit is kept as typed; a spelling of a unit already used in the project that
        differs only in case (``EUR`` after ``eur``) is refused, so contributions never
        split. A due date in the past is recorded with a warning (in :attr:`notices`).

        Raises:
            UsageError: a malformed weight, unit, date or handle, or another spelling of a
                unit the project uses.
            NotFoundError: a beneficiary is not a member.
            RuleViolationError: not a member, or the project is not active or is closed.
        """
        body_base = {
            "title": normalise.required_text(title, "title"),
            "weight": normalise.normalise_decimal(weight, "weight"),
            "unit": normalise.normalise_unit(unit),
            "due": normalise.normalise_date(due, "due date"),
        }
        chosen = sorted({normalise.normalise_handle(h, "beneficiary") for h in beneficiaries or []})

        def build(state: ProjectState) -> dict[str, Any]:
            first = state.units.get(fmt.unit_key(unit))
            if first is not None and first != unit:
                error = rules.unit_spelling_error(slug, unit, first)
                raise UsageError(error.message, hint=error.hint)
            others = [h for h in state.joined() if h != signer.handle]
            return {**body_base, "beneficiaries": chosen or others}

        receipt = self._append(slug, "pledge.made", build, signer)
        self._warn_if_past(body_base["due"], receipt, "the pledge is recorded as overdue")
        return receipt

    def _warn_if_past(self, due: str, receipt: Receipt, consequence: str) -> None:
        """Warn (in :attr:`notices`) when ``due`` is before the day the entry claims."""
        if due < receipt.at[:10]:
            self.notices.append(f"due date {due} is in the past: {consequence}")

    def amend_pledge(
        self,
        slug: str,
        pledge: int,
        *,
        title: str | None,
        weight: str | None,
        due: str | None,
        reason: str,
        signer: Signer,
    ) -> Receipt:
        """Propose a change to one's own pledge; it takes effect when approved.

        Raises:
            UsageError: nothing to change, or a malformed value.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, withdrawn, or an amendment is pending.
        """
        changes: dict[str, str] = {}
        if title is not None:
            changes["title"] = normalise.required_text(title, "title")
        if weight is not None:
            changes["weight"] = normalise.normalise_decimal(weight, "weight")
        if due is not None:
            changes["due"] = normalise.normalise_date(due, "due date")
        if not changes:
            raise UsageError(
                "an amendment must change something", hint="give --weight, --due or --title"
            )
        body = {
            "pledge": normalise.check_seq(pledge, "pledge"),
            "changes": changes,
            "reason": normalise.required_text(reason, "reason"),
        }
        receipt = self._append(slug, "pledge.amended", lambda _state: body, signer)
        if "due" in changes:
            self._warn_if_past(
                changes["due"], receipt, "the pledge is overdue once this is approved"
            )
        return receipt

    def withdraw_pledge(self, slug: str, pledge: int, *, reason: str, signer: Signer) -> Receipt:
        """Withdraw one's own pledge, giving a reason.

        Raises:
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or already withdrawn.
        """
        body = {
            "pledge": normalise.check_seq(pledge, "pledge"),
            "reason": normalise.required_text(reason, "reason"),
        }
        return self._append(slug, "pledge.withdrawn", lambda _state: body, signer)

    def deliver(
        self,
        slug: str,
        pledge: int,
        *,
        summary: str,
        quantity: str | None,
        evidence: list[Evidence],
        signer: Signer,
    ) -> Receipt:
        """Submit a deliverable against one's own pledge.

        Without ``quantity`` the deliverable claims what remains of the pledge's weight
        (the weight less what was accepted or is awaiting a decision), computed exactly.
        A quantity that takes the pledge beyond its weight is recorded with a warning (in
        :attr:`notices`).

        Raises:
            UsageError: a malformed quantity, or nothing remains to deliver.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or the pledge was withdrawn.
        """
        summary = normalise.required_text(summary, "summary")
        normalise.check_seq(pledge, "pledge")
        given = normalise.normalise_decimal(quantity, "quantity") if quantity is not None else None
        warnings: list[str] = []

        def build(state: ProjectState) -> dict[str, Any]:
            warnings.clear()
            amount = given
            item = state.pledges.get(pledge)
            own = item is not None and item.by == signer.handle
            if amount is None:
                if item is None or not own:  # let the rules name the problem
                    amount = "1"
                else:
                    remaining = numbers.exact_difference(item.weight, _claimed(state, item))
                    if remaining <= 0:
                        raise UsageError(
                            f"pledge {pledge} has no undelivered weight left",
                            hint="give --quantity for additional work",
                        )
                    amount = numbers.decimal_text(remaining)
            elif item is not None and own:
                total = numbers.exact_sum((_claimed(state, item), Decimal(amount)))
                if total > item.weight:
                    warnings.append(
                        f"pledge {pledge} is now delivered beyond its weight: "
                        f"{numbers.decimal_text(total)} of {numbers.decimal_text(item.weight)} "
                        f"{item.unit} delivered or awaiting a decision"
                    )
            return {
                "pledge": pledge,
                "summary": summary,
                "quantity": amount,
                "evidence": [e.as_dict() for e in evidence],
            }

        receipt = self._append(slug, "deliverable.submitted", build, signer)
        self.notices.extend(warnings)
        return receipt

    def approve(self, slug: str, target: int, *, comment: str, signer: Signer) -> Receipt:
        """Approve a deliverable, an amendment or a value proposal (signing the target's hash).

        Raises:
            UsageError: the comment is too long or not UTF-8.
            NotFoundError: no entry at ``target``.
            RuleViolationError: own work, not a beneficiary, already decided or approved.
        """
        comment = normalise.optional_text(comment, "comment")
        normalise.check_seq(target, "target")
        return self._append(
            slug,
            "approval.given",
            lambda state: {
                "target": target,
                "target_hash": _target_hash(state, target),
                "comment": comment,
            },
            signer,
        )

    def reject(self, slug: str, target: int, *, reason: str, signer: Signer) -> Receipt:
        """Refuse a deliverable, an amendment or a value proposal, giving a reason.

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``target``.
            RuleViolationError: own work, not a beneficiary, already decided.
        """
        reason = normalise.required_text(reason, "reason")
        normalise.check_seq(target, "target")
        return self._append(
            slug,
            "approval.refused",
            lambda state: {
                "target": target,
                "target_hash": _target_hash(state, target),
                "reason": reason,
            },
            signer,
        )

    def propose_value(
        self, slug: str, *, unit: str, worth: str, reference: str, reason: str, signer: Signer
    ) -> Receipt:
        """Propose what one ``unit`` is worth in the project's reference unit.

        It takes effect when every other joined member approves it (``approve`` on its
        seq); a later agreed value for the same unit replaces it, and a newer proposal for
        the same unit voids one still pending. Every value of a project is agreed in one
        reference unit (``reference``), which is worth 1.

        Raises:
            UsageError: a malformed unit or worth (zero, negative, not a number, more than
                40 characters), an empty reason, a unit valued in itself, or another
                spelling of a unit the project uses.
            RuleViolationError: not a member, not active, another reference unit than the
                project's, or the same worth as the value in force.
        """
        body = {
            "unit": normalise.normalise_unit(unit),
            "worth": normalise.normalise_decimal(worth, "worth"),
            "in": normalise.normalise_unit(reference),
            "reason": normalise.required_text(reason, "reason"),
        }
        if fmt.unit_key(unit) == fmt.unit_key(reference):
            raise UsageError(
                f"a unit is worth 1 of itself: {unit!r} cannot be valued in {reference!r}",
                hint="give with --in the unit every value of the project is agreed in",
            )

        def build(state: ProjectState) -> dict[str, Any]:
            for given in (unit, reference):
                first = state.units.get(fmt.unit_key(given))
                if first is not None and first != given:
                    error = rules.unit_spelling_error(slug, given, first)
                    raise UsageError(error.message, hint=error.hint)
            return body

        return self._append(slug, "value.proposed", build, signer)

    def close_pledge_short(self, slug: str, pledge: int, *, reason: str, signer: Signer) -> Receipt:
        """Propose to end one's own pledge with what was approved (ADR 0009).

        It takes effect when the beneficiaries approve it per the approval policy, like an
        amendment: ``accord approve SLUG SEQ`` on the proposal's seq.

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor; the pledge is withdrawn, closed short,
                fulfilled, has a pending amendment, close-short proposal, deliverable or an
                open dispute.
        """
        body = {
            "pledge": normalise.check_seq(pledge, "pledge"),
            "reason": normalise.required_text(reason, "reason"),
        }
        return self._append(slug, "pledge.closed-short", lambda _state: body, signer)

    def open_dispute(self, slug: str, target: int, *, reason: str, signer: Signer) -> Receipt:
        """Dispute the decision on a deliverable (ADR 0009).

        ``target`` is the seq of an accepted deliverable, of an approval of it, or of the
        rejection that refused it; the body also names the deliverable decided.

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``target``.
            RuleViolationError: not a decision on a deliverable, not a party concerned, one's
                own entry, already disputed, or the deliverable is not decided that way.
        """
        reason = normalise.required_text(reason, "reason")
        normalise.check_seq(target, "target")

        def build(state: ProjectState) -> dict[str, Any]:
            deliverable = target
            if state.types.get(target) in ("approval.given", "approval.refused"):
                deliverable = int(self.verified_entry(slug, target).body["target"])
            return {"target": target, "deliverable": deliverable, "reason": reason}

        return self._append(slug, "dispute.opened", build, signer)

    def resolve_dispute(
        self, slug: str, dispute: int, *, outcome: str, reason: str, signer: Signer
    ) -> Receipt:
        """Sign an outcome of a dispute; it takes effect when every party to it signs the same.

        Raises:
            UsageError: an outcome other than upheld or dismissed, or an empty reason.
            NotFoundError: no entry at ``dispute``.
            RuleViolationError: not a dispute, resolved already, not a party to it, or this
                party signed this outcome already.
        """
        if outcome not in fmt.OUTCOMES:
            raise UsageError(
                f"outcome {outcome!r} is not valid", hint="use --outcome upheld or dismissed"
            )
        body = {
            "dispute": normalise.check_seq(dispute, "dispute"),
            "outcome": outcome,
            "reason": normalise.required_text(reason, "reason"),
        }
        return self._append(slug, "resolution.signed", lambda _state: body, signer)

    def propose_statement(self, slug: str, *, title: str, text: str, signer: Signer) -> Receipt:
        """Propose a shared-responsibility statement for every member to sign.

        Raises:
            UsageError: an empty title or text.
            RuleViolationError: not a member, or the project is not active.
        """
        body = {
            "title": normalise.required_text(title, "title"),
            "text": normalise.required_text(text, "text"),
        }
        return self._append(slug, "statement.proposed", lambda _state: body, signer)

    def sign_statement(
        self, slug: str, statement: int, *, signer: Signer, expected_text: str | None = None
    ) -> Receipt:
        """Sign the current version of a statement.

        With ``expected_text``, sign only if the current text is exactly that (the text the
        signer just proposed or revised), checked on the state the signature is built on.

        Raises:
            NotFoundError: no entry at ``statement``.
            ConflictError: the current text is not ``expected_text`` (revised meanwhile).
            RuleViolationError: not a statement, or already signed by this member.
        """
        normalise.check_seq(statement, "statement")

        def build(state: ProjectState) -> dict[str, Any]:
            item = state.statements.get(statement)
            text = item.text if item else ""
            version = item.version if item else 1
            if item is not None and expected_text is not None and text != expected_text:
                raise ConflictError(
                    f"statement {statement} was revised meanwhile (now version {version}); "
                    "it was not signed",
                    hint=f"read it with `accord statement show {slug} {statement}` and sign "
                    "it if you agree",
                )
            return {"statement": statement, "version": version, "text_hash": rules.text_hash(text)}

        return self._append(slug, "statement.signed", build, signer)

    def revise_statement(
        self, slug: str, statement: int, *, text: str, reason: str, signer: Signer
    ) -> Receipt:
        """Revise a statement's text; every earlier signature is void.

        Raises:
            NotFoundError: no entry at ``statement``.
            RuleViolationError: not a statement, or the text is unchanged.
        """
        body = {
            "statement": normalise.check_seq(statement, "statement"),
            "text": normalise.required_text(text, "text"),
            "reason": normalise.required_text(reason, "reason"),
        }
        return self._append(slug, "statement.revised", lambda _state: body, signer)

    def sign_close(self, slug: str, *, signer: Signer, accept_open: Iterable[int] = ()) -> Receipt:
        """Sign the close of the project at its final head.

        A guard, not a rule (ADR 0012): while pledges are still open (not fulfilled,
        withdrawn or closed short) the close is refused unless the signer accepts each of
        them by seq in ``accept_open``. It is checked on the state the signature is built on.

        Raises:
            UsageError: a seq in ``accept_open`` is not a pledge.
            OpenPledgesError: pledges are open and not accepted (a RuleViolationError).
            RuleViolationError: not a member, not active, closed, or already signed.
        """
        accepted = frozenset(accept_open)

        def build(state: ProjectState) -> dict[str, Any]:
            guards.check_close(state, signer.handle, signer.fingerprint, accepted)
            return {"head": state.final_head, "head_seq": state.final_head_seq}

        return self._append(slug, "close.signed", build, signer)


def _claimed(state: ProjectState, pledge: rules.Pledge) -> Decimal:
    """What was delivered on ``pledge``: accepted (disputed or not) or awaiting a decision."""
    del state
    return numbers.exact_sum((pledge.pending, pledge.approved, pledge.disputed))


def _check_bounds(data: dict[str, Any]) -> None:
    """Refuse, before it is signed, an entry beyond the bounds of the format (exit 2).

    Raises:
        UsageError: the entry would be larger than an entry may be, or list too many items.
    """
    try:
        fmt.check_bounds(data, len(entry_mod.canonical_bytes(data)))
    except RuleViolationError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None


def _seat(handle: str, pinned: str | None, seats: dict[str, str]) -> dict[str, Any]:
    """A ``members`` item; ``invite`` appears (null or not) when the proposal has invites."""
    if not seats:
        return {"handle": handle, "key": pinned}  # the shape of proposals before invites
    return {"handle": handle, "key": pinned, "invite": seats.get(handle)}


def new_invites(members: dict[str, str | None], proposer: str) -> dict[str, str]:
    """A fresh invite token for every unpinned seat other than the proposer's.

    Raises:
        UsageError: more members than a project may have (no token is made).
    """
    normalise.check_member_count(len({*members, proposer}))
    return {
        handle: entry_mod.new_invite()[0]
        for handle, pinned in sorted(members.items())
        if pinned is None and handle != proposer
    }


def _invite_key(token: str) -> str:
    try:
        return entry_mod.invite_fingerprint(token)
    except VerificationError as exc:
        raise UsageError(
            f"the invite is malformed: {exc.message}", hint=rules.INVITE_HINT
        ) from None


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
    """Sign a join or decline of ``signer``'s seat that follows ``head`` (seq, hash).

    For an invitee that may read only its proposal (through a relay, with its invite;
    docs/relay.md): the body is built and checked as :meth:`Ledger.join_project` and
    :meth:`Ledger.decline_project` build it, against the state after the proposal alone.
    Nothing is stored; the rules check the whole entry where it is appended (the relay, then
    this replica when it pulls the log).

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
    if kind == "member.declined":
        reason = normalise.required_text(reason or "", "reason")
    data = {
        "v": fmt.VERSION,
        "project": slug,
        "seq": head[0] + 1,
        "prev": head[1],
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": fmt.format_time(at),
        "body": _seat_answer(state, kind, signer, invite, reason),
    }
    _check_bounds(data)
    return entry_mod.sign(data, signer.private_key)


def _seat_answer(
    state: ProjectState, kind: str, signer: Signer, invite: str | None, reason: str | None
) -> dict[str, Any]:
    """The body of a join (``reason`` None) or decline of ``signer``'s seat, with its proof."""
    body: dict[str, Any] = {"terms": state.terms, "public_key": signer.public_key_line}
    if kind == "member.declined":
        body["reason"] = reason
    return _with_invite_proof(state, body, signer, invite)


def _with_invite_proof(
    state: ProjectState, body: dict[str, Any], signer: Signer, invite: str | None
) -> dict[str, Any]:
    """Add the invite proof a join or decline of ``signer``'s seat needs (checked first)."""
    member = state.members.get(signer.handle)
    if member is None or member.status != rules.INVITED:
        return body  # the rules say why it is refused
    handle, slug = signer.handle, state.slug
    if member.invite is None:
        if invite is not None:
            raise UsageError(
                f"the seat of {handle!r} in {slug!r} has no invite",
                hint="leave out --invite (and ACCORD_INVITE)",
            )
        return body
    if invite is None:
        raise UsageError(
            f"the seat of {handle!r} in {slug!r} is protected by an invite",
            hint=rules.INVITE_HINT,
        )
    if _invite_key(invite) != member.invite:
        raise RuleViolationError(
            f"this invite is not the one for the seat of {handle!r} in {slug!r} "
            f"(the seat's invite is {member.invite})",
            hint=rules.INVITE_HINT,
        )
    proof = entry_mod.invite_proof(
        invite, project=slug, terms=state.terms, handle=handle, key=signer.fingerprint
    )
    return {**body, "invite_proof": proof}


def _check_policy_sizes(approval: str, close: str, *, others: int) -> None:
    """Refuse numeric policies that ask for more members than the proposal invites.

    Raises:
        UsageError: approval N above the invited members other than the proposer, or close
            N above all the members.
    """
    if others < 1:
        return  # the rules say why: a collaboration needs at least two members
    if approval not in ("all", "any") and int(approval) > others:
        raise UsageError(
            f"approval policy {approval} is more than the {others} invited member"
            f"{'s' if others != 1 else ''} other than the proposer",
            hint=f"use all, any or a number up to {others}",
        )
    if close != "all" and int(close) > others + 1:
        raise UsageError(
            f"close policy {close} is more than the {others + 1} members",
            hint=f"use all or a number up to {others + 1}",
        )


def _target_hash(state: ProjectState, target: int) -> str:
    decision = state.decisions.get(target)
    if decision is not None:
        return decision.hash
    if target in state.values:
        return state.values[target].hash
    return entry_mod.ZERO_HASH  # the rules name the problem (not found / wrong type)
