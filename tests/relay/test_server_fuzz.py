"""Hostile requests: every one gets a 4xx, nothing is stored, and the relay keeps serving."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.keys import Signer

SLUG = "no-whopper-day"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CONTENT_TYPES = st.sampled_from(
    [None, "application/x-ndjson", "application/json", "text/plain", "multipart/form-data",
     "application/x-www-form-urlencoded", "image/png", "text/plain; charset=latin-1", "\u00e9"]
)  # fmt: skip
POSTS = st.sampled_from(
    ["/v1/projects", f"/v1/projects/{SLUG}/entries", f"/v1/projects/{SLUG}/cosignatures",
     "/v1/projects/other/entries", "/v1/projects/%2e%2e/entries"]
)  # fmt: skip


@pytest.fixture
def stored(relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]) -> list:
    log = kit.started(partner, signers, statements=2)
    relay.post(log[:1])
    relay.post(log[1:3])
    return log


def still_serving(relay: Any, kit: Any, stored: list, signers: dict[str, Signer]) -> None:
    assert relay.client.get("/healthz").status_code == 200
    with relay.store() as store:
        assert store.state(SLUG).seq == 3
    assert relay.post(stored[3:]).status_code == 201


@FUZZ
@given(body=st.binary(max_size=4096), path=POSTS, content_type=CONTENT_TYPES)
def test_random_bytes_posted_anywhere_get_a_4xx(
    relay: Any, stored: list, body: bytes, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type.encode()} if content_type else {}
    answer = relay.client.post(path, content=body, headers=headers)

    assert 400 <= answer.status_code < 500, answer.text
    assert "error" in answer.json()


@FUZZ
@given(data=st.data())
def test_mutated_rows_get_a_4xx_and_nothing_is_stored(
    relay: Any, kit: Any, stored: list, data: st.DataObject
) -> None:
    row = json.loads(kit.rows_body(stored[3:4]))
    field = data.draw(st.sampled_from(["entry", "sig", "hash"]))
    text = row[field]
    at = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.characters(codec="utf-8"))
    mutated = {**row, field: text[:at] + char + text[at + 1 :]}
    if mutated == row:
        return

    answer = relay.client.post(
        f"/v1/projects/{SLUG}/entries", content=json.dumps(mutated).encode(), headers=kit.NDJSON
    )

    assert 400 <= answer.status_code < 500, answer.text
    with relay.store() as store:
        assert store.state(SLUG).seq == 3


@FUZZ
@given(
    slug=st.text(min_size=1, max_size=80),
    rest=st.text(max_size=120),
    signed=st.booleans(),
)
def test_random_slugs_and_tile_paths_get_404(
    relay: Any, stored: list, signers: dict[str, Signer], slug: str, rest: str, signed: bool
) -> None:
    path = f"/v1/projects/{quote(slug, safe='')}/tile/{quote(rest, safe='/.')}"
    answer = relay.get(path, signers["acme"] if signed else None)

    assert answer.status_code in (404, 400), answer.text


def test_a_path_with_a_trailing_slash_is_not_redirected(relay: Any, stored: list) -> None:
    for path in ("/v1/projects/0/tile/", "/healthz/", f"/v1/projects/{SLUG}/checkpoint/"):
        answer = relay.client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)


def test_huge_lines_deep_json_and_odd_unicode_get_400_and_the_relay_keeps_serving(
    relay: Any, kit: Any, stored: list, signers: dict[str, Signer]
) -> None:
    path = f"/v1/projects/{SLUG}/entries"
    bodies = [
        b'{"entry": "' + b"a" * 1_000_000 + b'", "sig": "", "hash": ""}',
        b"[" * 1_000_000,
        b'{"a":' * 200_000,
        json.dumps({"entry": "\ud800", "sig": "", "hash": "0" * 64}).encode(),
        "\u2028\u2029\n".encode(),
        b"\x00" * 1000,
        b"\n" * 1000,
    ]
    for body in bodies:
        answer = relay.client.post(path, content=body, headers=kit.NDJSON)
        assert (answer.status_code, answer.json()["error"]) == (400, "malformed"), body[:40]
    long_header = relay.client.get(
        f"/v1/projects/{SLUG}/checkpoint",
        headers={"Signature": "x" * 8000, "Signature-Input": "y" * 8000},
    )
    assert long_header.status_code == 404
    still_serving(relay, kit, stored, signers)


def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Any, kit: Any) -> None:
    from anyio.from_thread import start_blocking_portal

    app, *_ = kit.make_relay(tmp_path, rate=1.0, burst=3)
    with start_blocking_portal() as portal:
        client = kit.InProcess(app, portal)
        answers = [client.get("/healthz") for _ in range(5)]
        portal.call(client.client.aclose)
    app.state.close()

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[-1].headers["retry-after"] == "1"
    assert answers[-1].json()["error"] == "rate_limited"
