"""``relay/client.py``'s bounds: pages up to the signed size, one overall deadline, no coding.

The relay is an ``httpx.MockTransport`` here, and the clock a fake one that the transport
moves on: a relay that takes its time is simulated, never waited for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import relay.client
from ledger.application import Ledger
from ledger.entry import SignedEntry
from ledger.errors import DeadlineExceededError, UsageError, VerificationError
from ledger.keys import Signer
from relay.client import DEFAULT_DEADLINE, PAGE, Deadline, RelayClient

SLUG = "no-whopper-day"
URL = "http://relay.test"
LATE = (
    f"the relay at {URL} did not answer within the deadline of 10 s for this command's relay "
    "traffic"
)


class Clock:
    """``time`` as relay/client.py sees it, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(relay.client, "time", fake)
    return fake


@pytest.fixture
def log(partner: Ledger, signers: dict[str, Signer], kit: Any) -> list[SignedEntry]:
    return list(kit.started(partner, signers, statements=3))  # seqs 1..5


def rows(entries: list[SignedEntry]) -> bytes:
    lines = [json.dumps({"entry": e.text, "sig": e.sig, "hash": e.hash}) for e in entries]
    return "".join(f"{line}\n" for line in lines).encode()


class Relay:
    """A fake relay: ``serve(after, limit)`` gives the rows of each entries request."""

    def __init__(self, serve: Callable[[int, int], bytes]) -> None:
        self.serve = serve
        self.asked: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        after, limit = int(request.url.params["after"]), int(request.url.params["limit"])
        self.asked.append((after, limit))
        return httpx.Response(200, content=self.serve(after, limit))


def client_of(handler: Any, signers: dict[str, Signer], **kwargs: Any) -> RelayClient:
    return RelayClient(URL, signers["acme"], transport=httpx.MockTransport(handler), **kwargs)


# --- pages --------------------------------------------------------------------------------


def test_short_pages_are_followed_up_to_the_signed_size_and_never_beyond(
    log: list[SignedEntry], signers: dict[str, Signer]
) -> None:
    fake = Relay(lambda after, limit: rows(log[after : after + min(limit, 1)]))  # one a page

    with client_of(fake, signers) as client:
        pages = list(client.pages(SLUG, after=1, upto=4))

    assert pages == [[log[1]], [log[2]], [log[3]]]
    assert fake.asked == [(1, 3), (2, 2), (3, 1)]  # seq 5 exists, but the tree signed ends at 4


def test_a_page_is_at_most_a_hundred_entries(signers: dict[str, Signer]) -> None:
    fake = Relay(lambda after, limit: b"")

    with client_of(fake, signers) as client, pytest.raises(VerificationError):
        list(client.pages(SLUG, after=0, upto=10**9))

    assert fake.asked == [(0, PAGE)]


def test_a_complete_tree_asks_for_nothing(signers: dict[str, Signer]) -> None:
    fake = Relay(lambda after, limit: b"")

    with client_of(fake, signers) as client:
        assert list(client.pages(SLUG, after=5, upto=5)) == []

    assert fake.asked == []


@pytest.mark.parametrize(
    ("serve", "message"),
    [
        (lambda log: rows([]), f"the relay signed 5 entries of '{SLUG}' but served 2"),
        (lambda log: rows(log[3:4]), "the relay served seq 4 after seq 2"),
        (lambda log: rows(log[1:3]), "the relay served seq 2 after seq 2"),
        (
            lambda log: rows(log[2:5]) + rows(log[4:5]),
            f"the relay served a bad row of '{SLUG}': row 4 does not continue the seqs before it",
        ),
        (
            lambda log: rows([log[2], log[4]]),
            f"the relay served a bad row of '{SLUG}': row 2 does not continue the seqs before it",
        ),
        (
            lambda log: b"{}\n",
            f"the relay served a bad row of '{SLUG}': row 1 is not a bundle "
            "row {entry, sig, hash}",
        ),
    ],
    ids=["empty before the end", "a gap", "a repeat", "a repeat inside", "a hole inside", "junk"],
)
def test_a_page_that_does_not_continue_the_replica_exactly_is_refused(
    log: list[SignedEntry], signers: dict[str, Signer], serve: Any, message: str
) -> None:
    fake = Relay(lambda after, limit: serve(log))

    with client_of(fake, signers) as client, pytest.raises(VerificationError) as info:
        list(client.pages(SLUG, after=2, upto=5))

    assert info.value.message == message


def test_a_page_with_more_rows_than_asked_is_refused(
    log: list[SignedEntry], signers: dict[str, Signer]
) -> None:
    fake = Relay(lambda after, limit: rows(log[after:]))  # all it has, whatever was asked

    with client_of(fake, signers) as client, pytest.raises(VerificationError) as info:
        list(client.pages(SLUG, after=1, upto=3))

    assert info.value.message == (
        f"the relay served 4 entries of '{SLUG}' after seq 1 where 2 were asked (its signed "
        "tree has 3)"
    )


