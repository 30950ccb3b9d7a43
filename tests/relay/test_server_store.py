"""The relay's store: atomic appends, checked checkpoints, its own streams, its key."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commands.cli import cli
from ledger.application import Ledger
from ledger.errors import ConflictError, KeyFileError
from ledger.keys import Signer
from relay import keys as relay_keys
from relay.aggregates import RelayLog, relay_stream_id
from relay.errors import RelayStateError
from relay.merkle import Frontier, leaf_hash
from relay.note import origin_for

SLUG = "no-whopper-day"


@pytest.fixture
def stored(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> list:
    log = kit.started(partner, signers, statements=3)
    relay.post(log[:1])
    relay.post(log[1:4])
    return log


def test_an_append_whose_checkpoint_lost_the_race_stores_no_entry(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    with relay.store() as store:
        stale: RelayLog = store.ledger.repository.get(relay_stream_id(SLUG))
        store.checkpoint(SLUG)  # the store's checkpoint is current
        other = store.ledger.repository.get(relay_stream_id(SLUG))
        other.sign(frontier=other.tree(), note=other.note)  # another relay signed meanwhile
        store.ledger.save(other)
        stale.sign(
            frontier=stale.tree().extend([leaf_hash(bytes.fromhex(stored[4].hash))]), note="x"
        )

        with pytest.raises(ConflictError):
            store.ledger.append_signed(SLUG, [stored[4]], also=[stale])

        assert store.ledger.count_rows(SLUG) == 4


def test_entries_stored_without_the_relay_get_a_checkpoint_when_asked(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    with relay.store() as store:
        store.ledger.append_signed(SLUG, [stored[4]])  # as `accord import` would

    answer = relay.get(f"/v1/projects/{SLUG}/checkpoint", signers["acme"])

    assert kit.checkpoint_of(answer.text, relay.key) == (5, kit.rfc6962_root(stored))


def test_a_relay_log_that_does_not_match_the_entries_is_refused_with_503(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    with relay.store() as store:
        log = store.ledger.repository.get(relay_stream_id(SLUG))
        wrong = Frontier.from_leaves([leaf_hash(bytes(32))] * 5)
        log.sign(frontier=wrong, note=log.note)
        store.ledger.save(log)
        with pytest.raises(RelayStateError):
            store.checkpoint(SLUG)

    answer = relay.client.post(
        f"/v1/projects/{SLUG}/entries", content=kit.rows_body(stored[4:]), headers=kit.NDJSON
    )

    assert (answer.status_code, answer.json()["error"]) == (503, "unavailable")


def test_a_new_relay_key_re_signs_the_latest_checkpoint_at_the_same_size(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer], tmp_path: Path
) -> None:
    other = relay_keys.load_or_create(tmp_path / "other-home")
    with relay.store() as store:
        store.key = other
        log = store.checkpoint(SLUG)

        assert log.size == 4
        assert kit.checkpoint_of(log.note, other) == (4, kit.rfc6962_root(stored[:4]))


def test_project_lists_skip_the_relays_streams_but_not_a_project_whose_topic_was_edited(
    relay: Any, stored: list, signers: dict[str, Signer]
) -> None:
    with relay.store() as store:
        assert store.ledger.scan_projects() == ([SLUG], [])
    database = sqlite3.connect(relay.url)
    with database:
        database.execute(
            "UPDATE stored_events SET topic='accord:RelayLog.Started' WHERE originator_version=1 "
            "AND topic='accord:Project.Proposed'"
        )
    database.close()

    with relay.store() as store:
        slugs, problems = store.ledger.scan_projects()

    assert slugs == []
    assert [p.seq for p in problems] == [1, 1]
    assert any("does not name it" in p.cause for p in problems)
    assert any(p.slug == SLUG and "no longer holds it" in p.cause for p in problems)


def test_the_relay_key_is_created_once_mode_0600_unencrypted_by_default(tmp_path: Path) -> None:
    first = relay_keys.load_or_create(tmp_path)
    again = relay_keys.load_or_create(tmp_path)

    assert first.fingerprint == again.fingerprint
    assert first.path == tmp_path / "relay" / "relay.key"
    assert first.path.stat().st_mode & 0o777 == 0o600
    assert first.path.parent.stat().st_mode & 0o777 == 0o700
    assert first.path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert "private" not in repr(first).lower().replace("private_key", "")


def test_a_relay_key_is_encrypted_with_the_passphrase_and_refused_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_RELAY_PASSPHRASE", "relay-passphrase")
    key = relay_keys.load_or_create(tmp_path)
    assert key.path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    monkeypatch.delenv("ACCORD_RELAY_PASSPHRASE")

    with pytest.raises(KeyFileError) as missing:
        relay_keys.load_or_create(tmp_path)
    with pytest.raises(KeyFileError):
        relay_keys.load_or_create(tmp_path, passphrase="wrong-passphrase")

    assert "ACCORD_RELAY_PASSPHRASE" in (missing.value.hint or "")
    assert relay_keys.load_or_create(tmp_path, passphrase="relay-passphrase").fingerprint == (
        key.fingerprint
    )


def test_a_relay_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = relay_keys.load_or_create(tmp_path)
    os.chmod(key.path, 0o644)

    with pytest.raises(KeyFileError, match="readable by others"):
        relay_keys.load_or_create(tmp_path)


def test_accord_relay_key_shows_the_key_and_a_projects_verifier_key(
    relay: Any, stored: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACCORD_LEDGER", raising=False)
    runner = CliRunner()
    home = str(relay.home)

    plain = runner.invoke(cli, ["relay", "key", "--home", home, "--format", "json"])
    project = runner.invoke(
        cli, ["relay", "key", "--home", home, "--ledger", relay.url, "--project", SLUG]
    )
    missing = runner.invoke(
        cli, ["relay", "key", "--home", home, "--ledger", relay.url, "--project", "nothing-here"]
    )

    assert plain.exit_code == 0, plain.output
    assert relay.key.fingerprint in plain.output
    origin = origin_for(stored[0].hash)
    assert project.exit_code == 0, project.output
    assert f"origin        {origin}\n" in project.output
    assert f"verifier_key  {relay.key.verifier_key(origin).encode()}\n" in project.output
    assert missing.exit_code == 3
    assert "Error: no such project" in missing.output


def test_the_relay_log_is_snapshotted_and_loads_from_its_latest_snapshot(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers, statements=100)
    for item in log:
        assert relay.post([item]).status_code == 201

    with relay.store() as store:
        snapshots = list(store.ledger.snapshots.get(relay_stream_id(SLUG)))
        loaded: RelayLog = store.ledger.repository.get(relay_stream_id(SLUG))
        checked = store.checkpoint(SLUG)

    assert [s.originator_version for s in snapshots] == [100]
    assert (loaded.version, loaded.size, checked.size) == (len(log) + 1, len(log), len(log))
    assert kit.checkpoint_of(checked.note, relay.key) == (len(log), kit.rfc6962_root(log))


def test_two_stores_with_cached_aggregates_see_each_others_appends(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    stored = kit.started(partner, signers, statements=5)
    relay.post(stored[:1])
    relay.post(stored[1:4])
    # Each worker thread (or relay process) keeps its aggregates in memory between requests;
    # a cached aggregate is brought forward from the store, so alternating writers never
    # sign a tree that misses the other's entries.
    with relay.store() as first, relay.store() as second:
        assert first.ledger.loader.cache_size > 0
        first.checkpoint(SLUG)
        second.checkpoint(SLUG)  # both now hold the project and relay log in memory
        status, answer = first.append(SLUG, [stored[4]])
        assert status == 201
        status, answer = second.append(SLUG, [stored[5]])
        assert status == 201
        assert answer["receipt"]["checkpoint"].split("\n")[1] == "6"
        status, _ = first.append(SLUG, [stored[6]])
        assert status == 201
        assert second.checkpoint(SLUG).size == first.checkpoint(SLUG).size == 7
        assert first.ledger.count_rows(SLUG) == 7
