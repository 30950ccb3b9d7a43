"""The ``Ledger`` application: the one object commands hold to read and record entries.

(Longer than ~500 lines: it is the ledger's whole public API, one thin method per command and
per verified read; the work is in ``ledger/writes.py``, ``ledger/verified_reads.py`` and
``ledger/rules/``.)

It composes three parts: the store (this eventsourcing ``Application``: one ``Project``
aggregate per project), the verified reads
(:class:`~ledger.verified_reads.VerifiedReads`: every read checks the store against what this
party verified) and the write engine
(:class:`~ledger.writes.Writes`: build, sign, check, compare-and-swap append, retry, through
an upstream when there is one). Each command method below takes the user's input to its entry
type's body builder (``ledger/rules/<family>.py``, beside the rules that check the entry) and
hands the builder to the write engine.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import Environment

from ledger import entry as entry_mod
from ledger.errors import StorageUnavailableError, StoreDamagedError, VerificationError
from ledger.evidence import Evidence
from ledger.loader import AggregateLoader
from ledger.project import Project, project_id
from ledger.records import AppendOutcome, ProjectSummary, RawEntry, Receipt, StoredEntry
from ledger.rows import Row, RowReader, SafeMapper
from ledger.rules import (
    approvals,
    disputes,
    membership,
    pledges,
    signers,
    statements,
    values,
)
from ledger.state_file import LogEntry, VerifiedStore
from ledger.verified_reads import DAMAGE_HINT, ProjectProblem, VerifiedReads
from ledger.writes import Draft, Review, Writes

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper
    from eventsourcing.utils import EnvType

    from ledger.keys import Signer
    from ledger.rules import ProjectState
    from ledger.rules.types import Build
    from ledger.upstream import Upstream

__all__ = ["Evidence", "Ledger", "ProjectSummary", "RawEntry", "Receipt", "StoredEntry"]


class Ledger(Application[Any]):
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
        upstream: Upstream[Ledger] | None = None,
        progress: Callable[[str, int], Any] | None = None,
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
            progress: a progress bar for long verifications (the CLI's), or None.
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
        self.reads = VerifiedReads(
            self.rows, self.verified, notices=self.notices, progress=progress
        )
        self.shown = self.reads.shown  # the projects this ledger brought up to date
        self.shown_upto = self.reads.shown_upto  # a read that shows less than the head
        self.wrote = False  # set once this ledger recorded an entry
        self._upstream = upstream
        self.writes = Writes(self, clock=self._clock)

    @property
    def upstream(self) -> Upstream[Ledger] | None:
        """The relay that orders this ledger's writes first (given at construction)."""
        return self._upstream

    @property
    def before_read(self) -> Callable[[str], None] | None:
        """A fresh read's pull before each project is read (``commands/fresh.py``)."""
        return self.reads.before_read

    @before_read.setter
    def before_read(self, hook: Callable[[str], None] | None) -> None:
        self.reads.before_read = hook

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

    # --- writes (ledger/writes.py) -----------------------------------------------------------

    def _append(self, slug: str, kind: str, build: Build, signer: Signer) -> Receipt:
        return self.writes.append(slug, kind, build, signer)

    def draft(self, write: Callable[[], object]) -> Draft:
        """The entry ``write`` (a call of a write method) would sign now, unsigned.

        For a confirmation step: the method's checks and the write path run as for a write,
        which stops before the key and the store (:meth:`Writes.draft`).

        Raises:
            LedgerError: what the method or the write path refuses.
        """
        return self.writes.draft(write)

    def reviewed(self, review: Review) -> contextlib.AbstractContextManager[None]:
        """Writes within the block pass each unsigned entry to ``review`` before signing it.

        ``review`` raises to refuse (nothing is then signed or stored) (:meth:`Writes.reviewed`).
        """
        return self.writes.reviewed(review)

    def append_signed(
        self,
        slug: str,
        entries: list[entry_mod.SignedEntry],
        *,
        also: Iterable[Any] = (),
        state: ProjectState | None = None,
    ) -> AppendOutcome:
        """Append entries signed elsewhere, all or none (:meth:`Writes.append_signed`).

        Raises:
            ConflictError: the head moved (an entry's seq is taken by another, or is ahead).
            LedgerError: an entry breaks a rule or fails verification (nothing is saved).
        """
        return self.writes.append_signed(slug, entries, also=also, state=state)

    def import_entries(
        self, slug: str, rows: Iterable[Row], *, state: ProjectState, log: list[LogEntry]
    ) -> int:
        """Append the rows of a verified bundle, in order (:meth:`Writes.import_entries`).

        Raises:
            RuleViolationError: this ledger holds a different history of ``slug``.
            ConflictError: someone appended to ``slug`` during the import.
        """
        return self.writes.import_entries(slug, rows, state=state, log=log)

    # --- commands: each builds its body beside its rules (ledger/rules/) ---------------------

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

        Raises:
            UsageError: a handle, policy, pinned fingerprint, invite or text is malformed,
                a policy asks for more members than are invited, or an invite is for a seat
                that is pinned, the proposer's or not invited.
            RuleViolationError: the project exists or the terms break a rule.
        """
        build = membership.proposal_body(
            title=title,
            purpose=purpose,
            members=members,
            approval=approval,
            close=close,
            signer=signer,
            invites=invites,
        )
        return self._append(slug, "project.proposed", build, signer)

    def join_project(self, slug: str, *, signer: Signer, invite: str | None = None) -> Receipt:
        """Join ``slug`` as an invited member, accepting its terms.

        Raises:
            ProjectNotFoundError: no such project.
            UsageError: the seat needs an invite and none was given, or the token is
                malformed, or an invite was given for a seat without one.
            RuleViolationError: not invited, already joined or declined, or the invite is
                not the one of this seat.
            KeyNotValidError: the key does not match the pinned fingerprint.
        """
        build = membership.seat_answer_body("member.joined", signer=signer, invite=invite)
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
        build = membership.seat_answer_body(
            "member.declined", signer=signer, invite=invite, reason=reason
        )
        return self._append(slug, "member.declined", build, signer)

    def cancel_project(self, slug: str, *, reason: str, signer: Signer) -> Receipt:
        """Cancel ``slug`` while it is still a proposal (``project.cancelled``).

        Raises:
            ProjectNotFoundError: no such project.
            UsageError: the reason is empty or too long.
            RuleViolationError: not the proposer, or the project is no longer proposed.
        """
        return self._append(slug, "project.cancelled", membership.cancellation_body(reason), signer)

    def rotate_key(self, slug: str, *, new_public_key: str, signer: Signer) -> Receipt:
        """Replace the signer's key in ``slug`` with ``new_public_key`` (signed by the old key).

        Raises:
            UsageError: the new key is not an OpenSSH Ed25519 line, or is a weak key.
            RuleViolationError: not a member, or the new key was used in the project before
                (by any party) or is pinned to another invitee's seat.
        """
        return self._append(slug, "key.rotated", signers.rotation_body(new_public_key), signer)

    def revoke_key(
        self, slug: str, fingerprint: str, *, reason: str, replacement: str | None, signer: Signer
    ) -> Receipt:
        """Revoke the key the signer signs with, optionally naming a replacement key.

        Raises:
            RuleViolationError: the fingerprint is not the signer's current key.
        """
        build = signers.revocation_body(fingerprint, reason=reason, replacement=replacement)
        return self._append(slug, "key.revoked", build, signer)

    def add_signer(self, slug: str, *, label: str, public_key: str, signer: Signer) -> Receipt:
        """Add a person (or device) who signs for the signer's party, with their own key.

        Raises:
            UsageError: the label is not 1-32 lower-case letters, digits and inner hyphens,
                or the public key is not an OpenSSH Ed25519 line or is a weak key.
            RuleViolationError: not a member, the label is taken, or the key was used in the
                project before (a key serves one signer only).
        """
        build = signers.signer_added_body(label, public_key)
        return self._append(slug, "signer.added", build, signer)

    def remove_signer(self, slug: str, *, label: str, reason: str, signer: Signer) -> Receipt:
        """Remove the signer ``label`` of the signer's party; entries it signed stay valid.

        Raises:
            UsageError: a malformed label or an empty reason.
            NotFoundError: the party has no current signer ``label``.
            RuleViolationError: not a member, or ``label`` is the party's last signer.
        """
        build = signers.signer_removed_body(label, reason)
        return self._append(slug, "signer.removed", build, signer)

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

        Raises:
            UsageError: a malformed weight, unit, date or handle, or another spelling of a
                unit the project uses.
            NotFoundError: a beneficiary is not a member.
            RuleViolationError: not a member, or the project is not active or is closed.
        """
        build = pledges.pledge_body(
            title=title,
            weight=weight,
            unit=unit,
            due=due,
            beneficiaries=beneficiaries,
            signer=signer,
        )
        receipt = self._append(slug, "pledge.made", build, signer)
        self._warn_if_past(due, receipt, "the pledge is recorded as overdue")
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
        build = pledges.amendment_body(pledge, title=title, weight=weight, due=due, reason=reason)
        receipt = self._append(slug, "pledge.amended", build, signer)
        if due is not None:
            self._warn_if_past(due, receipt, "the pledge is overdue once this is approved")
        return receipt

    def withdraw_pledge(self, slug: str, pledge: int, *, reason: str, signer: Signer) -> Receipt:
        """Withdraw one's own pledge, giving a reason.

        Raises:
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or already withdrawn.
        """
        build = pledges.withdrawal_body(pledge, reason=reason)
        return self._append(slug, "pledge.withdrawn", build, signer)

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

        Raises:
            UsageError: a malformed quantity, or nothing remains to deliver.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or the pledge was withdrawn.
        """
        warnings: list[str] = []
        build = pledges.delivery_body(
            pledge,
            summary=summary,
            quantity=quantity,
            evidence=evidence,
            signer=signer,
            warnings=warnings,
        )
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
        build = approvals.approval_body(target, comment=comment)
        return self._append(slug, "approval.given", build, signer)

    def reject(self, slug: str, target: int, *, reason: str, signer: Signer) -> Receipt:
        """Refuse a deliverable, an amendment or a value proposal, giving a reason.

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``target``.
            RuleViolationError: own work, not a beneficiary, already decided.
        """
        return self._append(
            slug, "approval.refused", approvals.refusal_body(target, reason=reason), signer
        )

    def propose_value(
        self, slug: str, *, unit: str, worth: str, reference: str, reason: str, signer: Signer
    ) -> Receipt:
        """Propose what one ``unit`` is worth in the project's reference unit.

        Raises:
            UsageError: a malformed unit or worth (zero, negative, not a number, more than
                40 characters), an empty reason, a unit valued in itself, or another
                spelling of a unit the project uses.
            RuleViolationError: not a member, not active, another reference unit than the
                project's, or the same worth as the value in force.
        """
        build = values.value_body(unit=unit, worth=worth, reference=reference, reason=reason)
        return self._append(slug, "value.proposed", build, signer)

    def close_pledge_short(self, slug: str, pledge: int, *, reason: str, signer: Signer) -> Receipt:
        """Propose to end one's own pledge with what was approved (ADR 0009).

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor; the pledge is withdrawn, closed short,
                fulfilled, has a pending amendment, close-short proposal, deliverable or an
                open dispute.
        """
        build = pledges.close_short_body(pledge, reason=reason)
        return self._append(slug, "pledge.closed-short", build, signer)

    def open_dispute(self, slug: str, target: int, *, reason: str, signer: Signer) -> Receipt:
        """Dispute the decision on a deliverable (ADR 0009).

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``target``.
            RuleViolationError: not a decision on a deliverable, not a party concerned, one's
                own entry, already disputed, or the deliverable is not decided that way.
        """

        def target_of(seq: int) -> int:
            return int(self.verified_entry(slug, seq).body["target"])

        build = disputes.dispute_body(target, reason=reason, target_of=target_of)
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
        build = disputes.resolution_body(dispute, outcome=outcome, reason=reason)
        return self._append(slug, "resolution.signed", build, signer)

    def propose_statement(self, slug: str, *, title: str, text: str, signer: Signer) -> Receipt:
        """Propose a shared-responsibility statement for every member to sign.

        Raises:
            UsageError: an empty title or text.
            RuleViolationError: not a member, or the project is not active.
        """
        build = statements.statement_body(title=title, text=text)
        return self._append(slug, "statement.proposed", build, signer)

    def sign_statement(
        self, slug: str, statement: int, *, signer: Signer, expected_text: str | None = None
    ) -> Receipt:
        """Sign the current version of a statement.

        Raises:
            NotFoundError: no entry at ``statement``.
            ConflictError: the current text is not ``expected_text`` (revised meanwhile).
            RuleViolationError: not a statement, or already signed by this member.
        """
        build = statements.signature_body(statement, expected_text=expected_text)
        return self._append(slug, "statement.signed", build, signer)

    def revise_statement(
        self, slug: str, statement: int, *, text: str, reason: str, signer: Signer
    ) -> Receipt:
        """Revise a statement's text; every earlier signature is void.

        Raises:
            NotFoundError: no entry at ``statement``.
            RuleViolationError: not a statement, or the text is unchanged.
        """
        build = statements.revision_body(statement, text=text, reason=reason)
        return self._append(slug, "statement.revised", build, signer)

    def sign_close(self, slug: str, *, signer: Signer, accept_open: Iterable[int] = ()) -> Receipt:
        """Sign the close of the project at its final head.

        Raises:
            UsageError: a seq in ``accept_open`` is not a pledge.
            OpenPledgesError: pledges are open and not accepted (a RuleViolationError).
            RuleViolationError: not a member, not active, closed, or already signed.
        """
        build = statements.close_body(signer=signer, accept_open=accept_open)
        return self._append(slug, "close.signed", build, signer)

    # --- verified reads (ledger/verified_reads.py) -------------------------------------------

    def verified_state(self, slug: str) -> ProjectState:
        """The project's verified state, brought up to date (:meth:`VerifiedReads.verified_state`).

        Raises:
            LedgerError: as :meth:`VerifiedReads.verified_state` says.
        """
        return self.reads.verified_state(slug)

    def get_state(self, slug: str) -> ProjectState:
        """The project's verified state (:meth:`VerifiedReads.get_state`).

        Raises:
            LedgerError: as :meth:`VerifiedReads.verified_state` says.
        """
        return self.reads.get_state(slug)

    def record_verified(
        self, state: ProjectState, *, base_seq: int, log: list[LogEntry], everything: bool = False
    ) -> None:
        """Record a new verified state (:meth:`VerifiedReads.record_verified`)."""
        self.reads.record_verified(state, base_seq=base_seq, log=log, everything=everything)

    def require_new(self, slug: str) -> None:
        """Refuse a slug that is taken (:meth:`VerifiedReads.require_new`).

        Raises:
            RuleViolationError: the project exists.
        """
        self.reads.require_new(slug)

    def verified_entries(self, slug: str, *, upto: int) -> Iterator[StoredEntry]:
        """The verified entries 1..``upto`` (:meth:`VerifiedReads.verified_entries`)."""
        return self.reads.verified_entries(slug, upto=upto)

    def verified_entry(self, slug: str, seq: int) -> entry_mod.SignedEntry:
        """The verified entry at ``seq`` (:meth:`VerifiedReads.verified_entry`)."""
        return self.reads.verified_entry(slug, seq)

    def read_entries(self, slug: str) -> Iterator[StoredEntry]:
        """Every verified entry (:meth:`VerifiedReads.read_entries`)."""
        return self.reads.read_entries(slug)

    def claimed_times(self, slug: str, *, upto: int) -> dict[int, str]:
        """The signers' claimed times by seq (:meth:`VerifiedReads.claimed_times`)."""
        return self.reads.claimed_times(slug, upto=upto)

    def signer_labels(self, slug: str, *, upto: int) -> dict[int, str]:
        """The signer labels by seq (:meth:`VerifiedReads.signer_labels`)."""
        return self.reads.signer_labels(slug, upto=upto)

    def timeline(self, slug: str, *, upto: int, after: int = 0) -> Iterator[LogEntry]:
        """The verified log index (:meth:`VerifiedReads.timeline`)."""
        return self.reads.timeline(slug, upto=upto, after=after)

    def log_entry(self, slug: str, seq: int) -> LogEntry:
        """The verified log index entry at ``seq`` (:meth:`VerifiedReads.log_entry`)."""
        return self.reads.log_entry(slug, seq)

    def replay_verified(self, slug: str, upto: int) -> ProjectState:
        """The state after seq ``upto`` (:meth:`VerifiedReads.replay_verified`)."""
        return self.reads.replay_verified(slug, upto)

    def list_slugs(self) -> list[str]:
        """The slugs of the store (:meth:`VerifiedReads.list_slugs`)."""
        return self.reads.list_slugs()

    def list_projects(self) -> list[ProjectSummary]:
        """The projects that verify (:meth:`VerifiedReads.list_projects`)."""
        return self.reads.list_projects()

    def scan_projects(self) -> tuple[list[str], list[ProjectProblem]]:
        """The slugs and the streams that are not projects (:meth:`VerifiedReads.scan_projects`)."""
        return self.reads.scan_projects()

    def project_summaries(self) -> tuple[list[ProjectSummary], list[ProjectProblem]]:
        """Every project's summary, or its problem (:meth:`VerifiedReads.project_summaries`)."""
        return self.reads.project_summaries()

    def iter_rows(self, slug: str) -> Iterator[Row]:
        """The raw stored rows (:meth:`VerifiedReads.iter_rows`)."""
        return self.reads.iter_rows(slug)

    def read_raw(self, slug: str) -> Iterator[RawEntry]:
        """The raw stored entries (:meth:`VerifiedReads.read_raw`)."""
        return self.reads.read_raw(slug)

    def count_rows(self, slug: str) -> int:
        """The number of stored rows (:meth:`VerifiedReads.count_rows`)."""
        return self.reads.count_rows(slug)
