"""Shared fixtures: fixed-seed keys, a temporary ACCORD_HOME, ledgers on every store, CliRunner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import settings

from ledger import keys as key_store
from ledger.application import Ledger
from ledger.keys import Signer

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PASSPHRASE = "test-passphrase"
PARTIES = ("acme", "burgerco", "veggie", "mallory")
POSTGRES_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def seed_key(handle: str) -> Ed25519PrivateKey:
    """A fixed-seed key per party, so fingerprints are the same in every run."""
    return Ed25519PrivateKey.from_private_bytes(bytes([PARTIES.index(handle) + 1]) * 32)


def make_signer(handle: str, key: str | None = None) -> Signer:
    return Signer(handle=handle, key_name=key or handle, private_key=seed_key(key or handle))


@pytest.fixture
def signers() -> dict[str, Signer]:
    return {handle: make_signer(handle) for handle in PARTIES}


class FixedClock:
    """A clock that starts at 2026-11-22T10:00:00Z and ticks one minute per call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def memory_ledger() -> Iterator[Ledger]:
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FixedClock())
    yield ledger
    ledger.close()


def postgres_enabled() -> bool:
    return bool(os.environ.get("ACCORD_TEST_POSTGRES"))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema, dropped before and after the test."""
    if not postgres_enabled():
        pytest.skip("set ACCORD_TEST_POSTGRES=1 to run the PostgreSQL tests")
    import psycopg

    schema = f"accord_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["popo", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """The same Ledger on the in-memory, SQLite and PostgreSQL stores."""
    from ledger import storage

    if request.param == "popo":
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    elif request.param == "sqlite":
        env = storage.settings(str(tmp_path / "accord.db"))
    else:
        env = storage.settings(request.getfixturevalue("postgres_url"))
    app = Ledger(env, clock=FixedClock())
    yield app
    app.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary ACCORD_HOME holding the parties' fixed-seed keys, and a ledger path.

    Sets ACCORD_HOME, ACCORD_PASSPHRASE and ACCORD_LEDGER (tmp_path/accord.db, not created).
    """
    directory = tmp_path / "home"
    monkeypatch.setenv("ACCORD_HOME", str(directory))
    monkeypatch.setenv("ACCORD_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("ACCORD_LEDGER", str(tmp_path / "accord.db"))
    for name in ("ACCORD_PARTY", "ACCORD_IMPORT_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    for handle in PARTIES:
        key_store.save_key(handle, seed_key(handle), PASSPHRASE, directory)
    monkeypatch.chdir(tmp_path)
    return directory


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
