"""``relay/client.py`` against the relay app in process (an ASGI transport, no sockets)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from ledger.application import Ledger
from ledger.errors import KeyNotValidError, NotFoundError, StorageUnavailableError, UsageError
from ledger.keys import Signer
from relay.client import RelayClient
from relay.errors import RelayConflictError
from relay.note import parse_checkpoint, parse_note

BASE = "http://relay.test"


class PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport that serves an ASGI app through an anyio portal."""

    def __init__(self, app: Any, portal: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self.portal.call(send)


@pytest.fixture
def transport(tmp_path: Path, kit: SimpleNamespace) -> Iterator[PortalTransport]:
    app, _key, _url, _home = kit.make_relay(tmp_path)
    with start_blocking_portal() as portal:
        try:
            yield PortalTransport(app, portal)
        finally:
            app.state.close()


def client(transport: PortalTransport, signer: Signer | None = None) -> RelayClient:
    return RelayClient(BASE, signer, transport=transport)


def test_a_member_reads_back_the_entries_and_checkpoint_it_posted(
    transport: PortalTransport, partner: Ledger, signers: dict[str, Signer], kit: SimpleNamespace
) -> None:
    entries = kit.started(partner, signers, statements=3)
    with client(transport, signers["burgerco"]) as relay:
        assert relay.post_entries(kit.SLUG, entries[:1]).stored
        outcome = relay.post_entries(kit.SLUG, entries[1:])
        assert outcome.stored
        assert outcome.receipt["receipt"]["seq"] == [2, 5]
        assert relay.entries(kit.SLUG, after=0, upto=5) == entries
        assert relay.entries(kit.SLUG, after=3, upto=5) == entries[3:]
        checkpoint = parse_checkpoint(parse_note(relay.checkpoint(kit.SLUG)).text)
        assert checkpoint.size == 5
        assert relay.cosignatures(kit.SLUG) == []
        assert relay.relay_key().startswith("ssh-ed25519 ")


def test_posting_the_same_entries_again_is_an_idempotent_retry(
    transport: PortalTransport, partner: Ledger, signers: dict[str, Signer], kit: SimpleNamespace
) -> None:
    entries = kit.started(partner, signers, statements=1)
    with client(transport) as relay:
        relay.post_entries(kit.SLUG, entries[:1])
        assert relay.post_entries(kit.SLUG, entries[1:]).stored
        again = relay.post_entries(kit.SLUG, entries[1:])
        assert not again.stored
        assert again.receipt["receipt"]["seq"] == [2, 3]


def test_a_stale_post_is_a_conflict_carrying_the_relays_checkpoint(
    transport: PortalTransport, partner: Ledger, signers: dict[str, Signer], kit: SimpleNamespace
) -> None:
    entries = kit.started(partner, signers, statements=1)
    with client(transport) as relay:
        relay.post_entries(kit.SLUG, entries)
        other = kit.next_entry(signers["acme"], seq=3, prev=entries[1].hash)
        with pytest.raises(RelayConflictError) as caught:
            relay.post_entries(kit.SLUG, [other])
    assert caught.value.checkpoint is not None
    assert parse_checkpoint(parse_note(caught.value.checkpoint).text).size == 3


def test_an_entry_by_a_non_member_is_forbidden(
    transport: PortalTransport, partner: Ledger, signers: dict[str, Signer], kit: SimpleNamespace
) -> None:
    entries = kit.started(partner, signers, statements=0)
    with client(transport) as relay:
        relay.post_entries(kit.SLUG, entries)
        intruder = kit.next_entry(signers["mallory"], seq=3, prev=entries[1].hash)
        with pytest.raises(KeyNotValidError):
            relay.post_entries(kit.SLUG, [intruder])


def test_reads_are_refused_without_a_members_key(
    transport: PortalTransport, partner: Ledger, signers: dict[str, Signer], kit: SimpleNamespace
) -> None:
    entries = kit.started(partner, signers, statements=0)
    with client(transport) as anonymous:
        anonymous.post_entries(kit.SLUG, entries)
        with pytest.raises(UsageError):
            anonymous.entries(kit.SLUG, after=0, upto=1)
    with client(transport, signers["mallory"]) as outsider, pytest.raises(NotFoundError):
        outsider.checkpoint(kit.SLUG)


def test_an_unreachable_relay_is_storage_unavailable() -> None:
    with (
        RelayClient("http://127.0.0.1:9", timeout=2) as relay,
        pytest.raises(StorageUnavailableError),
    ):
        relay.relay_key()


def test_a_relay_url_must_be_http() -> None:
    with pytest.raises(UsageError):
        RelayClient("file:///etc/passwd")


def test_a_relays_own_hint_is_bounded_and_said_to_be_the_relays() -> None:
    from relay.client import _Answer, _error

    body = json.dumps({"error": "rule", "message": "no", "hint": "Error: run rm -rf" + "x" * 5000})
    error = _error(_Answer(422, body.encode()), "http://127.0.0.1:9")
    assert error.hint is not None
    assert error.hint.startswith("the relay says: Error: run rm -rf")
    assert len(error.hint) == len("the relay says: ") + 300
    assert _error(_Answer(422, b'{"message": "no"}'), "http://127.0.0.1:9").hint is None
