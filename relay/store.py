"""The relay's log core: entries through ``Ledger``, and checkpoints in ``RelayLog``.

One :class:`RelayStore` per worker thread, each with its own ``Ledger`` (the verified state
lives in the relay's home, the entries in the shared eventsourcing store). It is given a
checkpoint signer (``relay/signer.py``) and never touches the key itself; what a process
remembers between requests is in ``relay/cache.py``. Everything a request needs passes
through here, synchronously:

* **Appends** run the rules through ``Ledger.append_signed`` and save the new checkpoint
  (``RelayLog``) in the same transaction; the project's ``(project, seq)`` and the relay log's
  version are both compare-and-swaps, so concurrent relays never store half an append nor
  sign two different trees of one size. A loser re-reads: if only the relay log moved it
  tries again, otherwise it answers 409 with the current signed checkpoint.
* **Checkpoints** are signed only by writes: an append, entries appended through this store's
  ledger out of band (:class:`RelayLedger`, as ``accord import`` would), and the relay's
  start (:meth:`RelayStore.catch_up_all`, for entries that reached the store any other way).
  Reads never sign: they serve the latest signed checkpoint (:meth:`RelayStore.latest`).
  A checkpoint is never signed from uncommitted state, never for a smaller tree, and never
  over a frontier this process has not checked against the verified entries (once per
  project from scratch, then incrementally: ``TrustCache``).

Members' reads are in ``relay/reads.py``, cosignatures in ``relay/cosigning.py``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger import entry as entry_mod
from ledger import storage
from ledger.application import Ledger
from ledger.errors import (
    ConflictError,
    KeyNotValidError,
    LedgerError,
    ProjectNotFoundError,
    VerificationError,
)
from ledger.rows import unavailable
from ledger.state_file import VerifiedStore
from relay.aggregates import SNAPSHOT_INTERVAL, RelayLog, relay_stream_id
from relay.auth import check_signer
from relay.cache import TrustCache, Trusted
from relay.errors import NotReadableError, RelayConflictError, RelayStateError
from relay.merkle import Frontier, ProofError, leaf_hash
from relay.note import origin_for as _origin_for
from relay.signer import CheckpointSigner, NoteSigner
from relay.wire import TreeView, check_slug, receipt

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from ledger.records import AppendOutcome
    from ledger.rules import ProjectState
    from relay.commits import GroupCommit
    from relay.keys import RelayKey

log = logging.getLogger("accord.relay")

ATTEMPTS = 8
AGGREGATES = 4096  # project and relay-log aggregates kept in memory per worker thread


class _RetryError(Exception):
    """The store moved between two reads: read again."""


class RelayLedger(Ledger):
    """The relay's ``Ledger``: entries appended to it out of band get their checkpoint at once.

    :meth:`RelayStore.append` saves each checkpoint in the transaction of its entries
    (``also``); entries appended without one (``accord import`` into the relay's store
    through a :class:`RelayStore`) are covered right after by ``on_appended``.
    """

    on_appended: Callable[[str], object] | None = None

    def append_signed(
        self,
        slug: str,
        entries: list[entry_mod.SignedEntry],
        *,
        also: Iterable[Any] = (),
        state: ProjectState | None = None,
    ) -> AppendOutcome:
        """``Ledger.append_signed``; then sign a checkpoint if nothing in ``also`` is one.

        Raises:
            ConflictError: the head moved (an entry's seq is taken by another, or is ahead).
            LedgerError: an entry breaks a rule or fails verification (nothing is saved).
        """
        also = list(also)
        outcome = super().append_signed(slug, entries, also=also, state=state)
        signed = any(isinstance(a, RelayLog) for a in also)
        if outcome.stored and not signed and self.on_appended is not None:
            try:
                self.on_appended(slug)
            except LedgerError as exc:  # the entries are stored: the next append or start signs
                log.warning("cannot sign a checkpoint of %r: %s", slug, exc.message)
        return outcome


def open_store(
    url: str | None,
    *,
    key: RelayKey,
    home: Path | None = None,
    cache: TrustCache | None = None,
    create: bool = False,
    commits: GroupCommit | None = None,
) -> RelayStore:
    """Open the relay's store: the ledger at ``url``, its verified state under ``home``.

    ``commits``, shared by the stores of one process, groups their concurrent appends into
    one transaction on PostgreSQL (``relay/commits.py``); SQLite ignores it.

    Raises:
        UsageError: the URL is malformed.
        LedgerNotFoundError: no SQLite file there and ``create`` is false.
        StorageUnavailableError: the store cannot be opened or reached.
    """
    ledger = storage.open_ledger(url, create=create, cached=AGGREGATES, cls=RelayLedger)
    ledger.loader.report = _log_ignored  # a long-running process: logged, not kept
    if commits is not None and storage.is_postgres(url or ""):
        commits.wrap(ledger.recorder)
    if home is not None:
        source = ledger.verified.source
        ledger.verified.close()
        ledger.verified = VerifiedStore(source, home=home)
    return RelayStore(ledger, NoteSigner(key), cache)


def _log_ignored(notice: str) -> None:
    log.warning("%s", notice)


class RelayStore:
    """The relay's operations on one ``Ledger`` (one per worker thread).

    Args:
        ledger: the store (a :class:`RelayLedger` signs for entries appended out of band).
        signer: turns a project's tree into the relay's signed checkpoint note.
        cache: what this process checked and computed (shared by its stores).
    """

    def __init__(
        self, ledger: Ledger, signer: CheckpointSigner, cache: TrustCache | None = None
    ) -> None:
        self.ledger = ledger
        self.signer = signer
        self.cache = cache or TrustCache()
        if isinstance(ledger, RelayLedger):
            ledger.on_appended = self.checkpoint

    @property
    def key(self) -> RelayKey:
        """The relay key (of a :class:`~relay.signer.NoteSigner`)."""
        if not isinstance(self.signer, NoteSigner):
            raise AttributeError("this store's signer holds no relay key")
        return self.signer.key

    @key.setter
    def key(self, key: RelayKey) -> None:
        self.signer = NoteSigner(key)

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    def __enter__(self) -> RelayStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the verified log ----------------------------------------------------------------

    def state(self, slug: str) -> ProjectState:
        """The project's verified state (brought up to date).

        Raises:
            NotReadableError: no such project.
            RelayStateError: the store contradicts what the relay verified.
        """
        check_slug(slug)
        try:
            return self.ledger.verified_state(slug)
        except ProjectNotFoundError:
            raise NotReadableError from None
        except VerificationError as exc:
            raise RelayStateError(
                f"the store contradicts what the relay verified of {slug!r}: {exc.message}"
            ) from None

    def hashes(self, slug: str, first: int, last: int) -> list[bytes]:
        """The verified entry hashes (32 bytes) of seqs ``first..last``.

        Raises:
            RelayStateError: a seq is not verified.
        """
        if last < first:
            return []
        for attempt in range(3):
            found = [e.hash for e in self.ledger.timeline(slug, upto=last, after=first - 1)]
            if len(found) == last - first + 1:
                return [bytes.fromhex(h) for h in found]
            if attempt < 2:
                # Another relay process on the same store appended them and has not recorded
                # its verified state yet (or recorded a shorter one): verify them here.
                self.ledger.verified_state(slug)
        raise RelayStateError(f"seqs {first}..{last} of {slug!r} are not all verified")

    def leaves(self, slug: str, first: int, last: int) -> list[bytes]:
        """The RFC 6962 leaf hashes of seqs ``first..last``."""
        return [leaf_hash(h) for h in self.hashes(slug, first, last)]

    def origin(self, slug: str) -> str:
        """The project's checkpoint origin, from its verified genesis entry."""
        return _origin_for(self.hashes(slug, 1, 1)[0].hex())

    # --- checkpoints ---------------------------------------------------------------------

    def _load(self, slug: str) -> RelayLog | None:
        try:
            return self.ledger.loader.get(
                relay_stream_id(slug), RelayLog, label=f"the relay log of {slug!r}"
            )
        except AggregateNotFoundError:
            return None

    def _trusted(self, slug: str, log: RelayLog, state: ProjectState) -> Frontier:
        """The stored frontier of ``log``, checked against the verified entries."""
        genesis = self.hashes(slug, 1, 1)[0].hex()
        if log.size > state.seq:
            raise _RetryError  # signed after the state was read
        if log.origin != _origin_for(genesis):
            raise RelayStateError(f"the relay log of {slug!r} names another origin")
        known = self.cache.get(slug)
        base = Frontier.empty()
        if known is not None and known.genesis == genesis:
            if known.frontier.size > log.size:
                raise _RetryError  # behind a checkpoint this process saw: read again
            base = known.frontier
        frontier = base.extend(self.leaves(slug, base.size + 1, log.size))
        try:
            stored = log.tree()
        except (ProofError, ValueError):
            stored = None
        if stored != frontier or frontier.root().hex() != log.root:
            raise RelayStateError(f"the relay log of {slug!r} does not match its entries")
        self.cache.put(slug, Trusted(genesis, frontier))
        return frontier

    def _note_ok(self, log: RelayLog) -> bool:
        return self.signer.signed(log.note, log.origin, log.size, bytes.fromhex(log.root))

    def _sign(self, log: RelayLog, frontier: Frontier) -> None:
        note = self.signer.sign(log.origin, frontier.size, frontier.root())
        log.sign(frontier=frontier, note=note)

    def _snapshot(self, log: RelayLog, before: int) -> None:
        if log.version // SNAPSHOT_INTERVAL > before // SNAPSHOT_INTERVAL and self.ledger.snapshots:
            with contextlib.suppress(PersistenceError, IntegrityError):
                self.ledger.snapshots.put([RelayLog.Snapshot.take(log)])

    def latest(self, slug: str) -> RelayLog:
        """The latest signed checkpoint, checked against the entries: what reads serve.

        It never signs: when entries reached the store without the relay (``accord import``
        into its database while it runs), it is behind the verified head until the next
        write or start signs (:meth:`checkpoint`).

        Raises:
            NotReadableError: no such project.
            RelayStateError: the store contradicts the relay, no checkpoint of the project
                is signed yet, or its note is not this relay's.
        """
        for _ in range(ATTEMPTS):
            state = self.state(slug)
            log = self._load(slug)
            if log is None or not log.size:
                raise RelayStateError(
                    f"the relay has signed no checkpoint of {slug!r} yet",
                    hint="the relay signs it at its next start or append",
                )
            try:
                self._trusted(slug, log, state)
            except _RetryError:
                continue
            if not self._note_ok(log):
                raise RelayStateError(
                    f"the latest checkpoint of {slug!r} is not signed by this relay's key",
                    hint="the relay signs it again at its next start or append",
                )
            return log
        raise RelayStateError(f"the relay log of {slug!r} kept moving; try again")

    def catch_up_all(self) -> int:
        """Sign a checkpoint for each project whose log is behind (the relay's start).

        Entries that reached the store without the relay (``accord import`` into its
        database) are covered before anyone reads; a project that cannot be caught up
        (damaged, say) is logged and left to its requests, which answer 503.

        Returns:
            How many projects got a new checkpoint.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        signed = 0
        slugs, _ = self.ledger.scan_projects()
        for slug in slugs:
            try:
                held = self._load(slug)
                before = (held.size, held.note) if held is not None else None
                after = self.checkpoint(slug)
            except LedgerError as exc:
                log.warning("cannot sign a checkpoint of %r: %s", slug, exc.message)
                continue
            if before != (after.size, after.note):
                signed += 1
        return signed

    def checkpoint(self, slug: str) -> RelayLog:
        """The latest signed checkpoint, covering the verified head: signed now if behind.

        The write side of checkpoints (appends, out-of-band appends, the relay's start),
        never called by a read: reads serve :meth:`latest`.

        Raises:
            NotReadableError: no such project.
            RelayStateError: the store contradicts the relay, or other relays kept signing.
        """
        for _ in range(ATTEMPTS):
            state = self.state(slug)
            log = self._load(slug)
            try:
                if log is None:
                    log, frontier = RelayLog(slug=slug, origin=self.origin(slug)), Frontier.empty()
                else:
                    frontier = self._trusted(slug, log, state)
            except _RetryError:
                continue
            if log.size == state.seq and self._note_ok(log):
                return log
            before = log.version if log.size else 0
            frontier = frontier.extend(self.leaves(slug, log.size + 1, state.seq))
            self._sign(log, frontier)
            try:
                self.ledger.save(log)
            except IntegrityError:
                continue  # another relay signed first: read its checkpoint
            except PersistenceError as exc:
                raise unavailable(exc) from None
            self.cache.put(slug, Trusted(self.hashes(slug, 1, 1)[0].hex(), frontier))
            self._snapshot(log, before)
            return log
        raise RelayStateError(
            f"the relay log of {slug!r} kept moving (other relays signing, or a log ahead of "
            "the entries); try again"
        )

    # --- appends -------------------------------------------------------------------------

    def append(self, slug: str, entries: Sequence[entry_mod.SignedEntry]) -> tuple[int, Any]:
        """Store ``entries`` (all or none) with a new checkpoint; return (status, receipt).

        201 when stored, 200 when every entry was stored before with the same hash.

        Raises:
            RelayConflictError: the head moved (carries the current signed checkpoint).
            LedgerError: an entry breaks a rule or fails verification (nothing is stored).
        """
        check_slug(slug)
        first = entries[0]
        for _ in range(ATTEMPTS):
            try:
                log, before, state = self._next(slug, entries)
            except _RetryError:
                continue
            if log is None:
                return 200, self._duplicate(slug, entries)
            version = log.version if log.size else 0
            new_leaves = [leaf_hash(bytes.fromhex(e.hash)) for e in entries]
            after = before.extend(new_leaves)
            self._sign(log, after)
            try:
                outcome = self.ledger.append_signed(slug, list(entries), also=[log], state=state)
            except ConflictError:
                if self._continues(slug, first):
                    continue  # only the relay log moved (another relay caught up): again
                raise self._conflict(slug, first) from None
            if outcome.duplicate:
                return 200, self._duplicate(slug, entries)
            self.cache.put(slug, Trusted(self.hashes(slug, 1, 1)[0].hex(), after))
            self._snapshot(log, version)
            view = TreeView.after(before.hashes, before.size, new_leaves)
            return 201, receipt(slug, entries, note=log.note, root=after.root(), view=view)
        raise self._conflict(slug, first)

    def _next(
        self, slug: str, entries: Sequence[entry_mod.SignedEntry]
    ) -> tuple[RelayLog | None, Frontier, ProjectState | None]:
        """The relay log and the checked frontier that the entries would extend.

        Also the verified state read for it (None for a new project), which the append
        then uses without reading the store again. Returns ``(None, ...)`` when the entries
        are all stored already (a retry).

        Raises:
            KeyNotValidError: an entry is signed by someone the proposal did not name.
            NotReadableError: a later entry of a project that does not exist.
        """
        first = entries[0]
        try:
            state = self.state(slug)
        except NotReadableError:
            if first.seq != 1:
                raise
            return RelayLog(slug=slug, origin=_origin_for(first.hash)), Frontier.empty(), None
        for item in entries:  # the members are fixed by the proposal: others are not members
            if item.by not in state.members:
                raise KeyNotValidError(
                    f"{item.by!r} is not a member of {slug!r}: its key is not a member's",
                    seq=item.seq,
                )
        if first.seq != state.seq + 1:
            return None, Frontier.empty(), state
        log = self._load(slug)
        if log is None:
            log, frontier = RelayLog(slug=slug, origin=self.origin(slug)), Frontier.empty()
        else:
            frontier = self._trusted(slug, log, state)
        return log, frontier.extend(self.leaves(slug, frontier.size + 1, state.seq)), state

    def _continues(self, slug: str, first: entry_mod.SignedEntry) -> bool:
        if self.ledger.rows.last(slug) is None:
            return first.seq == 1
        return first.seq == self.state(slug).seq + 1

    def _duplicate(self, slug: str, entries: Sequence[entry_mod.SignedEntry]) -> Any:
        """The receipt of entries stored before, for the current checkpoint (or a conflict)."""
        state = self.state(slug)
        for item in entries:
            if item.seq > state.seq or self.hashes(slug, item.seq, item.seq)[0].hex() != item.hash:
                raise self._conflict(slug, entries[0])
        log = self.checkpoint(slug)
        leaves = self.leaves(slug, 1, log.size)
        view = TreeView(size=log.size, leaf=leaves.__getitem__)
        return receipt(slug, entries, note=log.note, root=bytes.fromhex(log.root), view=view)

    def _conflict(self, slug: str, first: entry_mod.SignedEntry) -> LedgerError:
        """The 409 for ``first``, carrying the current checkpoint, for members' keys only."""
        state = self.state(slug)
        check_signer(state, first)
        message = (
            f"seq {first.seq} does not continue the head seq {state.seq} of {slug!r}"
            if first.seq > state.seq
            else f"seq {first.seq} of {slug!r} is taken by another entry"
        )
        return RelayConflictError(
            message,
            checkpoint=self.checkpoint(slug).note,
            hint="pull the new entries, re-check, re-sign and retry",
        )
