"""The ``Ledger`` application: the one place commands go to record and read entries.

Every write follows the same path: read the project's stream, replay it through the rules
(checking every stored signature), build and sign the new entry, check it, and save it.
Saving is optimistic: if another writer took the seq first, the store refuses the event and
the whole path runs again, a bounded number of times.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, PersistenceError
from eventsourcing.utils import Environment

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import rules
from ledger.errors import (
    ConflictError,
    LedgerError,
    LedgerNotFoundError,
    NotFoundError,
    ProjectNotFoundError,
    RuleViolationError,
    StorageUnavailableError,
    UsageError,
)
from ledger.project import Project, project_id
from ledger.verify import Row

if TYPE_CHECKING:
    from eventsourcing.utils import EnvType

    from ledger.entry import SignedEntry
    from ledger.keys import Signer
    from ledger.rules import ProjectState

MAX_ATTEMPTS = 8
BodyBuilder = Callable[["ProjectState"], dict[str, Any]]


@dataclass(frozen=True)
class Receipt:
    """What a write recorded: enough to find and check the entry later."""

    project: str
    seq: int
    type: str
    hash: str
    by: str
    key: str
    at: str
    status: str
    attempts: int = 1
    closes: tuple[int, int] | None = None  # close.signed: (signatures on the head, needed)

    def as_dict(self) -> dict[str, Any]:
        """Return the receipt as JSON-ready data."""
        return {
            "project": self.project,
            "seq": self.seq,
            "type": self.type,
            "hash": self.hash,
            "by": self.by,
            "key": self.key,
            "at": self.at,
            "project_status": self.status,
            **(
                {"close_signatures": self.closes[0], "close_needed": self.closes[1]}
                if self.closes
                else {}
            ),
        }


@dataclass(frozen=True)
class RawEntry:
    """A stored row as the store gives it, before any check."""

    text: str
    sig: str
    hash: str
    received_at: datetime


@dataclass(frozen=True)
class StoredEntry:
    """A signed entry as the store holds it, with the store's own receive time."""

    entry: SignedEntry
    received_at: datetime


@dataclass(frozen=True)
class ProjectSummary:
    """One line about a project, for listings."""

    slug: str
    title: str
    status: str
    members: tuple[str, ...]
    entries: int
    head: str


@dataclass(frozen=True)
class Evidence:
    """A file offered as evidence: its base name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int

    @classmethod
    def of_file(cls, path: Path) -> Evidence:
        """Hash the file at ``path`` (streaming, so large files are fine).

        Raises:
            NotFoundError: the file does not exist or cannot be read.
        """
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise NotFoundError(
                f"cannot read evidence file {path}: {exc.strerror}",
                hint="check the path; evidence must be a readable file",
            ) from None
        return cls(name=path.name, sha256=digest.hexdigest(), size=size)

    def as_dict(self) -> dict[str, Any]:
        """Return the evidence as it is recorded in an entry body."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


