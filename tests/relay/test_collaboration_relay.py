"""Issue 10 across two organisations through a real relay: a dispute and its resolution, a
pledge closed short, each party's to-do list and a calendar, each party on its own replica."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture

SLUG = "no-whopper-day"


def _todo(party: Party) -> list[tuple[str, int]]:
    return [(r["waiting"], r["seq"]) for r in party.json("todo", "--as", party.handle)]


@pytest.mark.slow
def test_two_organisations_dispute_close_short_and_plan_through_a_relay(
    parties: dict[str, Party],  # noqa: F811
    tmp_path: Path,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    acme.act(
        "project", "propose", SLUG, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
    )  # fmt: skip
    assert _todo(burgerco) == []  # not synced yet: the project is not in its replica
    burgerco.act("sync", SLUG)
    assert _todo(burgerco) == [("join", 1)]
    burgerco.act("project", "join", SLUG)  # 2
    acme.act("pledge", "add", SLUG, "Posters", "--weight", "10", "--unit", "hours",
             "--due", "2099-12-15", "--to", "burgerco")  # fmt: skip  # 3
    burgerco.act("pledge", "add", SLUG, "Banners", "--weight", "4", "--unit", "banners",
                 "--due", "2099-12-20", "--to", "acme")  # fmt: skip  # 4
    ics = tmp_path / "plan.ics"
    acme.act("sync", SLUG)  # reads never ask the relay: sync to see burgerco's pledge
    acme.ok("calendar", SLUG, "-o", str(ics))
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert [(str(e["SUMMARY"]), e["DTSTART"].dt.isoformat()) for e in events] == [
        ("Posters (acme to burgerco: 10 hours)", "2099-12-15"),
        ("Banners (burgerco to acme: 4 banners)", "2099-12-20"),
    ]
    acme.act("deliver", SLUG, "3", "--summary", "Posters")  # 5
    burgerco.act("sync", SLUG)
    assert _todo(burgerco) == [("decide", 5)]
    burgerco.act("approve", SLUG, "5")  # 6
    burgerco.act("deliver", SLUG, "4", "--summary", "Three banners", "--quantity", "3")  # 7
    acme.act("approve", SLUG, "7")  # 8 (acme's write pulls burgerco's entries first)
    burgerco.act("pledge", "close-short", SLUG, "4", "--reason", "A fourth is not needed")  # 9
    acme.act("sync", SLUG)
    assert _todo(acme) == [("decide", 9)]
    acme.act("approve", SLUG, "9")  # 10: pledge 4 is closed short
    # burgerco, the beneficiary of pledge 3, disputes the acceptance of the posters
    burgerco.act("dispute", SLUG, "5", "--reason", "The posters use last year's logo")  # 11
    acme.act("sync", SLUG)
    assert ("resolve", 11) in _todo(acme)
    refused = acme("close", SLUG, "--as", "acme")
    assert refused.exit_code == 4, refused.output  # no close while a dispute is open
    acme.act("resolve", SLUG, "11", "--outcome", "dismissed", "--reason", "It is this year's")
    burgerco.act("resolve", SLUG, "11", "--outcome", "dismissed", "--reason", "Checked: fine")
    for party in (acme, burgerco):
        party.act("sync", SLUG)
        obligations = {r["seq"]: r["status"] for r in party.json("obligations", SLUG)}
        assert obligations == {3: "fulfilled", 4: "closed-short"}
        rows = party.json("contributions", SLUG)
        assert [(r["party"], r["unit"], r["pledged"], r["approved"], r["short"]) for r in rows] == [
            ("burgerco", "banners", "4", "3", "1"),  # the weight stays; 1 agreed short
            ("acme", "hours", "10", "10", "0"),
        ]
        trail = party.json("trail", SLUG, "--type", "resolution.signed")
        assert [r["seq"] for r in trail] == [12, 13]
    # both replicas hold the same, confirmed by both parties
    status = burgerco.json("status", SLUG, "--as", "burgerco")
    assert status["local_head"] == status["relay_head"] == status["confirmed"] == 13
    # a calendar from burgerco's replica: nothing open is left on it (fulfilled, closed short)
    burgerco.ok("calendar", SLUG, "--party", "burgerco", "-o", str(ics))
    assert Calendar.from_ical(ics.read_bytes()).walk("VEVENT") == []
    for party in (acme, burgerco):
        party.act("close", SLUG, "--report-dir", str(tmp_path / party.handle))
    acme.act("sync", SLUG)
    assert acme.json("project", "show", SLUG)["status"] == "closed"
    assert _todo(acme) == _todo(burgerco) == []
