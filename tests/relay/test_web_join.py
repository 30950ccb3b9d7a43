"""``accord web --sign`` onboards a newcomer: paste the invite line, review, join (or decline).

acme proposes through a real ``accord relay serve`` process to burgerco (pinned), veggie and
ngo (unpinned). veggie and ngo start with nothing but a key and their line: ``accord web``
creates their (empty) ledger at start, and the join page does what ``accord join LINE`` does,
through the same checks, with a confirmation page before anything is signed. Refusals keep
nothing (no remote, the ledger's bytes unchanged).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from test_invitations_story import NOT_FOUND_HINT, PASSPHRASE, Party, propose, world  # noqa: F401
from web_helpers import BASE, HOSTS, TOKEN, Web

from commands.options import AppContext
from ledger import entry
from ledger import keys as key_store

S = "no-whopper-day"
pytestmark = pytest.mark.slow


def web_of(party: Party, monkeypatch: Any, *, sign: bool = True) -> Web:
    """``accord web --as HANDLE [--sign]`` for ``party``, configured as the command does."""
    from starlette.testclient import TestClient

    from commands.web.command import _config
    from commands.web.server import create_app

    monkeypatch.setenv("ACCORD_HOME", str(party.home))
    monkeypatch.setenv("ACCORD_PASSPHRASE", PASSPHRASE)
    for name in ("ACCORD_PARTY", "ACCORD_REMOTE", "ACCORD_LEDGER", "ACCORD_INVITE"):
        monkeypatch.delenv(name, raising=False)
    signer = key_store.load_signer(party.handle, party.handle, PASSPHRASE)
    import click

    with click.Context(click.Command("web"), obj=AppContext(url=str(party.ledger))) as ctx:
        config = _config(ctx.obj, party.handle, signer, sign=sign)
    config.token, config.hosts = TOKEN, HOSTS
    client = TestClient(create_app(config), base_url=BASE, follow_redirects=False)
    assert client.get(f"/?token={TOKEN}").status_code == 303
    return Web(client, config)


def review(web: Web, line: str, reason: str = "") -> Any:
    return web.post("/join/preview", {"csrf": web.config.csrf, "line": line, "reason": reason})


def digest_of(page: Any) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]{64})"', page.text)
    assert found, page.text
    return found.group(1)


def sign(web: Web, line: str, digest: str, reason: str = "") -> Any:
    data = {"csrf": web.config.csrf, "line": line, "reason": reason, "digest": digest}
    return web.post("/join/sign", data)


def test_a_newcomer_joins_from_the_browser_with_its_line_alone(
    world: dict[str, Any],  # noqa: F811 - the fixture
    monkeypatch: Any,
) -> None:
    acme, veggie = world["acme"], world["veggie"]
    lines = propose(world)
    assert not veggie.ledger.exists()

    web = web_of(veggie, monkeypatch)
    assert veggie.ledger.exists()  # created at start, as `accord join` creates it
    created = veggie.snapshot()
    assert created[1] == []  # no remote yet
    dashboard = web.get("/")
    assert "(no projects in this ledger yet)" in dashboard.text
    assert 'href="/join"' in dashboard.text
    assert 'name="line"' in web.get("/join").text

    shown = review(web, lines["veggie"])
    assert shown.status_code == 200, shown.text
    text = html.unescape(shown.text)
    assert "Invitation to no-whopper-day: No Whopper Day" in text
    assert "veggie (you, invite)" in text and "burgerco (pinned)" in text
    relay_key = acme.json("remote", "list")[0]["fingerprint"]
    assert f"key <code>{relay_key}</code> (the one the invite line names)" in text
    assert '"type":"member.joined"' in text and '"by":"veggie"' in text
    assert veggie.snapshot() == created  # reviewing keeps nothing

    done = sign(web, lines["veggie"], digest_of(shown))
    assert done.status_code == 200, done.text
    assert "Joined no-whopper-day" in done.text
    assert "Recorded seq 2 of no-whopper-day (member.joined)" in done.text
    assert "accord-invite-v1" not in done.text
    assert veggie.json("remote", "list")[0]["name"] == "relay"
    status = veggie.json("status", S, "--as", "veggie")
    assert (status["local_head"], status["relay_head"]) == (2, 2)
    assert status["cosigned"]["veggie"] == 2
    assert "No Whopper Day" in web.get(f"/p/{S}").text

    acme.ok("sync", S)
    last = acme.json("trail", S)[-1]
    assert (last["type"], last["party"]) == ("member.joined", "veggie")

    # The used invite: the relay's 404, shown with the CLI's hint; nothing more is kept.
    before = veggie.snapshot()
    again = review(web, lines["veggie"])
    assert again.status_code == 404
    assert html.escape(NOT_FOUND_HINT.removeprefix("Hint: ").strip(), quote=True) in again.text
    assert veggie.snapshot() == before


def test_a_pinned_seat_joins_and_an_invitee_declines_from_the_browser(
    world: dict[str, Any],  # noqa: F811 - the fixture
    monkeypatch: Any,
) -> None:
    acme, burgerco, ngo = world["acme"], world["burgerco"], world["ngo"]
    lines = propose(world)

    web = web_of(burgerco, monkeypatch)
    shown = review(web, lines["burgerco"])
    assert shown.status_code == 200, shown.text
    assert "burgerco (you, pinned)" in html.unescape(shown.text)
    done = sign(web, lines["burgerco"], digest_of(shown))
    assert "Recorded seq 2 of no-whopper-day (member.joined)" in done.text, done.text
    assert burgerco.json("project", "show", S)["entries"] == 2

    web = web_of(ngo, monkeypatch)
    reason = "No budget <b>this</b> year"
    shown = review(web, lines["ngo"], reason)
    assert shown.status_code == 200, shown.text
    assert "member.declined" in shown.text
    assert "<b>this</b>" not in shown.text  # partner-facing text is escaped
    done = sign(web, lines["ngo"], digest_of(shown), reason)
    assert "You declined no-whopper-day" in done.text, done.text
    acme.ok("sync", S)
    last = acme.json("trail", S)[-1]
    assert (last["type"], last["party"]) == ("member.declined", "ngo")


def test_refusals_keep_nothing(world: dict[str, Any], monkeypatch: Any) -> None:  # noqa: F811
    veggie = world["veggie"]
    lines = propose(world)
    web = web_of(veggie, monkeypatch)
    before = veggie.snapshot()

    other_seat = review(web, lines["ngo"])
    assert other_seat.status_code == 400
    assert (
        "this invite line is for the seat &#39;ngo&#39;; accord web runs as &#39;veggie&#39;"
        in (other_seat.text)
    )
    assert "accord web --as ngo --sign" in other_seat.text

    malformed = review(web, "accord-join-v1,project=x")
    assert malformed.status_code == 400

    wrong_key = re.sub(
        r"relay-key=SHA256:[A-Za-z0-9+/]+", "relay-key=SHA256:" + "A" * 43, lines["veggie"]
    )
    refused = review(web, wrong_key)
    assert refused.status_code == 502, refused.status_code
    assert f"not SHA256:{'A' * 43} as the invite line says" in html.unescape(refused.text)
    assert "do not use this relay" in html.unescape(refused.text)

    wrong_token = re.sub(
        r"invite=accord-invite-v1:[A-Za-z0-9_-]{43}",
        f"invite={entry.new_invite()[0]}",
        lines["veggie"],
    )
    assert review(web, wrong_token).status_code == 404

    shown = review(web, lines["veggie"])
    changed = sign(web, lines["veggie"], "0" * 64)
    assert changed.status_code == 409
    assert "changed since you reviewed it; nothing was signed" in changed.text
    unreviewed = sign(web, lines["veggie"], "")
    assert unreviewed.status_code == 400
    no_csrf = web.post("/join/sign", {"line": lines["veggie"], "digest": digest_of(shown)})
    assert no_csrf.status_code == 403
    assert veggie.snapshot() == before

    read_only = web_of(veggie, monkeypatch, sign=False)
    assert read_only.get("/join").status_code == 403
    assert "Restart with <code>--sign</code> to join" in read_only.get("/").text
    assert veggie.snapshot() == before
