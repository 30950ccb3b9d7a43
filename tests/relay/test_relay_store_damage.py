"""The relay's own streams damaged behind its back (issue 20, classes 2 and 3).

The relay keeps, beside the projects, its checkpoints (``RelayLog``) and each member's latest
cosignature (``RelayCosigner``) in the same store. A name in one of their rows never reaches
an import (a planted module that would leave a marker file is never imported) and a damaged
record is answered 503, never 500. A damaged snapshot of either is logged and ignored: the
relay loads the stream from its events and answers as if the snapshot were intact.

The stories run against a real ``accord relay serve`` process on the store the in-process
relay built; the wider sweep of snapshot damage runs in process.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from ledger.application import Ledger
from ledger.keys import Signer
from relay.aggregates import RelayCosigner, RelayLog, relay_stream_id
from relay.note import cosign, parse_note

SLUG = "no-whopper-day"
CHECKPOINT = f"/v1/projects/{SLUG}/checkpoint"
ENTRIES = f"/v1/projects/{SLUG}/entries"
COSIGNATURES = f"/v1/projects/{SLUG}/cosignatures"
PROBE = "accord_tamper_probe"
NAME = f"{PROBE}:Thing"
LOG_ID = relay_stream_id(SLUG).hex
ACME_ID = relay_stream_id(SLUG, "acme").hex


class Built:
    """A relay store holding a project of 4 entries, its relay log and acme's cosignature."""

    def __init__(self, relay: Any, kit: Any, log: list, next_entry: Any) -> None:
        self.relay = relay
        self.kit = kit
        self.log = log
        self.next_entry = next_entry  # seq 5, for an append

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with closing(sqlite3.connect(self.relay.url)) as conn, conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def event(self, stream: str, version: int) -> dict[str, Any]:
        ((state,),) = self.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (stream, version),
        )
        return dict(json.loads(state))

    def set_event(self, stream: str, version: int, state: bytes) -> None:
        query = (
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?"
        )
        assert self.execute(query, (state, stream, version)) == 1

    def snapshot(self, stream: str) -> tuple[int, dict[str, Any]]:
        ((version, state),) = self.execute(
            "SELECT originator_version, state FROM stored_snapshots WHERE originator_id = ?",
            (stream,),
        )
        return version, dict(json.loads(state))

    def set_snapshot(self, stream: str, column: str, value: Any) -> None:
        query = f"UPDATE stored_snapshots SET {column} = ? WHERE originator_id = ?"
        assert self.execute(query, (value, stream)) == 1