# --- the deadline ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, DEFAULT_DEADLINE),
        ("", DEFAULT_DEADLINE),
        ("1", 1.0),
        ("0.5", 0.5),
        ("2.125", 2.125),
        ("86400", 86400.0),
        (" 30 ", 30.0),
    ],
)
def test_the_deadline_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float
) -> None:
    if value is None:
        monkeypatch.delenv("ACCORD_RELAY_DEADLINE", raising=False)
    else:
        monkeypatch.setenv("ACCORD_RELAY_DEADLINE", value)

    assert Deadline.from_env() == seconds


@pytest.mark.parametrize(
    "value", ["abc", "0", "0.0", "-1", "1e3", "86401", "1.2345", "inf", "nan", "1_0", "0x10", "٣"]
)
def test_a_malformed_deadline_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ACCORD_RELAY_DEADLINE", value)

    with pytest.raises(UsageError) as info:
        Deadline.from_env()

    assert info.value.message == (
        "ACCORD_RELAY_DEADLINE must be a number of seconds above 0 and at most 86400, not "
        f"{value!r}"
    )


def test_the_clock_starts_at_the_first_request_not_before(clock: Clock) -> None:
    deadline = Deadline(10)
    clock.now += 500  # a passphrase typed slowly

    assert deadline.remaining() == 10
    clock.now += 4
    assert deadline.remaining() == 6
    clock.now += 6
    assert deadline.passed()


def test_each_request_s_timeouts_are_capped_by_what_remains(
    clock: Clock, signers: dict[str, Signer]
) -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        clock.now += 7
        return httpx.Response(200, json={"public_key": "ssh-ed25519 AAAA"})

    with client_of(answer, signers, deadline=Deadline(10)) as client:
        client.relay_key()
        with pytest.raises(DeadlineExceededError):
            client.relay_key()

    assert [t["read"] for t in seen] == [10, 3]  # 15 s each at most, and what was left
    assert all(len(set(t.values())) == 1 for t in seen)  # connect, read, write, pool alike


def test_an_answer_that_drips_past_the_deadline_is_cut_off(
    clock: Clock, signers: dict[str, Signer]
) -> None:
    sent: list[int] = []

    class Drip(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for byte in b"accord.ledger/" * 1000:
                clock.now += 1  # one byte a second
                sent.append(byte)
                yield bytes([byte])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Drip())

    client = client_of(answer, signers, deadline=Deadline(10))
    with client, pytest.raises(DeadlineExceededError) as info:
        client.checkpoint(SLUG)

    assert info.value.message == LATE
    assert info.value.hint == (
        "the relay is slow or stalls: give it longer with ACCORD_RELAY_DEADLINE=SECONDS, or try "
        "again later"
    )
    assert len(sent) == 10


def test_a_passed_deadline_sends_nothing_more_and_is_shared_by_the_command_s_clients(
    clock: Clock, signers: dict[str, Signer]
) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        clock.now += 4
        return httpx.Response(200, json={"public_key": "ssh-ed25519 AAAA"})

    shared = Deadline(10)
    with client_of(answer, signers, deadline=shared) as first:
        first.relay_key()
    with client_of(answer, signers, deadline=shared) as second:
        second.relay_key()  # 6 s were left when it started, 2 s after it
        clock.now += 2
        with pytest.raises(DeadlineExceededError) as info:
            second.relay_key()

    assert info.value.message == LATE
    assert sent == ["/v1/relay/key", "/v1/relay/key"]  # the third was never sent


def test_a_transport_timeout_after_the_deadline_is_the_deadline(
    clock: Clock, signers: dict[str, Signer]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        clock.now += 11
        raise httpx.ReadTimeout("slow", request=request)

    client = client_of(answer, signers, deadline=Deadline(10))
    with client, pytest.raises(DeadlineExceededError) as info:
        client.checkpoint(SLUG)

    assert info.value.message == LATE


def test_a_relay_that_never_answers_is_given_up_at_the_deadline(
    signers: dict[str, Signer],
) -> None:
    release = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        release.wait(30)  # no status line, no header: nothing the client could look at
        return httpx.Response(200)

    try:
        client = client_of(answer, signers, deadline=Deadline(0.3))
        with client, pytest.raises(DeadlineExceededError) as info:
            client.checkpoint(SLUG)
        with pytest.raises(DeadlineExceededError):
            client.checkpoint(SLUG)  # and nothing more is sent
    finally:
        release.set()

    assert info.value.message == (
        f"the relay at {URL} did not answer within the deadline of 0.3 s for this command's "
        "relay traffic"
    )


# --- content codings --------------------------------------------------------------------------


def test_no_content_coding_is_asked_for_and_a_compressed_answer_is_refused(
    signers: dict[str, Signer],
) -> None:
    asked: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("Accept-Encoding"))
        return httpx.Response(200, content=b"\x1f\x8b", headers={"Content-Encoding": "gzip"})

    with client_of(answer, signers) as client, pytest.raises(VerificationError) as info:
        client.checkpoint(SLUG)

    assert asked == ["identity"]
    assert info.value.message == (
        f"the relay at {URL} answered with Content-Encoding 'gzip', though the client asks for none"
    )
