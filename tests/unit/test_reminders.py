"""The reminder policy and the digest's words, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from commands.digest import Digest, email_message, slack_escape, webhook_payload
from projections.reminders import Policy, Sent, Waiting, due
from projections.todo import Todo

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def item(seq: int = 5, title: str = "Spring campaign", about: str = "x") -> Waiting:
    todo = Todo("spring", seq, "decide", about, None, False, f"accord approve spring {seq} --as b")
    return Waiting(todo, "b", title, "a", START)


def due_at(days: float, policy: Policy, sent: dict[str, Sent] | None = None) -> bool:
    now = START + timedelta(days=days)
    return bool(due([item()], recipient="r", sent=sent or {}, policy=policy, now=now))


def test_the_first_reminder_waits_first_days() -> None:
    assert not due_at(1.9, Policy(first=2, every=7))
    assert due_at(2, Policy(first=2, every=7))


def test_later_reminders_come_every_days_after_the_last_send() -> None:
    sent = {item().key("r"): Sent(START + timedelta(days=3), 1)}
    assert not due_at(9.9, Policy(first=2, every=7), sent)
    assert due_at(10, Policy(first=2, every=7), sent)


def test_every_zero_reminds_only_once() -> None:
    sent = {item().key("r"): Sent(START, 1)}
    assert not due_at(365, Policy(first=0, every=0), sent)


def test_the_sent_log_is_per_recipient() -> None:
    sent = {item().key("other"): Sent(START, 1)}
    assert due_at(0, Policy(), sent)


def test_a_non_ascii_subject_is_encoded_and_a_line_break_adds_no_header() -> None:
    digest = Digest("r", "b", [item(title="Frühling\r\nBcc: x@example.org")], START)
    raw = email_message(digest, sender="a@example.org", to="r@example.org").as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    assert b"Subject: accord: 1 item waits for b in =?utf-8?" in head
    assert b"\nBcc:" not in head
    assert raw.isascii()


def test_slack_escaping_leaves_no_control_sequence() -> None:
    assert slack_escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    payload = webhook_payload(Digest("r", "b", [item(about="<!channel>")], START), "slack")
    assert b"<!channel>" not in payload


def test_the_due_date_of_ones_own_pledge_is_shown() -> None:
    todo = Todo("s", 4, "deliver", "pledge 'P'", date(2026, 12, 2), True, "accord deliver s 4")
    digest = Digest("r", "b", [Waiting(todo, "b", "T", "c", START)], START + timedelta(days=3))
    assert "c waits for b since 2026-12-01 (3 d); due 2026-12-02 (OVERDUE)" in digest.text()
