"""Reading stored rows: the one place that turns the event store's records into rows.

A row is what the store holds for one position of one project: the entry text, the
signature and the hash, with the store's receive time. Rows are decoded through accord's own
list of known topics (:data:`KNOWN_TOPICS`): a row that names any other topic, in its topic
column or inside its state (the first event's ``originator_topic``), is reported as damaged
at its position, and no module is ever imported because a row names it (the library's
``resolve_topic`` is never called on a stored name: :class:`SafeMapper` builds events from
this list alone). Nothing else the store says (the slug beside the first event, the party,
ids) is taken as true: what a project contains is decided by the signed entries alone
(``ledger/fold.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Mapper, PersistenceError

from ledger.errors import LedgerError, StorageUnavailableError, StoreDamagedError
from ledger.project import Project, project_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.persistence import StoredEvent

PAGE = 1000
UNREADABLE = "\x00unreadable stored event"

KNOWN_TOPICS: dict[str, type[Any] | None] = {
    Project.Proposed.TOPIC: Project.Proposed,
    Project.EntryRecorded.TOPIC: Project.EntryRecorded,
    Project.Snapshot.TOPIC: Project.Snapshot,
}
OWN_NAMESPACE = "accord:"  # the only names another package's stored classes may take


@dataclass(frozen=True)
class SideStreams:
    """Streams another package stores beside the projects (registered, never named here).

    Attributes:
        topics: the topics their records name.
        stream_id: the id such a stream must be stored under, from the state of its first
            record (None when that state names none).
    """

    topics: frozenset[str]
    stream_id: Callable[[dict[str, Any]], UUID | None]


SIDE_STREAMS: list[SideStreams] = []


def register_topics(*classes: type[Any]) -> None:
    """Let stored records name ``classes`` (another package's aggregates and their events).

    ``ledger`` never imports the packages that store aggregates beside the projects: each
    registers its classes when it is imported.
    A topic must be in accord's namespace (``accord:``) and names one class for the life of
    the process; a stored name that no class registered is never imported (:class:`SafeMapper`).

    Raises:
        ValueError: a class whose ``TOPIC`` is not in accord's namespace, or one registered
            already for another class.
    """
    for cls in classes:
        topic = getattr(cls, "TOPIC", None)
        if (
            not isinstance(topic, str)
            or not topic.startswith(OWN_NAMESPACE)
            or KNOWN_TOPICS.get(topic) not in (None, cls)
        ):
            raise ValueError(f"cannot register {cls!r} for topic {topic!r}")
        KNOWN_TOPICS[topic] = cls


def register_side_streams(streams: SideStreams) -> None:
    """Let ``scan_projects`` tell ``streams`` from projects (registered with their topics).

    Raises:
        ValueError: a topic of ``streams`` is not registered (:func:`register_topics`).
    """
    unknown = sorted(t for t in streams.topics if KNOWN_TOPICS.get(t) is None)
    if unknown:
        raise ValueError(f"register the classes of {unknown} first")
    if streams not in SIDE_STREAMS:
        SIDE_STREAMS.append(streams)


ENTRY_TOPICS = frozenset({Project.Proposed.TOPIC, Project.EntryRecorded.TOPIC})


class UnknownTopicError(StoreDamagedError):
    """A stored record names a topic accord does not know (it is never imported)."""


def shown_name(value: object) -> str:
    """A name (or position) read from the store, as a message may quote it (bounded)."""
    if isinstance(value, str):
        return repr(value[:80])
    if type(value) is int:
        return str(value)
    return f"a {type(value).__name__}"


class SafeMapper(Mapper[UUID]):
    """The library's mapper, restricted to accord's own topics.

    ``Mapper.to_domain_event`` resolves a record's topic by importing the module it names;
    here the class comes from :data:`KNOWN_TOPICS` alone (another package's topic counts
    only once its class is registered in this process), and the library's ``resolve_topic`` is never
    called. Undecodable state is :class:`~ledger.errors.StoreDamagedError`, never a crash.
    """

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Decode ``stored_event`` if its topic is one of accord's.

        Raises:
            UnknownTopicError: the topic is not one of :data:`KNOWN_TOPICS`.
            StoreDamagedError: the state cannot be decoded as an object of named fields.
        """
        version = stored_event.originator_version
        seq = version if isinstance(version, int) and not isinstance(version, bool) else None
        topic = stored_event.topic
        cls = KNOWN_TOPICS.get(topic) if isinstance(topic, str) else None
        if cls is None:
            raise UnknownTopicError(
                f"stored record {version} names unknown topic {shown_name(topic)}", seq=seq
            )
        try:
            state = stored_event.state
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
            fields = self.transcoder.decode(state)
        except Exception as exc:  # any garbage: damage at its position, never a crash
            raise StoreDamagedError(
                f"stored record {version} cannot be decoded ({type(exc).__name__})", seq=seq
            ) from None
        if not isinstance(fields, dict) or "class_version" in fields:
            raise StoreDamagedError(
                f"stored record {version} is not an object of accord's fields", seq=seq
            )
        originator = stored_event.originator_id
        try:
            fields["originator_id"] = (
                originator if isinstance(originator, UUID) else UUID(str(originator))
            )
        except ValueError:
            raise StoreDamagedError(f"stored record {version} has no valid id", seq=seq) from None
        fields["originator_version"] = version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", fields)
        return event


@dataclass(frozen=True)
class Row:
    """One stored row: its position in the store (None for a bundle line) and its strings.

    ``received_at`` is the store's own receive time (None for a bundle line); it is shown,
    never trusted.
    """

    position: int | None
    text: str
    sig: str
    hash: str
    received_at: datetime | None = None
    damage: str | None = None
    damage_kind: str = "store"  # the problem kind a damaged row is reported as


def decode(mapper: Mapper[UUID], stored: StoredEvent) -> Row:
    """Decode one stored record into a row; a damaged one becomes a row that says why.

    Only the signed fields are read (entry text, signature, hash) and the receive time.
    Records in the library's plain JSON form (no compression or cipher: accord configures
    none) are read directly; anything else goes through the (topic-checked) mapper.
    """
    position = stored.originator_version if isinstance(stored.originator_version, int) else None
    try:
        if stored.topic not in ENTRY_TOPICS:
            what = "a snapshot" if stored.topic == Project.Snapshot.TOPIC else "unknown"
            raise UnknownTopicError(f"stored record names {what} topic {shown_name(stored.topic)}")
        received: Any
        fast = _plain(stored.state)
        if fast is not None:
            text, sig, digest, received, named = fast
        else:
            event = mapper.to_domain_event(stored)
            text, sig, digest = event.entry, event.sig, event.hash  # type: ignore[attr-defined]
            received = getattr(event, "timestamp", None)
            named = getattr(event, "originator_topic", None)
        if stored.topic == Project.Proposed.TOPIC and named != Project.TOPIC:
            raise UnknownTopicError(
                f"stored record names unknown aggregate topic {shown_name(named)}"
            )
        if not all(isinstance(v, str) for v in (text, sig, digest)):
            raise TypeError("stored fields are not strings")
        if not isinstance(received, datetime):
            raise TypeError("stored timestamp is not a time")
    except UnknownTopicError as exc:
        return Row(position=position, text=UNREADABLE, sig="", hash="", damage=exc.message)
    except Exception as exc:  # a damaged row is reported at its position, never a crash
        cause = f"stored record cannot be decoded ({type(exc).__name__})"
        return Row(position=position, text=UNREADABLE, sig="", hash="", damage=cause)
    return Row(position=position, text=text, sig=sig, hash=digest, received_at=received)


def _plain(state: bytes) -> tuple[Any, Any, Any, datetime, Any] | None:
    """The fields of a record stored as the library's plain JSON, or None for another form.

    The fields: entry text, signature, hash, receive time and the aggregate topic a created
    event names (compared with accord's, never resolved).
    """
    if not state.startswith(b"{"):
        return None
    data = json.loads(state)
    stamp = data.get("timestamp") if isinstance(data, dict) else None
    if not (isinstance(stamp, dict) and stamp.get("_type_") == "datetime_iso"):
        return None
    when = stamp.get("_data_")
    if not isinstance(when, str):
        return None
    return (
        data.get("entry"),
        data.get("sig"),
        data.get("hash"),
        datetime.fromisoformat(when),
        data.get("originator_topic"),
    )


class RowReader:
    """Indexed reads of one application's stored records, a page at a time."""

    def __init__(self, recorder: Any, mapper: Mapper[UUID]) -> None:
        self._recorder = recorder
        self._mapper = mapper

    def _select(self, slug: str, **kwargs: Any) -> list[StoredEvent]:
        try:
            return list(self._recorder.select_events(project_id(slug), **kwargs))
        except PersistenceError as exc:
            raise unavailable(exc) from None

    def last(self, slug: str) -> Row | None:
        """The project's last stored row (by position), or None when it has none."""
        found = self._select(slug, desc=True, limit=1)
        return decode(self._mapper, found[0]) if found else None

    def first(self, slug: str) -> Row | None:
        """The project's first stored row (by position), or None when it has none."""
        found = self._select(slug, limit=1)
        return decode(self._mapper, found[0]) if found else None

    def at(self, slug: str, position: int) -> Row | None:
        """The row stored at ``position``, or None when there is none."""
        found = self._select(slug, gt=position - 1, lte=position, limit=1)
        return decode(self._mapper, found[0]) if found else None

    def pages(
        self, slug: str, *, after: int = 0, upto: int | None = None, batch: int = PAGE
    ) -> Iterator[Row]:
        """Yield the rows after position ``after`` (up to ``upto``), ``batch`` rows a read.

        A reader that may stop early (the relay's pages, bounded in bytes) reads small
        batches, so that it never holds many rows it does not use.
        """
        last = after
        while True:
            found = self._select(slug, gt=last, lte=upto, limit=batch)
            for stored in found:
                yield decode(self._mapper, stored)
            if len(found) < batch:
                return
            last = found[-1].originator_version

    def proposals(self, *, after: int, limit: int) -> list[tuple[int, Row]]:
        """The stored genesis rows (``project.proposed``) after notification id ``after``.

        Read from the store's notification log, in the order the store recorded them, at
        most ``limit`` at a time, each with its notification id: whoever follows the log
        (the relay's index of invitations) reads each proposal once. The rows are as stored:
        nothing in them is trusted until the project is verified.
        """
        try:
            found = self._recorder.select_notifications(
                start=after + 1, limit=limit, topics=[Project.Proposed.TOPIC]
            )
        except PersistenceError as exc:
            raise unavailable(exc) from None
        return [(int(n.id), decode(self._mapper, n)) for n in found]

    def stream_ids(self) -> list[UUID]:
        """Every stream id the store holds, by a skip scan of the primary key index.

        This reads one index entry per stream, never the history; the topic of a row is not
        consulted (editing it must not hide a project).
        """
        index = getattr(self._recorder, "_stored_events_index", None)
        if index is not None:  # the in-memory store of the tests
            return sorted(UUID(key) for key, rows in index.items() if rows)
        table = self._table()
        first = f"SELECT originator_id FROM {table}"  # noqa: S608 - the library's own table
        statement = (
            "WITH RECURSIVE ids(id) AS ("  # noqa: S608 - the library's own table name
            f"SELECT ({first} ORDER BY originator_id LIMIT 1) "
            "UNION ALL "
            f"SELECT ({first} WHERE originator_id > ids.id ORDER BY originator_id LIMIT 1) "
            "FROM ids WHERE ids.id IS NOT NULL) "
            "SELECT id FROM ids WHERE id IS NOT NULL"
        )
        result = []
        for (value,) in self._query(statement, None):
            result.append(value if isinstance(value, UUID) else UUID(str(value)))
        return result

    def stream_slug(self, stream: UUID) -> Row | None:
        """The first row of the stream ``stream`` (to learn, from the signed entry, its slug)."""
        try:
            found = list(self._recorder.select_events(stream, limit=1))
        except PersistenceError as exc:
            raise unavailable(exc) from None
        return decode(self._mapper, found[0]) if found else None

    def _table(self) -> str:
        name = str(self._recorder.events_table_name)
        datastore = self._recorder.datastore
        schema = getattr(datastore, "schema", None)
        return f'"{schema}"."{name}"' if schema else f'"{name}"'

    def _query(self, statement: str, key: UUID | None) -> list[tuple[Any, ...]]:
        datastore = self._recorder.datastore
        postgres = hasattr(datastore, "schema")
        params: list[Any] = []
        if key is not None:
            statement += "%s" if postgres else "?"
            params.append(key if postgres else key.hex)
        try:
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, params)
                rows = cursor.fetchall()
        except PersistenceError as exc:
            raise unavailable(exc) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("sqlite3", "psycopg")):
                raise unavailable(exc) from None
            raise
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]


def unavailable(exc: Exception) -> LedgerError:
    """The error for a store that failed under a read or a write."""
    from ledger.errors import LedgerNotFoundError

    text = str(exc)
    if ("does not exist" in text and "relation" in text) or "no such table" in text:
        return LedgerNotFoundError(
            "this database holds no accord ledger yet",
            hint="run `accord init --ledger URL` once to create the tables",
        )
    return StorageUnavailableError(
        f"the ledger store is unavailable: {text.splitlines()[0] if text else repr(exc)}",
        hint="check --ledger / ACCORD_LEDGER and that the database is reachable",
    )


def entry_slug(row: Row) -> str | None:
    """The project named inside a row's signed entry text (None when it cannot be read)."""
    try:
        data = json.loads(row.text)
    except (ValueError, RecursionError):
        return None
    value = data.get("project") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
