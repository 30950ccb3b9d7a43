"""ADR 0012 through a real relay: the proposer's signature travels with its statement, and
the close guard judges the state after the pull, so a pledge another party just made is
never closed over unseen."""

from __future__ import annotations

import pytest
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture

SLUG = "no-whopper-day"


def entries(party: Party) -> int:
    return int(party.json("project", "show", SLUG, "--offline")["entries"])


@pytest.mark.slow
def test_the_proposers_signature_and_the_close_guard_through_a_relay(
    parties: dict[str, Party],  # noqa: F811
) -> None:
    acme, burgerco, veggie = (parties[h] for h in ("acme", "burgerco", "veggie"))
    acme.act(
        "project", "propose", SLUG, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    for party in (burgerco, veggie):
        party.act("sync", SLUG)
        party.act("project", "join", SLUG)  # 2, 3
    acme.act("pledge", "add", SLUG, "Posters", "--weight", "10", "--unit", "hours",
             "--due", "2099-12-15", "--to", "burgerco")  # fmt: skip  # 4
    acme.act("deliver", SLUG, "4", "--summary", "Posters")  # 5
    burgerco.act("approve", SLUG, "5")  # 6: fulfilled

    # statement propose writes two entries through the relay: the statement and acme's
    # signature of it; the others see both.
    proposed = acme.ok("statement", "propose", SLUG, "--title", "Joint", "--text", "Together.",
                       "--as", "acme", "--format", "json").stdout  # fmt: skip
    assert '"seq": 7' in proposed and '"seq": 8' in proposed
    veggie.act("sync", SLUG)
    [statement] = veggie.json("statement", "list", SLUG)
    assert (statement["seq"], statement["signed_by"]) == (7, ["acme"])
    assert [r["party"] for r in veggie.json("trail", SLUG, "--type", "statement.signed")] == [
        "acme"
    ]

    # burgerco pledges through the relay; acme's replica has not seen it. acme's close pulls
    # first and is refused for that pledge; nothing reaches the relay.
    burgerco.act("pledge", "add", SLUG, "Banners", "--weight", "4", "--unit", "banners",
                 "--due", "2099-12-20", "--to", "acme")  # fmt: skip  # 9
    assert entries(acme) == 8
    refused = acme("close", SLUG, "--as", "acme")
    assert refused.exit_code == 4, refused.output
    assert (
        "Error: 1 pledge of 'no-whopper-day' is still open: 9 \"Banners\" by burgerco "
        "(0 of 4 banners approved)\n"
    ) in refused.stderr
    assert refused.stdout == ""
    veggie.act("sync", SLUG)
    assert entries(veggie) == 9  # the relay holds no close signature
    for party in (acme, burgerco, veggie):
        party.act("close", SLUG, "--accept-open", "9",
                  "--report-dir", str(party.home.parent / "report"))  # fmt: skip
    acme.act("sync", SLUG)
    assert acme.json("project", "show", SLUG)["status"] == "closed"
    assert entries(acme) == 12
