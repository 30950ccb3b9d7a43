"""Loading accord's aggregates (``ledger/loader.py``) and decoding records (``SafeMapper``).

No name read from the store is resolved by importing it; a record that is not one accord
wrote is a ``StoreDamagedError`` at its position; a snapshot is used only when it agrees,
attribute for attribute, with the events stored at its version and at version 1.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from ledger import storage
from ledger.application import Ledger
from ledger.errors import StoreDamagedError
from ledger.loader import AggregateLoader, misfit
from ledger.project import Project, project_id
from ledger.rows import KNOWN_TOPICS, SafeMapper, UnknownTopicError, register_topics
from relay.aggregates import RelayCosigner, RelayLog, relay_stream_id
from relay.merkle import Frontier, leaf_hash
from tests.conftest import FixedClock

SLUG = "spring-campaign"
LOG_ID = relay_stream_id(SLUG)


@pytest.fixture
def app(tmp_path: Path, signers: dict[str, Any]) -> Any:
    """A SQLite ledger holding a project of 3 entries and a relay log of 3 checkpoints."""
    ledger = Ledger(storage.settings(str(tmp_path / "accord.db")), clock=FixedClock())
    ledger.propose_project(
        SLUG, title="T", purpose="", members={"burgerco": None}, approval="all", close="all",
        signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])
    ledger.propose_statement(SLUG, title="S", text="x", signer=signers["acme"])
    log = RelayLog(slug=SLUG, origin="relay.test/log")
    for size in (1, 3):
        frontier = Frontier.from_leaves([leaf_hash(bytes([n]) * 32) for n in range(size)])
        log.sign(frontier=frontier, note=f"note {size}")
    ledger.save(log)
    ledger.path = tmp_path / "accord.db"  # type: ignore[attr-defined]
    yield ledger
    ledger.close()


def execute(app: Any, query: str, params: tuple[Any, ...] = ()) -> Any:
    with closing(sqlite3.connect(app.path)) as conn, conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def state_of(app: Any, stream: UUID, version: int, table: str = "stored_events") -> Any:
    query = f"SELECT state FROM {table} WHERE originator_id = ? AND originator_version = ?"
    ((state,),) = execute(app, query, (stream.hex, version))
    return json.loads(state)


def put_state(
    app: Any, stream: UUID, version: int, state: Any, table: str = "stored_events"
) -> None:
    raw = state if isinstance(state, bytes) else json.dumps(state).encode()
    query = f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?"
    assert execute(app, query, (raw, stream.hex, version)) == 1


def loader(app: Any, notices: list[str] | None = None) -> AggregateLoader:
    """A fresh loader on the app's stores (nothing cached)."""
    found = notices if notices is not None else []
    return AggregateLoader(app.recorder, app.snapshots.recorder, app.mapper, report=found.append)


def snapshot(app: Any, stream: UUID, cls: type[Aggregate]) -> Aggregate:
    """Store a snapshot of the stream's aggregate at its head; return the aggregate."""
    aggregate = loader(app).get(stream, cls, label="it")
    app.snapshots.put([cls.Snapshot.take(aggregate)])  # type: ignore[attr-defined]
    return aggregate


# --- SafeMapper: no name is resolved by an import -----------------------------------------------


def test_the_mapper_never_imports_a_topic_not_registered_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "accord.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "accord", raising=False)
    monkeypatch.setitem(KNOWN_TOPICS, "accord:NotRegisteredHere", None)  # named, no class
    stored = StoredEvent(
        originator_id=project_id(SLUG),
        originator_version=3,
        topic="accord:NotRegisteredHere",
        state=b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-22T10:00:00+00:00"}}',
    )
    mapper = SafeMapper(
        transcoder=Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper.transcoder
    )

    with pytest.raises(UnknownTopicError) as caught:
        mapper.to_domain_event(stored)

    assert caught.value.message == "stored record 3 names unknown topic 'accord:NotRegisteredHere'"
    assert caught.value.seq == 3
    assert not marker.exists()
    assert "accord" not in sys.modules


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (b"\xff", "stored record 2 cannot be decoded (UnicodeDecodeError)"),
        (b"[1, 2]", "stored record 2 is not an object of accord's fields"),
        (b'{"class_version": 2}', "stored record 2 is not an object of accord's fields"),
        (b"[" * 100_000, "stored record 2 cannot be decoded (RecursionError)"),
    ],
)
def test_the_mapper_reports_undecodable_state_as_damage(state: bytes, message: str) -> None:
    app = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = StoredEvent(project_id(SLUG), 2, Project.EntryRecorded.TOPIC, state)
    with pytest.raises(StoreDamagedError) as caught:
        app.mapper.to_domain_event(stored)
    assert (caught.value.message, caught.value.seq) == (message, 2)
    app.close()


def test_only_the_relays_named_topics_can_be_registered_and_each_once() -> None:
    with pytest.raises(ValueError, match="cannot register"):
        register_topics(type("Stranger", (), {"TOPIC": "evil:Stranger"}))
    with pytest.raises(ValueError, match="cannot register"):
        register_topics(type("Other", (), {"TOPIC": RelayLog.TOPIC}))
    register_topics(RelayLog)  # the same class again: a no-op
    assert KNOWN_TOPICS[RelayLog.TOPIC] is RelayLog


# --- events -------------------------------------------------------------------------------------