class Ledger(Application[Any]):
    """The accord application: records signed entries, one aggregate per project."""

    name = "accord"

    def __init__(self, env: EnvType | None = None, *, clock: Callable[[], datetime] | None = None):
        self._clock = clock or (lambda: datetime.now(UTC))
        try:
            super().__init__(env)
        except (PersistenceError, sqlite3.Error) as exc:
            raise StorageUnavailableError(
                f"cannot open the ledger store: {exc}",
                hint="check --ledger / ACCORD_LEDGER and that the store is reachable",
            ) from None

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Use only the settings given (never the process environment)."""
        return Environment(name, dict(env or {}))

    # --- reads -------------------------------------------------------------------------------

    def _get_project(self, slug: str) -> Project:
        try:
            project: Project = self.repository.get(project_id(slug))
        except AggregateNotFoundError:
            raise ProjectNotFoundError(slug) from None
        except PersistenceError as exc:
            raise _unavailable(exc) from None
        return project

    def get_state(self, slug: str) -> ProjectState:
        """Return the project state, replayed from the store with every check.

        Raises:
            ProjectNotFoundError: no such project.
            LedgerError: the stored stream fails verification.
        """
        return self._get_project(slug).state()

    def read_raw(self, slug: str) -> Iterator[RawEntry]:
        """Yield the project's stored rows in order, unchecked, with their receive times.

        Raises:
            ProjectNotFoundError: no such project.
            StorageUnavailableError: the store cannot be read.
        """
        try:
            events = cast("list[Project.Event]", list(self.events.get(project_id(slug))))
        except PersistenceError as exc:
            raise _unavailable(exc) from None
        if not events:
            raise ProjectNotFoundError(slug)
        return iter(
            [
                RawEntry(text=e.entry, sig=e.sig, hash=e.hash, received_at=e.timestamp)
                for e in events
            ]
        )

    def _last_stored(self, slug: str) -> Any:
        try:
            last = self.recorder.select_events(project_id(slug), desc=True, limit=1)
        except PersistenceError as exc:
            raise _unavailable(exc) from None
        return last[0] if last else None

    def count_rows(self, slug: str) -> int:
        """Return how many rows the store holds for ``slug`` (0 when none).

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        last = self._last_stored(slug)
        return int(last.originator_version) if last is not None else 0

    def last_row(self, slug: str) -> Row:
        """Return the project's last stored row.

        Raises:
            ProjectNotFoundError: no such project.
            StorageUnavailableError: the store cannot be read.
        """
        last = self._last_stored(slug)
        if last is None:
            raise ProjectNotFoundError(slug)
        return self._row(last)

    def _row(self, stored: Any) -> Row:
        """Decode one stored event into a row; an undecodable one becomes unreadable text."""
        try:
            event = cast("Project.Event", self.mapper.to_domain_event(stored))
            text, sig, digest = event.entry, event.sig, event.hash
            if not all(isinstance(v, str) for v in (text, sig, digest)):
                raise TypeError("stored fields are not strings")
        except Exception:  # a damaged row must be reported, not crash the verifier
            return Row(
                position=stored.originator_version,
                text="\x00unreadable stored event",
                sig="",
                hash="",
            )
        return Row(position=stored.originator_version, text=text, sig=sig, hash=digest)

    def iter_rows(self, slug: str, *, page: int = 1000) -> Iterator[Row]:
        """Stream the project's stored rows from the event store, a page at a time.

        Reads the stored events themselves (never an aggregate, snapshot or cache), so
        memory does not grow with the log.

        Raises:
            ProjectNotFoundError: no such project.
            StorageUnavailableError: the store cannot be read.
        """
        if self.count_rows(slug) == 0:
            raise ProjectNotFoundError(slug)
        return self._pages(slug, page)

    def _pages(self, slug: str, page: int) -> Iterator[Row]:
        last = 0
        while True:
            try:
                batch = self.recorder.select_events(project_id(slug), gt=last, limit=page)
            except PersistenceError as exc:
                raise _unavailable(exc) from None
            for stored in batch:
                yield self._row(stored)
            if len(batch) < page:
                return
            last = batch[-1].originator_version

    def import_rows(self, slug: str, rows: Iterator[Row]) -> tuple[int, ProjectState]:
        """Append verified rows to ``slug``, creating it or extending a shared prefix.

        Every row goes through the rules again on the way in (signatures included).
        Returns the number of entries added and the resulting state.

        Raises:
            RuleViolationError: the ledger holds a different history of ``slug``.
            LedgerError: a row breaks a rule (nothing is saved then).
        """
        try:
            project: Project | None = self._get_project(slug)
        except ProjectNotFoundError:
            project = None
        state = project.state() if project is not None else rules.new_state(slug)
        mine = [e.hash for e in project.signed_entries()] if project is not None else []
        added = 0
        for row in rows:
            item = entry_mod.load(row.text, row.sig, row.hash)
            if item.seq <= len(mine):
                if mine[item.seq - 1] != item.hash:
                    raise RuleViolationError(
                        f"this ledger holds a different history of {slug!r} (seq {item.seq} "
                        "differs)",
                        hint="import into another ledger, and compare with `accord verify`",
                    )
                continue
            if project is None:
                project = Project.propose(item)
                state = project.state()
            else:
                project.append(item, state=state)
            added += 1
        if project is not None and added:
            try:
                self.save(project)
            except IntegrityError:
                raise ConflictError(
                    f"someone appended to {slug!r} during the import", hint="import again"
                ) from None
            except PersistenceError as exc:
                raise _unavailable(exc) from None
        return added, state

    def read_entries(self, slug: str) -> Iterator[StoredEntry]:
        """Yield the project's stored entries in seq order, with their receive times.

        The entries are parsed (canonical text, hash) but not replayed; use
        :func:`ledger.rules.apply` on them to check the rules and signatures.

        Raises:
            ProjectNotFoundError: no such project.
            VerificationError: a stored entry is not canonical or its hash does not match.
        """
        raws = self.read_raw(slug)
        return (
            StoredEntry(
                entry=entry_mod.load(raw.text, raw.sig, raw.hash), received_at=raw.received_at
            )
            for raw in raws
        )

    def list_slugs(self) -> list[str]:
        """Return the slugs of every project in the ledger, sorted.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        slugs: list[str] = []
        start = 1
        try:
            while True:
                batch = self.recorder.select_notifications(
                    start=start, limit=500, topics=[Project.Proposed.TOPIC]
                )
                for notification in batch:
                    created = cast("Project.Proposed", self.mapper.to_domain_event(notification))
                    slugs.append(created.slug)
                if len(batch) < 500:
                    break
                start = batch[-1].id + 1
        except PersistenceError as exc:
            raise _unavailable(exc) from None
        return sorted(slugs)

    def list_projects(self) -> list[ProjectSummary]:
        """Return a summary of every project (each replayed and checked).

        Raises:
            LedgerError: a stored stream fails verification.
        """
        summaries = []
        for slug in self.list_slugs():
            state = self.get_state(slug)
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
        return summaries

    # --- the write path ----------------------------------------------------------------------

    def _append(self, slug: str, kind: str, build: BodyBuilder, signer: Signer) -> Receipt:
        fmt.normalise_slug(slug)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if kind == "project.proposed":
                project = None
                if self.count_rows(slug):
                    raise RuleViolationError(
                        f"project {slug!r} exists already",
                        hint="choose another slug; `accord project list` shows the taken ones",
                    )
                state = rules.new_state(slug)
            else:
                project = self._get_project(slug)
                state = project.state()
                rules.require_open(state)
            data = {
                "v": fmt.VERSION,
                "project": slug,
                "seq": state.seq + 1,
                "prev": state.head,
                "type": kind,
                "by": signer.handle,
                "key": signer.fingerprint,
                "at": fmt.format_time(self._clock()),
                "body": build(state),
            }
            signed = entry_mod.sign(data, signer.private_key)
            if project is None:
                project = Project.propose(signed)
                state = project.state()
            else:
                project.append(signed, state=state)
            try:
                self.save(project)
            except IntegrityError:
                continue  # someone else took this seq: re-read, re-check, re-sign
            except PersistenceError as exc:
                raise _unavailable(exc) from None
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
            )
        raise ConflictError(
            f"gave up after {MAX_ATTEMPTS} attempts: other writers kept appending to {slug!r}",
            hint="try again in a moment",
        )

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
    ) -> Receipt:
        """Propose a new project; the proposer is a member whether or not listed.

        Raises:
            UsageError: a handle, policy or pinned fingerprint is malformed.
            RuleViolationError: the project exists or the terms break a rule.
        """
        invited = dict(members)
        for handle, pinned in invited.items():
            fmt.normalise_handle(handle, "member")
            if pinned is not None and not fmt.FINGERPRINT_RE.match(pinned):
                raise UsageError(
                    f"pinned fingerprint {pinned!r} of {handle!r} is not an OpenSSH "
                    "SHA256 fingerprint",
                    hint="copy it from `accord key show NAME` or `ssh-keygen -lf KEY.pub`",
                )
        if invited.get(signer.handle) not in (None, signer.fingerprint):
            raise UsageError(f"the pinned fingerprint of {signer.handle!r} is not its own key")
        invited[signer.handle] = signer.fingerprint
        _check_policy(approval, "approval", allow_any=True)
        _check_policy(close, "close", allow_any=False)
        body = {
            "title": _required_text(title, "title"),
            "purpose": purpose,
            "members": [{"handle": h, "key": invited[h]} for h in sorted(invited)],
            "approval": approval,
            "close": close,
            "public_key": signer.public_key_line,
        }
        return self._append(slug, "project.proposed", lambda _state: body, signer)

    def join_project(self, slug: str, *, signer: Signer) -> Receipt:
        """Join ``slug`` as an invited member, accepting its terms.

        Raises:
            ProjectNotFoundError: no such project.
            RuleViolationError: not invited, or already joined or declined.
            KeyNotValidError: the key does not match the pinned fingerprint.
        """
        return self._append(
            slug,
            "member.joined",
            lambda state: {"terms": state.terms, "public_key": signer.public_key_line},
            signer,
        )

    def decline_project(self, slug: str, *, reason: str, signer: Signer) -> Receipt:
        """Decline an invitation to ``slug``.

        Raises:
            ProjectNotFoundError: no such project.
            RuleViolationError: not invited, or already joined or declined.
        """
        reason = _required_text(reason, "reason")
        return self._append(
            slug,
            "member.declined",
            lambda state: {
                "terms": state.terms,
                "public_key": signer.public_key_line,
                "reason": reason,
            },
            signer,
        )

    def rotate_key(self, slug: str, *, new_public_key: str, signer: Signer) -> Receipt:
        """Replace the signer's key in ``slug`` with ``new_public_key`` (signed by the old key).

        Raises:
            RuleViolationError: not a member.
            KeyNotValidError: the new key was used in the project before.
        """
        body = {"public_key": _public_key(new_public_key)}
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
        reason = _required_text(reason, "reason")
        if replacement is not None:
            _public_key(replacement)
        if not fmt.FINGERPRINT_RE.match(fingerprint):
            raise UsageError(
                f"{fingerprint!r} is not an OpenSSH SHA256 fingerprint",
                hint="copy it from `accord project show SLUG`",
            )
        body = {"fingerprint": fingerprint, "reason": reason, "replacement": replacement}
        return self._append(slug, "key.revoked", lambda _state: body, signer)

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
            UsageError: a malformed weight, unit, date or handle.
            NotFoundError: a beneficiary is not a member.
            RuleViolationError: not a member, or the project is not active or is closed.
        """
        body_base = {
            "title": _required_text(title, "title"),
            "weight": fmt.normalise_decimal(weight, "weight"),
            "unit": fmt.normalise_unit(unit),
            "due": fmt.normalise_date(due, "due date"),
        }
        chosen = sorted({fmt.normalise_handle(h, "beneficiary") for h in beneficiaries or []})

        def build(state: ProjectState) -> dict[str, Any]:
            others = [h for h in state.joined() if h != signer.handle]
            return {**body_base, "beneficiaries": chosen or others}

        return self._append(slug, "pledge.made", build, signer)

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
            changes["title"] = _required_text(title, "title")
        if weight is not None:
            changes["weight"] = fmt.normalise_decimal(weight, "weight")
        if due is not None:
            changes["due"] = fmt.normalise_date(due, "due date")
        if not changes:
            raise UsageError(
                "an amendment must change something", hint="give --weight, --due or --title"
            )
        body = {
            "pledge": _seq(pledge, "pledge"),
            "changes": changes,
            "reason": _required_text(reason, "reason"),
        }
        return self._append(slug, "pledge.amended", lambda _state: body, signer)

    def withdraw_pledge(self, slug: str, pledge: int, *, reason: str, signer: Signer) -> Receipt:
        """Withdraw one's own pledge, giving a reason.

        Raises:
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or already withdrawn.
        """
        body = {"pledge": _seq(pledge, "pledge"), "reason": _required_text(reason, "reason")}
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
        (the weight less what was accepted or is awaiting a decision).

        Raises:
            UsageError: a malformed quantity, or nothing remains to deliver.
            NotFoundError: no entry at ``pledge``.
            RuleViolationError: not the promisor, or the pledge was withdrawn.
        """
        summary = _required_text(summary, "summary")
        _seq(pledge, "pledge")
        given = fmt.normalise_decimal(quantity, "quantity") if quantity is not None else None

        def build(state: ProjectState) -> dict[str, Any]:
            amount = given
            if amount is None:
                item = state.pledges.get(pledge)
                if item is None or item.by != signer.handle:  # let the rules name the problem
                    amount = "1"
                else:
                    remaining = item.weight - _claimed(state, item)
                    if remaining <= 0:
                        raise UsageError(
                            f"pledge {pledge} has no undelivered weight left",
                            hint="give --quantity for additional work",
                        )
                    amount = fmt.decimal_text(remaining)
            return {
                "pledge": pledge,
                "summary": summary,
                "quantity": amount,
                "evidence": [e.as_dict() for e in evidence],
            }

        return self._append(slug, "deliverable.submitted", build, signer)

    def approve(self, slug: str, target: int, *, comment: str, signer: Signer) -> Receipt:
        """Approve a deliverable or amendment (signing the target's hash).

        Raises:
            NotFoundError: no entry at ``target``.
            RuleViolationError: own work, not a beneficiary, already decided or approved.
        """
        _seq(target, "target")
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
        """Refuse a deliverable or amendment, giving a reason.

        Raises:
            UsageError: the reason is empty.
            NotFoundError: no entry at ``target``.
            RuleViolationError: own work, not a beneficiary, already decided.
        """
        reason = _required_text(reason, "reason")
        _seq(target, "target")
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

    def propose_statement(self, slug: str, *, title: str, text: str, signer: Signer) -> Receipt:
        """Propose a shared-responsibility statement for every member to sign.

        Raises:
            UsageError: an empty title or text.
            RuleViolationError: not a member, or the project is not active.
        """
        body = {"title": _required_text(title, "title"), "text": _required_text(text, "text")}
        return self._append(slug, "statement.proposed", lambda _state: body, signer)

    def sign_statement(self, slug: str, statement: int, *, signer: Signer) -> Receipt:
        """Sign the current version of a statement.

        Raises:
            NotFoundError: no entry at ``statement``.
            RuleViolationError: not a statement, or already signed by this member.
        """
        _seq(statement, "statement")

        def build(state: ProjectState) -> dict[str, Any]:
            item = state.statements.get(statement)
            text = item.text if item else ""
            version = item.version if item else 1
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
            "statement": _seq(statement, "statement"),
            "text": _required_text(text, "text"),
            "reason": _required_text(reason, "reason"),
        }
        return self._append(slug, "statement.revised", lambda _state: body, signer)

    def sign_close(self, slug: str, *, signer: Signer) -> Receipt:
        """Sign the close of the project at its final head.

        Raises:
            RuleViolationError: not a member, not active, closed, or already signed.
        """
        return self._append(
            slug,
            "close.signed",
            lambda state: {"head": state.final_head, "head_seq": state.final_head_seq},
            signer,
        )


def _claimed(state: ProjectState, pledge: rules.Pledge) -> Decimal:
    total = Decimal(0)
    for seq in pledge.deliverables:
        item = state.decisions[seq]
        if isinstance(item, rules.Deliverable) and item.status in (rules.PENDING, rules.ACCEPTED):
            total += item.quantity
    return total


def _target_hash(state: ProjectState, target: int) -> str:
    decision = state.decisions.get(target)
    if decision is not None:
        return decision.hash
    return entry_mod.ZERO_HASH  # the rules name the problem (not found / wrong type)


def _seq(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{what} {value!r} is not a seq", hint="seqs are whole numbers from 1")
    return value


def _public_key(line: str) -> str:
    try:
        entry_mod.parse_public_key_line(line)
    except LedgerError as exc:
        raise UsageError(f"the new key is not usable: {exc.message}") from None
    return line


def _required_text(value: str, what: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"the {what} must not be empty", hint=f"give a {what}")
    if len(value) > fmt.MAX_TEXT:
        raise UsageError(f"the {what} is longer than {fmt.MAX_TEXT} characters")
    return value


def _check_policy(value: str, what: str, *, allow_any: bool) -> None:
    allowed = "all, any or a number" if allow_any else "all or a number"
    ok = value == "all" or (allow_any and value == "any") or (value.isdigit() and int(value) >= 1)
    if not ok or (value.isdigit() and str(int(value)) != value):
        raise UsageError(f"{what} policy {value!r} is not valid", hint=f"use {allowed}")


def _unavailable(exc: Exception) -> LedgerError:
    if "does not exist" in str(exc) and "relation" in str(exc):
        return LedgerNotFoundError(
            "this database holds no accord ledger yet",
            hint="run `accord init --ledger URL` once to create the tables",
        )
    return StorageUnavailableError(
        f"the ledger store is unavailable: {str(exc).splitlines()[0] if str(exc) else exc!r}",
        hint="check --ledger / ACCORD_LEDGER and that the database is reachable",
    )
