"""``accord notify`` end to end: a real SMTP server (aiosmtpd) and a real HTTP receiver on
loopback, the reminder cadence under an injected clock, no duplicates, failures that record
nothing, and partner text that cannot escape its medium."""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cli_helpers import Accord, assert_refused, fingerprint

S = "spring-campaign"
PASSWORD = "s3cret-Password-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpServer:
    def __init__(self, *, refuse_login: bool = False) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.logins: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {}
        if refuse_login:
            kwargs = {"authenticator": self._refuse, "auth_require_tls": False}
        else:
            kwargs = {"authenticator": self._accept, "auth_require_tls": False}
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )

    def _accept(self, server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        login = (auth.login.decode(), auth.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("accord", PASSWORD))

    def _refuse(self, server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def refusing_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(refuse_login=True)
    server.controller.start()
    yield server
    server.controller.stop()


class Receiver:
    """A small threading HTTP server on loopback recording every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.posts.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def payloads(self) -> list[Any]:
        return [json.loads(body) for _, _, body in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def at(days: float) -> dict[str, str | None]:
    """The environment of a run whose clock is ``days`` from now."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return {"ACCORD_NOW": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "ACCORD_SMTP_PASSWORD": PASSWORD}


def configure_smtp(accord: Accord, port: int, *extra: str) -> None:
    accord.ok(
        "notify", "config", "smtp", "--host", "127.0.0.1", "--port", str(port),
        "--security", "none", "--from", "accord@example.org", *extra,
    )  # fmt: skip


def sent_log(home: Path) -> dict[str, Any]:
    path = home / "notify-sent.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def mailed(initialised: Accord, with_pledge: str, smtp: SmtpServer) -> Accord:
    """burgerco's bob gets e-mail: the deliverable at seq 5 waits for burgerco's decision."""
    configure_smtp(initialised, smtp.port, "--user", "accord")
    initialised.ok(
        "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org"
    )
    return initialised


def test_notify_mails_the_digest_of_what_waits_and_a_rerun_sends_nothing_twice(
    mailed: Accord, smtp: SmtpServer, home: Path
) -> None:
    result = mailed.ok("notify", env=at(0.01))
    assert result.stdout == "sent 1 item to bob by e-mail to bob@example.org\n"
    [(recipients, message)] = smtp.inbox.messages
    assert recipients == ["bob@example.org"]
    assert smtp.logins == [("accord", PASSWORD)]
    assert message["From"] == "accord@example.org"
    assert message["Subject"] == "accord: 1 item waits for burgerco in 'Spring campaign'"
    body = message.get_content().replace("\r\n", "\n")
    assert "Project 'Spring campaign' (spring-campaign)" in body
    assert (
        "  - Decide: deliverable by acme on pledge 4 'Design the posters': 10 hours, "
        "'Poster drafts', no evidence\n" in body
    )
    assert "    acme waits for burgerco since " in body
    assert (
        "    run: accord approve spring-campaign 5 --as burgerco  "
        "(or: accord reject spring-campaign 5 --reason R --as burgerco)\n" in body
    )
    log = sent_log(home)["sent"]
    assert list(log) == ["bob/email|spring-campaign|5|decide"]
    assert log["bob/email|spring-campaign|5|decide"]["count"] == 1

    again = mailed.ok("notify", env=at(0.02))
    assert again.stdout == "nothing is due: no reminder to send\n"
    assert len(smtp.inbox.messages) == 1


def test_the_password_is_read_from_the_environment_and_never_stored_or_shown(
    mailed: Accord, smtp: SmtpServer, home: Path
) -> None:
    config = home / "notify.json"
    assert config.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in config.read_text()
    assert json.loads(config.read_text())["smtp"]["password_env"] == "ACCORD_SMTP_PASSWORD"
    result = mailed("notify", env={**at(0.01), "ACCORD_SMTP_PASSWORD": None})
    assert_refused(
        result, 2, "the SMTP password is not set: ACCORD_SMTP_PASSWORD is empty",
        "export ACCORD_SMTP_PASSWORD=... in the environment accord notify runs in",
    )  # fmt: skip
    assert smtp.inbox.messages == []
    assert not (home / "notify-sent.json").exists()
    shown = mailed.ok("notify", "config", "smtp", env=at(0)).stdout
    assert PASSWORD not in shown and "ACCORD_SMTP_PASSWORD" in shown


def test_reminders_follow_the_policy_first_then_every_while_the_item_waits(
    initialised: Accord, with_pledge: str, smtp: SmtpServer, home: Path
) -> None:
    configure_smtp(initialised, smtp.port)
    initialised.ok(
        "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org",
        "--first", "2d", "--every", "3d",
    )  # fmt: skip
    sent = []
    for day in (0.5, 1.5, 2.1, 2.2, 4.0, 5.2, 5.3, 8.0):
        out = initialised.ok("notify", env=at(day)).stdout
        sent.append((day, out.startswith("sent 1 item")))
    assert [day for day, yes in sent if yes] == [2.1, 5.2]
    assert sent_log(home)["sent"]["bob/email|spring-campaign|5|decide"]["count"] == 2
    initialised.ok("approve", S, "5", "--as", "burgerco")
    assert initialised.ok("notify", env=at(20)).stdout == "nothing is due: no reminder to send\n"
    assert len(smtp.inbox.messages) == 2


def test_dry_run_prints_what_would_be_sent_and_sends_and_records_nothing(
    mailed: Accord, smtp: SmtpServer, home: Path
) -> None:
    out = mailed.ok(
        "notify", "--dry-run", "--web-url", "https://accord.example.org/", env=at(1)
    ).stdout
    assert out.startswith(
        "would send 1 item to bob by e-mail to bob@example.org:\n"
        "  From: accord@example.org\n  To: bob@example.org\n"
        "  Subject: accord: 1 item waits for burgerco in 'Spring campaign'\n"
    )
    assert "  |     https://accord.example.org/projects/spring-campaign/5\n" in out
    assert smtp.inbox.messages == []
    assert not (home / "notify-sent.json").exists()


def test_a_server_that_is_down_exits_6_and_records_nothing(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    configure_smtp(initialised, free_port())
    initialised.ok(
        "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org"
    )
    result = initialised("notify", env=at(1))
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith(
        "Error: 1 digest was not sent: bob by e-mail to bob@example.org: cannot reach 127.0.0.1:"
    )
    assert result.stderr.endswith(
        "Hint: nothing was recorded as sent for them: fix the server or the configuration "
        "(`accord notify config list`), then run accord notify again\n"
    )
    assert "Traceback" not in result.output
    assert not (home / "notify-sent.json").exists()


def test_a_refused_login_exits_6_and_records_nothing(
    initialised: Accord, with_pledge: str, refusing_smtp: SmtpServer, home: Path
) -> None:
    configure_smtp(initialised, refusing_smtp.port, "--user", "accord")
    initialised.ok(
        "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org"
    )
    result = initialised("notify", env=at(1))
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith(
        "Error: 1 digest was not sent: bob by e-mail to bob@example.org: the SMTP server refused "
        "the login of 'accord' (535)\n"
    )
    assert PASSWORD not in result.output
    assert refusing_smtp.inbox.messages == []
    assert not (home / "notify-sent.json").exists()


def test_a_webhook_gets_json_and_a_non_2xx_answer_records_nothing_until_it_succeeds(
    initialised: Accord, with_pledge: str, receiver: Receiver, home: Path
) -> None:
    initialised.ok(
        "notify", "config", "add", "hook", "--party", "burgerco", "--webhook", receiver.url
    )
    receiver.status = 500
    failed = initialised("notify", env=at(1))
    assert failed.exit_code == 6
    assert "hook by webhook http://127.0.0.1:" in failed.stderr
    assert "answered HTTP 500" in failed.stderr
    assert not (home / "notify-sent.json").exists()
    receiver.status = 204
    assert initialised.ok("notify", env=at(1)).stdout.startswith("sent 1 item to hook by webhook")
    assert initialised.ok("notify", env=at(1.1)).stdout == "nothing is due: no reminder to send\n"
    assert len(receiver.posts) == 2
    path, headers, _ = receiver.posts[-1]
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    payload = receiver.payloads()[-1]
    assert payload["recipient"] == "hook" and payload["party"] == "burgerco"
    [item] = payload["items"]
    assert (item["project"], item["seq"], item["waiting"], item["waits"]) == (
        S,
        5,
        "decide",
        "acme",
    )
    assert item["next"].startswith("accord approve spring-campaign 5 --as burgerco")
    assert list(sent_log(home)["sent"]) == ["hook/webhook|spring-campaign|5|decide"]


def test_a_webhook_url_in_the_environment_is_never_written_to_the_file(
    initialised: Accord, with_pledge: str, receiver: Receiver, home: Path
) -> None:
    initialised.ok(
        "notify", "config", "add", "team", "--party", "burgerco", "--webhook-env", "TEAM_HOOK",
        "--form", "teams",
    )  # fmt: skip
    assert receiver.url not in (home / "notify.json").read_text()
    initialised.ok("notify", env={**at(1), "TEAM_HOOK": receiver.url})
    [card] = receiver.payloads()
    assert card["type"] == "message"
    blocks = card["attachments"][0]["content"]["body"]
    assert any("Design the posters" in b["text"] for b in blocks)


HOSTILE_TITLE = "Fair\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script>"
HOSTILE_PLEDGE = "Posters <!channel> <@U123> & <https://evil.example|click> \x1b[31m"


@pytest.fixture
def hostile(initialised: Accord) -> Accord:
    initialised.ok(
        "project", "propose", "evil", "--title", HOSTILE_TITLE, "--member",
        f"burgerco={fingerprint('burgerco')}", "--as", "acme",
    )  # fmt: skip
    initialised.ok("project", "join", "evil", "--as", "burgerco")
    initialised.ok(
        "pledge", "add", "--weight", "3", "--unit", "hours", "--due", "2099-12-15",
        "--to", "burgerco", "--as", "acme", "--", "evil", HOSTILE_PLEDGE,
    )  # fmt: skip
    initialised.ok("deliver", "evil", "3", "--summary", "done", "--quantity", "3", "--as", "acme")
    return initialised


def test_hostile_partner_text_cannot_inject_headers_or_lines_in_an_email(
    hostile: Accord, smtp: SmtpServer
) -> None:
    configure_smtp(hostile, smtp.port)
    hostile.ok(
        "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org"
    )
    hostile.ok("notify", env=at(1))
    [(recipients, message)] = smtp.inbox.messages
    assert recipients == ["bob@example.org"]
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"].startswith("accord: 1 item waits for burgerco in 'Fair")
    body = message.get_content().replace("\r\n", "\n")
    assert "\x1b" not in body and "\r" not in body
    assert "Project 'Fair\\r\\nBcc: victim@example.org\\r\\n\\r\\n<script>" in body
    assert "\\x1b[31m" in body


def test_hostile_partner_text_is_escaped_for_slack_and_exact_in_json(
    hostile: Accord, receiver: Receiver
) -> None:
    hostile.ok("notify", "config", "add", "slack", "--party", "burgerco", "--webhook", receiver.url,
               "--form", "slack")  # fmt: skip
    hostile.ok("notify", "config", "add", "plain", "--party", "burgerco", "--webhook", receiver.url)
    hostile.ok("notify", env=at(1))
    by_form = {("items" in p): p for p in receiver.payloads()}
    text = by_form[False]["text"]
    assert "<!channel>" not in text and "<@U123>" not in text and "<script>" not in text
    assert "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "\x1b" not in text
    plain = by_form[True]
    [item] = plain["items"]
    assert item["title"] == HOSTILE_TITLE
    assert "Posters <!channel> <@U123> & <https://evil.example|click>" in item["about"]
    assert "\x1b" not in receiver.posts[-1][2].decode("ascii")  # JSON escapes it


def test_config_refuses_bad_input_with_one_error_and_a_hint_and_changes_nothing(
    accord: Accord, home: Path
) -> None:
    assert_refused(
        accord(
            "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@x\r\nBcc: y@z"
        ),
        2, "'bob@x\\r\\nBcc: y@z' is not an e-mail address",
        "give one plain address, e.g. alice@example.org",
    )  # fmt: skip
    assert_refused(
        accord("notify", "config", "add", "bob", "--party", "burgerco", "--webhook", "http://hooks.example.org/x"),
        2, "'http://hooks.example.org/x' is not a webhook URL accord posts to",
        "give an https:// URL (plain http:// only to localhost)",
    )  # fmt: skip
    assert_refused(
        accord("notify", "config", "smtp", "--host", "smtp.example.org", "--security", "none",
               "--from", "a@example.org"),
        2, "--security none sends in clear text: only to a server on this machine",
        "use --security starttls (port 587) or --security tls (port 465)",
    )  # fmt: skip
    assert_refused(
        accord("notify", "config", "remove", "nobody"), 3, "no recipient 'nobody'",
        "`accord notify config list` lists them",
    )  # fmt: skip
    assert not (home / "notify.json").exists()
    assert_refused(
        accord("notify", env=at(0)), 2, "no recipients are configured",
        "accord notify config add alice --party acme --email alice@example.org",
    )  # fmt: skip


def test_config_list_and_remove(accord: Accord, home: Path) -> None:
    accord.ok("notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org")
    accord.ok(
        "notify", "config", "add", "team", "--party", "acme", "--webhook",
        "https://hooks.example.org/T0/B1/SECRET", "--form", "slack", "--every", "0",
    )  # fmt: skip
    rows = accord.json("notify", "config", "list")
    assert rows == [
        {"name": "bob", "party": "burgerco", "email": "bob@example.org", "webhook": None,
         "form": None, "first": "0d", "every": "7d"},
        {"name": "team", "party": "acme", "email": None, "webhook": "https://hooks.example.org/...",
         "form": "slack", "first": "0d", "every": "once"},
    ]  # fmt: skip
    assert "SECRET" not in accord.ok("notify", "config", "list").stdout
    assert accord.ok("notify", "config", "remove", "bob").stdout == "removed recipient bob\n"
    assert [r["name"] for r in accord.json("notify", "config", "list")] == ["team"]
    assert oct((home / "notify.json").stat().st_mode & 0o777) == "0o600"
    assert os.environ.get("ACCORD_HOME") == str(home)


def test_a_server_that_never_answers_times_out_with_exit_6_and_records_nothing(
    initialised: Accord, with_pledge: str, home: Path
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        configure_smtp(initialised, port, "--timeout", "0.5")
        initialised.ok(
            "notify", "config", "add", "bob", "--party", "burgerco", "--email", "bob@example.org"
        )
        result = initialised("notify", env=at(1))
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith(
        f"Error: 1 digest was not sent: bob by e-mail to bob@example.org: 127.0.0.1:{port} did "
        "not answer in 0.5 s\n"
    )
    assert not (home / "notify-sent.json").exists()


def test_one_failing_channel_leaves_the_others_sent_and_logged(
    mailed: Accord, smtp: SmtpServer, receiver: Receiver, home: Path
) -> None:
    mailed.ok("notify", "config", "add", "hook", "--party", "burgerco", "--webhook", receiver.url)
    receiver.status = 503
    result = mailed("notify", env=at(1))
    assert result.exit_code == 6
    assert result.stdout == "sent 1 item to bob by e-mail to bob@example.org\n"
    assert list(sent_log(home)["sent"]) == ["bob/email|spring-campaign|5|decide"]
    receiver.status = 200
    again = mailed.ok("notify", env=at(1.1))
    assert again.stdout.startswith("sent 1 item to hook by webhook http://127.0.0.1:")
    assert len(smtp.inbox.messages) == 1  # the e-mail is not sent twice


def test_a_web_url_that_is_no_http_url_is_refused_and_nothing_is_sent(
    mailed: Accord, smtp: SmtpServer, home: Path
) -> None:
    assert_refused(
        mailed("notify", "--web-url", "javascript:alert(1)", env=at(1)),
        2,
        "--web-url 'javascript:alert(1)' is not an http(s) URL",
        "e.g. --web-url https://accord.example.org",
    )
    assert smtp.inbox.messages == []
    assert not (home / "notify-sent.json").exists()
