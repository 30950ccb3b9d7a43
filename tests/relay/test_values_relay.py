"""Agreed values through a relay: the relay re-runs the value rules, and partners in two
organisations propose and approve a value through ``accord relay serve``."""

from __future__ import annotations

from typing import Any

import pytest
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture

from ledger.application import Ledger
from ledger.keys import Signer

SLUG = "no-whopper-day"


def test_the_relay_refuses_a_value_that_breaks_a_rule_and_stores_nothing_of_the_batch(
    relay: Any, kit: Any, partner: Ledger, signers: dict[str, Signer]
) -> None:
    log = kit.started(partner, signers)  # 1 proposal, 2 burgerco joins: active
    assert relay.post(log[:1]).status_code == 201
    assert relay.post(log[1:2]).status_code == 201
    value = kit.next_entry(
        signers["acme"], seq=3, prev=log[1].hash, kind="value.proposed",
        body={"unit": "hours", "worth": "80", "in": "EUR", "reason": "Day rate / 8"},
    )  # fmt: skip
    own = kit.next_entry(
        signers["acme"], seq=4, prev=value.hash, kind="approval.given",
        body={"target": 3, "target_hash": value.hash, "comment": ""},
    )  # fmt: skip

    refused = relay.post([value, own])

    assert refused.status_code == 422, refused.text
    assert (refused.json()["error"], refused.json()["seq"]) == ("rule", 4)
    assert relay.post([value]).status_code == 201
    with relay.store() as store:
        assert store.state(SLUG).values[3].status == "pending"


@pytest.mark.slow
def test_two_organisations_agree_a_value_through_a_relay(parties: dict[str, Party]) -> None:  # noqa: F811
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", SLUG, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
    )  # fmt: skip
    burgerco.act("sync", SLUG)
    burgerco.act("project", "join", SLUG)  # 2
    acme.act("pledge", "add", SLUG, "Design", "--weight", "10", "--unit", "hours",
             "--due", "2099-12-15")  # fmt: skip  # 3
    acme.act("deliver", SLUG, "3", "--summary", "Done")  # 4
    burgerco.act("pledge", "add", SLUG, "Media", "--weight", "300", "--unit", "EUR",
                 "--due", "2099-12-15")  # fmt: skip  # 5
    burgerco.act("deliver", SLUG, "5", "--summary", "Paid")  # 6
    burgerco.act("approve", SLUG, "4")  # 7
    acme.act("approve", SLUG, "6")  # 8
    proposed = acme.act(
        "project", "value", SLUG, "--unit", "hours", "--worth", "80", "--in", "EUR",
        "--reason", "Day rate / 8",
    )  # fmt: skip  # 9
    assert "proposed value seq 9 by acme: 1 hour = 80 EUR (0 of 1 approvals)" in proposed.stdout
    agreed = burgerco.act("approve", SLUG, "9")  # 10
    assert "approved value seq 9 by acme: 1 hour = 80 EUR (agreed)" in agreed.stdout
    acme.act("sync", SLUG)
    for party in (acme, burgerco):
        rows = [r for r in party.json("contributions", SLUG) if r["unit"] == "overall EUR"]
        assert [(r["party"], r["approved"], r["approved_share"]) for r in rows] == [
            ("acme", "800", "0.7270"),  # 800 / 1100 = 72.73%
            ("burgerco", "300", "0.2730"),  # 300 / 1100 = 27.27%
        ]
        values = party.json("project", "values", SLUG)
        assert [(v["seq"], v["status"], v["approved_by"]) for v in values] == [
            (9, "agreed", [{"party": "burgerco", "seq": 10}])
        ]