def test_a_stream_loads_through_accords_checks(app: Any) -> None:
    project = loader(app).get(project_id(SLUG), Project, label="p", seqs=True)
    log = loader(app).get(LOG_ID, RelayLog, label="l")
    assert (project.version, log.version, log.size, log.note) == (3, 3, 3, "note 3")
    with pytest.raises(AggregateNotFoundError):
        loader(app).get(project_id("another"), Project, label="p")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: {**s, "originator_topic": "accord:RelayLog"},
            "stored record 1 of p names unknown aggregate topic 'accord:RelayLog'",
        ),
        (
            lambda s: {**s, "originator_topic": None},
            "stored record 1 of p names unknown aggregate topic a NoneType",
        ),
        (
            lambda s: {k: v for k, v in s.items() if k != "slug"},
            "stored record 1 of p cannot be applied (TypeError)",
        ),
        (lambda s: {**s, "hash": 7}, "stored record 1 of p holds a head that is not str"),
    ],
    ids=["another aggregate's topic", "no topic", "a missing field", "a mistyped field"],
)
def test_a_damaged_created_event_is_store_damage_at_seq_1(
    app: Any, change: Any, message: str
) -> None:
    put_state(app, project_id(SLUG), 1, change(state_of(app, project_id(SLUG), 1)))
    with pytest.raises(StoreDamagedError) as caught:
        loader(app).get(project_id(SLUG), Project, label="p", seqs=True)
    assert (caught.value.message, caught.value.seq) == (message, 1)


def test_records_of_another_stream_or_out_of_place_are_store_damage(app: Any) -> None:
    stream = project_id(SLUG)
    execute(
        app,
        "UPDATE stored_events SET topic = ? WHERE originator_id = ? AND originator_version = 2",
        (Project.Proposed.TOPIC, stream.hex),
    )
    with pytest.raises(StoreDamagedError, match="is not in its place"):
        loader(app).get(stream, Project, label="p")
    execute(
        app,
        "UPDATE stored_events SET topic = ? WHERE originator_id = ? AND originator_version = 2",
        (RelayLog.Signed.TOPIC, stream.hex),
    )
    with pytest.raises(
        StoreDamagedError, match=re.escape("names topic 'accord:RelayLog.Signed', not an event")
    ):
        loader(app).get(stream, Project, label="p")
    with pytest.raises(
        StoreDamagedError, match=re.escape("names topic 'accord:RelayLog.Started', not an event")
    ):
        loader(app).get(LOG_ID, Project, label="p")  # a stream of another aggregate
    execute(
        app,
        "UPDATE stored_events SET originator_version = 7 "
        "WHERE originator_id = ? AND originator_version = 3",
        (LOG_ID.hex,),
    )
    with pytest.raises(StoreDamagedError, match="stored record 3 of l is stored at position 7"):
        loader(app).get(LOG_ID, RelayLog, label="l")


# --- snapshots ----------------------------------------------------------------------------------


def test_a_snapshot_that_checks_out_is_used(app: Any) -> None:
    held = snapshot(app, LOG_ID, RelayLog)
    put_state(app, LOG_ID, 2, b"garbage below the snapshot")
    notices: list[str] = []
    loaded = loader(app, notices).get(LOG_ID, RelayLog, label="l")
    assert vars(loaded) == vars(held)
    assert notices == []


@pytest.mark.parametrize(
    ("cls", "stream"),
    [
        (Project, project_id(SLUG)),
        (RelayLog, LOG_ID),
        (RelayCosigner, relay_stream_id(SLUG, "acme")),
    ],
)
def test_every_attribute_of_a_snapshot_is_checked_against_the_events(
    app: Any, cls: type[Aggregate], stream: UUID
) -> None:
    if cls is RelayCosigner:
        record = RelayCosigner(slug=SLUG, handle="acme")
        record.cosign(key="SHA256:k", size=3, time=10, note="cosigned")
        app.save(record)
    held = snapshot(app, stream, cls)
    version, intact = held.version, state_of(app, stream, held.version, "stored_snapshots")
    shape = cls.SHAPE  # type: ignore[attr-defined]
    assert set(intact["state"]) == {"_created_on", "_modified_on", *shape}
    for name, kind in shape.items():
        other = {str: "other", int: 999}.get(kind, ["00" * 32])
        put_state(
            app,
            stream,
            version,
            {**intact, "state": {**intact["state"], name: other}},
            "stored_snapshots",
        )
        notices: list[str] = []
        loaded = loader(app, notices).get(stream, cls, label="it")
        assert vars(loaded) == vars(held), name
        fixed = name in cls.FIXED  # type: ignore[attr-defined]
        reason = (
            f"its {name} is not the created event's"
            if fixed
            else f"it differs from the event stored at {version}"
        )
        assert notices == [
            f"ignored the snapshot of it at position {version}: {reason}; loaded from the events"
        ]


def test_shapes_name_every_attribute_their_aggregates_hold(app: Any) -> None:
    project = loader(app).get(project_id(SLUG), Project, label="p")
    log = loader(app).get(LOG_ID, RelayLog, label="l")
    assert misfit(project, Project) is None and misfit(log, RelayLog) is None
    for aggregate, cls in ((project, Project), (log, RelayLog)):
        own = set(vars(aggregate)) - {
            "_id",
            "_version",
            "_pending_events",
            "_created_on",
            "_modified_on",
        }
        assert own == set(cls.SHAPE)  # type: ignore[attr-defined]
        assert set(cls.FIXED) < own  # type: ignore[attr-defined]


def test_a_cached_aggregate_is_a_copy_brought_forward(app: Any, signers: dict[str, Any]) -> None:
    cached = AggregateLoader(app.recorder, app.snapshots.recorder, app.mapper, cache=2)
    first = cached.get(project_id(SLUG), Project, label="p")
    first.head = "changed by a caller"
    app.propose_statement(SLUG, title="S2", text="y", signer=signers["acme"])
    again = cached.get(project_id(SLUG), Project, label="p")
    assert again.version == 4 and again.head == app.verified_state(SLUG).head
