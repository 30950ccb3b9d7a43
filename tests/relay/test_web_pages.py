"""``accord web``: every page and every refusal, through Starlette's TestClient.

The party's app runs in process over its own home and replica; the partners act through the
CLI; all of them reach one real ``accord relay serve`` process.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_client_story import Party, fingerprint, parties  # noqa: F401 - the fixture
from web_helpers import TOKEN, web_for

S = "no-whopper-day"
HOSTILE = '<script>alert("t")</script><img src=x onerror=alert(1)>'
EVIDENCE_NAME = "posters <img src=x onerror=alert(2)>.pdf"
EVIDENCE = b"%PDF-1.4 the posters, drafts\n"
pytestmark = pytest.mark.slow


def started(p: dict[str, Party]) -> None:
    """acme proposes with burgerco; burgerco joins; acme pledges (seq 3) and delivers (4)."""
    acme, burgerco = p["acme"], p["burgerco"]
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day " + HOSTILE,
        "--member", f"burgerco={fingerprint(burgerco)}",
    )  # fmt: skip
    burgerco.act("sync", S)
    burgerco.act("project", "join", S)
    acme.act(
        "pledge", "add", S, "Posters " + HOSTILE, "--weight", "30", "--unit", "hours",
        "--due", "2099-12-15",
    )  # fmt: skip
    evidence = acme.home.parent / EVIDENCE_NAME
    evidence.write_bytes(EVIDENCE)
    acme.act("deliver", S, "3", "--summary", "Drafts " + HOSTILE, "--evidence", str(evidence))


@pytest.fixture
def story(parties: dict[str, Party]) -> dict[str, Party]:  # noqa: F811 - the fixture
    started(parties)
    return parties


def test_every_reading_page_answers_and_escapes_partner_text(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch, sign=False)
    pages = [
        "/", f"/p/{S}", f"/p/{S}/obligations", f"/p/{S}/contributions", f"/p/{S}/statements",
        f"/p/{S}/disputes", f"/p/{S}/values", f"/p/{S}/trail", f"/p/{S}/trail?party=acme",
        f"/p/{S}/trail?type=deliverable.submitted&from=2000-01-01&to=2999-01-01",
        f"/p/{S}/entry/4", f"/p/{S}/sync", f"/p/{S}/report.html", f"/p/{S}/evidence/4",
    ]  # fmt: skip
    for path in pages:
        answer = web.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert "<script>alert" not in answer.text, path
        assert "<img src=x" not in answer.text, path
        assert "script-src 'self'" in answer.headers["content-security-policy"] or path.endswith(
            "report.html"
        )
        assert "access-control-allow-origin" not in answer.headers
    todo = web.get("/").text
    assert "&lt;script&gt;" in todo and "Drafts" in todo
    assert re.search(r'href="/p/no-whopper-day/entry/4"', todo)
    assert web.get(f"/p/{S}/report.md").status_code == 200
    assert web.get(f"/p/{S}/report.json").json()["project"]["slug"] == S


def test_a_request_without_the_token_or_with_a_wrong_one_is_refused(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch, login=False)
    assert web.get("/").status_code == 403
    assert web.get("/?token=wrong").status_code == 403
    assert web.get(f"/p/{S}").status_code == 403
    answer = web.get(f"/p/{S}/entry/4?token={TOKEN}")
    assert answer.status_code == 303 and answer.headers["location"] == f"/p/{S}/entry/4"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert web.get(f"/p/{S}/entry/4").status_code == 200


def test_a_wrong_host_header_is_refused_dns_rebinding(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    answer = web.get("/", headers={"Host": "evil.example:8480"})
    assert answer.status_code == 400
    assert web.get("/", headers={"Host": "localhost:8480"}).status_code == 200


def test_read_only_mode_refuses_every_post(story: dict[str, Party], monkeypatch: Any) -> None:
    web = web_for(story["burgerco"], monkeypatch, sign=False)
    for path in (f"/p/{S}/act/approve/preview", f"/p/{S}/act/approve/sign", f"/p/{S}/sync", "/"):
        answer = web.post(path, {"csrf": web.config.csrf, "target": "4"})
        assert answer.status_code == 405, path
    assert web.client.put("/").status_code == 405
    assert web.client.delete(f"/p/{S}").status_code == 405
    assert web.get(f"/p/{S}/act/approve?target=4").status_code == 403
    assert "Approve</a>" not in web.get(f"/p/{S}/entry/4").text


def test_a_post_without_the_csrf_token_is_refused(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    assert web.post(f"/p/{S}/act/approve/preview", {"target": "4"}).status_code == 403
    assert web.post(f"/p/{S}/act/approve/preview", {"target": "4", "csrf": "x"}).status_code == 403
    answer = web.post(
        f"/p/{S}/act/approve/preview",
        {"target": "4", "csrf": web.config.csrf},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403


def test_approving_goes_through_the_confirmation_page_and_the_relay(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    form = web.get(f"/p/{S}/act/approve?target=4")
    assert form.status_code == 200 and 'value="4"' in form.text
    csrf = web.csrf(f"/p/{S}/act/approve?target=4")
    shown = web.post(f"/p/{S}/act/approve/preview", {"csrf": csrf, "target": "4", "comment": "ok"})
    assert shown.status_code == 200, shown.text
    assert "approval.given" in shown.text and "target_hash" in shown.text
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', shown.text).group(1)
    assert "Sign and send" in shown.text
    assert story["acme"].json("trail", S)[-1]["seq"] == 4  # nothing signed by the preview
    done = web.post(
        f"/p/{S}/act/approve/sign",
        {"csrf": csrf, "target": "4", "comment": "ok", "digest": digest},
    )
    assert done.status_code == 200, done.text
    assert "Recorded seq 5" in done.text
    story["acme"].act("sync", S)
    trail = story["acme"].json("trail", S)
    assert trail[-1]["type"] == "approval.given" and trail[-1]["party"] == "burgerco"
    again = web.post(
        f"/p/{S}/act/approve/sign",
        {"csrf": csrf, "target": "4", "comment": "ok", "digest": digest},
    )
    assert again.status_code == 409  # a decision already taken
    assert "Hint:" in again.text


def test_a_signature_whose_body_changed_since_review_is_refused(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    csrf = web.config.csrf
    answer = web.post(
        f"/p/{S}/act/approve/sign",
        {"csrf": csrf, "target": "4", "comment": "ok", "digest": "0" * 64},
    )
    assert answer.status_code == 409
    assert "changed since you reviewed it" in answer.text
    assert story["acme"].json("trail", S)[-1]["seq"] == 4


def test_bad_input_and_unknown_things_are_error_pages(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    assert web.get("/p/no-such-project").status_code == 404
    assert web.get(f"/p/{S}/entry/99").status_code in (404, 502)
    assert web.get(f"/p/{S}/trail?type=nonsense").status_code == 400
    assert web.get(f"/p/{S}/act/frobnicate").status_code == 404
    answer = web.post(f"/p/{S}/act/approve/preview", {"csrf": web.config.csrf, "target": "x"})
    assert answer.status_code == 400 and "Hint:" in answer.text
    answer = web.post(f"/p/{S}/act/reject/preview", {"csrf": web.config.csrf, "target": "4"})
    assert answer.status_code == 400  # a rejection needs a reason


def test_a_relay_that_is_down_is_a_page_with_the_hint(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    csrf = web.config.csrf
    story["relay"].stop()
    page = web.get(f"/p/{S}")
    assert page.status_code == 200 and "offline" in page.text  # the replica, with the note
    answer = web.post(f"/p/{S}/act/approve/preview", {"csrf": csrf, "target": "4"})
    assert answer.status_code == 503, answer.text
    assert "Hint:" in answer.text
    assert web.get(f"/p/{S}/sync").status_code == 503


def test_api_head_changes_when_a_partner_writes(story: dict[str, Party], monkeypatch: Any) -> None:
    web = web_for(story["burgerco"], monkeypatch)
    before = web.get("/api/head").json()["heads"]
    assert web.get(f"/api/head?project={S}").status_code == 200
    story["acme"].act("statement", "propose", S, "--title", "Joint", "--text", "We did it")
    after = web.get("/api/head").json()["heads"]
    assert after != before
    assert f'data-heads="{after}"' in web.get("/").text


def sign_through(web: Any, slug: str, action: str, values: dict[str, str]) -> Any:
    """Send an action's form, check its confirmation page, and sign; the signed page."""
    csrf = web.config.csrf
    shown = web.post(f"/p/{slug}/act/{action}/preview", {"csrf": csrf, **values})
    assert shown.status_code == 200, shown.text
    assert "You are about to sign" in shown.text
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', shown.text).group(1)
    return web.post(f"/p/{slug}/act/{action}/sign", {"csrf": csrf, "digest": digest, **values})


