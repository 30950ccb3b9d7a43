"""The relay and the bounds (docs/relay.md "Limits"): pages bounded in bytes, a body limit
that admits the largest entry, entries beyond the format's bounds refused, and requests whose
cost does not grow with what a stranger posted (a project's members and signers)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_client import PortalTransport

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import rows as rows_mod
from ledger.application import Ledger
from ledger.entry import SignedEntry
from ledger.keys import Signer
from relay import auth, cosigning, reads
from relay.client import MAX_RESPONSE, RelayClient
from relay.note import MAX_SIGNATURES, Signature, add_signatures, cosign, parse_note
from relay.server import RelayConfig
from relay.wire import MAX_PAGE_BYTES, MAX_ROW_BYTES, bundle_line

SLUG = "no-whopper-day"
ENTRIES = f"/v1/projects/{SLUG}/entries"
CHECKPOINT = f"/v1/projects/{SLUG}/checkpoint"
EMOJI = "\U0001f600"  # 4 bytes in UTF-8, "\ud83d\ude00" (12 bytes) with \u escapes


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    """Count the calls of ``module.name`` (made by any thread) in the returned list."""
    calls: list[Any] = []
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def statement(signer: Signer, *, seq: int, prev: str, title: str, text: str) -> SignedEntry:
    data = {
        "v": 1, "project": SLUG, "seq": seq, "prev": prev, "type": "statement.proposed",
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T12:00:00Z",
        "body": {"title": title, "text": text},
    }  # fmt: skip
    return entry_mod.sign(data, signer.private_key)


def of_size(signer: Signer, *, seq: int, prev: str, size: int, char: str) -> SignedEntry:
    """A statement whose canonical JSON is ``size`` bytes, its text made of ``char``."""
    base = len(statement(signer, seq=seq, prev=prev, title="T", text="").text)
    width = len(json.dumps(char, ensure_ascii=False).encode()) - 2  # in the entry
    count, rest = divmod(size - base, width)
    text = min(count, fmt.MAX_TEXT)  # the rest in the title
    title = "T" + "t" * rest + char * (count - text)
    item = statement(signer, seq=seq, prev=prev, title=title, text=char * text)
    assert len(item.text.encode()) == size
    return item


def member(n: int) -> Signer:
    return Signer(
        handle=f"m{n:02d}", key_name=f"m{n:02d}",
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([n + 10]) * 32),
    )  # fmt: skip


# --- pages bounded in bytes -------------------------------------------------------------------


def test_a_page_ends_before_the_row_that_would_take_it_over_the_byte_budget(
    relay: Any, partner: Ledger, signers: dict[str, Signer], kit: Any
) -> None:
    kit.started(partner, signers, statements=0)
    for _ in range(6):  # rows of about 800 KB each
        partner.propose_statement(
            SLUG, title='"' * 100_000, text='"' * 100_000, signer=signers["acme"]
        )
    log = [s.entry for s in partner.read_entries(SLUG)]
    for item in log:
        assert relay.post([item]).status_code == 201

    pages: list[list[dict[str, Any]]] = []
    while True:
        after = sum(len(p) for p in pages)
        answer = relay.get(f"{ENTRIES}?after={after}&limit=1000", signers["burgerco"])
        assert answer.status_code == 200
        assert len(answer.content) <= MAX_PAGE_BYTES
        if not answer.content:
            break
        pages.append([json.loads(line) for line in answer.text.splitlines()])

    assert [len(p) for p in pages] == [7, 1]
    assert [r["hash"] for p in pages for r in p] == [e.hash for e in log]


def test_a_row_larger_than_the_budget_is_served_alone_and_few_rows_are_read(
    relay: Any, partner: Ledger, signers: dict[str, Signer], kit: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    log = kit.started(partner, signers, statements=40)
    relay.post(log[:1])
    relay.post(log[1:])
    with relay.store() as store:
        fetched: list[int] = []
        select = rows_mod.RowReader._select

        def counted(self: Any, slug: str, **kwargs: Any) -> Any:
            found = select(self, slug, **kwargs)
            fetched.append(len(found))
            return found

        monkeypatch.setattr(rows_mod.RowReader, "_select", counted)
        one = reads.entries(store, SLUG, after=1, limit=1000, budget=1)
        read_for_one = max(fetched)  # the largest read of stored rows
        two = reads.entries(store, SLUG, after=1, limit=1000, budget=2 * len(one.encode()))
        every = reads.entries(store, SLUG, after=0, limit=1000)

    assert one == bundle_line(log[1].text, log[1].sig, log[1].hash)
    assert two == one + bundle_line(log[2].text, log[2].sig, log[2].hash)
    assert every.count("\n") == 42
    assert read_for_one == reads.READ_BATCH < 41  # not the 41 rows after seq 1 at once


def test_the_client_reads_every_entry_through_pages_shorter_than_asked(
    tmp_path: Any, partner: Ledger, signers: dict[str, Signer], kit: Any
) -> None:
    from anyio.from_thread import start_blocking_portal

    kit.started(partner, signers, statements=0)
    for _ in range(6):
        partner.propose_statement(
            SLUG, title='"' * 100_000, text='"' * 100_000, signer=signers["acme"]
        )
    log = [s.entry for s in partner.read_entries(SLUG)]
    app, _key, _url, _home = kit.make_relay(tmp_path)
    with start_blocking_portal() as portal:
        try:
            transport = PortalTransport(app, portal)
            with RelayClient("http://relay.test", signers["burgerco"], transport=transport) as c:
                for item in log:
                    assert c.post_entries(SLUG, [item]).stored
                assert c.entries(SLUG, after=0, upto=len(log)) == log
                assert c.entries(SLUG, after=3, upto=len(log)) == log[3:]
        finally:
            app.state.close()


def test_the_limits_admit_the_largest_entry_and_the_client_the_largest_page() -> None:
    assert RelayConfig().entries_limit >= MAX_ROW_BYTES == 3 * fmt.MAX_ENTRY_BYTES + 184
    assert MAX_PAGE_BYTES >= MAX_ROW_BYTES  # so no page is larger than MAX_PAGE_BYTES
    assert MAX_RESPONSE > MAX_PAGE_BYTES
    assert fmt.MAX_MEMBERS + 1 <= MAX_SIGNATURES  # a served note: the relay's line and all


# --- the largest entry, and one beyond -----------------------------------------------------


def test_an_entry_of_the_largest_size_is_stored_and_one_byte_more_is_a_rule_violation(
    relay: Any, partner: Ledger, signers: dict[str, Signer], kit: Any
) -> None:
    log = kit.started(partner, signers, statements=0)
    relay.post(log[:1])
    relay.post(log[1:])
    acme = signers["acme"]
    over = of_size(acme, seq=3, prev=log[-1].hash, size=fmt.MAX_ENTRY_BYTES + 1, char="\x01")
    largest = of_size(acme, seq=3, prev=log[-1].hash, size=fmt.MAX_ENTRY_BYTES, char=EMOJI)
    escaped = kit.rows_body([largest])  # \u escapes, as json.dumps writes by default
    assert 1 << 20 < len(escaped) <= MAX_ROW_BYTES  # over the relay's former body limit

    refused = relay.post([over])
    assert relay.get(CHECKPOINT, acme).text.splitlines()[1] == "2"
    stored = relay.post([largest])

    assert (refused.status_code, refused.json()) == (
        422,
        {
            "error": "rule",
            "message": "the statement takes 524,289 bytes, more than the 524,288 bytes an "
            "entry may hold",
            "seq": 3,
            "hint": "shorten its texts: an entry holds at most 512 KiB of canonical JSON "
            "(UTF-8, where a character outside ASCII takes 2 to 4 bytes)",
        },
    )
    assert stored.status_code == 201, stored.text
    page = relay.get(f"{ENTRIES}?after=2", signers["burgerco"]).content
    assert page == bundle_line(largest.text, largest.sig, largest.hash).encode()
    assert len(page) < fmt.MAX_ENTRY_BYTES + 1024  # served in UTF-8: the emoji as they are


@pytest.mark.parametrize("others", [64, 10_000])
def test_a_proposal_with_too_many_members_is_refused_and_nothing_is_stored(
    relay: Any, signers: dict[str, Signer], kit: Any, others: int
) -> None:
    acme = signers["acme"]
    members = [{"handle": "acme", "key": acme.fingerprint}] + [
        {"handle": f"m{n:05d}", "key": None} for n in range(others)
    ]
    body = {
        "title": "Big", "purpose": "", "members": members, "approval": "all",
        "close": "all", "public_key": acme.public_key_line,
    }  # fmt: skip
    genesis = kit.next_entry(acme, seq=1, prev="0" * 64, kind="project.proposed", body=body)

    answer = relay.post([genesis])

    assert answer.status_code == 422
    assert answer.json()["message"] == (
        f"the project proposal lists {others + 1} members, more than the 64 it may list"
    )
    assert relay.get(CHECKPOINT, acme).status_code == 404


# --- per-request cost bounded whatever a stranger posted ---------------------------------------


def _big_project(relay: Any, partner: Ledger, signers: dict[str, Signer], joined: int) -> None:
    """acme proposes with 63 unpinned members (the most a project has); ``joined`` join."""
    others = [member(n) for n in range(fmt.MAX_MEMBERS - 1)]
    partner.propose_project(
        SLUG, title="Big", purpose="", members={m.handle: None for m in others},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    for signer in others[:joined]:
        partner.join_project(SLUG, signer=signer)
    log = [s.entry for s in partner.read_entries(SLUG)]
    assert relay.post(log[:1]).status_code == 201
    assert relay.post(log[1:]).status_code == 201


def test_a_checkpoint_read_with_the_most_members_loads_each_joined_member_once_and_one_key(
    relay: Any, partner: Ledger, signers: dict[str, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_project(relay, partner, signers, joined=31)  # 32 joined of 64 members
    loads = counting(monkeypatch, cosigning, "load")
    parsed = counting(monkeypatch, auth, "_public_key")

    note = relay.get(CHECKPOINT, signers["acme"])
    listing = relay.get(f"/v1/projects/{SLUG}/cosignatures", member(30))

    assert (note.status_code, listing.status_code) == (200, 200)
    assert len(loads) == 2 * 32  # each joined member's cosignature, once per request
    assert len(parsed) == 2  # the one key each request names
    invited = Signer(handle="m40", key_name="m40", private_key=member(40).private_key)
    del loads[:], parsed[:]
    assert relay.get(CHECKPOINT, invited).status_code == 404  # not joined, not pinned
    assert (len(loads), len(parsed)) == (0, 0)


def test_a_posted_note_costs_one_load_per_member_named_however_many_lines_name_it(
    relay: Any, partner: Ledger, signers: dict[str, Signer], kit: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    log = kit.started(partner, signers, statements=0)
    relay.post(log[:1])
    relay.post(log[1:])
    served = parse_note(relay.get(CHECKPOINT, signers["acme"]).text)
    cosigned = cosign(served, name="acme", private_key=signers["acme"].private_key, timestamp=5)
    padding = [Signature("burgerco", key_id=n, payload=b"\1" * 72) for n in range(1, 90)]
    loads = counting(monkeypatch, cosigning, "load")
    keys = counting(monkeypatch, cosigning, "cosigner_keys")

    padded = relay.client.post(
        f"/v1/projects/{SLUG}/cosignatures", content=add_signatures(cosigned, padding).encode()
    )
    assert padded.status_code == 400
    assert len(loads) == 2  # acme and burgerco, once each
    del loads[:]
    held = relay.client.post(f"/v1/projects/{SLUG}/cosignatures", content=cosigned.encode())

    assert held.status_code == 204
    assert [args[1:] for args in keys] == [("acme",)]  # only the cosigner's keys are parsed