@pytest.fixture
def built(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> Built:
    log = kit.started(partner, signers, statements=3)
    assert relay.post(log[:1]).status_code == 201
    assert relay.post(log[1:4]).status_code == 201
    note = relay.get(CHECKPOINT, signers["acme"])
    cosigned = cosign(
        parse_note(note.text), name="acme", private_key=signers["acme"].private_key,
        timestamp=1 << 30,
    )  # fmt: skip
    held = relay.client.post(COSIGNATURES, content=cosigned.encode())
    assert held.status_code == 204, held.text
    with relay.store() as store:  # snapshots of both streams at their heads
        relay_log = store.ledger.repository.get(relay_stream_id(SLUG))  # intact: as the library
        acme = store.ledger.repository.get(relay_stream_id(SLUG, "acme"))
        assert (relay_log.version, acme.version) == (3, 2)
        assert store.ledger.snapshots is not None
        store.ledger.snapshots.put(
            [RelayLog.Snapshot.take(relay_log), RelayCosigner.Snapshot.take(acme)]
        )
    return Built(relay, kit, log, log[4])


@pytest.fixture
def probe(tmp_path: Path) -> tuple[Path, Path]:
    """A module directory for the relay's PYTHONPATH; the module leaves a marker if imported."""
    marker = tmp_path / "imported"
    package = tmp_path / "probe"
    package.mkdir()
    (package / f"{PROBE}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Thing:\n    pass\n", encoding="utf-8"
    )
    return package, marker


def real_relay(serve: Any, built: Built, probe: tuple[Path, Path]) -> tuple[Any, httpx.Client]:
    """A real relay process on the built store, with the probe on its PYTHONPATH."""
    served = serve(built.relay.url, home=built.relay.home, path=(probe[0],))
    return served, httpx.Client(base_url=served.url, timeout=30)


@contextmanager
def fresh_relay(kit: Any, tmp_path: Path) -> Iterator[Any]:
    """A new in-process relay app on the built store (nothing of it cached yet)."""
    app, key, url, home = kit.make_relay(tmp_path)
    with start_blocking_portal() as portal:
        client = kit.InProcess(app, portal)
        try:
            yield kit.Relay(client=client, key=key, url=url, home=home)
        finally:
            portal.call(client.client.aclose)
            app.state.close()


def signed_get(client: Any, kit: Any, path: str, signer: Signer) -> httpx.Response:
    return client.get(path, auth=kit.MemberAuth(signer))


def append(client: Any, built: Built) -> httpx.Response:
    return client.post(
        ENTRIES, content=built.kit.rows_body([built.next_entry]), headers=built.kit.NDJSON
    )


def assert_unavailable(answer: httpx.Response, message: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"error": "unavailable", "message": message}


# --- 2. names in the relay's rows ----------------------------------------------------------------


@pytest.mark.slow
def test_an_aggregate_topic_in_the_relay_logs_first_event_is_503_and_never_imported(
    serve: Any, built: Built, probe: tuple[Path, Path], signers: dict[str, Signer]
) -> None:
    built.execute("DELETE FROM stored_snapshots")
    first = built.event(LOG_ID, 1)
    assert first["originator_topic"] == "accord:RelayLog"
    built.set_event(LOG_ID, 1, json.dumps({**first, "originator_topic": NAME}).encode())
    message = f"stored record 1 of the relay log of '{SLUG}' names unknown aggregate topic '{NAME}'"

    served, client = real_relay(serve, built, probe)
    with client:
        checkpoint = signed_get(client, built.kit, CHECKPOINT, signers["burgerco"])
        appended = append(client, built)
        entries = signed_get(client, built.kit, ENTRIES, signers["burgerco"])

    assert_unavailable(checkpoint, message)
    assert_unavailable(appended, message)
    assert entries.status_code == 200  # what does not need the relay log is still served
    assert [json.loads(line)["hash"] for line in entries.text.splitlines()] == [
        e.hash for e in built.log[:4]
    ]
    assert not probe[1].exists()
    assert served.stop() == 0, "\n".join(served.lines)


@pytest.mark.slow
def test_an_aggregate_topic_in_a_cosigners_first_event_is_503_and_never_imported(
    serve: Any, built: Built, probe: tuple[Path, Path], signers: dict[str, Signer]
) -> None:
    built.execute("DELETE FROM stored_snapshots")
    first = built.event(ACME_ID, 1)
    built.set_event(ACME_ID, 1, json.dumps({**first, "originator_topic": NAME}).encode())
    message = (
        f"stored record 1 of the cosignatures of 'acme' in '{SLUG}' names unknown aggregate "
        f"topic '{NAME}'"
    )

    _served, client = real_relay(serve, built, probe)
    with client:
        listing = signed_get(client, built.kit, COSIGNATURES, signers["burgerco"])
        checkpoint = signed_get(client, built.kit, CHECKPOINT, signers["burgerco"])

    assert_unavailable(listing, message)
    assert_unavailable(checkpoint, message)
    assert not probe[1].exists()


@pytest.mark.slow
def test_a_relay_log_event_of_the_wrong_type_is_503_never_500(
    serve: Any, built: Built, probe: tuple[Path, Path], signers: dict[str, Signer]
) -> None:
    built.execute("DELETE FROM stored_snapshots")
    signed = built.event(LOG_ID, 3)
    built.set_event(LOG_ID, 3, json.dumps({**signed, "size": str(signed["size"])}).encode())

    _served, client = real_relay(serve, built, probe)
    with client:
        checkpoint = signed_get(client, built.kit, CHECKPOINT, signers["burgerco"])
        appended = append(client, built)

    message = f"stored record 3 of the relay log of '{SLUG}' holds a size that is not int"
    assert_unavailable(checkpoint, message)
    assert_unavailable(appended, message)


def test_an_unknown_topic_column_in_the_relays_streams_is_503(
    built: Built, signers: dict[str, Signer], tmp_path: Path
) -> None:
    built.execute("DELETE FROM stored_snapshots")
    query = "UPDATE stored_events SET topic = ? WHERE originator_id = ? AND originator_version = 2"
    assert built.execute(query, (NAME, LOG_ID)) == 1

    with fresh_relay(built.kit, tmp_path) as relay:
        checkpoint = relay.get(CHECKPOINT, signers["burgerco"])
        appended = relay.post([built.next_entry])

    message = f"stored record 2 of the relay log of '{SLUG}' names unknown topic '{NAME}'"
    assert_unavailable(checkpoint, message)
    assert_unavailable(appended, message)


# --- 3. damaged snapshots of the relay's streams ------------------------------------------------


def _state(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda s: {**s, "state": {**s["state"], **fields}}


RELAY_LOG_DAMAGE: dict[str, tuple[str, Any, str]] = {
    "an unknown aggregate topic in its state": (
        "state",
        lambda s: {**s, "topic": NAME},
        f"it names aggregate topic '{NAME}'",
    ),
    "an unknown topic column": ("topic", NAME, f"it names topic '{NAME}'"),
    "garbage bytes": ("state", b"\xff\x00", "its record cannot be decoded (UnicodeDecodeError)"),
    "a size that is text": ("state", _state(size="4"), "it holds a size that is not int"),
    "a frontier of numbers": (
        "state",
        _state(frontier=[1, 2]),
        "it holds a frontier that is not list[str]",
    ),
    "an older checkpoint": ("state", _state(size=1), "it differs from the event stored at 3"),
    "another origin": (
        "state",
        _state(origin="relay.example/x"),
        "its origin is not the created event's",
    ),
    "a position with no event": ("originator_version", 9, "no event is stored at position 9"),
    "an earlier position": ("originator_version", 2, "it differs from the event stored at 2"),
}


def damage_snapshot(built: Built, stream: str, column: str, change: Any) -> int:
    version, state = built.snapshot(stream)
    if column == "state" and callable(change):
        built.set_snapshot(stream, "state", json.dumps(change(state)).encode())
    else:
        built.set_snapshot(stream, column, change)
    return change if column == "originator_version" else version


@pytest.mark.parametrize("damage", list(RELAY_LOG_DAMAGE))
def test_a_damaged_relay_log_snapshot_is_ignored_and_the_relay_answers_as_if_intact(
    built: Built,
    signers: dict[str, Signer],
    damage: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    column, change, reason = RELAY_LOG_DAMAGE[damage]
    position = damage_snapshot(built, LOG_ID, column, change)
    kit = built.kit

    with fresh_relay(kit, tmp_path) as relay:
        checkpoint = relay.get(CHECKPOINT, signers["burgerco"])
        appended = relay.post([built.next_entry])
        after = relay.get(CHECKPOINT, signers["burgerco"])

    assert checkpoint.status_code == 200, checkpoint.text
    assert kit.checkpoint_of(checkpoint.text, relay.key) == (4, kit.rfc6962_root(built.log[:4]))
    assert appended.status_code == 201, appended.text
    assert kit.checkpoint_of(after.text, relay.key) == (5, kit.rfc6962_root(built.log[:5]))
    assert (
        f"ignored the snapshot of the relay log of '{SLUG}' at position {position}: {reason}; "
        "loaded from the events"
    ) in caplog.messages


@pytest.mark.parametrize(
    ("column", "change", "reason"),
    [
        ("state", _state(time=5), "it differs from the event stored at 2"),
        ("state", _state(note=7), "it holds a note that is not str"),
        ("state", lambda s: {**s, "topic": NAME}, f"it names aggregate topic '{NAME}'"),
    ],
    ids=["an older time", "a note that is a number", "an unknown aggregate topic"],
)
def test_a_damaged_cosigner_snapshot_is_ignored_and_the_held_cosignature_is_served(
    built: Built,
    signers: dict[str, Signer],
    column: str,
    change: Any,
    reason: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    intact = built.relay.get(COSIGNATURES, signers["burgerco"]).json()
    position = damage_snapshot(built, ACME_ID, column, change)

    with fresh_relay(built.kit, tmp_path) as relay:
        listing = relay.get(COSIGNATURES, signers["burgerco"])

    assert (listing.status_code, listing.json()) == (200, intact)
    assert [c["party"] for c in intact["cosignatures"]] == ["acme"]
    assert (
        f"ignored the snapshot of the cosignatures of 'acme' in '{SLUG}' at position "
        f"{position}: {reason}; loaded from the events"
    ) in caplog.messages


@pytest.mark.slow
def test_a_real_relay_keeps_working_on_a_damaged_relay_log_snapshot_and_says_so(
    serve: Any, built: Built, probe: tuple[Path, Path], signers: dict[str, Signer]
) -> None:
    version, state = built.snapshot(LOG_ID)
    built.set_snapshot(LOG_ID, "state", json.dumps({**state, "topic": NAME}).encode())
    kit, key = built.kit, built.relay.key

    served, client = real_relay(serve, built, probe)
    with client:
        checkpoint = signed_get(client, kit, CHECKPOINT, signers["burgerco"])
        appended = append(client, built)
        after = signed_get(client, kit, CHECKPOINT, signers["burgerco"])
    assert served.stop() == 0

    assert checkpoint.status_code == 200, checkpoint.text
    assert kit.checkpoint_of(checkpoint.text, key) == (4, kit.rfc6962_root(built.log[:4]))
    assert appended.status_code == 201, appended.text
    assert kit.checkpoint_of(after.text, key) == (5, kit.rfc6962_root(built.log[:5]))
    warning = (
        f"ignored the snapshot of the relay log of '{SLUG}' at position {version}: it names "
        f"aggregate topic '{NAME}'; loaded from the events"
    )
    assert [line for line in served.lines if line.endswith(warning)] != []
    assert not probe[1].exists()