def test_every_decision_signs_the_entry_its_cli_command_signs(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    acme = story["acme"]
    web = web_for(story["burgerco"], monkeypatch)
    steps = [
        ("reject", {"target": "4", "reason": "Wrong colours " + HOSTILE}, "approval.refused"),
        ("pledge", {"title": "Print " + HOSTILE, "weight": "2", "unit": "hours",
                    "due": "2099-01-01", "beneficiaries": ""}, "pledge.made"),
        ("amend", {"pledge": "6", "weight": "3", "reason": "More", "title": "", "due": ""},
         "pledge.amended"),
        ("deliver", {"pledge": "6", "summary": "Printed", "quantity": "1"},
         "deliverable.submitted"),
        ("pledge", {"title": "Flyers", "weight": "1", "unit": "hours", "due": "2099-01-01",
                    "beneficiaries": "acme"}, "pledge.made"),
        ("close-short", {"pledge": "9", "reason": "Enough"}, "pledge.closed-short"),
        ("statement-propose", {"title": "Joint", "text": "We did it"}, "statement.proposed"),
        ("statement-sign", {"statement": "11"}, "statement.signed"),
        ("value", {"unit": "hours", "worth": "80", "in": "EUR", "reason": "Rate"},
         "value.proposed"),
    ]  # fmt: skip
    for seq, (action, values, kind) in enumerate(steps, start=5):
        done = sign_through(web, S, action, values)
        assert done.status_code == 200, (action, done.text)
        assert f"Recorded seq {seq} of {S} ({kind})" in done.text, done.text
    acme.act("sync", S)
    trail = acme.json("trail", S)
    assert [r["type"] for r in trail[4:]] == [kind for _, _, kind in steps]
    assert all(r["party"] == "burgerco" for r in trail[4:])
    acme.act("dispute", S, "5", "--reason", "It was right")  # seq 14
    answer = sign_through(web, S, "resolve", {"dispute": "14", "outcome": "upheld", "reason": "ok"})
    assert "(resolution.signed)" in answer.text
    assert "Dispute 14" in web.get(f"/p/{S}/disputes").text
    assert "hours" in web.get(f"/p/{S}/values").text
    assert "<svg" in web.get(f"/p/{S}/contributions").text


def test_an_invited_party_joins_from_its_page(parties: dict[str, Party], monkeypatch: Any) -> None:  # noqa: F811
    acme, veggie = parties["acme"], parties["veggie"]
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    veggie.act("sync", S)
    web = web_for(veggie, monkeypatch)
    assert "You are invited" in web.get(f"/p/{S}").text
    done = sign_through(web, S, "join", {"invite": ""})
    assert "Recorded seq 2 of no-whopper-day (member.joined)" in done.text
    acme.act("sync", S)
    assert acme.json("trail", S)[-1]["type"] == "member.joined"
    wrong = web.post(
        f"/p/{S}/act/join/preview",
        {"csrf": web.config.csrf, "invite": "accord-join-v1,project=other,seat=veggie"},
    )
    assert wrong.status_code in (400, 409)


def test_a_delivery_with_evidence_files_signs_their_names_hashes_and_sizes(
    parties: dict[str, Party],  # noqa: F811 - the fixture
    monkeypatch: Any,
) -> None:
    import hashlib

    started(parties)
    acme = parties["acme"]
    web = web_for(acme, monkeypatch)
    content = b"%PDF-1.4 posters\n"
    hostile = "<img src=x onerror=alert(1)>.pdf"
    form = web.get(f"/p/{S}/act/deliver?pledge=3")
    assert 'enctype="multipart/form-data"' in form.text and 'type="file"' in form.text
    shown = web.client.post(
        f"/p/{S}/act/deliver/preview",
        data={"csrf": web.config.csrf, "pledge": "3", "summary": "Final", "quantity": "1"},
        files=[("evidence", (hostile, content, "application/pdf"))],
    )
    assert shown.status_code == 200, shown.text
    digest_of_file = hashlib.sha256(content).hexdigest()
    assert digest_of_file in shown.text
    assert "<img src=x" not in shown.text and "&lt;img src=x onerror=alert(1)&gt;.pdf" in shown.text
    staged = re.search(r'name="staged" value="([^"]+)"', shown.text).group(1)
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', shown.text).group(1)
    values = {"pledge": "3", "summary": "Final", "quantity": "1", "staged": staged}
    done = web.post(
        f"/p/{S}/act/deliver/sign", {"csrf": web.config.csrf, "digest": digest, **values}
    )
    assert "Recorded seq 5 of no-whopper-day (deliverable.submitted)" in done.text, done.text
    again = web.post(
        f"/p/{S}/act/deliver/sign", {"csrf": web.config.csrf, "digest": digest, **values}
    )
    assert again.status_code == 400 and "no longer here" in again.text  # used once
    shown_entry = acme.json("show", S, "5")
    assert shown_entry["body"]["evidence"] == [
        {"name": hostile, "sha256": digest_of_file, "size": len(content)}
    ]
    burgerco = parties["burgerco"]
    burgerco.act("sync", S)
    listed = burgerco.json("evidence", "list", S, "5", "--as", "burgerco")
    assert [row["where"] for row in listed] == ["relay"]  # uploaded sealed, as deliver does


def test_the_last_close_signature_closes_the_project_and_writes_its_report(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    acme, burgerco = story["acme"], story["burgerco"]
    burgerco.act("approve", S, "4")
    acme.act("close", S, "--report-dir", str(acme.home.parent / "report"))
    web = web_for(burgerco, monkeypatch)
    done = sign_through(web, S, "close", {"accept": ""})
    assert "(close.signed)" in done.text, done.text
    assert "The project is closed: its close report was written to" in done.text
    assert (burgerco.ledger.parent / "accord-reports" / S / "close-report.html").exists()
    closed = web.get(f"/p/{S}")
    assert "status-closed" in closed.text and "Sign the close" not in closed.text
    assert web.get(f"/p/{S}/report.json").json()["kind"] == "close"
    refused = web.post(f"/p/{S}/act/pledge/preview", {"csrf": web.config.csrf, "title": "x",
                       "weight": "1", "unit": "hours", "due": "2099-01-01"})  # fmt: skip
    assert refused.status_code == 409 and "Hint:" in refused.text


def test_the_evidence_page_lists_fetches_checks_and_offers_each_file(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    web = web_for(story["burgerco"], monkeypatch, sign=False)
    entry = web.get(f"/p/{S}/entry/4").text
    assert f'href="/p/{S}/evidence/4"' in entry and "Evidence files (1)" in entry
    listed = web.get(f"/p/{S}/evidence/4")
    assert listed.status_code == 200
    assert "sealed on the relay" in listed.text
    assert (
        "&lt;img src=x onerror=alert(2)&gt;.pdf" in listed.text and "<img src=x" not in listed.text
    )
    fetched = web.get(f"/p/{S}/evidence/4/1")
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == EVIDENCE
    assert fetched.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert "sandbox" in fetched.headers["content-security-policy"]
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert "checked copy here" in web.get(f"/p/{S}/evidence/4").text  # kept, checked
    assert web.get(f"/p/{S}/evidence/4/2").status_code == 404
    assert web.get(f"/p/{S}/evidence/3").status_code == 404  # a pledge, not a deliverable
    copy = next((story["burgerco"].ledger.parent / "accord-evidence" / S / "4").iterdir())
    copy.write_bytes(b"tampered")  # a copy that is not the signed file is not served
    assert "sealed on the relay" in web.get(f"/p/{S}/evidence/4").text
    assert web.get(f"/p/{S}/evidence/4/1").content == EVIDENCE  # fetched and checked again


def test_the_statements_page_shows_twenty_at_a_time_newest_first(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    acme = story["acme"]
    for n in range(1, 23):
        acme.act("statement", "propose", S, "--title", f"Statement {n:02d}", "--text", f"Text {n}")
    web = web_for(story["burgerco"], monkeypatch, sign=False)
    first = web.get(f"/p/{S}/statements")
    titles = re.findall(r">Statement (\d\d)</a>", first.text)
    assert titles == [f"{n:02d}" for n in range(22, 2, -1)]
    assert "22 statements, page 1 of 2, newest first." in first.text
    assert f'href="/p/{S}/statements?page=2" rel="next"' in first.text
    second = web.get(f"/p/{S}/statements?page=2")
    assert re.findall(r">Statement (\d\d)</a>", second.text) == ["02", "01"]
    assert f'href="/p/{S}/statements?page=1" rel="prev"' in second.text
    beyond = web.get(f"/p/{S}/statements?page=99999999999999999999")
    assert beyond.status_code == 200 and "(no statements yet)" in beyond.text
    assert web.get(f"/p/{S}/statements?page=x").text.count(">Statement ") == 20


def test_obligations_show_the_open_ones_and_every_pledge_a_page_at_a_time(
    story: dict[str, Party], monkeypatch: Any
) -> None:
    acme, burgerco = story["acme"], story["burgerco"]
    acme.act(
        "pledge", "add", S, "Flyers", "--weight", "2", "--unit", "hours", "--due", "2099-12-01"
    )
    acme.act("deliver", S, "5", "--summary", "Flyers done")  # seq 6, the whole weight
    burgerco.act("sync", S)
    burgerco.act("approve", S, "6")  # seq 7: pledge 5 is fulfilled
    web = web_for(burgerco, monkeypatch, sign=False)
    open_page = web.get(f"/p/{S}/obligations").text
    assert re.findall(r'<td class="num"><a href="/p/no-whopper-day/entry/(\d+)">', open_page) == [
        "3"
    ]
    assert "Flyers" not in open_page and "Posters" in open_page
    overview = web.get(f"/p/{S}").text
    assert "Open obligations" in overview and "Flyers" not in overview
    every = web.get(f"/p/{S}/obligations?show=all").text
    assert re.findall(r'<td class="num"><a href="/p/no-whopper-day/entry/(\d+)">', every) == [
        "5",
        "3",
    ]
    assert "2 pledges, newest first." in every and "fulfilled" in every
    assert "(no pledges yet)" in web.get(f"/p/{S}/obligations?show=all&page=2").text
