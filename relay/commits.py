"""Group commit: the appends of a relay process's worker threads stored in one transaction.

eventsourcing's PostgreSQL recorder locks the events table (``IN EXCLUSIVE MODE``) before
every insert and holds the lock through the commit, so that notification ids follow commit
order: every append of every project commits after the one before. :class:`GroupCommit`,
shared by the worker threads of one process, lets the appends that arrive while a commit runs
wait for it and then go together, in one transaction of the thread that leads the next one:
one lock and one WAL flush for them all (``docs/benchmarks.md``, "The relay under load").

Nothing else changes: each append's events (its entries and its checkpoint) are still
stored all or none, with the store's compare-and-swap on each stream's version. Two appends
to the same stream never go in one batch; when a batch fails (another process took a
version, say), nothing of it is stored and each of its appends is tried again alone, in its
own thread, so that a conflict is answered to its writer only, as without group commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_BATCH = 64  # appends in one transaction

Insert = Callable[..., Sequence[int] | None]


@dataclass
class _Pending:
    events: list[Any]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this thread commits the next batch
    alone: bool = False  # the batch failed: insert these events alone
    ids: Sequence[int] | None = None
    error: Exception | None = None

    @property
    def streams(self) -> set[Any]:
        return {e.originator_id for e in self.events}


class GroupCommit:
    """Concurrent inserts of one process's threads, committed together (thread-safe)."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False
        self.transactions = 0  # batches committed (for tests and benchmarks)

    def wrap(self, recorder: Any) -> None:
        """Route ``recorder.insert_events`` (a PostgreSQL application recorder) through here."""
        insert: Insert = recorder.insert_events

        def insert_events(stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
            return self.insert(insert, stored_events, **kwargs)

        recorder.insert_events = insert_events

    def insert(
        self, insert: Insert, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert ``stored_events`` with ``insert``, in one transaction with others waiting.

        Raises:
            Whatever ``insert`` raises for these events alone (IntegrityError on a conflict).
        """
        if not stored_events or any(v is not None for v in kwargs.values()):
            return insert(stored_events, **kwargs)  # tracking records: not grouped
        pending = _Pending(list(stored_events))
        with self._lock:
            self._queue.append(pending)
            pending.lead = not self._leading
            self._leading = True
        if not pending.lead:
            pending.done.wait()
            pending.done.clear()
        if pending.lead:
            self._commit(insert, self._take())
        if pending.error is not None:
            raise pending.error
        if pending.alone:
            return insert(stored_events, **kwargs)
        return pending.ids

    def _take(self) -> list[_Pending]:
        """The next batch: queued appends of distinct streams, oldest first."""
        with self._lock:
            batch: list[_Pending] = []
            streams: set[Any] = set()
            rest: list[_Pending] = []
            for item in self._queue:
                mine = item.streams
                if len(batch) < self.max_batch and not mine & streams:
                    batch.append(item)
                    streams |= mine
                else:
                    rest.append(item)
            self._queue = rest
            return batch

    def _commit(self, insert: Insert, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:  # alone: its own insert, errors and all (others queue meanwhile)
                batch[0].ids = insert(batch[0].events)
            else:
                ids = insert([e for item in batch for e in item.events])
                start = 0
                for item in batch:
                    item.ids = None if ids is None else list(ids[start : start + len(item.events)])
                    start += len(item.events)
                self.transactions += 1
        except BaseException as exc:  # nothing of the batch is stored
            if len(batch) == 1 and isinstance(exc, Exception):
                batch[0].error = exc
            else:  # each tries alone: a conflict is answered to its own writer only
                for item in batch:
                    item.alone = True
            if not isinstance(exc, Exception):
                raise
        finally:
            self._hand_over(batch)

    def _hand_over(self, batch: list[_Pending]) -> None:
        """Wake the batch's threads, and let the oldest waiting thread lead the next batch."""
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._leading = False
        for item in batch:
            if not item.lead:
                item.done.set()
