"""Loading accord's aggregates from the store: no stored name is imported, no snapshot trusted.

The library's ``Repository`` turns the names a stored record holds into classes by importing
the module they name (a created event's ``originator_topic``, a snapshot's ``topic``), and
applies whatever it decodes. accord's aggregates (the ``Project`` here, and those another
package registers with ``ledger.rows``) are loaded by :class:`AggregateLoader` instead:

* every record is decoded by :class:`ledger.rows.SafeMapper`, from accord's own topics only;
* the stream must begin with the created event of the very class asked for, naming that
  class's topic (compared, never resolved), and every later record must be one of that
  class's events at the next version; after each event the aggregate must have the shape
  its class declares (:attr:`SHAPE`, each attribute of its type). Anything else is a
  :class:`~ledger.errors.StoreDamagedError` at its position, never a crash and never 1;
* a snapshot is only a cache. It is used when it has the aggregate's exact shape (the
  snapshot topic, the aggregate topic inside it, the attributes and their types) and agrees
  with the events stored at its own version and at version 1: applying the event stored at
  its version to it changes nothing, and the attributes only the created event sets
  (:attr:`FIXED`) are the created event's. A snapshot that does not check out is reported
  (``report``) and ignored: the aggregate is loaded from its events.

An aggregate class that is loaded here declares ``SHAPE`` (attribute name to ``str``,
``int`` or ``list[str]``) and ``FIXED`` (the attributes its created event alone sets); every
other attribute of the shape must be set by each of its later events.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import register_topic

from ledger.errors import LedgerError, StoreDamagedError
from ledger.rows import shown_name, unavailable

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from eventsourcing.persistence import Mapper, StoredEvent

A = TypeVar("A", bound=Aggregate)

BASE_SHAPE: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}
SNAPSHOT_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "topic", "state"})


class SnapshotRejectedError(Exception):
    """A snapshot that does not check out (internal: it is reported and ignored)."""


class AggregateLoader:
    """Loads aggregates of accord's own classes from one application's stores.

    Args:
        events: the event recorder.
        snapshots: the snapshot recorder (None when snapshotting is off).
        mapper: the (topic-checked) mapper of both.
        cache: aggregates kept in memory between loads (0: none); a cached aggregate is
            brought forward with the events stored after it on every load.
        report: called with a one-line notice for each snapshot that is ignored.
    """

    def __init__(
        self,
        events: Any,
        snapshots: Any,
        mapper: Mapper[UUID],
        *,
        cache: int = 0,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._events = events
        self._snapshots = snapshots
        self._mapper = mapper
        self.cache_size = cache
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self.report: Callable[[str], None] = report or (lambda _: None)

    def get(self, aggregate_id: UUID, cls: type[A], *, label: str, seqs: bool = False) -> A:
        """The aggregate ``aggregate_id`` of class ``cls``, checked as the module says.

        Args:
            aggregate_id: the stream id.
            cls: the aggregate class the stream must hold.
            label: the stream in messages ("project 'x'", "the relay log of 'x'").
            seqs: positions are entry seqs (they become the error's ``seq``).

        Raises:
            AggregateNotFoundError: the store holds no record of the stream.
            StoreDamagedError: a record of the stream is not one accord wrote.
            StorageUnavailableError: the store cannot be read.
        """
        held = self._cache.get(aggregate_id) if self.cache_size else None
        if isinstance(held, cls):
            aggregate: A | None = copy.deepcopy(held)
        else:
            aggregate = self._snapshot(aggregate_id, cls, label)
        after = aggregate.version if aggregate is not None else 0
        for stored in self._select(self._events, aggregate_id, gt=after or None):
            aggregate = self._apply(cls, aggregate, stored, label, seqs)
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        if self.cache_size:
            self._cache[aggregate_id] = copy.deepcopy(aggregate)
            self._cache.move_to_end(aggregate_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return aggregate

    def check_snapshot(self, aggregate_id: UUID, cls: type[Aggregate], *, label: str) -> None:
        """Check the stream's latest snapshot as a load would (reported when it is ignored).

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        self._snapshot(aggregate_id, cls, label)

    # --- events --------------------------------------------------------------------------

    @staticmethod
    def _select(recorder: Any, aggregate_id: UUID, **kwargs: Any) -> list[StoredEvent]:
        try:
            return list(recorder.select_events(aggregate_id, **kwargs))
        except PersistenceError as exc:
            raise unavailable(exc) from None

    def _apply(
        self, cls: type[A], aggregate: A | None, stored: StoredEvent, label: str, seqs: bool
    ) -> A:
        """Apply one stored event to ``aggregate`` (None: it must create the aggregate).

        Raises:
            StoreDamagedError: the record is not the next event of a ``cls`` stream.
        """
        version = stored.originator_version
        expected = aggregate.version + 1 if aggregate is not None else 1
        seq = expected if seqs else None

        def damaged(why: str) -> StoreDamagedError:
            return StoreDamagedError(f"stored record {expected} of {label} {why}", seq=seq)

        if type(version) is not int or version != expected:
            raise damaged(f"is stored at position {shown_name(version)}")
        try:
            event = self._mapper.to_domain_event(stored)
        except StoreDamagedError as exc:
            raise damaged(exc.message.split(f"stored record {version} ", 1)[-1]) from None
        family = cls.Event
        if not isinstance(event, family) or isinstance(event, Aggregate.Snapshot):
            raise damaged(f"names topic {shown_name(stored.topic)}, not an event of its stream")
        created = isinstance(event, Aggregate.Created)
        if created != (aggregate is None):
            raise damaged("is not in its place (the created event begins a stream, once)")
        if created:
            named = vars(event).get("originator_topic")
            if named != cls.TOPIC:  # type: ignore[attr-defined]
                raise damaged(f"names unknown aggregate topic {shown_name(named)}")
            # The library resolves this (checked) topic when it creates the aggregate: keep it
            # registered to the class, so that the lookup is answered without an import.
            register_topic(named, cls)
        try:
            result = event.mutate(aggregate)
        except LedgerError:
            raise
        except Exception as exc:  # a field missing or of another kind: damage, not a crash
            raise damaged(f"cannot be applied ({type(exc).__name__})") from None
        if not isinstance(result, cls):
            raise damaged("does not make the aggregate it belongs to")
        wrong = misfit(result, cls)
        if wrong is not None:
            raise damaged(f"holds {wrong}")
        return result

    # --- snapshots -----------------------------------------------------------------------

    def _snapshot(self, aggregate_id: UUID, cls: type[A], label: str) -> A | None:
        """The aggregate from the stream's latest snapshot, or None (none, or ignored)."""
        if self._snapshots is None:
            return None
        found = self._select(self._snapshots, aggregate_id, desc=True, limit=1)
        if not found:
            return None
        try:
            return self._checked(aggregate_id, cls, found[0], label)
        except SnapshotRejectedError as exc:
            self.report(
                f"ignored the snapshot of {label} at position "
                f"{shown_name(found[0].originator_version)}: {exc}; loaded from the events"
            )
            return None

    def _checked(self, aggregate_id: UUID, cls: type[A], stored: StoredEvent, label: str) -> A:
        """The aggregate a snapshot holds, once it checks out against the events.

        Raises:
            SnapshotRejectedError: it does not.
        """
        version = stored.originator_version
        if type(version) is not int or version < 1:
            raise SnapshotRejectedError("it is not at a position of the stream")
        snapshot_topic = cls.Snapshot.TOPIC  # type: ignore[attr-defined]
        if stored.topic != snapshot_topic:
            raise SnapshotRejectedError(f"it names topic {shown_name(stored.topic)}")
        try:
            fields = vars(self._mapper.to_domain_event(stored))
        except StoreDamagedError as exc:
            raise SnapshotRejectedError(
                "its record " + exc.message.split(f"stored record {version} ", 1)[-1]
            ) from None
        if set(fields) != SNAPSHOT_FIELDS or not _fits(fields["timestamp"], datetime):
            raise SnapshotRejectedError("its fields are not a snapshot's")
        if fields["topic"] != cls.TOPIC:  # type: ignore[attr-defined]
            raise SnapshotRejectedError(f"it names aggregate topic {shown_name(fields['topic'])}")
        state = fields["state"]
        shape = {**BASE_SHAPE, **cls.SHAPE}  # type: ignore[attr-defined]
        if not isinstance(state, dict) or set(state) != set(shape):
            raise SnapshotRejectedError("its state is not the aggregate's attributes")
        held = _build(cls, aggregate_id, version, state)
        wrong = misfit(held, cls)
        if wrong is not None:
            raise SnapshotRejectedError(f"it holds {wrong}")
        self._agrees(aggregate_id, cls, held, label)
        return held

    def _agrees(self, aggregate_id: UUID, cls: type[A], held: A, label: str) -> None:
        """Check a snapshot's aggregate against the events at its version and at 1.

        Raises:
            SnapshotRejectedError: an event is missing or unreadable, or they disagree.
        """
        version = held.version
        stored = self._select(self._events, aggregate_id, gt=version - 1, lte=version)
        if not stored:
            raise SnapshotRejectedError(f"no event is stored at position {version}")
        try:
            if version == 1:
                again = self._apply(cls, None, stored[0], label, False)
            else:
                before = _build(cls, aggregate_id, version - 1, _state(held))
                again = self._apply(cls, before, stored[0], label, False)
                first = self._select(self._events, aggregate_id, lte=1)
                if not first:
                    raise SnapshotRejectedError("the stream has no created event")
                created = self._apply(cls, None, first[0], label, False)
                for name in ("_created_on", *cls.FIXED):  # type: ignore[attr-defined]
                    if vars(created).get(name) != vars(held).get(name):
                        raise SnapshotRejectedError(f"its {name} is not the created event's")
        except StoreDamagedError as exc:
            raise SnapshotRejectedError(f"the event it rests on: {exc.message}") from None
        if _state(again) != _state(held):
            raise SnapshotRejectedError(f"it differs from the event stored at {version}")


def misfit(aggregate: Aggregate, cls: type[Aggregate]) -> str | None:
    """What in ``aggregate``'s attributes does not fit ``cls.SHAPE`` (None when all fit)."""
    values = vars(aggregate)
    for name, kind in {**BASE_SHAPE, **cls.SHAPE}.items():  # type: ignore[attr-defined]
        if name not in values:
            return f"no {name}"
        if not _fits(values[name], kind):
            return f"a {name} that is not {kind.__name__ if isinstance(kind, type) else kind}"
    return None


def _fits(value: Any, kind: Any) -> bool:
    if kind is int:
        return type(value) is int
    if kind is str:
        return type(value) is str
    if kind is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if kind == list[str]:
        return type(value) is list and all(type(v) is str for v in value)
    raise TypeError(f"no check for {kind!r}")  # pragma: no cover - a SHAPE error


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return {
        k: v for k, v in vars(aggregate).items() if k not in ("_id", "_version", "_pending_events")
    }


def _build(cls: type[A], aggregate_id: UUID, version: int, state: dict[str, Any]) -> A:
    """An aggregate of ``cls`` at ``version`` holding ``state`` (no name is resolved)."""
    aggregate = object.__new__(cls)
    values = copy.deepcopy(state)
    values.update(_id=aggregate_id, _version=version, _pending_events=[])
    object.__setattr__(aggregate, "__dict__", values)
    return aggregate
