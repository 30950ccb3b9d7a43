"""Fixtures of the relay server tests: a relay app in process, partners' entries, signing.

Partners build their entries with their own (in-memory) ``Ledger``, exactly as the CLI signs
them, and the tests send the rows to the relay. Reads are signed with RFC 9421 by
:class:`MemberAuth`. ``tests/relay`` has no ``__init__.py`` on purpose: fixtures live here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from ledger import entry as entry_mod
from ledger.application import Ledger
from ledger.entry import SignedEntry
from ledger.keys import Signer
from relay.cache import TrustCache
from relay.keys import RelayKey, load_or_create
from relay.merkle import leaf_hash, root
from relay.note import parse_checkpoint, parse_note, verify_note
from relay.server import RelayConfig, create_app
from relay.store import open_store

SLUG = "no-whopper-day"
BASE = "http://relay.test"
NDJSON = {"Content-Type": "application/x-ndjson"}


def rows_body(entries: list[SignedEntry]) -> bytes:
    """The entries as JSON lines of bundle rows."""
    lines = [json.dumps({"entry": e.text, "sig": e.sig, "hash": e.hash}) for e in entries]
    return ("\n".join(lines) + "\n").encode()


def next_entry(
    signer: Signer, *, seq: int, prev: str, kind: str = "statement.proposed", body: Any = None
) -> SignedEntry:
    """A new entry signed by ``signer`` at ``seq`` after ``prev`` (what a client signs)."""
    data = {
        "v": 1,
        "project": SLUG,
        "seq": seq,
        "prev": prev,
        "type": kind,
        "by": signer.handle,
        "key": signer.fingerprint,
        "at": "2026-11-22T12:00:00Z",
        "body": body if body is not None else {"title": f"S{seq}", "text": f"text {seq}"},
    }
    return entry_mod.sign(data, signer.private_key)


class _Resolver(HTTPSignatureKeyResolver):
    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def resolve_private_key(self, key_id: str) -> Any:
        return self.signer.private_key

    def resolve_public_key(self, key_id: str) -> Any:
        return self.signer.public


class MemberAuth(httpx.Auth):
    """Signs each request with RFC 9421 (ed25519, keyid = the key's fingerprint)."""

    def __init__(self, signer: Signer, *, offer_key: bool = False, age: int = 0) -> None:
        self.signer = signer
        self.offer_key = offer_key
        self.age = age

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if self.offer_key:
            request.headers["Accord-Public-Key"] = self.signer.public_key_line
        HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_Resolver(self.signer)
        ).sign(
            request,
            key_id=self.signer.fingerprint,
            covered_component_ids=("@method", "@target-uri"),
            body=request.content or None,
            created=datetime.now(UTC) - timedelta(seconds=self.age),
        )
        yield request


def started(
    ledger: Ledger, signers: dict[str, Signer], *, statements: int = 1
) -> list[SignedEntry]:
    """acme proposes with burgerco (pinned), burgerco joins, acme proposes statements."""
    ledger.propose_project(
        SLUG, title="T", purpose="", members={"burgerco": signers["burgerco"].fingerprint},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])
    for n in range(statements):
        ledger.propose_statement(SLUG, title=f"S{n}", text=f"x{n}", signer=signers["acme"])
    return [s.entry for s in ledger.read_entries(SLUG)]


def checkpoint_of(note_text: str, key: RelayKey) -> tuple[int, bytes]:
    """Verify a served note with the relay key; return its size and root."""
    note = parse_note(note_text)
    checkpoint = parse_checkpoint(note.text)
    verify_note(note, [key.verifier_key(checkpoint.origin)])
    return checkpoint.size, checkpoint.root_hash


def rfc6962_root(entries: list[SignedEntry]) -> bytes:
    return root([leaf_hash(bytes.fromhex(e.hash)) for e in entries])


class InProcess:
    """A synchronous client of an ASGI app in process (httpx.ASGITransport, no sockets)."""

    def __init__(self, app: Any, portal: Any) -> None:
        self.portal = portal
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            return await self.client.request(method, url, **kwargs)

        return self.portal.call(send)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@dataclass
class Relay:
    """A relay app in process, its client and its key."""

    client: InProcess
    key: RelayKey
    url: str
    home: Path

    def post(self, entries: list[SignedEntry], *, slug: str = SLUG) -> httpx.Response:
        if entries and entries[0].type == "project.proposed":
            return self.client.post("/v1/projects", content=rows_body(entries), headers=NDJSON)
        return self.client.post(
            f"/v1/projects/{slug}/entries", content=rows_body(entries), headers=NDJSON
        )

    def get(self, path: str, signer: Signer | None, **kwargs: Any) -> httpx.Response:
        auth = MemberAuth(signer) if signer is not None else None
        return self.client.get(path, auth=auth, **kwargs)

    def store(self) -> Any:
        return open_store(self.url, key=self.key, home=self.home)


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers of these tests (test modules cannot import this conftest by name)."""
    return SimpleNamespace(
        SLUG=SLUG,
        NDJSON=NDJSON,
        rows_body=rows_body,
        next_entry=next_entry,
        started=started,
        checkpoint_of=checkpoint_of,
        rfc6962_root=rfc6962_root,
        MemberAuth=MemberAuth,
        make_relay=make_relay,
        Relay=Relay,
        InProcess=InProcess,
    )


@pytest.fixture
def partner(memory_ledger: Ledger) -> Ledger:
    """A partner's own ledger (in memory), where the entries are built and signed."""
    return memory_ledger


def make_relay(
    tmp_path: Path, url: str | None = None, **config: Any
) -> tuple[Any, RelayKey, str, Path]:
    home = tmp_path / "relay-home"
    key = load_or_create(home)
    url = url or str(tmp_path / "relay.db")
    cache = TrustCache()
    open_store(url, key=key, home=home, cache=cache, create=True).close()
    settings = {"threads": 2, "rate": 0.0, **config}
    app = create_app(
        lambda: open_store(url, key=key, home=home, cache=cache), key, RelayConfig(**settings)
    )
    return app, key, url, home


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    """A relay on a SQLite file, with its own home, served in process (no rate limit)."""
    app, key, url, home = make_relay(tmp_path)
    with start_blocking_portal() as portal:
        client = InProcess(app, portal)
        try:
            yield Relay(client=client, key=key, url=url, home=home)
        finally:
            portal.call(client.client.aclose)
            app.state.close()


# --- a real `accord relay serve` process ------------------------------------------------------


class Served:
    """A running ``accord relay serve`` process and the stderr lines it printed."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_for_address()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(r"listening on (http://\S+)", line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("the relay did not start:\n" + "\n".join(self.lines))

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the relay never became healthy")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        return self.process.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start ``accord relay serve`` processes (on free loopback ports); stop them after."""
    started_ones: list[Served] = []

    def start(
        ledger: str, *extra: str, home: Path | None = None, path: tuple[Path, ...] = ()
    ) -> Served:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        roots = [*path, Path(__file__).resolve().parents[2]]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in roots)
        args = [
            "relay",
            "serve",
            "--ledger",
            ledger,
            "--port",
            "0",
            "--home",
            str(home or tmp_path / "home"),
            *extra,
        ]
        served = Served(args, env)
        started_ones.append(served)
        served.wait_healthy()
        return served

    yield start
    for served in started_ones:
        served.stop()
